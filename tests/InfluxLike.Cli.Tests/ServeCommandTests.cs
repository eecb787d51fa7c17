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

    // Whether this process (and so a child it starts) ignores signal number <paramref name="signal"/>: the SigIgn mask of /proc/self/status.
    private static bool SignalIgnored(int signal)
    {
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (signal - 1))) != 0;
    }

    [Fact]
    public async Task Config_file_settings_reload_on_sighup_and_requests_log_their_id()
    {
        string dir = Directory.CreateTempSubdirectory("influxlike-cli-config-").FullName;
        string config = Path.Combine(dir, "influxlike.toml");
        await File.WriteAllTextAsync(config, $"""
            http-bind-address = "127.0.0.1:0"
            data-dir = "{Path.Combine(dir, "data")}"
            max-body-size = 100
            """);
        await using var server = await ServerProcess.StartAsync(["--config", config]);
        try
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            using var unauthorized = await http.GetAsync("/api/v2/buckets");
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
            string id = unauthorized.Headers.GetValues("Request-Id").Single();
            await server.WaitForOutputAsync($"responded 401 in", TimeSpan.FromSeconds(10));
            Assert.Contains($"(request {id})", server.Output, StringComparison.Ordinal);

            // A bad file is refused and logged; a good one applies the reloadable settings, names the others.
            // The file watcher notices first; SIGHUP then asks again (one after the other, so each is seen on its own).
            // Under nohup the server inherits SIGHUP ignored, and .NET keeps it so: then only the watcher can be checked.
            bool hangupIgnored = SignalIgnored(1);
            await File.WriteAllTextAsync(config, "max-body-size = \"big\"\n");
            await server.WaitForOutputAsync("Configuration reload (the config file changed) refused", TimeSpan.FromSeconds(10));
            if (!hangupIgnored)
            {
                server.Hangup();
                await server.WaitForOutputAsync("Configuration reload (SIGHUP) refused", TimeSpan.FromSeconds(10));
            }

            await File.WriteAllTextAsync(config, $"""
                http-bind-address = "127.0.0.1:1"
                data-dir = "{Path.Combine(dir, "data")}"
                max-body-size = 5000
                """);
            server.Hangup();
            await server.WaitForOutputAsync("max-body-size=5000", TimeSpan.FromSeconds(10));
            Assert.Contains("http-bind-address changed but needs a restart", server.Output, StringComparison.Ordinal);
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
