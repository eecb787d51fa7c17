using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using InfluxLike.Testing;

namespace InfluxLike.Cli.Tests;

/// <summary>
/// The edge artefact: the linux-arm64 NativeAOT executable (built by <c>scripts/publish.sh linux-arm64</c>, which
/// the test command runs first) served under qemu-aarch64-static with the edge profile: starts, takes a gzip
/// write, answers a query, stops cleanly on SIGTERM, and finds its data again after a restart.
/// </summary>
public class EdgeBuildTests
{
    private const string Token = "edge-arm64-token-0123456789";
    private const string Qemu = "/usr/bin/qemu-aarch64-static";

    private static string Executable => Path.Combine(RepoPaths.Root, "publish", "linux-arm64-aot", "influxlike");

    [Fact]
    public async Task The_arm64_build_serves_writes_and_queries_under_emulation_and_restarts_on_its_data()
    {
        Assert.True(File.Exists(Executable), $"{Executable} is missing: run scripts/publish.sh linux-arm64 (scripts/test.sh does)");
        Assert.True(File.Exists(Qemu), $"{Qemu} is missing: scripts/setup.sh installs qemu-user-static");
        byte[] header = new byte[20];
        await using (var f = File.OpenRead(Executable))
        {
            f.ReadExactly(header);
        }

        Assert.Equal("\u007fELF"u8.ToArray(), header[..4]);
        Assert.Equal(183, BitConverter.ToUInt16(header, 18)); // e_machine: EM_AARCH64

        string dataDir = Path.Combine(Path.GetTempPath(), "influxlike-arm64-" + Guid.NewGuid().ToString("N"));
        string[] args = [Executable, "serve", "--profile", "edge", "--http-bind-address", "127.0.0.1:0", "--data-dir", dataDir,
            "--init-org", "o", "--init-bucket", "b", "--init-token", Token, "--log-level", "information"];
        try
        {
            string lines = string.Concat(Enumerable.Range(0, 1000).Select(i => $"sensor,board=pi{i % 5} t={20 + (i % 7)}.5,n={i}i {1_700_000_000 + i}\n"));
            await using (var server = await ServerProcess.StartProgramAsync(Qemu, args, timeout: TimeSpan.FromSeconds(120)))
            {
                using HttpClient http = Client(server.BaseAddress);
                using var gz = new MemoryStream();
                using (var z = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
                {
                    z.Write(Encoding.UTF8.GetBytes(lines));
                }

                var body = new ByteArrayContent(gz.ToArray());
                body.Headers.ContentEncoding.Add("gzip");
                var write = await http.PostAsync("/api/v2/write?org=o&bucket=b&precision=s", body);
                Assert.Equal(HttpStatusCode.NoContent, write.StatusCode);
                Assert.Equal(1000, await CountAsync(http, "n"));
                Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(60)));
                Assert.Contains("Shutting down", server.Output, StringComparison.Ordinal);
            }

            await using (var again = await ServerProcess.StartProgramAsync(Qemu, args, timeout: TimeSpan.FromSeconds(120)))
            {
                using HttpClient http = Client(again.BaseAddress);
                Assert.Equal(1000, await CountAsync(http, "n"));
                Assert.Equal(1000, await CountAsync(http, "t"));
                Assert.Equal(0, await again.TerminateAsync(TimeSpan.FromSeconds(60)));
            }
        }
        finally
        {
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }

    private static HttpClient Client(Uri address)
    {
        var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Token", Token);
        return http;
    }

    /// <summary>The number of points of <paramref name="field"/> over all boards.</summary>
    private static async Task<long> CountAsync(HttpClient http, string field)
    {
        var r = await http.PostAsync("/api/v2/query?org=o", new StringContent(
            $"from(bucket: \"b\") |> range(start: 0) |> filter(fn: (r) => r._field == \"{field}\") |> group() |> count()", Encoding.UTF8, "application/vnd.flux"));
        string csv = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, csv);
        string row = csv.Split("\r\n").Single(l => l.StartsWith(",,0,", StringComparison.Ordinal)); // the result name is in #default
        return long.Parse(row.Split(',')[^1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
