using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Tsm;
using InfluxLike.Testing;

namespace InfluxLike.Storage.Tests;

public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "influxlike-tsm-" + Guid.NewGuid().ToString("N"));

    public TempDir() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

public class TsmFileTests
{
    private static readonly byte[] Cpu = "cpu,host=a"u8.ToArray();
    private static readonly byte[] Mem = "mem,host=a"u8.ToArray();

    internal static (long[] Ts, double[] Values) Series(int n, long start = 1_000_000_000, long step = 10_000_000_000, int seed = 1)
    {
        var rng = new Random(seed);
        var ts = new long[n];
        var v = new double[n];
        double x = 50;
        for (int i = 0; i < n; i++)
        {
            ts[i] = start + (i * step);
            x = Math.Clamp(x + (rng.NextDouble() * 2) - 1, 0, 100);
            v[i] = x;
        }

        return (ts, v);
    }

    [Fact]
    public void Writes_and_reads_every_type_across_blocks()
    {
        using var dir = new TempDir();
        string path = dir.File("000001.tsm");
        var (ts, floats) = Series(2500);
        long[] ints = [.. ts.Select(t => t / 7)];
        ulong[] uints = [.. ts.Select(t => (ulong)t * 3)];
        bool[] bools = [.. ts.Select(t => t % 3 == 0)];
        using var strings = new StringColumn();
        foreach (long t in ts)
        {
            strings.Add($"value {t}");
        }

        using (var w = new TsmWriter(path, maxPointsPerBlock: 1000))
        {
            w.WriteFloats(Cpu, "a"u8, ts, floats);
            w.WriteIntegers(Cpu, "b"u8, ts, ints);
            w.WriteUnsigned(Cpu, "c"u8, ts, uints);
            w.WriteBooleans(Cpu, "d"u8, ts, bools);
            w.WriteStrings(Cpu, "e"u8, ts, strings);
            w.WriteFloats(Mem, "a"u8, ts[..10], floats[..10]);
            TsmFileInfo info = w.Finish();
            Assert.Equal(6, info.KeyCount);
            Assert.Equal(16, info.BlockCount);
        }

        Assert.False(File.Exists(path + ".tmp"));
        using TsmReader r = TsmReader.Open(path);
        Assert.Equal(6, r.KeyCount);
        Assert.Equal(ts[0], r.MinTime);
        Assert.Equal(ts[^1], r.MaxTime);

        Assert.True(r.TryFind(Cpu, "a"u8, out int k));
        TsmKey key = r.GetKey(k);
        Assert.Equal(FieldType.Float, key.Type);
        Assert.Equal(3, key.BlockCount);
        var gotTs = new List<long>();
        var gotV = new List<double>();
        var bufT = new long[1000];
        var bufV = new double[1000];
        for (int b = 0; b < key.BlockCount; b++)
        {
            int n = r.ReadFloats(r.GetEntry(key, b), bufT, bufV);
            gotTs.AddRange(bufT[..n]);
            gotV.AddRange(bufV[..n]);
        }

        Assert.Equal(ts, gotTs);
        Assert.Equal(floats, gotV);

        Assert.True(r.TryFind(Cpu, "b"u8, out k));
        var bi = new long[1000];
        Assert.Equal(1000, r.ReadIntegers(r.GetEntry(r.GetKey(k), 0), bufT, bi));
        Assert.Equal(ints[..1000], bi);

        Assert.True(r.TryFind(Cpu, "c"u8, out k));
        var bu = new ulong[1000];
        r.ReadUnsigned(r.GetEntry(r.GetKey(k), 2), bufT, bu);
        Assert.Equal(uints[2000..], bu[..500]);

        Assert.True(r.TryFind(Cpu, "d"u8, out k));
        var bb = new bool[1000];
        r.ReadBooleans(r.GetEntry(r.GetKey(k), 1), bufT, bb);
        Assert.Equal(bools[1000..2000], bb);

        Assert.True(r.TryFind(Cpu, "e"u8, out k));
        using var sc = new StringColumn();
        r.ReadStrings(r.GetEntry(r.GetKey(k), 0), bufT, sc);
        Assert.Equal($"value {ts[999]}", sc.GetString(999));

        Assert.False(r.TryFind(Cpu, "zz"u8, out _));
        Assert.False(r.TryFind("aaa"u8, "a"u8, out _));
        Assert.False(r.TryFind("zzz"u8, "a"u8, out _));
    }

    [Fact]
    public void Only_blocks_overlapping_the_range_are_visited()
    {
        using var dir = new TempDir();
        string path = dir.File("1.tsm");
        var (ts, v) = Series(5000);
        using (var w = new TsmWriter(path, 1000))
        {
            w.WriteFloats(Cpu, "v"u8, ts, v);
            w.Finish();
        }

        using var r = TsmReader.Open(path);
        r.TryFind(Cpu, "v"u8, out int k);
        TsmKey key = r.GetKey(k);
        var hits = new List<TsmIndexEntry>();
        foreach (TsmIndexEntry e in r.BlocksOverlapping(key, ts[1500], ts[2100]))
        {
            hits.Add(e);
        }

        Assert.Equal([ts[1000], ts[2000]], hits.Select(h => h.MinTime));
        hits.Clear();
        foreach (TsmIndexEntry e in r.BlocksOverlapping(key, ts[^1] + 1, long.MaxValue))
        {
            hits.Add(e);
        }

        Assert.Empty(hits);
    }

