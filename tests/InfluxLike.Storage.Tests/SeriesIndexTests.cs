using System.Text;
using System.Text.RegularExpressions;
using CsCheck;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Index;
using InfluxLike.Storage.Tsm.Encoding;
using P = InfluxLike.Storage.Index.SeriesPredicate;

namespace InfluxLike.Storage.Tests;

public class SeriesIndexTests
{
    private static readonly string[] Measurements = ["cpu", "mem", "disk"];
    private static readonly string[] TagKeys = ["host", "region", "dc"];
    private static readonly string[] TagValues = ["a", "b", "c", "a b", "x,y", "k=v"];

    private sealed record Series(string Measurement, SortedDictionary<string, string> Tags)
    {
        public byte[] Key => SeriesKey.Build(Measurement, Tags.OrderBy(t => t.Key, StringComparer.Ordinal));
    }

    private static Gen<T> Pick<T>(T[] items) => Gen.Int[0, items.Length - 1].Select(i => items[i]);

    private static readonly Gen<Series> SeriesGen = Gen.Select(
        Pick(Measurements),
        Gen.Select(Pick(TagKeys), Pick(TagValues)).Array[0, 3],
        (m, tags) =>
        {
            var d = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var (k, v) in tags)
            {
                d[k] = v;
            }

            return new Series(m, d);
        });

    private static readonly Gen<P> Leaf = Gen.OneOf<P>(
        Pick(Measurements).Select(m => (P)new P.MeasurementEquals(m)),
        Gen.Select(Pick(TagKeys), Pick([.. TagValues, ""])).Select((k, v) => (P)new P.TagEquals(k, v)),
        Gen.Select(Pick(TagKeys), Pick(TagValues)).Select((k, v) => (P)new P.TagNotEquals(k, v)),
        Gen.Select(Pick(TagKeys), Pick(["^a", "b|c", ".*", "^$", "y", "^a b", "^k=", "^x,?y", "^a*", "^\\w", "^k\\=v$"])).Select((k, r) => (P)new P.TagMatches(k, new Regex(r))),
        Gen.Select(Pick(TagKeys), Pick(["^a", "b|c", ".*", "^$"])).Select((k, r) => (P)new P.TagNotMatches(k, new Regex(r))),
        Pick(TagKeys).Select(k => (P)new P.TagExists(k)),
        Gen.Const(P.All));

    private static Gen<P> Predicate(int depth) => depth == 0 ? Leaf : Gen.Frequency(
        (3, Leaf),
        (2, Gen.Select(Predicate(depth - 1), Predicate(depth - 1)).Select((a, b) => a & b)),
        (2, Gen.Select(Predicate(depth - 1), Predicate(depth - 1)).Select((a, b) => a | b)),
        (1, Predicate(depth - 1).Select(a => !a)));

    [Fact]
    public void Every_operator_agrees_with_a_brute_force_scan()
    {
        Gen.Select(SeriesGen.Array[0, 60], Predicate(3).Array[1, 10], Gen.Int[0, 10], Gen.Int[1, 40], Gen.Bool).Sample((series, predicates, deleteEvery, checkpointEvery, filter) =>
        {
            using var dir = new TempDir();
            var ids = new Dictionary<string, ulong>();
            // Mapped file and memory part mixed; `and` by key filtering or by postings intersection.
            var options = new SeriesIndexOptions { CheckpointEvery = checkpointEvery, FilterThreshold = filter ? 4096 : 0 };
            using (var index = SeriesIndex.Open(dir.Path, options))
            {
                foreach (Series s in series)
                {
                    ids[Convert.ToBase64String(s.Key)] = index.GetOrAddSeries(s.Key);
                }

                // Delete some, to check removal too.
                var gone = deleteEvery == 0 ? [] : ids.Values.Distinct().Where(id => id % (ulong)deleteEvery == 0).ToList();
                index.DeleteSeries(gone);
                foreach (var k in ids.Where(kv => gone.Contains(kv.Value)).Select(kv => kv.Key).ToList())
                {
                    ids.Remove(k);
                }

                Check(index);
            }

            // And the same after a restart (all in the mapped file).
            using var reopened = SeriesIndex.Open(dir.Path, options);
            Assert.Equal(ids.Count, reopened.MappedSeries);
            Check(reopened);

            void Check(SeriesIndex index)
            {
                var live = series.DistinctBy(s => Convert.ToBase64String(s.Key)).Where(s => ids.ContainsKey(Convert.ToBase64String(s.Key))).ToList();
                foreach (P p in predicates)
                {
                    ulong[] expected = [.. live.Where(s => p.Matches(s.Measurement, s.Tags)).Select(s => ids[Convert.ToBase64String(s.Key)]).Order()];
                    Assert.Equal(expected, index.Find(p));
                    Assert.Equal(
                        live.Where(s => p.Matches(s.Measurement, s.Tags)).Select(s => s.Measurement).Distinct().Order(StringComparer.Ordinal),
                        index.Measurements(p));
                    Assert.Equal(
                        live.Where(s => p.Matches(s.Measurement, s.Tags)).SelectMany(s => s.Tags.Keys).Distinct().Order(StringComparer.Ordinal),
                        index.TagKeys(p));
                    Assert.Equal(
                        live.Where(s => p.Matches(s.Measurement, s.Tags) && s.Tags.ContainsKey("host")).Select(s => s.Tags["host"]).Distinct().Order(StringComparer.Ordinal),
                        index.TagValues("host", p));
                }

                Assert.Equal(live.Count, index.Cardinality());
                Assert.Equal(live.Count(s => s.Measurement == "cpu"), index.Cardinality("cpu"));
            }
        }, iter: 150);
    }

    [Theory]
    [InlineData("^host_12", "host_12")]
    [InlineData("^host\\.1", "host.1")]
    [InlineData("^ab*c", "a")]
    [InlineData("^ab?", "a")]
    [InlineData("^a\\d", "a")]
    [InlineData("^(a)", "")]
    [InlineData("host", null)]
    [InlineData("^a|b", null)]
    public void Regex_literal_prefixes(string pattern, string? prefix)
    {
        Assert.Equal(prefix, RegexPrefix.Literal(new Regex(pattern)));
        Assert.Null(RegexPrefix.Literal(new Regex(pattern, RegexOptions.IgnoreCase)));
    }

    [Fact]
    public void Series_keys_are_canonical_whatever_the_input_escaping()
    {
        static byte[] KeyOf(string line)
        {
            var r = new LineProtocolReader(Encoding.UTF8.GetBytes(line));
            Assert.True(r.Read());
            Assert.Null(r.Error);
            using var w = new ByteWriter();
            SeriesKey.Write(ref r, w);
            r.Dispose();
            return w.WrittenSpan.ToArray();
        }

        byte[] a = KeyOf("m\\ 1,b=2\\,x,a=1 v=1");
        byte[] b = KeyOf("m\\ 1,a=1,b=2\\,x v=2 5");
        Assert.Equal("m\\ 1,a=1,b=2\\,x", Encoding.UTF8.GetString(a));
        Assert.Equal(a, b);
        var (m, tags) = SeriesKey.Parse(a);
        Assert.Equal("m 1", Encoding.UTF8.GetString(m));
        Assert.Equal(["a=1", "b=2,x"], tags.Select(t => Encoding.UTF8.GetString(t.Key) + "=" + Encoding.UTF8.GetString(t.Value)));

        // A backslash before '=' is literal in a measurement but an escape in a tag.
        var (m2, t2) = SeriesKey.Parse(KeyOf("a\\=b,k\\=1=v\\=2 f=1"));
        Assert.Equal("a\\=b", Encoding.UTF8.GetString(m2));
        Assert.Equal(("k=1", "v=2"), (Encoding.UTF8.GetString(t2[0].Key), Encoding.UTF8.GetString(t2[0].Value)));
    }

    [Fact]
    public void Concurrent_writers_get_one_dense_id_per_series()
    {
        using var dir = new TempDir();
        using var file = SeriesFile.Open(dir.Path);
        byte[][] keys = [.. Enumerable.Range(0, 20_000).Select(i => Encoding.ASCII.GetBytes($"cpu,host=h{i}"))];
        var seen = new ulong[4][];
        Parallel.For(0, 4, w =>
        {
            seen[w] = new ulong[keys.Length];
            int[] order = [.. Enumerable.Range(0, keys.Length)];
            new Random(w).Shuffle(order); // each writer in its own order
            foreach (int k in order)
            {
                seen[w][k] = file.GetOrAdd(keys[k], out _);
            }
        });

        Assert.Equal((ulong)keys.Length, file.MaxId);
        for (int w = 1; w < 4; w++)
        {
            Assert.Equal(seen[0], seen[w]);
        }

        Assert.Equal(Enumerable.Range(1, keys.Length).Select(i => (ulong)i), seen[0].Order());
        for (int i = 0; i < keys.Length; i++)
        {
            Assert.Equal(keys[i], file.GetKey(seen[0][i]).ToArray());
        }
    }

    [Fact]
    public void A_torn_tail_is_cut_off_and_the_rest_survives()
    {
        using var dir = new TempDir();
        using (var file = SeriesFile.Open(dir.Path))
        {
            for (int i = 0; i < 100; i++)
            {
                file.GetOrAdd(Encoding.ASCII.GetBytes($"m,t={i}"), out _);
            }

            file.Flush();
        }

        string path = Path.Combine(dir.Path, SeriesFile.FileName);
        long good = new FileInfo(path).Length;
        File.AppendAllBytes(path, [1, 50, (byte)'m', (byte)','] ); // a record cut short by a crash
        using (var file = SeriesFile.Open(dir.Path))
        {
            Assert.Equal(4, file.RecoveredTornBytes);
            Assert.Equal(100UL, file.MaxId);
            Assert.True(file.TryGetId("m,t=99"u8, out ulong id));
            Assert.Equal(100UL, id);
            Assert.Equal(101UL, file.GetOrAdd("m,t=new"u8, out bool created));
            Assert.True(created);
        }

        Assert.True(new FileInfo(path).Length > good);
    }

    [Fact]
    public void Deleted_series_disappear_and_come_back_with_a_new_id()
    {
        using var dir = new TempDir();
        using var index = SeriesIndex.Open(dir.Path);
        ulong a = index.GetOrAddSeries("cpu,host=a"u8);
        ulong b = index.GetOrAddSeries("cpu,host=b"u8);
        index.DeleteSeries([a]);
        Assert.Equal([b], index.Find(new P.MeasurementEquals("cpu")));
        Assert.False(index.TryGetSeriesId("cpu,host=a"u8, out _));
        ulong again = index.GetOrAddSeries("cpu,host=a"u8);
        Assert.True(again > b);
        Assert.Equal([b, again], index.Find(new P.MeasurementEquals("cpu")));
    }

    [Fact]
    public void The_series_limit_rejects_only_new_series()
    {
        using var dir = new TempDir();
        using var index = SeriesIndex.Open(dir.Path, new SeriesIndexOptions { BucketName = "telegraf", MaxSeries = 2 });
        index.GetOrAddSeries("cpu,host=a"u8);
        index.GetOrAddSeries("cpu,host=b"u8);
        var ex = Assert.Throws<SeriesLimitExceededException>(() => index.GetOrAddSeries("cpu,host=c"u8));
        Assert.Contains("\"telegraf\"", ex.Message, StringComparison.Ordinal);
        Assert.Contains("2 series", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1UL, index.GetOrAddSeries("cpu,host=a"u8));
    }

    [Fact]
    public void Field_types_are_kept_per_measurement_and_survive_restart()
    {
        using var dir = new TempDir();
        using (var index = SeriesIndex.Open(dir.Path))
        {
            Assert.Equal(FieldType.Float, index.GetOrAddField("cpu", "usage", FieldType.Float));
            Assert.Equal(FieldType.Float, index.GetOrAddField("cpu", "usage", FieldType.Integer));
            index.GetOrAddField("cpu", "odd\tname", FieldType.String);
            index.GetOrAddField("mem", "free", FieldType.Integer);
        }

        using var again = SeriesIndex.Open(dir.Path);
        Assert.Equal([("odd\tname", FieldType.String), ("usage", FieldType.Float)], again.FieldKeys("cpu"));
        Assert.Equal([("free", FieldType.Integer)], again.FieldKeys("mem"));
        Assert.Empty(again.FieldKeys("nope"));
    }
}

