using System.Diagnostics;
using System.Globalization;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Engine;

namespace InfluxLike.Benchmarks;

/// <summary>
/// Macro measurement of in-process ingest (issue 5): the TSBS workload cut into 5,000-line batches,
/// written by concurrent writers through <see cref="StorageEngine.WriteLineProtocolAsync"/>, each batch
/// acknowledged only when durable; then the time to reopen the data.
/// <c>dotnet InfluxLike.Benchmarks.dll engine-ingest FILE [writers] [cache snapshot MiB]</c>
/// </summary>
internal static class EngineIngestTool
{
    public static async Task RunAsync(string[] args)
    {
        string file = args[0];
        int writers = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 4;
        long snapshotBytes = args.Length > 2 ? long.Parse(args[2], CultureInfo.InvariantCulture) << 20 : new InfluxLike.Storage.Shards.ShardOptions().SnapshotThresholdBytes;
        var options = new EngineOptions { Shard = new InfluxLike.Storage.Shards.ShardOptions { SnapshotThresholdBytes = snapshotBytes } };
        var batches = Workloads.Batches(File.ReadAllBytes(file));

        string dir = Path.Combine(Path.GetTempPath(), "influxlike-ingest-" + Environment.ProcessId);
        long values = 0;
        long peakHeap = 0;
        var sw = Stopwatch.StartNew();
        await using (var engine = StorageEngine.Open(dir, options))
        {
            BucketInfo bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "bench", TimeSpan.Zero);
            int next = -1;
            await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
            {
                int b;
                while ((b = Interlocked.Increment(ref next)) < batches.Count)
                {
                    WriteResult r = await engine.WriteLineProtocolAsync(bucket, batches[b], Precision.Nanoseconds, 0);
                    Interlocked.Add(ref values, r.ValuesWritten);
                    if (b % 20 == 0)
                    {
                        long heap = GC.GetTotalMemory(false);
                        long seen;
                        while ((seen = Interlocked.Read(ref peakHeap)) < heap && Interlocked.CompareExchange(ref peakHeap, heap, seen) != seen)
                        {
                        }
                    }
                }
            })));
            double seconds = sw.Elapsed.TotalSeconds;
            Console.WriteLine($"ingest        {values:N0} values in {seconds:F1} s = {values / seconds / 1e6:F2} M values/s ({writers} writers, {batches.Count} batches of 5,000 lines, every batch durable before its ack)");
            Console.WriteLine($"memory        peak managed heap {peakHeap / 1048576.0:F0} MiB, peak RSS {VmHwm() / 1048576.0:F0} MiB");
        }

        sw.Restart();
        await using (var engine = StorageEngine.Open(dir))
        {
            BucketInfo bucket = engine.Catalog.Buckets.Single();
            engine.GetIndex(bucket); // opens the index and every shard (WAL replayed into the caches)
            Console.WriteLine($"restart       {sw.Elapsed.TotalMilliseconds:F0} ms to reopen {engine.GetIndex(bucket).SeriesCount} series with the data loaded");
        }

        Directory.Delete(dir, recursive: true);
    }

    private static long VmHwm()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }
}
