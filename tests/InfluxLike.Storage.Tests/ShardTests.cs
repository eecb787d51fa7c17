using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Shards;

namespace InfluxLike.Storage.Tests;

public class ShardTests
{
    private static PointValue F(string series, long t, double v) => new(Encoding.UTF8.GetBytes(series), "v"u8.ToArray(), FieldType.Float, t, BitConverter.DoubleToInt64Bits(v));

    private static double[] Values(Shard shard, string series) =>
        [.. shard.Read(Encoding.UTF8.GetBytes(series), "v"u8, long.MinValue, long.MaxValue).Bits.Select(BitConverter.Int64BitsToDouble)];

    [Fact]
    public async Task Acknowledged_writes_survive_a_restart_from_the_wal_alone()
    {
        using var dir = new TempDir();
        await using (var shard = Shard.Open(dir.Path))
        {
            var result = await shard.WriteAsync([F("cpu,host=a", 1, 1.5), F("cpu,host=a", 2, 2.5), F("cpu,host=b", 1, 9)]);
            Assert.Equal(3, result.Written);
        }

        await using var again = Shard.Open(dir.Path);
        Assert.Equal([1.5, 2.5], Values(again, "cpu,host=a"));
        Assert.Equal([9.0], Values(again, "cpu,host=b"));
        Assert.Equal(0, again.FileCount);
    }

