using System.Text;
using CsCheck;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Engine;
using InfluxLike.Storage.Index;
using InfluxLike.Storage.Shards;

namespace InfluxLike.Storage.Tests;

/// <summary>
/// Changing a bucket's shard duration shapes only the shards made after it: existing shards keep their range (their
/// folder names it), new ones are cut short where old ones hold the times, and every read, delete and retention
/// decision uses each shard's own range, before and after a restart.
/// </summary>
public sealed class ShardDurationTests
{
    private const long Hour = 3_600_000_000_000L;

    [Fact]
    public async Task A_shorter_duration_keeps_the_old_shards_points_readable_deletable_and_inside_retention()
    {
        using var dir = new TempDir();
        DateTimeOffset now = DateTimeOffset.UnixEpoch; // every point inside the 2-hour retention while written
        var options = new EngineOptions { Clock = () => now };
        BucketInfo bucket;
        await using (var engine = StorageEngine.Open(dir.Path, options))
        {
            bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "b", TimeSpan.FromHours(2), TimeSpan.FromHours(2));
            await Write(engine, bucket, (Hour / 2, 1), (Hour * 3 / 2, 2));
            bucket = engine.Catalog.UpdateBucket(bucket.Id, shardGroupDuration: TimeSpan.FromHours(1))!;

            // 1.75 h lands in the 2-hour shard that holds it; 2.5 h in a new 1-hour one.
            await Write(engine, bucket, (Hour * 7 / 4, 3), (Hour * 5 / 2, 4));
            Assert.Equal([Hour / 2, Hour * 3 / 2, Hour * 7 / 4, Hour * 5 / 2], Times(engine, bucket));
        }

