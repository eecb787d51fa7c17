using System.Diagnostics;
using System.Globalization;
using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Engine;
using InfluxLike.Storage.Index;
using InfluxLike.Storage.Shards;

namespace InfluxLike.Benchmarks;

/// <summary>
/// Macro measurements of storage part 2 (issue 9), in process:
/// <list type="bullet">
/// <item><c>compaction FILE [rounds]</c>: ingest of the TSBS workload (4 writers, every batch durable, 4 MiB
/// snapshots so level compactions are due all along) with no compaction, then with the compaction loop running
/// beside it under the default IO budget, alternated <c>rounds</c> times; then the time to settle (caches
/// written, everything compacted into one file per shard) and bytes/value of the data folder.</item>
/// <item><c>blocks FILE</c>: the workload fully compacted with 1,000 and with 4,096 points per block: file size
/// and the time to read every series field over all of it and over one hour.</item>
/// <item><c>delete-series SERIES</c>: SERIES series over 10 measurements (2 points each, on disk), then the
/// time for a delete of one measurement to answer and for its index clean-up to finish.</item>
/// </list>
/// </summary>
internal static class CompactionTool
{
    public static async Task RunAsync(string[] args)
    {
        switch (args[0])
        {
            case "compaction":
                await IngestWithCompactionAsync(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2);
                break;
            case "blocks":
                await BlockSizesAsync(args[1]);
                break;
            case "delete-series":
                await DeleteSeriesAsync(int.Parse(args[1], CultureInfo.InvariantCulture));
                break;
        }
    }

