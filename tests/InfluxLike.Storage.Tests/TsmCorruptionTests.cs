using InfluxLike.Storage.Tsm;

namespace InfluxLike.Storage.Tests;

/// <summary>Damaged files give clear errors naming file and offset; nothing decodes into wrong values.</summary>
public class TsmCorruptionTests
{
    private static string WriteFile(TempDir dir)
    {
        string path = dir.File("c.tsm");
        var (ts, v) = TsmFileTests.Series(3000);
        using var w = new TsmWriter(path, 1000);
        w.WriteFloats("cpu,host=a"u8, "v"u8, ts, v);
        w.WriteFloats("cpu,host=b"u8, "v"u8, ts, v);
        w.Finish();
        return path;
    }

    [Fact]
    public void Every_flipped_bit_in_a_block_is_detected()
    {
        using var dir = new TempDir();
        string path = WriteFile(dir);
        byte[] original = File.ReadAllBytes(path);
        TsmIndexEntry entry;
        using (var r = TsmReader.Open(path))
        {
            r.TryFind("cpu,host=a"u8, "v"u8, out int k);
            entry = r.GetEntry(r.GetKey(k), 1);
        }

        var rng = new Random(7);
        for (int trial = 0; trial < 200; trial++)
        {
            byte[] damaged = (byte[])original.Clone();
            long at = entry.Offset + rng.Next(entry.Size);
            damaged[at] ^= (byte)(1 << rng.Next(8));
            File.WriteAllBytes(path, damaged);
            using var r = TsmReader.Open(path); // the index is intact: the file opens
            var ex = Assert.Throws<CorruptionException>(() => r.ReadFloats(entry, new long[1000], new double[1000]));
            Assert.Equal(entry.Offset, ex.Offset);
            Assert.Contains(path, ex.Message, StringComparison.Ordinal);
            TsmVerifyReport report = TsmInspector.Verify(path);
            Assert.False(report.Ok);
            Assert.Contains(report.Problems, p => p.Contains($"offset {entry.Offset}", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Flipped_bits_in_the_index_or_footer_fail_the_open()
    {
        using var dir = new TempDir();
        string path = WriteFile(dir);
        byte[] original = File.ReadAllBytes(path);
        long indexStart;
        using (var r = TsmReader.Open(path))
        {
            r.TryFind("cpu,host=a"u8, "v"u8, out int k);
            TsmIndexEntry last = r.GetEntry(r.GetKey(r.KeyCount - 1), 2);
            indexStart = last.Offset + last.Size;
        }

        var rng = new Random(11);
        for (int trial = 0; trial < 200; trial++)
        {
            byte[] damaged = (byte[])original.Clone();
            long at = indexStart + rng.Next((int)(original.Length - indexStart));
            damaged[at] ^= (byte)(1 << rng.Next(8));
            File.WriteAllBytes(path, damaged);
            var ex = Assert.Throws<CorruptionException>(() => TsmReader.Open(path).Dispose());
            Assert.Equal(path, ex.File);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(100)]
    [InlineData(1)]
    public void Truncated_files_fail_the_open(int keepFraction)
    {
        using var dir = new TempDir();
        string path = WriteFile(dir);
        byte[] original = File.ReadAllBytes(path);
        int keep = keepFraction == 1 ? original.Length - 1 : original.Length * keepFraction / 101;
        File.WriteAllBytes(path, original[..keep]);
        Assert.Throws<CorruptionException>(() => TsmReader.Open(path).Dispose());
        Assert.False(TsmInspector.Verify(path).Ok);
    }

    [Fact]
    public void A_file_that_is_not_tsm_is_named_as_such()
    {
        using var dir = new TempDir();
        string path = dir.File("junk.tsm");
        File.WriteAllBytes(path, new byte[100]);
        var ex = Assert.Throws<CorruptionException>(() => TsmReader.Open(path).Dispose());
        Assert.Contains("bad magic", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void A_tombstone_file_cut_before_its_header_was_written_holds_no_delete(int length)
    {
        // A kill between creating the file and its first write: the delete it was for was never acknowledged.
        using var dir = new TempDir();
        string path = dir.File("x.tsm.tombstone");
        File.WriteAllBytes(path, new byte[length]);
        TombstoneSet set = TombstoneSet.Load(path);
        Assert.True(set.IsEmpty);
        Assert.False(File.Exists(path));
        set.Append([("m"u8.ToArray(), "f"u8.ToArray(), new Tombstone(1, 2))]);
        Assert.Equal([new Tombstone(1, 2)], TombstoneSet.Load(path).For("m"u8, "f"u8));
    }

    [Fact]
    public void A_tombstone_file_with_a_wrong_header_is_corruption()
    {
        using var dir = new TempDir();
        string path = dir.File("y.tsm.tombstone");
        File.WriteAllBytes(path, new byte[12]);
        Assert.Throws<CorruptionException>(() => TombstoneSet.Load(path));
    }
}