        Assert.Equal(["0_7199999999999", "7200000000000_10799999999999"], ShardFolders(dir, bucket));
        await using (var engine = StorageEngine.Open(dir.Path, options))
        {
            Assert.Equal([Hour / 2, Hour * 3 / 2, Hour * 7 / 4, Hour * 5 / 2], Times(engine, bucket));
            Assert.Equal((true, Hour * 7 / 4), Edge(engine, bucket, Hour, (2 * Hour) - 1, last: true));

            // A delete inside the old shard's second hour reaches it (it was cut at the new duration before).
            await engine.DeleteAsync(bucket, new SeriesPredicate.MeasurementEquals("m"), (_, _, _) => true, Hour * 13 / 8, Hour * 15 / 8);
            Assert.Equal([Hour / 2, Hour * 3 / 2, Hour * 5 / 2], Times(engine, bucket));

            now = DateTimeOffset.UnixEpoch.AddHours(3);

            // Retention 2 h at 3 h: the cutoff is 1 h. The old shard holds a point after it, so it stays (it was dropped
            // before, as if it ended after one hour).
            Assert.Equal(0, await engine.EnforceRetentionAsync());
            Assert.Equal([Hour / 2, Hour * 3 / 2, Hour * 5 / 2], Times(engine, bucket));

            now = DateTimeOffset.UnixEpoch.AddHours(4); // cutoff 2 h: now every point of the old shard is older
            Assert.Equal(1, await engine.EnforceRetentionAsync());
            Assert.Equal([Hour * 5 / 2], Times(engine, bucket));
        }
    }

    [Fact]
    public async Task A_longer_duration_makes_new_shards_that_begin_where_the_old_ones_end()
    {
        using var dir = new TempDir();
        BucketInfo bucket;
        await using (var engine = StorageEngine.Open(dir.Path))
        {
            bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "b", TimeSpan.Zero, TimeSpan.FromHours(1));
            await Write(engine, bucket, (Hour / 2, 1), (Hour * 5 / 2, 3));
            bucket = engine.Catalog.UpdateBucket(bucket.Id, shardGroupDuration: TimeSpan.FromHours(4))!;
        }

        await using (var engine = StorageEngine.Open(dir.Path))
        {
            // The 4-hour window [0, 4 h) is taken in part: 1.5 h gets [1 h, 2 h), between the old shards, and 3.5 h
            // gets [3 h, 4 h); 5 h opens a whole window.
            await Write(engine, bucket, (Hour * 7 / 2, 4), (Hour * 3 / 2, 2), (5 * Hour, 5));
            Assert.Equal([Hour / 2, Hour * 3 / 2, Hour * 5 / 2, Hour * 7 / 2, 5 * Hour], Times(engine, bucket));
            Assert.Equal((true, Hour / 2), Edge(engine, bucket, long.MinValue, long.MaxValue, last: false));
            Assert.Equal((true, 5 * Hour), Edge(engine, bucket, long.MinValue, long.MaxValue, last: true));
            Assert.Equal((true, Hour * 7 / 2), Edge(engine, bucket, 0, (4 * Hour) - 1, last: true));
        }

        Assert.Equal(
            ["0_3599999999999", "10800000000000_14399999999999", "14400000000000_28799999999999", "3600000000000_7199999999999", "7200000000000_10799999999999"],
            ShardFolders(dir, bucket));
    }

    [Fact]
    public async Task Folders_named_by_their_start_alone_open_with_the_buckets_duration()
    {
        // Shard folders from before ranges were recorded: a bare start, spanning the bucket's duration.
        using var dir = new TempDir();
        BucketInfo bucket;
        await using (var engine = StorageEngine.Open(dir.Path))
        {
            bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "b", TimeSpan.Zero, TimeSpan.FromHours(1));
            await Write(engine, bucket, (Hour / 2, 1), (Hour * 3 / 2, 2));
        }

        foreach (string folder in Directory.GetDirectories(ShardsFolder(dir, bucket)))
        {
            string name = Path.GetFileName(folder);
            Directory.Move(folder, Path.Combine(Path.GetDirectoryName(folder)!, name[..name.IndexOf('_', StringComparison.Ordinal)]));
        }

        await using (var engine = StorageEngine.Open(dir.Path))
        {
            Assert.Equal([Hour / 2, Hour * 3 / 2], Times(engine, bucket));
            await Write(engine, bucket, (Hour * 3 / 4, 3), (Hour * 5 / 2, 4)); // into the bare-named shard, and a new one
            Assert.Equal([Hour / 2, Hour * 3 / 4, Hour * 3 / 2, Hour * 5 / 2], Times(engine, bucket));
        }

        Assert.Equal(["0", "3600000000000", "7200000000000_10799999999999"], ShardFolders(dir, bucket));
    }

    [Fact]
    public async Task A_folder_named_by_its_start_alone_spans_its_points_when_the_duration_shrank_before_the_upgrade()
    {
        // The old code shaped shards by the duration of the day; a bare-named shard may hold more than the bucket's
        // duration now: its range reaches its latest point (in a file, or only in its WAL).
        using var dir = new TempDir();
        BucketInfo bucket;
        await using (var engine = StorageEngine.Open(dir.Path))
        {
            bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "b", TimeSpan.Zero, TimeSpan.FromHours(2));
            await Write(engine, bucket, (Hour / 2, 1));
            await engine.SnapshotAllAsync();
            await Write(engine, bucket, (Hour * 3 / 2, 2)); // in the WAL only
            bucket = engine.Catalog.UpdateBucket(bucket.Id, shardGroupDuration: TimeSpan.FromHours(1))!;
        }

        string folder = Assert.Single(Directory.GetDirectories(ShardsFolder(dir, bucket)));
        Directory.Move(folder, Path.Combine(ShardsFolder(dir, bucket), "0"));
        await using (var engine = StorageEngine.Open(dir.Path, new EngineOptions { Clock = () => DateTimeOffset.UnixEpoch.AddHours(2) }))
        {
            Assert.Equal([Hour / 2, Hour * 3 / 2], Times(engine, bucket));
            await Write(engine, bucket, (Hour * 7 / 4, 3)); // after the old shard's last point: a new shard, cut to begin after it
            Assert.Equal([Hour / 2, Hour * 3 / 2, Hour * 7 / 4], Times(engine, bucket));
            engine.Catalog.UpdateBucket(bucket.Id, retention: TimeSpan.FromHours(1)); // cutoff 1 h: the old shard holds 1.5 h
            Assert.Equal(0, await engine.EnforceRetentionAsync());
            Assert.Equal([Hour / 2, Hour * 3 / 2, Hour * 7 / 4], Times(engine, bucket));
        }

        Assert.Equal(["0", "5400000000001_7199999999999"], ShardFolders(dir, bucket));
    }

    [Fact]
    public async Task Any_history_of_writes_duration_changes_and_restarts_reads_as_one_time_ordered_series()
    {
        // Steps: write a point at t (hours and a fraction), change the duration (1 to 6 hours), or restart.
        var step = Gen.OneOf(
            Gen.Int[0, 24 * 8].Select(t => (Kind: 0, Value: (long)t * Hour / 8)),
            Gen.Int[1, 6].Select(h => (Kind: 1, Value: (long)h)),
            Gen.Const((Kind: 2, Value: 0L)));
        await step.Array[1, 40].SampleAsync(async steps =>
        {
            using var dir = new TempDir();
            var model = new SortedDictionary<long, double>();
            var engine = StorageEngine.Open(dir.Path);
            try
            {
                BucketInfo bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "b", TimeSpan.Zero, TimeSpan.FromHours(2));
                int n = 0;
                foreach (var (kind, value) in steps)
                {
                    switch (kind)
                    {
                        case 0:
                            await Write(engine, bucket, (value, ++n));
                            model[value] = n;
                            break;
                        case 1:
                            bucket = engine.Catalog.UpdateBucket(bucket.Id, shardGroupDuration: TimeSpan.FromHours(value))!;
                            break;
                        default:
                            await engine.DisposeAsync();
                            engine = StorageEngine.Open(dir.Path);
                            break;
                    }
                }

                var (times, bits, _) = engine.Read(bucket, "m"u8, "v"u8, long.MinValue, long.MaxValue);
                Assert.Equal(model.Keys, times);
                Assert.Equal(model.Values, bits.Select(BitConverter.Int64BitsToDouble));
                if (model.Count > 0)
                {
                    Assert.Equal((true, model.Keys.First()), Edge(engine, bucket, long.MinValue, long.MaxValue, last: false));
                    Assert.Equal((true, model.Keys.Last()), Edge(engine, bucket, long.MinValue, long.MaxValue, last: true));
                }

                // Shards never overlap, whatever durations made them.
                ShardRange[] ranges = [.. ShardFolders(dir, bucket).Select(f => ShardRange.TryParseFolderName(f, 1, out ShardRange r) ? r : throw new InvalidDataException(f)).OrderBy(r => r.Start)];
                for (int i = 1; i < ranges.Length; i++)
                {
                    Assert.True(ranges[i - 1].Last < ranges[i].Start, $"{ranges[i - 1]} overlaps {ranges[i]}");
                }
            }
            finally
            {
                await engine.DisposeAsync();
            }
        }, iter: 40, threads: 1);
    }

    [Theory]
    [InlineData(0, 10, 0, 9)]
    [InlineData(9, 10, 0, 9)]
    [InlineData(10, 10, 10, 19)]
    [InlineData(-1, 10, -10, -1)]
    [InlineData(-10, 10, -10, -1)]
    [InlineData(long.MaxValue, 10, 9223372036854775800, long.MaxValue)]
    [InlineData(long.MinValue, 10, long.MinValue, -9223372036854775801)]
    [InlineData(long.MaxValue, 3_600_000_000_000, 9223369200000000000, long.MaxValue)]
    [InlineData(long.MinValue, 3_600_000_000_000, long.MinValue, -9223369200000000001)]
    public void A_window_is_aligned_to_its_duration_and_clamped_at_the_ends_of_time(long time, long duration, long start, long last)
    {
        ShardRange window = ShardRange.Window(time, duration);
        Assert.Equal(new ShardRange(start, last), window);
        Assert.True(window.Contains(time));
    }

    [Theory]
    [InlineData("12_34", true, 12, 34)]
    [InlineData("-7200_-1", true, -7200, -1)]
    [InlineData("100", true, 100, 109)]
    [InlineData("9223372036854775800", true, 9223372036854775800, long.MaxValue)]
    [InlineData("34_12", false, 0, 0)]
    [InlineData("12_", false, 0, 0)]
    [InlineData("_12", false, 0, 0)]
    [InlineData("12_34_56", false, 0, 0)]
    [InlineData("x", false, 0, 0)]
    [InlineData("..", false, 0, 0)]
    public void Folder_names_read_back_as_ranges_and_nothing_else_does(string name, bool valid, long start, long last)
    {
        Assert.Equal(valid, ShardRange.TryParseFolderName(name, 10, out ShardRange range));
        if (valid)
        {
            Assert.Equal(new ShardRange(start, last), range);
            if (name.Contains('_', StringComparison.Ordinal))
            {
                Assert.Equal(name, range.FolderName);
            }
        }
    }

    private static async Task Write(StorageEngine engine, BucketInfo bucket, params (long Time, double Value)[] points)
    {
        string body = string.Concat(points.Select(p => FormattableString.Invariant($"m v={p.Value} {p.Time}\n")));
        WriteResult r = await engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes(body), Precision.Nanoseconds, 0);
        Assert.Equal(points.Length, r.ValuesWritten);
    }

    private static long[] Times(StorageEngine engine, BucketInfo bucket) =>
        engine.Read(bucket, "m"u8, "v"u8, long.MinValue, long.MaxValue).Times;

    private static (bool, long) Edge(StorageEngine engine, BucketInfo bucket, long min, long max, bool last)
    {
        var edge = engine.ReadEdge(bucket, "m"u8, "v"u8, min, max, last);
        return (edge.Found, edge.Time);
    }

    private static string ShardsFolder(TempDir dir, BucketInfo bucket) => Path.Combine(dir.Path, "buckets", bucket.Id, "shards");

    private static string[] ShardFolders(TempDir dir, BucketInfo bucket) => Directory.Exists(ShardsFolder(dir, bucket))
        ? [.. Directory.GetDirectories(ShardsFolder(dir, bucket)).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal)]
        : []; // no write made a shard yet
}