    private static async Task<(double ValuesPerSecond, long Values, int Compactions, long CompactedBytes, double SettleSeconds, double BytesPerValue)> LoadAsync(
        List<ReadOnlyMemory<byte>> batches, bool compact, bool settle)
    {
        string dir = Path.Combine(Path.GetTempPath(), "influxlike-compaction-" + Environment.ProcessId);
        var options = new EngineOptions { Shard = new ShardOptions { SnapshotThresholdBytes = 4L << 20 } };
        long values = 0;
        int compactions = 0;
        long compacted = 0;
        try
        {
            await using var engine = StorageEngine.Open(dir, options);
            BucketInfo bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "bench", TimeSpan.Zero);
            using var stop = new CancellationTokenSource();
            Task loop = !compact ? Task.CompletedTask : Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    foreach (CompactionResult r in await engine.CompactAsync())
                    {
                        compactions++;
                        compacted += r.OutputBytes;
                    }

                    await Task.Delay(100);
                }
            });
            var sw = Stopwatch.StartNew();
            int next = -1;
            await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                int b;
                while ((b = Interlocked.Increment(ref next)) < batches.Count)
                {
                    WriteResult r = await engine.WriteLineProtocolAsync(bucket, batches[b], Precision.Nanoseconds, 0);
                    Interlocked.Add(ref values, r.ValuesWritten);
                }
            })));
            double rate = values / sw.Elapsed.TotalSeconds;
            await stop.CancelAsync();
            await loop;
            double settleSeconds = 0;
            double bytesPerValue = 0;
            if (settle)
            {
                sw.Restart();
                foreach (CompactionResult r in await engine.CompactAsync(full: true))
                {
                    compactions++;
                    compacted += r.OutputBytes;
                }

                settleSeconds = sw.Elapsed.TotalSeconds;
                bytesPerValue = Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) / (double)values;
            }

            return (rate, values, compactions, compacted, settleSeconds, bytesPerValue);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task IngestWithCompactionAsync(string file, int rounds)
    {
        var batches = Workloads.Batches(File.ReadAllBytes(file));
        var without = new List<double>();
        var with = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            var a = await LoadAsync(batches, compact: false, settle: false);
            without.Add(a.ValuesPerSecond);
            Console.WriteLine($"round {round}: no compaction   {a.ValuesPerSecond / 1e6:F2} M values/s");
            var b = await LoadAsync(batches, compact: true, settle: true);
            with.Add(b.ValuesPerSecond);
            Console.WriteLine($"round {round}: with compaction {b.ValuesPerSecond / 1e6:F2} M values/s ({b.Compactions} compactions, {b.CompactedBytes / 1048576.0:F0} MiB written); " +
                $"settle {b.SettleSeconds:F2} s; {b.BytesPerValue:F3} bytes/value on disk after");
        }

        double m0 = Median(without), m1 = Median(with);
        Console.WriteLine($"median: without {m0 / 1e6:F2} M values/s, with compaction {m1 / 1e6:F2} M values/s = {m1 / m0:F3}x");
    }

    private static async Task BlockSizesAsync(string file)
    {
        var batches = Workloads.Batches(File.ReadAllBytes(file));
        foreach (int blockSize in new[] { 1000, 4096 })
        {
            string dir = Path.Combine(Path.GetTempPath(), "influxlike-blocks-" + Environment.ProcessId);
            try
            {
                await using var engine = StorageEngine.Open(dir, new EngineOptions { Shard = new ShardOptions { FullCompactionMaxPointsPerBlock = blockSize } });
                BucketInfo bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "bench", TimeSpan.Zero);
                foreach (var b in batches)
                {
                    await engine.WriteLineProtocolAsync(bucket, b, Precision.Nanoseconds, 0);
                }

                await engine.CompactAsync(full: true);
                long tsm = Directory.GetFiles(dir, "*.tsm", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
                SeriesIndex index = engine.GetIndex(bucket);
                var keys = new List<(byte[] Series, byte[] Field)>();
                foreach (ulong id in index.Find(SeriesPredicate.All))
                {
                    byte[] series = index.GetSeriesKey(id).ToArray();
                    foreach (var (field, _) in index.FieldKeys("cpu"))
                    {
                        keys.Add((series, Encoding.UTF8.GetBytes(field)));
                    }
                }

                long first = long.MaxValue;
                foreach (var (s, f) in keys.Take(1))
                {
                    first = engine.Read(bucket, s, f, long.MinValue, long.MaxValue).Times[0];
                }

                var all = new List<double>();
                var hour = new List<double>();
                long points = 0;
                for (int rep = 0; rep < 5; rep++)
                {
                    var sw = Stopwatch.StartNew();
                    points = 0;
                    foreach (var (s, f) in keys)
                    {
                        points += engine.Read(bucket, s, f, long.MinValue, long.MaxValue).Times.Length;
                    }

                    all.Add(sw.Elapsed.TotalMilliseconds);
                    sw.Restart();
                    long from = first + (12 * 3_600_000_000_000L);
                    foreach (var (s, f) in keys)
                    {
                        engine.Read(bucket, s, f, from, from + 3_600_000_000_000L - 1);
                    }

                    hour.Add(sw.Elapsed.TotalMilliseconds);
                }

                Console.WriteLine($"{blockSize,5} points/block: {tsm / (double)points:F3} bytes/value; read all {points:N0} points of {keys.Count} keys: median {Median(all):F0} ms; one hour of every key: median {Median(hour):F0} ms");
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static async Task DeleteSeriesAsync(int series)
    {
        string dir = Path.Combine(Path.GetTempPath(), "influxlike-delete-" + Environment.ProcessId);
        try
        {
            await using var engine = StorageEngine.Open(dir);
            BucketInfo bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "bench", TimeSpan.Zero);
            var sw = Stopwatch.StartNew();
            var body = new StringBuilder();
            for (int i = 0; i < series; i++)
            {
                body.Append(CultureInfo.InvariantCulture, $"m{i % 10},host=h{i / 10},rack=r{i % 97} v={i} 1000000000\nm{i % 10},host=h{i / 10},rack=r{i % 97} v={i} 2000000000\n");
                if (body.Length > (4 << 20) || i == series - 1)
                {
                    await engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes(body.ToString()), Precision.Nanoseconds, 0);
                    body.Clear();
                }
            }

            await engine.SnapshotAllAsync();
            Console.WriteLine($"loaded {engine.GetIndex(bucket).SeriesCount:N0} series in {sw.Elapsed.TotalSeconds:F1} s");
            sw.Restart();
            int keys = await engine.DeleteAsync(bucket, new SeriesPredicate.MeasurementEquals("m3"), (_, _, _) => true, long.MinValue, long.MaxValue);
            double answered = sw.Elapsed.TotalSeconds;
            await engine.WhenDeletesDoneAsync();
            double cleaned = sw.Elapsed.TotalSeconds;
            sw.Restart();
            var compactions = await engine.CompactAsync(full: true);
            double purged = sw.Elapsed.TotalSeconds;
            Console.WriteLine($"delete of one measurement ({keys:N0} series fields of {series:N0} series): answered in {answered:F2} s; " +
                $"index clean-up done {cleaned:F2} s after the call ({engine.GetIndex(bucket).SeriesCount:N0} series left); purge by full compaction {purged:F2} s ({compactions.Count} compactions)");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
