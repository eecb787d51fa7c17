using System.Globalization;
using System.Text;
using CsCheck;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Engine;
using InfluxLike.Storage.Index;
using InfluxLike.Storage.Reads;

namespace InfluxLike.Storage.Tests;

public class StorageReaderTests
{
    private const long Second = 1_000_000_000L;

    private static async Task<(StorageEngine Engine, BucketInfo Bucket)> Load(TempDir dir, IEnumerable<(string Host, string Field, long T, double V)> points, bool snapshotHalf)
    {
        var engine = StorageEngine.Open(dir.Path);
        BucketInfo bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "b", TimeSpan.Zero, TimeSpan.FromMinutes(1));
        var list = points.ToList();
        for (int part = 0; part < 2; part++)
        {
            var body = new StringBuilder();
            foreach (var (host, field, t, v) in list.Where((_, i) => i % 2 == part))
            {
                body.Append(CultureInfo.InvariantCulture, $"cpu,host={host} {field}={v.ToString("R", CultureInfo.InvariantCulture)} {t}\n");
            }

            WriteResult r = await engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes(body.ToString()), Precision.Nanoseconds, 0);
            Assert.True(r.Complete, string.Join("; ", r.Rejected.Concat(r.LineErrors.Select(e => e.ToString()))));
            if (part == 0 && snapshotHalf)
            {
                await engine.SnapshotAllAsync(); // half in TSM files, half in caches
            }
        }

        return (engine, bucket);
    }

    [Fact]
    public async Task Read_filter_selects_series_fields_and_the_half_open_range()
    {
        using var dir = new TempDir();
        var points = new List<(string, string, long, double)>();
        for (int i = 0; i < 300; i++)
        {
            points.Add(("a", "user", i * Second, i));
            points.Add(("a", "system", i * Second, -i));
            points.Add(("b", "user", i * Second, 1000 + i));
        }

        var (engine, bucket) = await Load(dir, points, snapshotHalf: true);
        await using (engine)
        {
            var request = new ReadRequest(bucket, 100 * Second, 200 * Second, new SeriesPredicate.TagEquals("host", "a"), ["user"]);
            SeriesFieldData d = Assert.Single(StorageReader.ReadFilter(engine, request));
            Assert.Equal("cpu", d.Measurement);
            Assert.Equal([new KeyValuePair<string, string>("host", "a")], d.Tags);
            Assert.Equal("user", d.Field);
            Assert.Equal(Enumerable.Range(100, 100).Select(i => i * Second), d.Times);
            Assert.Equal(Enumerable.Range(100, 100).Select(i => (double)i), Enumerable.Range(0, d.Times.Length).Select(d.Float));

            var all = StorageReader.ReadFilter(engine, request with { Predicate = SeriesPredicate.All, Fields = null }).ToList();
            Assert.Equal(["a system", "a user", "b user"], all.Select(x => x.Tags[0].Value + " " + x.Field).Order());
            Assert.Empty(StorageReader.ReadFilter(engine, request with { Start = 500 * Second, Stop = 600 * Second }));
        }
    }

    [Fact]
    public async Task Window_sums_refuse_a_string_field_only_where_it_has_points()
    {
        using var dir = new TempDir();
        await using var engine = StorageEngine.Open(dir.Path);
        BucketInfo bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "b", TimeSpan.Zero);
        WriteResult r = await engine.WriteLineProtocolAsync(bucket, "cpu,host=a v=1,note=\"n\" 10\ncpu,host=a v=2 100\n"u8.ToArray(), Precision.Seconds, 0);
        Assert.True(r.Complete);

        // From 50 s on only the float field has points: the string field is not in the way.
        var later = new ReadRequest(bucket, 50 * Second, 200 * Second, SeriesPredicate.All);
        var windows = Assert.Single(StorageReader.ReadWindowAggregate(engine, later, 60 * Second, 0, WindowAggregate.Sum));
        Assert.Equal("v", windows.Series.Field);
        Assert.Equal(2.0, BitConverter.Int64BitsToDouble(Assert.Single(windows.Windows).Bits));

        // Over the whole range the string field has a point, and a string has no sum.
        var all = later with { Start = 0 };
        Assert.Throws<NotSupportedException>(() => StorageReader.ReadWindowAggregate(engine, all, 60 * Second, 0, WindowAggregate.Sum).ToList());
        Assert.Equal(2, StorageReader.ReadWindowAggregate(engine, all, 60 * Second, 0, WindowAggregate.Count).Count());
    }

    [Fact]
    public async Task Window_aggregates_agree_with_a_direct_computation()
    {
        var gen = Gen.Select(Gen.Select(Gen.Long[0, 600], Gen.Double[-100, 100]).Array[1, 80], Gen.Long[1, 90], Gen.Long[0, 30], Gen.Int[0, 6]);
        await gen.SampleAsync(async (raw, everySeconds, offsetSeconds, agg) =>
        {
            using var dir = new TempDir();
            var points = raw.DistinctBy(p => p.Item1).Select(p => ("a", "v", p.Item1 * Second, Math.Round(p.Item2, 3))).ToList();
            var (engine, bucket) = await Load(dir, points, snapshotHalf: agg % 2 == 0);
            await using (engine)
            {
                long every = everySeconds * Second, offset = offsetSeconds * Second % every;
                var aggregate = (WindowAggregate)agg;
                var request = new ReadRequest(bucket, 0, 601 * Second, SeriesPredicate.All);
                var (_, windows) = Assert.Single(StorageReader.ReadWindowAggregate(engine, request, every, offset, aggregate));

                var expected = points.OrderBy(p => p.Item3).GroupBy(p => StorageReader.WindowStart(p.Item3, every, offset)).ToList();
                Assert.Equal(expected.Count, windows.Count);
                for (int w = 0; w < windows.Count; w++)
                {
                    double[] vs = [.. expected[w].Select(p => p.Item4)];
                    Assert.Equal(Math.Max(0, expected[w].Key), windows[w].Start);
                    double want = aggregate switch
                    {
                        WindowAggregate.Count => vs.Length,
                        WindowAggregate.Sum => vs.Sum(),
                        WindowAggregate.Min => vs.Min(),
                        WindowAggregate.Max => vs.Max(),
                        WindowAggregate.Mean => vs.Average(),
                        WindowAggregate.First => vs[0],
                        _ => vs[^1],
                    };
                    double got = aggregate == WindowAggregate.Count ? windows[w].Bits : BitConverter.Int64BitsToDouble(windows[w].Bits);
                    Assert.Equal(want, got, 1e-9);
                }
            }
        }, iter: 60);
    }
}

