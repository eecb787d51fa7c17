using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Cache;
using InfluxLike.Storage.Tsm;

namespace InfluxLike.Storage.Tests;

public class ShardCacheTests
{
    private static long F(double d) => BitConverter.DoubleToInt64Bits(d);

    [Fact]
    public void Out_of_order_writes_read_sorted_and_the_last_write_of_a_time_wins()
    {
        var cache = new ShardCache();
        foreach (var (t, v) in new[] { (30L, 3.0), (10L, 1.0), (20L, 2.0), (10L, 1.5), (40L, 4.0) })
        {
            Assert.Equal(CacheWriteResult.Ok, cache.Write("cpu,host=a"u8, "v"u8, FieldType.Float, t, F(v)));
        }

        CacheEntry e = cache.Read("cpu,host=a"u8, "v"u8, 0, 35)!;
        Assert.Equal([10L, 20L, 30L], e.Times);
        Assert.Equal([1.5, 2.0, 3.0], e.Floats);
        Assert.Null(cache.Read("cpu,host=b"u8, "v"u8, 0, 100));
    }

    [Fact]
    public void Reads_and_edges_agree_with_a_model_on_random_writes_snapshots_and_deletes()
    {
        var random = new Random(5);
        for (int round = 0; round < 300; round++)
        {
            var cache = new ShardCache();
            // time -> the last value written there: the active writes, and those of the snapshot being written (until
            // its file is durable and the cache lets them go)
            var active = new SortedDictionary<long, long>();
            var snapshot = new SortedDictionary<long, long>();
            bool pending = false;
            int steps = random.Next(0, 60);
            for (int step = 0; step < steps; step++)
            {
                switch (random.Next(12))
                {
                    case 0 when !pending:
                        cache.TakeSnapshot();
                        (snapshot, active) = (active, snapshot);
                        pending = true;
                        break;
                    case 1:
                        cache.ClearSnapshot();
                        snapshot.Clear();
                        pending = false;
                        break;
                    case 2:
                        long from = random.Next(0, 50), to = from + random.Next(0, 10);
                        cache.Delete([("m"u8.ToArray(), "f"u8.ToArray())], from, to);
                        foreach (var model in new[] { active, snapshot })
                        {
                            foreach (long t in model.Keys.Where(t => t >= from && t <= to).ToList())
                            {
                                model.Remove(t);
                            }
                        }

                        break;
                    default:
                        long time = random.Next(0, 50), value = F(random.Next(1000));
                        cache.Write("m"u8, "f"u8, FieldType.Float, time, value);
                        active[time] = value;
                        break;
                }

                long min = random.Next(-5, 50), max = min + random.Next(0, 40);
                var merged = new SortedDictionary<long, long>(snapshot);
                foreach (var (t, v) in active)
                {
                    merged[t] = v;
                }

                var expected = merged.Where(p => p.Key >= min && p.Key <= max).ToList();
                CacheEntry? read = cache.Read("m"u8, "f"u8, min, max);
                Assert.Equal(expected.Select(p => p.Key), read is null ? [] : read.Times.ToArray());
                Assert.Equal(expected.Select(p => p.Value), read is null ? [] : read.Bits.ToArray());
                foreach (bool last in new[] { true, false })
                {
                    var edge = cache.ReadEdge("m"u8, "f"u8, min, max, last);
                    Assert.Equal(expected.Count > 0, edge.Found);
                    if (edge.Found)
                    {
                        var want = last ? expected[^1] : expected[0];
                        Assert.Equal((want.Key, want.Value), (edge.Time, edge.Bits));
                    }
                }
            }
        }
    }

    [Fact]
    public void A_field_keeps_one_type_per_shard_even_across_a_snapshot()
    {
        var cache = new ShardCache();
        Assert.Equal(CacheWriteResult.Ok, cache.Write("m"u8, "f"u8, FieldType.Integer, 1, 5));
        Assert.Equal(CacheWriteResult.TypeConflict, cache.Write("m"u8, "f"u8, FieldType.Float, 2, F(1)));
        cache.TakeSnapshot();
        Assert.Equal(CacheWriteResult.TypeConflict, cache.Write("m"u8, "f"u8, FieldType.String, 3, 0, "x"u8));
        Assert.Equal(CacheWriteResult.Ok, cache.Write("m"u8, "f"u8, FieldType.Integer, 3, 7));
        Assert.Equal([1L, 3L], cache.Read("m"u8, "f"u8, long.MinValue, long.MaxValue)!.Times);
    }

    [Fact]
    public void A_full_cache_pushes_back_instead_of_dropping()
    {
        var cache = new ShardCache(maxBytes: 1000);
        int accepted = 0;
        CacheWriteResult last = CacheWriteResult.Ok;
        for (int i = 0; i < 1000 && last == CacheWriteResult.Ok; i++)
        {
            last = cache.Write("m"u8, "f"u8, FieldType.Float, i, F(i));
            accepted += last == CacheWriteResult.Ok ? 1 : 0;
        }

        Assert.Equal(CacheWriteResult.Full, last);
        Assert.Equal(accepted, cache.Read("m"u8, "f"u8, 0, 1000)!.Times.Length);
        cache.TakeSnapshot();
        cache.ClearSnapshot(); // once written to TSM, room again
        Assert.Equal(CacheWriteResult.Ok, cache.Write("m"u8, "f"u8, FieldType.Float, 5000, F(1)));
    }

