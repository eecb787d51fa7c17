using System.Net;
using System.Net.Http.Headers;
using InfluxLike.Testing;

namespace InfluxLike.Cli.Tests;

/// <summary><c>influxlike inspect</c> on a stopped server's data folder: clean, then with a damaged TSM block.</summary>
public class InspectCommandTests
{
    [Fact]
    public async Task Inspect_verifies_a_data_folder_and_names_the_damaged_file()
    {
        string dataDir = Path.Combine(Path.GetTempPath(), "influxlike-cli-inspect-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var server = await ServerProcess.StartAsync(
                ["serve", "--http-bind-address", "127.0.0.1:0", "--data-dir", dataDir, "--init-org", "o", "--init-bucket", "b", "--init-token", "inspect-token-0123456789"]))
            {
                using var http = new HttpClient { BaseAddress = server.BaseAddress };
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Token", "inspect-token-0123456789");
                string body = string.Concat(Enumerable.Range(0, 3000).Select(i => $"m,h=a v={i} {i}\n"));
                Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync("/api/v2/write?org=o&bucket=b&precision=s", new StringContent(body))).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/api/v2/storage/compact", null)).StatusCode);
                await http.PostAsync("/api/v2/write?org=o&bucket=b&precision=s", new StringContent("m,h=a v=1 5000\n")); // a WAL entry too
                Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
            }

            var clean = await ServerProcess.RunToExitAsync(["inspect", dataDir], TimeSpan.FromSeconds(60));
            Assert.True(clean.ExitCode == 0, clean.Output);
            Assert.Contains("3000 points", clean.Output, StringComparison.Ordinal);
            Assert.Contains("1 entries", clean.Output, StringComparison.Ordinal);
            Assert.Contains("no problem found", clean.Output, StringComparison.Ordinal);

            string tsm = Directory.GetFiles(dataDir, "*.tsm", SearchOption.AllDirectories).Single();
            var dump = await ServerProcess.RunToExitAsync(["inspect", tsm, "--dump"], TimeSpan.FromSeconds(60));
            Assert.Contains("m,h=a", dump.Output, StringComparison.Ordinal);

            byte[] bytes = await File.ReadAllBytesAsync(tsm);
            bytes[40] ^= 0xFF; // inside the first block
            await File.WriteAllBytesAsync(tsm, bytes);
            var damaged = await ServerProcess.RunToExitAsync(["inspect", dataDir], TimeSpan.FromSeconds(60));
            Assert.Equal(1, damaged.ExitCode);
            Assert.Contains("BAD  " + tsm, damaged.Output, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }
}