public class SeriesFileCheckpointTests
{
    [Fact]
    public void Checkpointed_series_are_found_through_the_mapped_index_after_restart()
    {
        using var dir = new TempDir();
        using (var file = SeriesFile.Open(dir.Path, checkpointEvery: 1000))
        {
            for (int i = 0; i < 2500; i++)
            {
                file.GetOrAdd(Encoding.ASCII.GetBytes($"cpu,host=h{i}"), out _);
                if (i % 500 == 0)
                {
                    file.Flush(); // checkpoints once the tail holds 1000
                }
            }

            file.Delete([5UL, 2400UL]);
            Assert.Equal(2501UL, file.GetOrAdd("cpu,host=h4"u8, out bool created)); // id 5 was h4
            Assert.True(created);
        }

        using var again = SeriesFile.Open(dir.Path);
        Assert.Equal(2501UL, again.IndexedAtOpen); // clean shutdown checkpoints everything
        Assert.Equal(2501UL, again.MaxId);
        Assert.Equal(2499, again.Count);
        Assert.True(again.TryGetId("cpu,host=h4"u8, out ulong id));
        Assert.Equal(2501UL, id);
        Assert.False(again.TryGetId("cpu,host=h2399"u8, out _));
        Assert.True(again.IsDeleted(2400));
        Assert.True(again.TryGetId("cpu,host=h1999"u8, out id));
        Assert.Equal(2000UL, id);
        Assert.Equal("cpu,host=h0", Encoding.ASCII.GetString(again.GetKey(1)));
        Assert.Equal(2502UL, again.GetOrAdd("cpu,host=new"u8, out _));
    }