    [Fact]
    public void A_snapshot_writes_a_tsm_file_that_reads_back_every_point()
    {
        using var dir = new TempDir();
        var cache = new ShardCache();
        var rng = new Random(4);
        var expected = new Dictionary<(string, string), SortedDictionary<long, long>>();
        for (int i = 0; i < 5000; i++)
        {
            string series = $"cpu,host=h{rng.Next(5)}";
            string field = $"f{rng.Next(3)}";
            long t = rng.Next(2000);
            long v = rng.NextInt64();
            Assert.Equal(CacheWriteResult.Ok, cache.Write(Encoding.UTF8.GetBytes(series), Encoding.UTF8.GetBytes(field), FieldType.Integer, t, v));
            if (!expected.TryGetValue((series, field), out var points))
            {
                expected[(series, field)] = points = [];
            }

            points[t] = v; // last write wins
        }

        CacheSnapshot snapshot = cache.TakeSnapshot();
        string path = dir.File("1.tsm");
        using (var w = new TsmWriter(path, 300))
        {
            snapshot.WriteTo(w);
            w.Finish();
        }

        cache.ClearSnapshot();
        using var r = TsmReader.Open(path);
        Assert.Equal(expected.Count, r.KeyCount);
        foreach (var ((series, field), points) in expected)
        {
            Assert.True(r.TryFind(Encoding.UTF8.GetBytes(series), Encoding.UTF8.GetBytes(field), out int k));
            TsmKey key = r.GetKey(k);
            var ts = new List<long>();
            var vs = new List<long>();
            var bt = new long[300];
            var bv = new long[300];
            for (int b = 0; b < key.BlockCount; b++)
            {
                int n = r.ReadIntegers(r.GetEntry(key, b), bt, bv);
                ts.AddRange(bt[..n]);
                vs.AddRange(bv[..n]);
            }

            Assert.Equal(points.Keys, ts);
            Assert.Equal(points.Values, vs);
        }
    }

    [Fact]
    public void Reads_merge_the_snapshot_and_newer_writes()
    {
        var cache = new ShardCache();
        cache.Write("m"u8, "s"u8, FieldType.String, 1, 0, "old"u8);
        cache.Write("m"u8, "s"u8, FieldType.String, 2, 0, "two"u8);
        cache.TakeSnapshot();
        cache.Write("m"u8, "s"u8, FieldType.String, 1, 0, "new"u8);
        CacheEntry e = cache.Read("m"u8, "s"u8, 0, 10)!;
        Assert.Equal([1L, 2L], e.Times);
        Assert.Equal(["new", "two"], e.Strings!.Select(s => Encoding.UTF8.GetString(s!)));
    }

    [Fact]
    public void Batch_writes_agree_with_single_writes_on_random_batches_with_conflicts_and_wide_series()
    {
        var random = new Random(7);
        for (int round = 0; round < 50; round++)
        {
            var single = new ShardCache();
            var batched = new ShardCache();
            var values = new List<Shards.PointValue>();
            byte[][] keys = [.. Enumerable.Range(0, 5).Select(i => Encoding.UTF8.GetBytes($"m,host=h{i}"))];
            byte[][] fields = [.. Enumerable.Range(0, 40).Select(i => Encoding.UTF8.GetBytes($"f{i}"))]; // > 16: the wide path too
            for (int i = 0; i < 400; i++)
            {
                byte[] key = random.Next(3) == 0 ? (byte[])keys[random.Next(keys.Length)].Clone() : keys[random.Next(keys.Length)];
                var type = random.Next(10) == 0 ? FieldType.Integer : FieldType.Float;
                values.Add(new Shards.PointValue(key, fields[random.Next(fields.Length)], type, random.Next(100), random.Next()));
            }

            var expectedAccepted = new List<Shards.PointValue>();
            foreach (var v in values)
            {
                if (single.Write(v.SeriesKey, v.Field, v.Type, v.Time, v.Bits) == CacheWriteResult.Ok)
                {
                    expectedAccepted.Add(v);
                }
            }

            var rejected = new List<(int Index, string Reason)>();
            int count = batched.WriteBatch(values, _ => null, v => "conflict " + v.Time, rejected);
            var refusedAt = rejected.Select(r => r.Index).ToHashSet();
            Assert.Equal(expectedAccepted, values.Where((_, i) => !refusedAt.Contains(i)));
            Assert.Equal(values.Count, count + rejected.Count);
            Assert.All(rejected, r => Assert.Equal("conflict " + values[r.Index].Time, r.Reason));
            Assert.Equal(single.SizeBytes, batched.SizeBytes);
            var a = single.TakeSnapshot().Entries;
            var b = batched.TakeSnapshot().Entries;
            Assert.Equal(a.Select(e => (Encoding.UTF8.GetString(e.SeriesKey), Encoding.UTF8.GetString(e.Field), e.Type)), b.Select(e => (Encoding.UTF8.GetString(e.SeriesKey), Encoding.UTF8.GetString(e.Field), e.Type)));
            for (int i = 0; i < a.Count; i++)
            {
                Assert.Equal(a[i].Times, b[i].Times);
                Assert.Equal(a[i].Bits, b[i].Bits);
            }
        }
    }

    [Fact]
    public void A_new_column_can_be_refused_by_the_caller()
    {
        var cache = new ShardCache();
        var values = new List<Shards.PointValue> { new("m"u8.ToArray(), "a"u8.ToArray(), FieldType.Float, 1, 0), new("m"u8.ToArray(), "b"u8.ToArray(), FieldType.Float, 1, 0) };
        var rejected = new List<(int Index, string Reason)>();
        Assert.Equal(1, cache.WriteBatch(values, v => v.Field[0] == (byte)'b' ? "b is an integer in a file" : null, _ => "", rejected));
        Assert.Equal((1, "b is an integer in a file"), Assert.Single(rejected));
        Assert.False(cache.HasActiveColumn("m"u8, "b"u8));
        Assert.True(cache.HasActiveColumn("m"u8, "a"u8));
    }
}
