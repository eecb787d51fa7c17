using System.Net;
using InfluxLike.Testing;

namespace InfluxLike.Cli.Tests;

public class ServeCommandTests
{
    [Theory]
    [InlineData("serve")]
    [InlineData(null)]
    public async Task Serves_ping_and_stops_gracefully_on_sigterm(string? subcommand)
    {
        string dataDir = Path.Combine(Path.GetTempPath(), "influxlike-cli-" + Guid.NewGuid().ToString("N"));
        string[] args = subcommand is null
            ? ["--http-bind-address", "127.0.0.1:0", "--data-dir", dataDir]
            : [subcommand, "--http-bind-address", "127.0.0.1:0", "--data-dir", dataDir];
        await using var server = await ServerProcess.StartAsync(args);
        try
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            using var ping = await http.GetAsync("/ping");
            Assert.Equal(HttpStatusCode.NoContent, ping.StatusCode);
            Assert.True(Directory.Exists(dataDir), "the data folder is created");

            int exit = await server.TerminateAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(0, exit);
            Assert.Contains("Shutting down", server.Output, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Environment_variables_configure_the_server()
    {
        string dataDir = Path.Combine(Path.GetTempPath(), "influxlike-cli-env-" + Guid.NewGuid().ToString("N"));
        await using var server = await ServerProcess.StartAsync([], new Dictionary<string, string>
        {
            ["INFLUXLIKE_HTTP_BIND_ADDRESS"] = "127.0.0.1:0",
            ["INFLUXLIKE_DATA_DIR"] = dataDir,
        });
        try
        {
            Assert.Contains(dataDir, server.Output, StringComparison.Ordinal);
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData("--http-bind-address", "nowhere", "has no port")]
    [InlineData("--log-level", "loud", "log-level (from flag --log-level): \"loud\" is not one of verbose, debug")]
    [InlineData("--max-body-size", "-5", "max-body-size (from flag --max-body-size): \"-5\" is not a positive whole number")]
    [InlineData("--query-timeout", "soon", "query-timeout (from flag --query-timeout): \"soon\" is not a duration")]
    [InlineData("--config", "/nonexistent/influxlike.toml", "cannot read the config file /nonexistent/influxlike.toml")]
    public async Task Bad_options_fail_with_a_clear_message(string option, string value, string message)
    {
        var (exit, output) = await ServerProcess.RunToExitAsync([option, value, "--data-dir", Path.GetTempPath()], TimeSpan.FromSeconds(30));
        Assert.Equal(2, exit);
        Assert.Contains(message, output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal); // no stack trace for a user error
    }
}
