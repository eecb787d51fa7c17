using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Engine;
using InfluxLike.Storage.Index;

namespace InfluxLike.Storage.Tests;

public class StorageEngineTests
{
    private const long Hour = 3_600_000_000_000L;

    private static double[] Floats(StorageEngine e, BucketInfo b, string series, string field) =>
        [.. e.Read(b, Encoding.UTF8.GetBytes(series), Encoding.UTF8.GetBytes(field), long.MinValue, long.MaxValue).Bits.Select(BitConverter.Int64BitsToDouble)];

    [Fact]
    public async Task A_data_folder_opens_in_one_engine_at_a_time_and_is_free_again_once_it_closes()
    {
        using var dir = new TempDir();
        BucketInfo bucket;
        await using (var engine = StorageEngine.Open(dir.Path))
        {
            bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "b", TimeSpan.Zero);
            await engine.WriteLineProtocolAsync(bucket, "m f=1 1\n"u8.ToArray(), Precision.Nanoseconds, 0);
            var refused = Assert.Throws<DataFolderInUseException>(() => StorageEngine.Open(dir.Path));
            Assert.Contains(Path.GetFullPath(dir.Path), refused.Message, StringComparison.Ordinal);
            Assert.Contains("in use", refused.Message, StringComparison.Ordinal);

            // the refused open changed nothing: the first engine still writes and reads
            await engine.WriteLineProtocolAsync(bucket, "m f=2 2\n"u8.ToArray(), Precision.Nanoseconds, 0);
            Assert.Equal([1.0, 2.0], Floats(engine, bucket, "m", "f"));
        }