    [Fact]
    public async Task Snapshots_move_the_cache_to_tsm_and_drop_the_wal()
    {
        using var dir = new TempDir();
        await using (var shard = Shard.Open(dir.Path))
        {
            await shard.WriteAsync([F("cpu,host=a", 1, 1), F("cpu,host=a", 2, 2)]);
            await shard.SnapshotAsync();
            await shard.WriteAsync([F("cpu,host=a", 2, 20), F("cpu,host=a", 3, 3)]); // overwrites t=2
            Assert.Equal([1.0, 20, 3], Values(shard, "cpu,host=a"));
            Assert.Equal(1, shard.FileCount);
            Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "wal")));
        }

        await using var again = Shard.Open(dir.Path);
        Assert.Equal([1.0, 20, 3], Values(again, "cpu,host=a"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Reads_across_files_match_a_model_whether_the_files_follow_one_another_or_overlap(bool overlap)
    {
        // Files that follow one another in time are read into one run; overlapping ones are merged, the newest
        // value of a timestamp winning. Both must give the same points as a plain model, for ranges cutting blocks.
        using var dir = new TempDir();
        await using var shard = Shard.Open(dir.Path, new ShardOptions { MaxPointsPerBlock = 10 });
        var random = new Random(overlap ? 2 : 1);
        var model = new SortedDictionary<long, double>();
        long next = 0;
        for (int file = 0; file < 6; file++)
        {
            var batch = new List<PointValue>();
            long from = overlap && file == 3 ? 5 : next; // the fourth file rewrites earlier times
            for (int i = 0; i < 37; i++)
            {
                long t = from + (i * 2);
                double v = random.NextDouble();
                batch.Add(F("m", t, v));
                model[t] = v;
                next = Math.Max(next, t + 1);
            }

            await shard.WriteAsync(batch);
            if (file < 5)
            {
                await shard.SnapshotAsync(); // the last batch stays in the cache
            }
        }

        Assert.Equal(5, shard.FileCount);
        for (int round = 0; round < 50; round++)
        {
            long min = random.Next(-5, (int)next), max = min + random.Next(0, (int)next);
            var (times, bits, _) = shard.Read("m"u8, "v"u8, min, max);
            var want = model.Where(p => p.Key >= min && p.Key <= max).ToList();
            Assert.Equal(want.Select(p => p.Key), times);
            Assert.Equal(want.Select(p => p.Value), bits.Select(BitConverter.Int64BitsToDouble));
        }
    }

    [Fact]
    public async Task A_type_conflict_rejects_only_that_value_even_against_files()
    {
        using var dir = new TempDir();
        await using var shard = Shard.Open(dir.Path);
        await shard.WriteAsync([F("m", 1, 1)]);
        await shard.SnapshotAsync();
        var conflict = new PointValue("m"u8.ToArray(), "v"u8.ToArray(), FieldType.Integer, 2, 5);
        ShardWriteResult result = await shard.WriteAsync([conflict, F("m", 3, 3)]);
        Assert.Equal(1, result.Written);
        Assert.Contains("field type conflict", Assert.Single(result.Rejected).Reason, StringComparison.Ordinal);
        Assert.Equal([1.0, 3], Values(shard, "m"));
    }

    [Fact]
    public async Task A_corrupt_tsm_file_is_moved_aside_and_the_rest_serves()
    {
        using var dir = new TempDir();
        await using (var shard = Shard.Open(dir.Path))
        {
            await shard.WriteAsync([F("m,t=1", 1, 1)]);
            await shard.SnapshotAsync();
            await shard.WriteAsync([F("m,t=2", 1, 2)]);
            await shard.SnapshotAsync();
        }

        string first = Directory.GetFiles(dir.Path, "*.tsm").Order().First();
        File.WriteAllBytes(first, new byte[64]);
        File.WriteAllText(Path.Combine(dir.Path, "000000009.tsm.tmp"), "left by a crash");
        await using var again = Shard.Open(dir.Path);
        Assert.Contains(again.Warnings, w => w.Contains("moved aside", StringComparison.Ordinal));
        Assert.True(File.Exists(first + ".bad"));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
        Assert.Equal([2.0], Values(again, "m,t=2"));
    }

    [Fact]
    public async Task A_full_cache_refuses_the_batch_as_a_transient_error()
    {
        using var dir = new TempDir();
        await using var shard = Shard.Open(dir.Path, new ShardOptions { CacheMaxBytes = 2000 });
        await Assert.ThrowsAsync<ShardBusyException>(async () =>
        {
            for (int i = 0; i < 1000; i++)
            {
                await shard.WriteAsync([F("m", i, i)]);
            }
        });
        await shard.SnapshotAsync();
        Assert.Equal(1, (await shard.WriteAsync([F("m", 5000, 1)])).Written);
    }
}

public class ShardBackgroundSnapshotTests
{
    /// <summary>
    /// Found by the overload soak (docs/RELIABILITY.md, bug 10): a batch that pushed the cache past its hard limit
    /// while a background snapshot ran left the shard refusing every write once that snapshot was done, since only
    /// an accepted write scheduled the next one (the idle timer freed it after 10 minutes).
    /// </summary>
    [Fact]
    public async Task A_cache_left_over_its_limit_after_a_snapshot_drains_without_an_accepted_write()
    {
        using var dir = new TempDir();
        await using var shard = Shard.Open(dir.Path, new ShardOptions { CacheMaxBytes = 20_000, SnapshotThresholdBytes = 5_000 });
        long t = 0;
        List<PointValue> Batch(int n) => [.. Enumerable.Range(0, n).Select(_ => new PointValue("m"u8.ToArray(), "v"u8.ToArray(), FieldType.Integer, t++, 1))];
        for (int round = 0; round < 20; round++)
        {
            await shard.WriteAsync(Batch(400)); // past the threshold: a snapshot starts in the background
            try
            {
                await shard.WriteAsync(Batch(4000)); // lands during that snapshot (mostly): far past the hard limit
            }
            catch (ShardBusyException)
            {
            }

            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (true)
            {
                try
                {
                    await shard.WriteAsync(Batch(1));
                    break;
                }
                catch (ShardBusyException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(10);
                }
            }
        }
    }

    [Fact]
    public async Task A_cache_past_its_threshold_is_written_in_the_background()
    {
        using var dir = new TempDir();
        await using var shard = Shard.Open(dir.Path, new ShardOptions { SnapshotThresholdBytes = 20_000 });
        for (int batch = 0; batch < 50; batch++)
        {
            var values = Enumerable.Range(0, 100).Select(i => new PointValue("m"u8.ToArray(), "v"u8.ToArray(), FieldType.Integer, (batch * 100) + i, i)).ToList();
            await shard.WriteAsync(values);
        }

        for (int i = 0; i < 100 && shard.FileCount == 0; i++)
        {
            await Task.Delay(20);
        }

        Assert.True(shard.FileCount > 0, "no snapshot was written");
        Assert.Equal(5000, shard.Read("m"u8, "v"u8, long.MinValue, long.MaxValue).Times.Length);
    }
}
