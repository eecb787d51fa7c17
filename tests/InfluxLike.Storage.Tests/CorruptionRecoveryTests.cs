using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Engine;
using InfluxLike.Storage.Index;
using InfluxLike.Storage.Shards;
using InfluxLike.Storage.Tsm;
using InfluxLike.Storage.Wal;

namespace InfluxLike.Storage.Tests;

/// <summary>
/// A flipped bit in a WAL segment, a TSM file or the series log of a closed engine: opening again reports the
/// damage with file and offset (through <see cref="EngineOptions.Warn"/>), keeps the damaged bytes aside where
/// they cannot be derived again, and everything else serves.
/// </summary>
public sealed class CorruptionRecoveryTests
{
    private const long Week = 7L * 24 * 3_600_000_000_000L;

    private static EngineOptions Options(List<string> warnings, long segmentSizeBytes = 256) => new()
    {
        Warn = warnings.Add,
        MinFreeDiskBytes = 0,
        Shard = new ShardOptions { Wal = new WalOptions { SegmentSizeBytes = segmentSizeBytes } },
    };

    // Series host=h0 … h{n-1}, one line (one WAL entry) each, in the shard of time offset.
    private static async Task<BucketInfo> WriteAsync(string dir, int n, bool snapshot, long offset = 0, long segmentSizeBytes = 256)
    {
        await using var engine = StorageEngine.Open(dir, Options([], segmentSizeBytes));
        OrgInfo org = engine.Catalog.GetOrCreateOrg("o");
        BucketInfo bucket = engine.Catalog.FindBucket(org.Id, "b") ?? engine.Catalog.CreateBucket(org.Id, "b", TimeSpan.Zero);
        for (int i = 0; i < n; i++)
        {
            await engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes($"cpu,host=h{i} v={i} {offset + i + 1}"), Precision.Nanoseconds, 0);
        }

        if (snapshot)
        {
            await engine.SnapshotAllAsync();
        }

        return bucket;
    }

    private static void FlipBit(string path, long offset)
    {
        byte[] bytes = File.ReadAllBytes(path);
        bytes[offset] ^= 0x10;
        File.WriteAllBytes(path, bytes);
    }

    private static bool Has(StorageEngine engine, BucketInfo bucket, string host) =>
        engine.Read(bucket, Encoding.UTF8.GetBytes("cpu,host=" + host), "v"u8, long.MinValue, long.MaxValue).Times.Length == 1;

    [Fact]
    public async Task A_damaged_wal_entry_costs_that_entry_is_reported_and_kept_aside_and_the_rest_replays()
    {
        using var dir = new TempDir();
        BucketInfo bucket = await WriteAsync(dir.Path, 50, snapshot: false);
        string wal = Directory.GetDirectories(Path.Combine(dir.Path, "buckets", bucket.Id, "shards")).Single();
        string first = Directory.GetFiles(Path.Combine(wal, "wal"), "*.wal").Order(StringComparer.Ordinal).First();
        FlipBit(first, 20); // inside the segment's first entry: host h0

        var warnings = new List<string>();
        await using var engine = StorageEngine.Open(dir.Path, Options(warnings));
        Assert.False(Has(engine, bucket, "h0"));
        Assert.All(Enumerable.Range(1, 49), i => Assert.True(Has(engine, bucket, "h" + i), "h" + i));
        string warning = Assert.Single(warnings);
        Assert.Contains(first + ": corrupt at offset 0", warning, StringComparison.Ordinal);
        Assert.True(File.Exists(first + WriteAheadLog.QuarantineSuffix));
    }

    [Fact]
    public async Task A_damaged_entry_in_the_middle_of_the_last_wal_segment_costs_that_entry_not_the_ones_after_it()
    {
        using var dir = new TempDir();
        BucketInfo bucket = await WriteAsync(dir.Path, 50, snapshot: false, segmentSizeBytes: 1 << 20);
        string wal = Directory.GetDirectories(Path.Combine(dir.Path, "buckets", bucket.Id, "shards")).Single();
        string last = Directory.GetFiles(Path.Combine(wal, "wal"), "*.wal").Single(); // one segment: the last
        FlipBit(last, 20); // inside the first of 50 acknowledged entries

        var warnings = new List<string>();
        await using var engine = StorageEngine.Open(dir.Path, Options(warnings));
        Assert.False(Has(engine, bucket, "h0"));
        Assert.All(Enumerable.Range(1, 49), i => Assert.True(Has(engine, bucket, "h" + i), "h" + i)); // were cut as a "torn tail"
        string warning = Assert.Single(warnings);
        Assert.Contains(last + ": corrupt at offset 0", warning, StringComparison.Ordinal);
        Assert.True(File.Exists(last + WriteAheadLog.QuarantineSuffix));
    }

    [Fact]
    public async Task A_tsm_file_that_does_not_open_is_quarantined_with_file_and_offset_and_other_shards_serve()
    {
        using var dir = new TempDir();
        BucketInfo bucket = await WriteAsync(dir.Path, 10, snapshot: true);
        await WriteAsync(dir.Path, 10, snapshot: true, offset: 2 * Week);
        string[] shards = [.. Directory.GetDirectories(Path.Combine(dir.Path, "buckets", bucket.Id, "shards")).Order(StringComparer.Ordinal)];
        Assert.Equal(2, shards.Length);
        string damaged = Directory.GetFiles(shards[1], "*" + TsmFormat.Extension).Single();
        FlipBit(damaged, new FileInfo(damaged).Length - 12); // in the footer

        var warnings = new List<string>();
        await using var engine = StorageEngine.Open(dir.Path, Options(warnings));
        var points = engine.Read(bucket, "cpu,host=h3"u8, "v"u8, long.MinValue, long.MaxValue);
        Assert.Equal([4L], points.Times); // the first shard's point; the second shard's file is aside
        string warning = Assert.Single(warnings);
        Assert.Contains(damaged + ": corrupt at offset ", warning, StringComparison.Ordinal);
        Assert.Contains("moved aside", warning, StringComparison.Ordinal);
        Assert.True(File.Exists(damaged + TsmFileName.QuarantineSuffix));
        Assert.False(File.Exists(damaged));
    }

    [Fact]
    public async Task A_damaged_series_log_is_cut_reported_and_the_lost_series_are_found_again_in_the_data()
    {
        using var dir = new TempDir();
        BucketInfo bucket = await WriteAsync(dir.Path, 50, snapshot: true);
        string log = Path.Combine(dir.Path, "buckets", bucket.Id, "index", SeriesFile.FileName);
        long length = new FileInfo(log).Length;
        FlipBit(log, length / 3); // a third in: the series after it were acknowledged long ago

        var warnings = new List<string>();
        var engine = StorageEngine.Open(dir.Path, Options(warnings));
        Assert.Equal(50, engine.GetIndex(bucket).Find(new SeriesPredicate.MeasurementEquals("cpu")).Length);
        Assert.Contains(warnings, w => w.Contains(SeriesFile.FileName + ": corrupt at offset ", StringComparison.Ordinal)); // found by the check
        Assert.Contains(warnings, w => w.Contains("series found again in the shards' data", StringComparison.Ordinal)); // repaired

        // Written back durably: the next open finds everything without a repair.
        await engine.DisposeAsync();
        var again = new List<string>();
        await using var reopened = StorageEngine.Open(dir.Path, Options(again));
        Assert.Equal(50, reopened.GetIndex(bucket).Find(new SeriesPredicate.MeasurementEquals("cpu")).Length);
        Assert.Empty(again);
    }
}
