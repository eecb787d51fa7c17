using System.Diagnostics;
using System.Globalization;
using System.Text;
using InfluxLike.Storage.Engine;
using InfluxLike.Storage.Tsm;

namespace InfluxLike.Storage.Tests;

/// <summary>
/// A child process writes concurrently (snapshots included) and is killed with SIGKILL at random moments,
/// again and again on the same data folder. After each kill every acknowledged point must be there and
/// every file must open. INFLUXLIKE_CRASH_ITERATIONS raises the count (CI runs a short version).
/// </summary>
public class CrashTests
{
    [Fact]
    public async Task Every_acknowledged_point_survives_sigkill()
    {
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("INFLUXLIKE_CRASH_ITERATIONS"), out int n) ? n : 12;
        using var dir = new TempDir();
        var acked = new HashSet<(int Writer, long Batch)>();
        var rng = new Random(42);
        long next = 1;
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            var fresh = await RunAndKillAsync(dir.Path, next, TimeSpan.FromMilliseconds(rng.Next(200, 1500)));
            acked.UnionWith(fresh);
            next = acked.Count == 0 ? next : acked.Max(a => a.Batch) + 1;

            foreach (string tsm in Directory.GetFiles(dir.Path, "*.tsm", SearchOption.AllDirectories))
            {
                TsmVerifyReport report = TsmInspector.Verify(tsm);
                Assert.True(report.Ok, $"iteration {iteration}: {string.Join("; ", report.Problems)}");
            }

            await using var engine = StorageEngine.Open(dir.Path);
            OrgInfo org = engine.Catalog.Orgs.Single();
            BucketInfo bucket = engine.Catalog.FindBucket(org.Id, "b")!;
            foreach (int w in acked.Select(a => a.Writer).Distinct())
            {
                for (int s = 0; s < 10; s++)
                {
                    var (times, bits, _) = engine.Read(bucket, Encoding.UTF8.GetBytes($"m,s={s},w={w}"), "v"u8, long.MinValue, long.MaxValue);
                    var stored = new Dictionary<long, double>();
                    for (int i = 0; i < times.Length; i++)
                    {
                        stored[times[i]] = BitConverter.Int64BitsToDouble(bits[i]);
                    }

                    foreach (var (writer, batch) in acked.Where(a => a.Writer == w))
                    {
                        Assert.True(stored.TryGetValue(batch * 1_000_000_000L, out double v) && v == batch,
                            $"iteration {iteration}: acknowledged point w={writer} s={s} batch={batch} is missing");
                    }
                }
            }
        }

        Assert.True(acked.Count > 0, "the worker never acknowledged a write");
    }

    private static async Task<List<(int, long)>> RunAndKillAsync(string dataDir, long firstBatch, TimeSpan runFor)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "InfluxLike.CrashWorker.dll"));
        psi.ArgumentList.Add(dataDir);
        psi.ArgumentList.Add(firstBatch.ToString(CultureInfo.InvariantCulture));
        var acks = new List<(int, long)>();
        var errors = new StringBuilder();
        var firstAck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.StartsWith("ack ", StringComparison.Ordinal))
            {
                string[] parts = line.Split(' ');
                lock (acks)
                {
                    acks.Add((int.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture)));
                }

                firstAck.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (errors)
                {
                    errors.AppendLine(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        Task started = await Task.WhenAny(firstAck.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(started == firstAck.Task, "worker failed before its first write: " + errors);
        await Task.Delay(runFor);
        process.Kill(); // SIGKILL: no shutdown code runs
        await process.WaitForExitAsync();
        lock (errors)
        {
            Assert.True(errors.Length == 0, "worker wrote errors: " + errors);
        }

        // Only lines read before the kill count: output still in the pipe was acknowledged too, and reading
        // it all is what WaitForExitAsync guarantees.
        lock (acks)
        {
            return [.. acks];
        }
    }
}