public class ConcurrentReadWriteTests
{
    [Fact]
    public async Task Readers_during_writes_and_snapshots_see_every_acknowledged_point()
    {
        using var dir = new TempDir();
        await using var engine = StorageEngine.Open(dir.Path);
        BucketInfo bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "b", TimeSpan.Zero);
        long acknowledged = -1; // every batch up to here is durable
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));

        Task writer = Task.Run(async () =>
        {
            for (long b = 0; !stop.IsCancellationRequested; b++)
            {
                var body = new StringBuilder();
                for (int s = 0; s < 5; s++)
                {
                    body.Append(CultureInfo.InvariantCulture, $"m,s={s} v={b}i {b}\n");
                }

                WriteResult r = await engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes(body.ToString()), Precision.Nanoseconds, 0);
                Assert.True(r.Complete);
                Volatile.Write(ref acknowledged, b);
            }
        });
        Task snapshots = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(50);
                await engine.SnapshotAllAsync();
            }
        });

        int reads = 0;
        // Readers on their own threads: two CPU-bound loops on the thread pool of a 2-core machine would starve the
        // pool threads that carry the writer's acknowledgements (the WAL completes them from its I/O threads).
        var readers = Enumerable.Range(0, 2).Select(r => Task.Factory.StartNew(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                long floor = Volatile.Read(ref acknowledged);
                if (floor < 0)
                {
                    Thread.Sleep(1);
                    continue;
                }

                var request = new ReadRequest(bucket, long.MinValue + 2, long.MaxValue - 1, new SeriesPredicate.TagEquals("s", (r % 5).ToString(CultureInfo.InvariantCulture)));
                SeriesFieldData[] data = [.. StorageReader.ReadFilter(engine, request)];

                SeriesFieldData d = Assert.Single(data);
                for (int i = 1; i < d.Times.Length; i++)
                {
                    Assert.True(d.Times[i] > d.Times[i - 1], "times must ascend without duplicates");
                }

                Assert.True(d.Times.Length >= floor + 1, $"read {d.Times.Length} points, {floor + 1} were acknowledged before the read");
                Assert.Equal(Enumerable.Range(0, (int)floor + 1).Select(i => (long)i), d.Times.Take((int)floor + 1));
                Assert.Equal(d.Times, d.Bits);
                Interlocked.Increment(ref reads);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

        await Task.WhenAll([writer, snapshots, .. readers]);
        Assert.True(reads > 10, $"only {reads} reads ran");
        Assert.True(Volatile.Read(ref acknowledged) > 10);
    }
}

public class SchemaReadTests
{
    [Fact]
    public async Task Schema_reads_answer_within_the_time_range()
    {
        using var dir = new TempDir();
        await using var engine = StorageEngine.Open(dir.Path);
        BucketInfo bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "b", TimeSpan.Zero);
        await engine.WriteLineProtocolAsync(bucket, "cpu,host=a,dc=x usage=1 100\ncpu,host=b usage=2 200\nmem,host=a free=3i 300\nmem,host=c,rack=r1 free=4i,used=\"n/a\" 400\n"u8.ToArray(), Precision.Nanoseconds, 0);
        var all = new ReadRequest(bucket, 0, 1000, SeriesPredicate.All);
        Assert.Equal(["cpu", "mem"], StorageReader.Measurements(engine, all));
        Assert.Equal(["mem"], StorageReader.Measurements(engine, all with { Start = 250 }));
        Assert.Equal(["dc", "host"], StorageReader.TagKeys(engine, all with { Stop = 201 }));
        Assert.Equal(["a", "b", "c"], StorageReader.TagValues(engine, all with { Start = 101 }, "host"));
        Assert.Equal(["a", "c"], StorageReader.TagValues(engine, all with { Start = 250 }, "host"));
        Assert.Equal(["b", "c"], StorageReader.TagValues(engine, all with { Start = 150, Predicate = !new SeriesPredicate.TagEquals("host", "a") }, "host"));
        Assert.Equal([("free", FieldType.Integer), ("used", FieldType.String)], StorageReader.FieldKeys(engine, all with { Predicate = new SeriesPredicate.MeasurementEquals("mem"), Start = 350 }));
    }
}
