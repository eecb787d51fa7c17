using System.Diagnostics;
using System.Globalization;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Engine;

namespace InfluxLike.Benchmarks;

/// <summary>
/// Macro measurement of in-process ingest (issue 5): the TSBS workload cut into 5,000-line batches,
/// written by concurrent writers through <see cref="StorageEngine.WriteLineProtocolAsync"/>, each batch
/// acknowledged only when durable; then the time to reopen the data. Round 0 warms the JIT up and is reported
/// apart; the median of the rounds after it is the result (each round writes into a new, empty folder).
/// <c>dotnet InfluxLike.Benchmarks.dll engine-ingest FILE [writers] [cache snapshot MiB] [rounds]</c>
/// </summary>
internal static class EngineIngestTool
{
    public static async Task RunAsync(string[] args)
    {
        string file = args[0];
        int writers = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 4;
        long snapshotBytes = args.Length > 2 ? long.Parse(args[2], CultureInfo.InvariantCulture) << 20 : new InfluxLike.Storage.Shards.ShardOptions().SnapshotThresholdBytes;
        int rounds = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1;
        var options = new EngineOptions { Shard = new InfluxLike.Storage.Shards.ShardOptions { SnapshotThresholdBytes = snapshotBytes } };
        var batches = Workloads.Batches(File.ReadAllBytes(file));
        using AllocationSampler? sampler = Environment.GetEnvironmentVariable("INFLUXLIKE_ALLOC_SAMPLES") == "1" ? new AllocationSampler() : null;
        var rates = new List<double>();
        var restarts = new List<double>();
        string dir = Path.Combine(Path.GetTempPath(), "influxlike-ingest-" + Environment.ProcessId);
        for (int round = 0; round < rounds; round++)
        {
            var (rate, restartMs) = await RoundAsync(dir, batches, writers, options, round, keep: round == rounds - 1);
            if (round > 0 || rounds == 1)
            {
                rates.Add(rate);
                restarts.Add(restartMs);
            }
        }

        if (rounds > 1)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"median        {Median(rates) / 1e6:F2} M values/s [{rates.Min() / 1e6:F2}..{rates.Max() / 1e6:F2}], restart {Median(restarts):F0} ms [{restarts.Min():F0}..{restarts.Max():F0}] over rounds 1-{rounds - 1} (round 0 warms up)"));
        }

        Console.WriteLine($"memory        peak RSS {VmHwm() / 1048576.0:F0} MiB");
        if (sampler is not null)
        {
            Console.WriteLine("allocations by type (sampled, all rounds):");
            sampler.Print(Console.Out);
        }

        // A cold restart: a new process (runtime start-up and JIT included) opens the last round's data.
        for (int i = 0; i < 3; i++)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
            psi.ArgumentList.Add(typeof(EngineIngestTool).Assembly.Location);
            psi.ArgumentList.Add("engine-open");
            psi.ArgumentList.Add(dir);
            using var child = Process.Start(psi)!;
            Console.Write(await child.StandardOutput.ReadToEndAsync());
            await child.WaitForExitAsync();
        }

        Directory.Delete(dir, recursive: true);
    }

    /// <summary>
    /// <c>engine-open DIR</c>: opens the data in DIR (the index and every shard, the WAL replayed into the caches)
    /// and prints the time from the process's start, so a cold restart's runtime start-up and JIT are counted.
    /// </summary>
    public static async Task OpenAsync(string dir)
    {
        var opened = Stopwatch.StartNew();
        await using var engine = StorageEngine.Open(dir);
        BucketInfo bucket = engine.Catalog.Buckets.Single();
        long series = engine.GetIndex(bucket).SeriesCount;
        double inMain = opened.Elapsed.TotalMilliseconds;
        using var self = Process.GetCurrentProcess();
        double sinceStart = (DateTime.Now - self.StartTime).TotalMilliseconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cold restart  {sinceStart:F0} ms from process start to {series} series open ({inMain:F0} ms of it opening the engine)"));
    }

    private static double Median(List<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static async Task<(double Rate, double RestartMs)> RoundAsync(string dir, List<ReadOnlyMemory<byte>> batches, int writers, EngineOptions options, int round, bool keep)
    {
        long values = 0;
        long peakHeap = 0;
        double rate;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        int[] gcBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
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
            rate = values / seconds;
            Console.WriteLine($"round {round}       {values:N0} values in {seconds:F2} s = {rate / 1e6:F2} M values/s ({writers} writers, {batches.Count} batches of 5,000 lines, every batch durable before its ack); peak managed heap {peakHeap / 1048576.0:F0} MiB");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"              allocated {(GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore) / (double)values:F1} bytes/value; collections gen0 {GC.CollectionCount(0) - gcBefore[0]}, gen1 {GC.CollectionCount(1) - gcBefore[1]}, gen2 {GC.CollectionCount(2) - gcBefore[2]}"));
        }

        sw.Restart();
        double restartMs;
        await using (var engine = StorageEngine.Open(dir))
        {
            BucketInfo bucket = engine.Catalog.Buckets.Single();
            engine.GetIndex(bucket); // opens the index and every shard (WAL replayed into the caches)
            restartMs = sw.Elapsed.TotalMilliseconds;
            Console.WriteLine($"restart       {restartMs:F0} ms to reopen {engine.GetIndex(bucket).SeriesCount} series with the data loaded");
        }

        if (!keep)
        {
            Directory.Delete(dir, recursive: true);
        }

        return (rate, restartMs);
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
