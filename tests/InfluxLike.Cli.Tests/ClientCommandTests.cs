using System.Text.Json.Nodes;
using InfluxLike.Testing;

namespace InfluxLike.Cli.Tests;

/// <summary><c>influxlike write | query | bucket | token</c> against a running server.</summary>
public class ClientCommandTests
{
    private const string Token = "cli-client-token-0123456789";

    [Fact]
    public async Task A_second_server_on_the_same_data_folder_exits_with_a_clear_error_and_the_first_keeps_serving()
    {
        string dataDir = Path.Combine(Path.GetTempPath(), "influxlike-cli-lock-" + Guid.NewGuid().ToString("N"));
        await using var server = await ServerProcess.StartAsync(
            ["serve", "--http-bind-address", "127.0.0.1:0", "--data-dir", dataDir, "--init-org", "o", "--init-bucket", "b", "--init-token", Token]);
        try
        {
            var second = await ServerProcess.RunToExitAsync(["serve", "--http-bind-address", "127.0.0.1:0", "--data-dir", dataDir], TimeSpan.FromSeconds(60));
            Assert.True(second.ExitCode == 2, second.Output);
            Assert.Contains("is in use by another InfluxLike process", second.Output, StringComparison.Ordinal);
            Assert.Contains(Path.Combine(dataDir, "engine", "LOCK"), second.Output, StringComparison.Ordinal);

            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            http.DefaultRequestHeaders.Add("Authorization", "Token " + Token);
            var write = await http.PostAsync("/api/v2/write?org=o&bucket=b", new StringContent("m f=1"));
            Assert.Equal(System.Net.HttpStatusCode.NoContent, write.StatusCode);
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task Client_commands_write_query_and_manage_buckets_and_tokens()
    {
        string dataDir = Path.Combine(Path.GetTempPath(), "influxlike-cli-client-" + Guid.NewGuid().ToString("N"));
        string lines = Path.Combine(Path.GetTempPath(), "influxlike-lines-" + Guid.NewGuid().ToString("N") + ".lp");
        await File.WriteAllTextAsync(lines, "# a comment line\n" + string.Concat(Enumerable.Range(0, 2500).Select(i => $"cpu,host=h{i % 2} v={i} {1_700_000_000 + i}\n")));
        await using var server = await ServerProcess.StartAsync(
            ["serve", "--http-bind-address", "127.0.0.1:0", "--data-dir", dataDir, "--init-org", "o", "--init-bucket", "b", "--init-token", Token]);
        try
        {
            string host = server.BaseAddress.ToString();
            Task<(int ExitCode, string Output)> Cli(string token, params string[] args) =>
                ServerProcess.RunToExitAsync([.. args, "--host", host, "--token", token, "--org", "o"], TimeSpan.FromSeconds(60));

            // Batches of 1,000 lines, gzip on by default.
            var written = await Cli(Token, "write", lines, "--bucket", "b", "--precision", "s", "--batch-size", "1000");
            Assert.True(written.ExitCode == 0, written.Output);
            Assert.Contains("wrote 2,500 lines", written.Output, StringComparison.Ordinal);

            var csv = await Cli(Token, "query", "from(bucket: \"b\") |> range(start: 2023-01-01T00:00:00Z) |> count()", "--format", "csv");
            Assert.Equal(0, csv.ExitCode);
            Assert.Contains(",1250", csv.Output, StringComparison.Ordinal);
            var json = await Cli(Token, "query", "from(bucket: \"b\") |> range(start: 2023-01-01T00:00:00Z) |> group() |> count()", "--format", "json");
            Assert.Equal(2500, (long)JsonNode.Parse(json.Output.Trim())!.AsArray()[0]!["_value"]!);
            var bad = await Cli(Token, "query", "from(bucket: \"b\") |> nosuch()");
            Assert.Equal(1, bad.ExitCode);
            Assert.Contains("nosuch", bad.Output, StringComparison.Ordinal);

            Assert.Equal(0, (await Cli(Token, "bucket", "create", "weekly", "--retention", "7d")).ExitCode);
            Assert.Contains("weekly\t7.00:00:00", (await Cli(Token, "bucket", "list")).Output, StringComparison.Ordinal);
            Assert.Equal(0, (await Cli(Token, "bucket", "delete", "weekly")).ExitCode);
            Assert.DoesNotContain("weekly", (await Cli(Token, "bucket", "list")).Output, StringComparison.Ordinal);
            Assert.Equal(1, (await Cli(Token, "bucket", "delete", "weekly")).ExitCode);

            // A read-only token: queries work, writes are refused (exit 1 with the server's reason).
            var created = await Cli(Token, "token", "create", "--read-buckets", "-d", "dashboards");
            Assert.Equal(0, created.ExitCode);
            string reader = created.Output.Trim().Split('\t')[1];
            Assert.Equal(0, (await Cli(reader, "query", "buckets()", "--format", "csv")).ExitCode);
            var refused = await Cli(reader, "write", lines, "--bucket", "b");
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("403", refused.Output, StringComparison.Ordinal);
            Assert.Contains("dashboards", (await Cli(Token, "token", "list")).Output, StringComparison.Ordinal);

            Assert.Equal(2, (await Cli(Token, "write", lines)).ExitCode); // no --bucket

            // export gives back the line protocol written (sorted by series, then time), which writes back identically.
            string exported = Path.Combine(Path.GetTempPath(), "influxlike-export-" + Guid.NewGuid().ToString("N") + ".lp");
            var export = await Cli(Token, "export", "--bucket", "b", "--filter", "r.host == \"h1\"", "--output", exported);
            Assert.True(export.ExitCode == 0, export.Output);
            Assert.Contains("exported 1,250 points", export.Output, StringComparison.Ordinal);
            string[] back = await File.ReadAllLinesAsync(exported);
            Assert.Equal("cpu,host=h1 v=1 1700000001000000000", back[0]);
            Assert.Equal(1250, back.Length);
            File.Delete(exported);

            // backup, then restore under another name: every point comes back.
            string archive = Path.Combine(Path.GetTempPath(), "influxlike-backup-" + Guid.NewGuid().ToString("N") + ".tar");
            Assert.Equal(0, (await Cli(Token, "backup", "--bucket", "b", "-o", archive)).ExitCode);
            var restored = await Cli(Token, "restore", archive, "--bucket", "b2");
            Assert.True(restored.ExitCode == 0, restored.Output);
            var count = await Cli(Token, "query", "from(bucket: \"b2\") |> range(start: 2023-01-01T00:00:00Z) |> group() |> count()", "--format", "json");
            Assert.Equal(2500, (long)JsonNode.Parse(count.Output.Trim())!.AsArray()[0]!["_value"]!);
            Assert.Equal(1, (await Cli(Token, "restore", archive, "--bucket", "b2")).ExitCode); // the name is taken
            File.Delete(archive);
        }
        finally
        {
            await server.TerminateAsync(TimeSpan.FromSeconds(20));
            File.Delete(lines);
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }
}