    [Fact]
    public void Writer_rejects_out_of_order_input_clearly()
    {
        using var dir = new TempDir();
        using var w = new TsmWriter(dir.File("x.tsm"));
        w.WriteFloats(Mem, "a"u8, [1, 2], [1, 2]);
        Assert.Throws<InvalidOperationException>(() => w.WriteFloats(Cpu, "a"u8, [1], [1]));
        Assert.Throws<ArgumentException>(() => w.WriteFloats(Mem, "b"u8, [2, 1], [1, 2]));
        Assert.Throws<InvalidOperationException>(() => w.WriteFloats(Mem, "a"u8, [2], [1]));
        Assert.Throws<InvalidOperationException>(() => w.WriteIntegers(Mem, "a"u8, [5], [1]));
        w.WriteFloats(Mem, "a"u8, [3, 4], [3, 4]); // the same key may continue later in time
    }

    [Fact]
    public void Abandoned_writer_leaves_no_file()
    {
        using var dir = new TempDir();
        string path = dir.File("y.tsm");
        using (var w = new TsmWriter(path))
        {
            w.WriteFloats(Cpu, "a"u8, [1], [1]);
        }

        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Large_index_spills_to_disk_and_reads_back()
    {
        using var dir = new TempDir();
        string path = dir.File("big.tsm");
        int keys = (TsmWriter.IndexSpillBytes / 60) + 1000;
        using (var w = new TsmWriter(path))
        {
            for (int i = 0; i < keys; i++)
            {
                w.WriteIntegers(Encoding.ASCII.GetBytes($"m,host=h{i:D8}"), "v"u8, [i], [i]);
            }

            w.Finish();
        }

        using var r = TsmReader.Open(path);
        Assert.Equal(keys, r.KeyCount);
        Assert.True(r.TryFind(Encoding.ASCII.GetBytes($"m,host=h{keys - 1:D8}"), "v"u8, out int k));
        var t = new long[1];
        var v = new long[1];
        r.ReadIntegers(r.GetEntry(r.GetKey(k), 0), t, v);
        Assert.Equal(keys - 1, v[0]);
        Assert.True(TsmInspector.Verify(path).Ok);
    }

    [Fact]
    public void Tombstones_are_recorded_durably_and_read_back()
    {
        using var dir = new TempDir();
        string path = dir.File("t.tsm");
        using (var w = new TsmWriter(path))
        {
            w.WriteFloats(Cpu, "a"u8, [1, 2, 3], [1, 2, 3]);
            w.Finish();
        }

        using (var r = TsmReader.Open(path))
        {
            Assert.True(r.Tombstones.IsEmpty);
            r.Tombstones.Append([(Cpu, "a"u8.ToArray(), new Tombstone(2, 2)), (Mem, "x"u8.ToArray(), new Tombstone(0, 100))]);
            Assert.Equal([new Tombstone(2, 2)], r.Tombstones.For(Cpu, "a"u8));
        }

        // A torn last record (crash during append) is ignored; the earlier ones survive.
        File.AppendAllBytes(path + ".tombstone", [5, (byte)'c', (byte)'p']);
        using var again = TsmReader.Open(path);
        Assert.Equal([new Tombstone(2, 2)], again.Tombstones.For(Cpu, "a"u8));
        Assert.Equal([new Tombstone(0, 100)], again.Tombstones.For(Mem, "x"u8));
        Assert.Empty(again.Tombstones.For(Mem, "a"u8));
    }

    [Fact]
    public void Readers_drop_tombstoned_points_on_the_fly()
    {
        using var dir = new TempDir();
        string path = dir.File("d.tsm");
        var (ts, v) = Series(3000);
        using (var w = new TsmWriter(path, 1000))
        {
            w.WriteFloats(Cpu, "v"u8, ts, v);
            w.Finish();
        }

        using var r = TsmReader.Open(path);
        r.Tombstones.Append([(Cpu, "v"u8.ToArray(), new Tombstone(ts[10], ts[19])), (Cpu, "v"u8.ToArray(), new Tombstone(ts[1000], ts[1999]))]);
        r.TryFind(Cpu, "v"u8, out int k);
        TsmKey key = r.GetKey(k);
        IReadOnlyList<Tombstone> deleted = r.Tombstones.For(Cpu, "v"u8);
        var keptTs = new List<long>();
        var bt = new long[1000];
        var bv = new double[1000];
        int skipped = 0;
        foreach (TsmIndexEntry e in r.BlocksOverlapping(key, long.MinValue, long.MaxValue))
        {
            if (TombstoneFilter.CoversBlock(e, deleted))
            {
                skipped++;
                continue;
            }

            int n = r.ReadFloats(e, bt, bv);
            n = TombstoneFilter.Apply(bt.AsSpan(0, n), bv.AsSpan(0, n), deleted);
            keptTs.AddRange(bt[..n]);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(v[Array.IndexOf(ts, bt[i])], bv[i]);
            }
        }

        Assert.Equal(1, skipped);
        Assert.Equal(ts.Where((t, i) => !(i >= 10 && i <= 19) && !(i >= 1000 && i <= 1999)), keptTs);
    }
}
