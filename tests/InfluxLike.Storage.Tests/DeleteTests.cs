using InfluxLike.Storage.Tsm;
using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Engine;
using InfluxLike.Storage.Index;

namespace InfluxLike.Storage.Tests;

/// <summary>Deletes: visible at once in cache and files, durable across restarts, right while a snapshot runs.</summary>
public class DeleteTests
{
    private static long[] Times(StorageEngine e, BucketInfo b, string series, string field) =>
        e.Read(b, Encoding.UTF8.GetBytes(series), Encoding.UTF8.GetBytes(field), long.MinValue, long.MaxValue).Times;

    private static string Lines(int from, int to, string extra = "") =>
        string.Concat(Enumerable.Range(from, to - from).Select(t => $"cpu,host=a u={t}{extra} {t}\ncpu,host=b u={t} {t}\nmem,host=a used={t}i {t}\n"));

    private static bool HostA(string measurement, IReadOnlyList<KeyValuePair<string, string>> tags, string field) =>
        measurement == "cpu" && tags.Any(t => t is { Key: "host", Value: "a" });

    [Fact]
    public async Task A_delete_removes_the_range_from_files_and_cache_and_survives_restarts()
    {
        using var dir = new TempDir();
        BucketInfo bucket;
        await using (var engine = StorageEngine.Open(dir.Path))
        {
            bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "b", TimeSpan.Zero);
            await engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes(Lines(0, 100)), Precision.Nanoseconds, 0);
            await engine.SnapshotAllAsync(); // 0..99 in a file
            await engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes(Lines(100, 200)), Precision.Nanoseconds, 0); // 100..199 in the cache

            int keys = await engine.DeleteAsync(bucket, new SeriesPredicate.MeasurementEquals("cpu"), HostA, 50, 149);
            Assert.Equal(1, keys);
            long[] expected = [.. Enumerable.Range(0, 50).Select(i => (long)i), .. Enumerable.Range(150, 50).Select(i => (long)i)];
            Assert.Equal(expected, Times(engine, bucket, "cpu,host=a", "u"));
            Assert.Equal(200, Times(engine, bucket, "cpu,host=b", "u").Length);
            Assert.Equal(200, Times(engine, bucket, "mem,host=a", "used").Length);
        }

        // The WAL replays the delete over the replayed points; the file keeps its tombstones.
        await using (var engine = StorageEngine.Open(dir.Path))
        {
            Assert.Equal(100, Times(engine, bucket, "cpu,host=a", "u").Length);
            await engine.SnapshotAllAsync();
        }

        await using (var engine = StorageEngine.Open(dir.Path))
        {
            Assert.Equal(100, Times(engine, bucket, "cpu,host=a", "u").Length);
            Assert.Equal(200, Times(engine, bucket, "cpu,host=b", "u").Length);

            // Points written again after a delete are there.
            await engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes("cpu,host=a u=1 60\n"), Precision.Nanoseconds, 0);
            Assert.Equal(101, Times(engine, bucket, "cpu,host=a", "u").Length);
        }
    }

    [Fact]
    public async Task A_field_can_be_deleted_alone()
    {
        using var dir = new TempDir();
        await using var engine = StorageEngine.Open(dir.Path);
        BucketInfo bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "b", TimeSpan.Zero);
        await engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes(Lines(0, 10, ",v=1")), Precision.Nanoseconds, 0);
        await engine.DeleteAsync(bucket, SeriesPredicate.All, (_, _, f) => f == "v", long.MinValue, long.MaxValue);
        Assert.Empty(Times(engine, bucket, "cpu,host=a", "v"));
        Assert.Equal(10, Times(engine, bucket, "cpu,host=a", "u").Length);
    }

    [Fact]
    public async Task Deletes_racing_snapshots_never_leave_deleted_points_visible()
    {
        using var dir = new TempDir();
        BucketInfo bucket;
        await using (var engine = StorageEngine.Open(dir.Path))
        {
            bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "b", TimeSpan.Zero);
            for (int round = 0; round < 20; round++)
            {
                int from = round * 100;
                await engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes(Lines(from, from + 100)), Precision.Nanoseconds, 0);

                // The snapshot freezes the cache (these points go to its file) while the delete runs.
                Task snapshot = Task.Run(engine.SnapshotAllAsync);
                Task delete = Task.Run(() => engine.DeleteAsync(bucket, new SeriesPredicate.MeasurementEquals("cpu"), HostA, from + 10, from + 89));
                await Task.WhenAll(snapshot, delete);
                Assert.Equal(20 * (round + 1), Times(engine, bucket, "cpu,host=a", "u").Length);
            }
        }

        await using (var engine = StorageEngine.Open(dir.Path))
        {
            long[] times = Times(engine, bucket, "cpu,host=a", "u");
            Assert.Equal(400, times.Length);
            Assert.All(times, t => Assert.True(t % 100 is < 10 or >= 90, $"{t} was deleted"));
            Assert.Equal(2000, Times(engine, bucket, "cpu,host=b", "u").Length);
        }
    }
}

/// <summary>A snapshot that cannot write its file keeps everything and succeeds on the next try.</summary>
public class SnapshotRetryTests
{
    [Fact]
    public async Task A_failed_snapshot_keeps_its_points_and_the_retry_writes_them()
    {
        using var dir = new TempDir();
        BucketInfo bucket;
        await using (var engine = StorageEngine.Open(dir.Path))
        {
            bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "b", TimeSpan.Zero);
            await engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 50).Select(t => $"m,h=a v={t} {t}\n"))), Precision.Nanoseconds, 0);

            // Block the snapshot's file name (as a full or failing disk would): writing it fails.
            string shard = Directory.GetDirectories(Path.Combine(dir.Path, "buckets", bucket.Id, "shards")).Single();
            Directory.CreateDirectory(Path.Combine(shard, TsmFileName.Snapshot(1).FileName));
            await Assert.ThrowsAnyAsync<IOException>(engine.SnapshotAllAsync);
            Assert.Equal(50, engine.Read(bucket, "m,h=a"u8, "v"u8, long.MinValue, long.MaxValue).Times.Length);

            // Writes go on meanwhile; the next snapshot writes the frozen points under the next name.
            await engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(50, 50).Select(t => $"m,h=a v={t} {t}\n"))), Precision.Nanoseconds, 0);
            await engine.SnapshotAllAsync();
            Assert.Equal(100, engine.Read(bucket, "m,h=a"u8, "v"u8, long.MinValue, long.MaxValue).Times.Length);
            Assert.Contains(Directory.GetFiles(shard, "*.tsm"), f => Path.GetFileName(f) == TsmFileName.Snapshot(2).FileName);
        }

        await using (var engine = StorageEngine.Open(dir.Path))
        {
            long[] times = engine.Read(bucket, "m,h=a"u8, "v"u8, long.MinValue, long.MaxValue).Times;
            Assert.Equal([.. Enumerable.Range(0, 100).Select(i => (long)i)], times);
        }
    }
}
