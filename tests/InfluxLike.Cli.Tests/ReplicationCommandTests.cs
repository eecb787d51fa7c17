using System.Net.Http.Headers;
using System.Text;
using InfluxLike.Testing;

namespace InfluxLike.Cli.Tests;

/// <summary><c>influxlike remote …</c> and <c>influxlike replication …</c> between two server processes.</summary>
public class ReplicationCommandTests
{
    private const string Token = "cli-replication-token-0123456789";

    [Fact]
    public async Task A_stream_made_with_the_cli_carries_writes_to_the_central_server()
    {
        string edgeDir = Path.Combine(Path.GetTempPath(), "influxlike-cli-edge-" + Guid.NewGuid().ToString("N"));
        string centralDir = Path.Combine(Path.GetTempPath(), "influxlike-cli-central-" + Guid.NewGuid().ToString("N"));
        string[] common = ["--http-bind-address", "127.0.0.1:0", "--init-org", "o", "--init-token", Token, "--tasks-enabled", "false"];
        await using var edge = await ServerProcess.StartAsync(["serve", "--data-dir", edgeDir, "--init-bucket", "sensors", .. common]);
        await using var central = await ServerProcess.StartAsync(["serve", "--data-dir", centralDir, "--init-bucket", "fleet", .. common]);
        try
        {
            string host = edge.BaseAddress.ToString();
            Task<(int ExitCode, string Output)> Cli(params string[] args) =>
                ServerProcess.RunToExitAsync([.. args, "--host", host, "--token", Token, "--org", "o"], TimeSpan.FromSeconds(60));

            var remote = await Cli("remote", "create", "--name", "central", "--remote-url", central.BaseAddress.ToString(), "--remote-api-token", Token, "--remote-org-id", "o");
            Assert.True(remote.ExitCode == 0, remote.Output);
            string remoteId = remote.Output.Trim().Split('\t')[0];
            Assert.Contains(remoteId, (await Cli("remote", "list")).Output, StringComparison.Ordinal);

            var missing = await Cli("replication", "create", "--name", "up", "--remote-id", remoteId, "--local-bucket", "nope", "--remote-bucket", "fleet");
            Assert.Equal(2, missing.ExitCode);
            Assert.Contains("bucket \"nope\" not found", missing.Output, StringComparison.Ordinal);

            var created = await Cli("replication", "create", "--name", "up", "--remote-id", remoteId, "--local-bucket", "sensors", "--remote-bucket", "fleet");
            Assert.True(created.ExitCode == 0, created.Output);
            string id = created.Output.Trim().Split('\t')[0];

            using var http = new HttpClient { BaseAddress = edge.BaseAddress };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Token", Token);
            var written = await http.PostAsync("/api/v2/write?org=o&bucket=sensors&precision=s", new StringContent("temp,room=a c=21.5 1700000000\ntemp,room=b c=19 1700000000\n"));
            Assert.Equal(System.Net.HttpStatusCode.NoContent, written.StatusCode);

            using var remoteHttp = new HttpClient { BaseAddress = central.BaseAddress };
            remoteHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Token", Token);
            string csv = "";
            for (int i = 0; i < 100 && !csv.Contains("19", StringComparison.Ordinal); i++)
            {
                await Task.Delay(100);
                var q = await remoteHttp.PostAsync("/api/v2/query?org=o", new StringContent("from(bucket: \"fleet\") |> range(start: 0)", Encoding.UTF8, "application/vnd.flux"));
                csv = await q.Content.ReadAsStringAsync();
            }

            Assert.Contains("21.5", csv, StringComparison.Ordinal);
            Assert.Contains("19", csv, StringComparison.Ordinal);
            var list = await Cli("replication", "list");
            Assert.Contains($"{id}\tup\t0\t", list.Output, StringComparison.Ordinal);
            Assert.Contains("204", list.Output, StringComparison.Ordinal);

            Assert.Equal(1, (await Cli("remote", "delete", remoteId)).ExitCode); // still used
            Assert.Equal(0, (await Cli("replication", "delete", id)).ExitCode);
            Assert.Equal(0, (await Cli("remote", "delete", remoteId)).ExitCode);
        }
        finally
        {
            await edge.TerminateAsync(TimeSpan.FromSeconds(20));
            await central.TerminateAsync(TimeSpan.FromSeconds(20));
            foreach (string dir in new[] { edgeDir, centralDir })
            {
                if (Directory.Exists(dir))
                {
                    Directory.Delete(dir, recursive: true);
                }
            }
        }
    }
}
