using System.Text;
using InfluxLike.Storage.Wal;

namespace InfluxLike.Storage.Tests;

public class WriteAheadLogTests
{
    private static byte[] Payload(int i) => Encoding.UTF8.GetBytes($"entry {i} " + new string((char)('a' + (i % 26)), i % 500));

    [Fact]
    public async Task Entries_come_back_in_order_across_segments()
    {
        using var dir = new TempDir();
        await using (var wal = WriteAheadLog.Open(dir.Path, new WalOptions { SegmentSizeBytes = 1024 }))
        {
            for (int i = 0; i < 300; i++)
            {
                await wal.AppendAsync(Payload(i));
            }
        }

        Assert.True(WriteAheadLog.SegmentIds(dir.Path).Count() > 3);
        Assert.Equal(Enumerable.Range(0, 300).Select(Payload), WriteAheadLog.Replay(dir.Path).Select(r => r.Payload));
    }

    [Fact]
    public async Task Concurrent_writers_share_syncs_and_lose_nothing()
    {
        using var dir = new TempDir();
        await using (var wal = WriteAheadLog.Open(dir.Path))
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, 8), async (w, _) =>
            {
                for (int i = 0; i < 200; i++)
                {
                    await wal.AppendAsync(Encoding.UTF8.GetBytes($"{w}:{i}"));
                }
            });
        }

        var byWriter = WriteAheadLog.Replay(dir.Path).Select(r => Encoding.UTF8.GetString(r.Payload).Split(':')).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Select(p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture)).ToList());
        Assert.Equal(8, byWriter.Count);
        Assert.All(byWriter.Values, l => Assert.Equal(Enumerable.Range(0, 200), l)); // each writer's order kept
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(13)]
    public async Task A_torn_last_entry_is_cut_off_and_the_rest_kept(int cut)
    {
        using var dir = new TempDir();
        await using (var wal = WriteAheadLog.Open(dir.Path))
        {
            for (int i = 0; i < 10; i++)
            {
                await wal.AppendAsync(Payload(i));
            }
        }

        string segment = Directory.GetFiles(dir.Path, "*.wal").Single();
        long full = new FileInfo(segment).Length;
        using (var f = new FileStream(segment, FileMode.Open))
        {
            f.SetLength(full - cut); // a crash in the middle of the last write
        }

        var warnings = new List<string>();
        Assert.Equal(Enumerable.Range(0, 9).Select(Payload), WriteAheadLog.Replay(dir.Path, warnings.Add).Select(r => r.Payload));
        Assert.Single(warnings);
        Assert.Equal(Enumerable.Range(0, 9).Select(Payload), WriteAheadLog.Replay(dir.Path).Select(r => r.Payload)); // and stays cut
    }

    [Fact]
    public async Task Damage_in_an_older_segment_costs_that_entry_is_reported_with_file_and_offset_and_kept_aside()
    {
        using var dir = new TempDir();
        await using (var wal = WriteAheadLog.Open(dir.Path, new WalOptions { SegmentSizeBytes = 1024 }))
        {
            for (int i = 0; i < 100; i++)
            {
                await wal.AppendAsync(Payload(i));
            }
        }

        string first = Directory.GetFiles(dir.Path, "*.wal").Order().First();
        byte[] bytes = File.ReadAllBytes(first);
        bytes[20] ^= 1; // inside the first entry
        File.WriteAllBytes(first, bytes);
        var warnings = new List<string>();
        var replayed = WriteAheadLog.Replay(dir.Path, warnings.Add).Select(r => r.Payload).ToList();
        Assert.Equal(99, replayed.Count); // only the damaged entry is lost
        Assert.Subset(Enumerable.Range(0, 100).Select(i => Convert.ToHexString(Payload(i))).ToHashSet(), replayed.Select(Convert.ToHexString).ToHashSet());
        string warning = Assert.Single(warnings);
        Assert.Contains(first + ": corrupt at offset ", warning, StringComparison.Ordinal);
        Assert.Equal(bytes, File.ReadAllBytes(first + WriteAheadLog.QuarantineSuffix));
    }

    [Fact]
    public async Task Rolled_segments_can_be_removed_after_a_snapshot()
    {
        using var dir = new TempDir();
        await using var wal = WriteAheadLog.Open(dir.Path);
        await wal.AppendAsync(Payload(1));
        long closed = await wal.RollAsync();
        await wal.AppendAsync(Payload(2));
        wal.RemoveSegmentsUpTo(closed);
        Assert.Equal([closed + 1], WriteAheadLog.SegmentIds(dir.Path));
    }

    [Fact]
    public async Task Interval_policy_acknowledges_and_still_syncs_in_the_background()
    {
        using var dir = new TempDir();
        await using (var wal = WriteAheadLog.Open(dir.Path, new WalOptions { Fsync = FsyncPolicy.Interval, FsyncInterval = TimeSpan.FromMilliseconds(20) }))
        {
            for (int i = 0; i < 50; i++)
            {
                await wal.AppendAsync(Payload(i));
            }
        }

        Assert.Equal(50, WriteAheadLog.Replay(dir.Path).Count());
    }

    [Fact]
    public async Task A_new_log_appends_after_existing_segments()
    {
        using var dir = new TempDir();
        await using (var wal = WriteAheadLog.Open(dir.Path))
        {
            await wal.AppendAsync(Payload(1));
        }

        await using (var wal = WriteAheadLog.Open(dir.Path))
        {
            Assert.Equal(2, wal.CurrentSegmentId);
            await wal.AppendAsync(Payload(2));
        }

        Assert.Equal([Payload(1), Payload(2)], WriteAheadLog.Replay(dir.Path).Select(r => r.Payload));
    }
}