    [Fact]
    public void A_damaged_index_is_ignored_and_rebuilt_from_the_log()
    {
        using var dir = new TempDir();
        using (var file = SeriesFile.Open(dir.Path))
        {
            for (int i = 0; i < 300; i++)
            {
                file.GetOrAdd(Encoding.ASCII.GetBytes($"m,t={i}"), out _);
            }
        }

        string index = Path.Combine(dir.Path, SeriesFile.IndexFileName);
        byte[] bytes = File.ReadAllBytes(index);
        bytes[100] ^= 0x40;
        File.WriteAllBytes(index, bytes);
        using var again = SeriesFile.Open(dir.Path);
        Assert.Equal(0UL, again.IndexedAtOpen);
        Assert.Equal(300UL, again.MaxId);
        Assert.True(again.TryGetId("m,t=299"u8, out ulong id));
        Assert.Equal(300UL, id);
    }

    [Fact]
    public void Series_added_after_a_checkpoint_survive_a_crash()
    {
        using var dir = new TempDir();
        var file = SeriesFile.Open(dir.Path);
        for (int i = 0; i < 100; i++)
        {
            file.GetOrAdd(Encoding.ASCII.GetBytes($"m,t={i}"), out _);
        }

        file.Checkpoint();
        for (int i = 100; i < 150; i++)
        {
            file.GetOrAdd(Encoding.ASCII.GetBytes($"m,t={i}"), out _);
        }

        file.Flush(); // durable in the log, not in the index
        // No Dispose: as after a crash, the log is simply left behind (copied while the writer is open).
        string copy = Path.Combine(dir.Path, "copy");
        Directory.CreateDirectory(copy);
        File.Copy(Path.Combine(dir.Path, SeriesFile.FileName), Path.Combine(copy, SeriesFile.FileName));
        File.Copy(Path.Combine(dir.Path, SeriesFile.IndexFileName), Path.Combine(copy, SeriesFile.IndexFileName));
        file.Dispose();

        using var again = SeriesFile.Open(copy);
        Assert.Equal(100UL, again.IndexedAtOpen);
        Assert.Equal(150UL, again.MaxId);
        Assert.True(again.TryGetId("m,t=149"u8, out ulong id));
        Assert.Equal(150UL, id);
    }
}