        await using (var reopened = StorageEngine.Open(dir.Path))
        {
            Assert.Equal([1.0, 2.0], Floats(reopened, reopened.Catalog.Buckets.Single(), "m", "f"));
        }
    }

    [Fact]
    public void A_lock_file_that_cannot_be_opened_is_reported_as_itself_not_as_a_folder_in_use()
    {
        // A LOCK that links to itself cannot be opened (ELOOP): a broken folder, not another process holding it.
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.Path);
        File.CreateSymbolicLink(Path.Combine(dir.Path, DataFolderLock.FileName), DataFolderLock.FileName);
        var error = Assert.ThrowsAny<IOException>(() => StorageEngine.Open(dir.Path));
        Assert.IsNotType<DataFolderInUseException>(error);
        Assert.Contains(DataFolderLock.FileName, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Good_lines_are_stored_bad_ones_reported_and_all_survives_a_restart()
    {
        using var dir = new TempDir();
        BucketInfo bucket;
        // The points are from 1970: a clock set just after them keeps them inside the 1-day retention.
        await using (var engine = StorageEngine.Open(dir.Path, new EngineOptions { Clock = () => DateTimeOffset.UnixEpoch.AddHours(4) }))
        {
            OrgInfo org = engine.Catalog.GetOrCreateOrg("o");
            bucket = engine.Catalog.CreateBucket(org.Id, "b", TimeSpan.FromDays(1));
            Assert.Equal(TimeSpan.FromHours(1), bucket.ShardGroupDuration);
            string body = $"cpu,host=a usage=1.5 {Hour}\ncpu,host=a usage= {Hour + 1}\ncpu,host=b usage=2,n=3i {(2 * Hour) + 5}\ncpu,host=a usage=2.5 {(3 * Hour) + 1}\n";
            WriteResult r = await engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes(body), Precision.Nanoseconds, 0);
            Assert.Equal(3, r.LinesWritten);
            Assert.Equal(4, r.ValuesWritten);
            Assert.Equal(2, Assert.Single(r.LineErrors).Line);
        }

        Assert.Equal(3, Directory.GetDirectories(Path.Combine(dir.Path, "buckets", bucket.Id, "shards")).Length); // one per hour window
        await using var again = StorageEngine.Open(dir.Path);
        BucketInfo reopened = again.Catalog.FindBucket(again.Catalog.Orgs.Single().Id, "b")!;
        Assert.Equal(bucket, reopened);
        Assert.Equal([1.5, 2.5], Floats(again, reopened, "cpu,host=a", "usage"));
        Assert.Equal([2.0], Floats(again, reopened, "cpu,host=b", "usage"));
        Assert.Equal(2, again.GetIndex(reopened).Find(new SeriesPredicate.MeasurementEquals("cpu")).Length);
        Assert.Equal([("n", FieldType.Integer), ("usage", FieldType.Float)], again.GetIndex(reopened).FieldKeys("cpu"));
    }

    [Fact]
    public async Task A_type_conflict_rejects_the_value_and_keeps_the_rest()
    {
        using var dir = new TempDir();
        await using var engine = StorageEngine.Open(dir.Path);
        BucketInfo bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "b", TimeSpan.Zero);
        WriteResult r = await engine.WriteLineProtocolAsync(bucket, "m v=1 1\nm v=\"text\" 2\nm v=3 3"u8.ToArray(), Precision.Nanoseconds, 0);
        Assert.Equal(2, r.ValuesWritten);
        Assert.Contains("field type conflict", Assert.Single(r.Rejected), StringComparison.Ordinal);
        Assert.Equal([1.0, 3.0], Floats(engine, bucket, "m", "v"));
    }

    [Fact]
    public async Task The_series_limit_rejects_new_series_only()
    {
        using var dir = new TempDir();
        await using var engine = StorageEngine.Open(dir.Path, new EngineOptions { MaxSeriesPerBucket = 1 });
        BucketInfo bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "limited", TimeSpan.Zero);
        WriteResult r = await engine.WriteLineProtocolAsync(bucket, "m,h=a v=1 1\nm,h=b v=2 2\nm,h=a v=3 3"u8.ToArray(), Precision.Nanoseconds, 0);
        Assert.Equal(2, r.LinesWritten);
        Assert.Contains("\"limited\"", Assert.Single(r.Rejected), StringComparison.Ordinal);
        Assert.Equal([1.0, 3.0], Floats(engine, bucket, "m,h=a", "v"));
    }

    [Fact]
    public async Task Snapshotted_data_reads_back_after_a_restart()
    {
        using var dir = new TempDir();
        BucketInfo bucket;
        await using (var engine = StorageEngine.Open(dir.Path, new EngineOptions { Clock = () => DateTimeOffset.UnixEpoch.AddDays(3) }))
        {
            bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "b", TimeSpan.FromDays(30));
            var body = new StringBuilder();
            for (int i = 0; i < 3000; i++)
            {
                body.Append(System.Globalization.CultureInfo.InvariantCulture, $"cpu,host=h{i % 3} v={i} {i * 60}\n");
            }

            await engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes(body.ToString()), Precision.Seconds, 0);
            await engine.SnapshotAllAsync();
        }

        await using var again = StorageEngine.Open(dir.Path);
        double[] h1 = Floats(again, bucket, "cpu,host=h1", "v");
        Assert.Equal(1000, h1.Length);
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (double)((i * 3) + 1)), h1);
    }
}

public class IdleSnapshotTests
{
    [Fact]
    public async Task Quiet_shards_are_snapshotted_and_busy_ones_left_alone()
    {
        using var dir = new TempDir();
        await using var engine = StorageEngine.Open(dir.Path);
        BucketInfo bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "b", TimeSpan.Zero);
        await engine.WriteLineProtocolAsync(bucket, "m v=1 1"u8.ToArray(), Precision.Nanoseconds, 0);
        Assert.Equal(0, await engine.SnapshotIdleShardsAsync(TimeSpan.FromHours(1))); // written just now: not idle
        Assert.Equal(1, await engine.SnapshotIdleShardsAsync(TimeSpan.Zero));
        Assert.Equal(0, await engine.SnapshotIdleShardsAsync(TimeSpan.Zero)); // nothing left in the cache
        Assert.Single(Directory.GetFiles(dir.Path, "*.tsm", SearchOption.AllDirectories));
    }
}
