using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using InfluxLike.Query.Csv;

namespace InfluxLike.Server.Tests;

/// <summary>
/// Disk faults under a running server: a WAL fsync that fails (injected through <c>WalOptions.SyncFile</c>), and a
/// real full disk (a size-limited tmpfs). Acknowledged points are counted exactly across the fault and a restart.
/// </summary>
public sealed class StorageFaultTests
{
    private static async Task<long> CountAsync(HttpClient client)
    {
        using var r = await client.PostAsync("/api/v2/query?org=acme", new StringContent(
            "from(bucket: \"metrics\") |> range(start: 2023-01-01T00:00:00Z) |> filter(fn: (r) => r._measurement == \"cpu\" and r._field == \"v\") |> count() |> group() |> sum()", Encoding.UTF8, "application/vnd.flux"));
        string body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, body);
        var tables = AnnotatedCsvReader.Read(body);
        return tables.Count == 0 ? 0 : tables[0].Table.Column("_value")!.Get(0).AsInt;
    }

    // Batch b: 1000 points of measurement cpu, 10 hosts, one second apart; with padding, each also has a string
    // field of that many random hex digits (which compress poorly, to fill a disk).
    private static StringContent Batch(int b, int padding = 0)
    {
        var sb = new StringBuilder();
        var random = new Random(b);
        byte[] bytes = new byte[padding / 2];
        for (int i = 0; i < 1000; i++)
        {
            random.NextBytes(bytes);
            sb.Append(CultureInfo.InvariantCulture, $"cpu,host=h{i % 10} v={i}i,s=\"{Convert.ToHexString(bytes)}\" {1_700_000_000L + (b * 1000L) + i}\n");
        }

        return new StringContent(sb.ToString());
    }

    private static async Task<(HttpStatusCode Status, string Body)> WriteAsync(HttpClient client, int b, int padding = 0)
    {
        using var r = await client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s", Batch(b, padding));
        return (r.StatusCode, await r.Content.ReadAsStringAsync());
    }

    private static async Task<JsonNode> HealthAsync(HttpClient client, HttpStatusCode expected) =>
        await LiveServer.JsonAsync(await client.GetAsync("/health"), expected);

    [Fact]
    public async Task A_failed_wal_fsync_stops_acknowledgements_fails_health_and_a_restart_recovers()
    {
        bool fail = false;
        var server = LiveServer.With(o => o with
        {
            ConfigureEngine = e => e with
            {
                Shard = e.Shard with
                {
                    Wal = e.Shard.Wal with
                    {
                        SyncFile = f =>
                        {
                            if (Volatile.Read(ref fail))
                            {
                                throw new IOException("Input/output error (injected fsync failure)");
                            }

                            f.Flush(flushToDisk: true);
                        },
                    },
                },
            },
        });
        await server.InitializeAsync();
        try
        {
            await FsyncFailureAsync(server, v => Volatile.Write(ref fail, v));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task FsyncFailureAsync(LiveServer server, Action<bool> fail)
    {
        Assert.Equal(HttpStatusCode.NoContent, (await WriteAsync(server.Client, 0)).Status);
        Assert.Equal("pass", (string)(await HealthAsync(server.Client, HttpStatusCode.OK))["status"]!);

        fail(true);
        var (status, body) = await WriteAsync(server.Client, 1);
        Assert.True(status == HttpStatusCode.ServiceUnavailable, $"{(int)status} {body}");
        Assert.Contains("injected fsync failure", body, StringComparison.Ordinal);
        Assert.Contains(".wal", body, StringComparison.Ordinal); // names the file
        JsonNode health = await HealthAsync(server.Client, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("fail", (string)health["status"]!);
        Assert.Contains("injected fsync failure", (string)health["message"]!, StringComparison.Ordinal);

        // The disk "recovers": the engine still refuses, since it cannot know what the failed fsync lost.
        fail(false);
        (status, body) = await WriteAsync(server.Client, 2);
        Assert.True(status == HttpStatusCode.ServiceUnavailable, $"{(int)status} {body}");
        Assert.Contains("restart", body, StringComparison.Ordinal);
        Assert.True(await CountAsync(server.Client) >= 1000, "reads still work");

        // A restart recovers from the files: the acknowledged batch is there, writes are acknowledged again.
        await server.StopAsync();
        await server.StartAsync();
        Assert.Equal("pass", (string)(await HealthAsync(server.Client, HttpStatusCode.OK))["status"]!);
        long afterRestart = await CountAsync(server.Client);
        Assert.True(afterRestart is 1000 or 2000, $"{afterRestart}: batch 0 acknowledged, batch 1 maybe on disk, batch 2 never accepted");
        Assert.Equal(HttpStatusCode.NoContent, (await WriteAsync(server.Client, 3)).Status);
        Assert.Equal(afterRestart + 1000, await CountAsync(server.Client));
    }

    [Fact]
    public async Task A_full_disk_refuses_writes_clearly_keeps_reads_and_resumes_when_space_returns()
    {
        // A real full disk: a 48 MiB tmpfs (needs root, as CI and the dev machine have; skipped without it).
        string mount = Path.Combine(Path.GetTempPath(), "influxlike-fulldisk-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(mount);
        if (!await RunAsync("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mount))
        {
            Directory.Delete(mount);
            return;
        }

        try
        {
            var server = LiveServer.With(o => o with { DataDir = Path.Combine(mount, "data"), StorageMinFreeDisk = 8L << 20, CacheSnapshotMemorySize = 1L << 20 });
            await server.InitializeAsync();
            try
            {
                await FullDiskAsync(server, mount);
            }
            finally
            {
                await server.DisposeAsync();
            }
        }
        finally
        {
            await RunAsync("umount", mount);
            Directory.Delete(mount, recursive: true);
        }
    }

    private static async Task FullDiskAsync(LiveServer server, string mount)
    {
        {

            // Fill the disk to 20 MiB free, then write until the reserve refuses.
            string filler = Path.Combine(mount, "filler");
            long free = new DriveInfo(mount).AvailableFreeSpace;
            await using (var f = File.Create(filler))
            {
                f.SetLength(0);
                byte[] chunk = new byte[1 << 20];
                for (long left = free - (20L << 20); left > 0; left -= chunk.Length)
                {
                    await f.WriteAsync(chunk);
                }
            }

            int acknowledged = 0;
            (HttpStatusCode Status, string Body) last = default;
            for (int b = 0; b < 2000; b++)
            {
                last = await WriteAsync(server.Client, b, padding: 200);
                if (last.Status != HttpStatusCode.NoContent)
                {
                    break;
                }

                acknowledged++;
            }

            Assert.True(last.Status == (HttpStatusCode)507, $"{(int)last.Status} {last.Body} after {acknowledged} batches");
            Assert.Contains("bytes free", last.Body, StringComparison.Ordinal);
            Assert.True(acknowledged > 0, "some batches fit");
            Assert.Equal(acknowledged * 1000L, await CountAsync(server.Client)); // reads work, nothing lost
            Assert.Equal("pass", (string)(await HealthAsync(server.Client, HttpStatusCode.OK))["status"]!);

            // Space returns: writes resume (free space is measured at most once a second).
            File.Delete(filler);
            await Task.Delay(1100);
            Assert.Equal(HttpStatusCode.NoContent, (await WriteAsync(server.Client, 1000)).Status);
            Assert.Equal((acknowledged + 1) * 1000L, await CountAsync(server.Client));

            // Every file opens after a restart, every acknowledged point is there once.
            await server.StopAsync();
            await server.StartAsync();
            Assert.Equal((acknowledged + 1) * 1000L, await CountAsync(server.Client));
        }
    }

    private static async Task<bool> RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        try
        {
            using var p = Process.Start(psi)!;
            await p.WaitForExitAsync();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