public class TsiPostingsTests
{
    [Fact]
    public void Runs_bitmaps_and_deltas_read_back_exactly()
    {
        using var dir = new TempDir();
        var rng = new Random(9);
        var parity = new Dictionary<ulong, string>();
        var sparse = new List<ulong>();
        using (var index = SeriesIndex.Open(dir.Path))
        {
            for (int i = 0; i < 5000; i++)
            {
                string p = rng.Next(2) == 0 ? "even" : "odd";             // dense: bitmaps
                string s = rng.Next(100) == 0 ? ",rare=yes" : "";           // sparse: deltas
                ulong id = index.GetOrAddSeries(Encoding.ASCII.GetBytes($"m,host=h{i},p={p}{s}"));
                parity[id] = p;
                if (s.Length > 0)
                {
                    sparse.Add(id);
                }
            }
        }

        using var reopened = SeriesIndex.Open(dir.Path);
        Assert.Equal(5000, reopened.MappedSeries);
        Assert.Equal(Enumerable.Range(1, 5000).Select(i => (ulong)i), reopened.Find(P.All));                      // a run
        Assert.Equal(parity.Where(kv => kv.Value == "odd").Select(kv => kv.Key).Order(), reopened.Find(new P.TagEquals("p", "odd")));
        Assert.Equal(sparse, reopened.Find(new P.TagEquals("rare", "yes")));
        Assert.Equal([4321UL], reopened.Find(new P.TagEquals("host", "h4320")));
    }
}
