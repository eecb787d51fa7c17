using System.Text;
using CsCheck;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Reads;
using InfluxLike.Storage.Shards;
using InfluxLike.Storage.Tsm;
using InfluxLike.Storage.Wal;

namespace InfluxLike.Storage.Tests;

/// <summary>
/// Compaction's invariants, each a property over random histories of writes, deletes, snapshots,
/// compactions (level and full) and restarts of one shard, checked against a plain in-memory model
/// (a sorted map per key: a write sets a time's value, a delete removes a range). Tiny blocks (8 points)
/// and a narrow time range make blocks split, overlap across files and timestamps repeat.
/// </summary>
public class CompactionPropertyTests
{
    private const int Iterations = 40;

    private static readonly (byte[] Series, byte[] Field, FieldType Type)[] Keys =
    [
        .. from s in new[] { "m,h=a", "m,h=b", "m,h=c" }
           from f in new[] { ("f", FieldType.Float), ("i", FieldType.Integer), ("s", FieldType.String) }
           select (Encoding.UTF8.GetBytes(s), Encoding.UTF8.GetBytes(f.Item1), f.Item2),
    ];

    private abstract record Op;

    private sealed record Write((int Key, long Time)[] Points) : Op;

    private sealed record Delete(int[] KeyIndexes, long Min, long Max) : Op;

    private sealed record Snapshot : Op;

    private sealed record Compact(bool Full) : Op;

    private sealed record Reopen : Op;

    private static Gen<Op> Ops(int deleteWeight) => Gen.Frequency(
        (6, Gen.Select(Gen.Int[0, Keys.Length - 1], Gen.Long[0, 200]).Array[1, 40].Select(p => (Op)new Write(p))),
        (deleteWeight, Gen.Select(Gen.Int[0, Keys.Length - 1].Array[1, 4], Gen.Long[0, 200], Gen.Long[0, 60]).Select((k, min, len) => (Op)new Delete([.. k.Distinct()], min, min + len))),
        (3, Gen.Const((Op)new Snapshot())),
        (3, Gen.Bool.Select(full => (Op)new Compact(full))),
        (1, Gen.Const((Op)new Reopen())));

    private static Gen<Op[]> Histories(int deleteWeight) => Ops(deleteWeight).Array[5, 60];

    /// <summary>What the shard holds per key at the end, beside what the model says it must.</summary>
    private sealed record Outcome(
        List<(int Key, long[] Times, long[] Bits, byte[]?[] Strings)> Stored, Dictionary<int, SortedDictionary<long, long>> Model, List<(int Key, long Min, long Max, long After)> Deletes);

    private static Outcome Run(Op[] history, Action<Shard, Dictionary<int, SortedDictionary<long, long>>>? finish = null)
    {
        string dir = Path.Combine(Path.GetTempPath(), "influxlike-compaction-" + Guid.NewGuid().ToString("N"));
        var options = new ShardOptions { MaxPointsPerBlock = 8, SnapshotThresholdBytes = long.MaxValue, Wal = new WalOptions { Fsync = FsyncPolicy.Interval } };
        var model = Enumerable.Range(0, Keys.Length).ToDictionary(k => k, _ => new SortedDictionary<long, long>());
        var deletes = new List<(int, long, long, long)>();
        long version = 0;
        long writes = 0;
        Shard shard = Shard.Open(dir, options);
        try
        {
            foreach (Op op in history)
            {
                switch (op)
                {
                    case Write w:
                        var values = new List<PointValue>();
                        foreach (var (k, t) in w.Points)
                        {
                            long v = ++version;
                            var (series, field, type) = Keys[k];
                            values.Add(type == FieldType.String
                                ? new PointValue(series, field, type, t, 0, Encoding.UTF8.GetBytes("v" + v))
                                : new PointValue(series, field, type, t, type == FieldType.Float ? BitConverter.DoubleToInt64Bits(v) : v));
                            model[k][t] = v;
                        }

                        Assert.Empty(shard.WriteAsync(values).GetAwaiter().GetResult().Rejected);
                        writes++;
                        break;
                    case Delete d:
                        shard.DeleteAsync([.. d.KeyIndexes.Select(k => (Keys[k].Series, Keys[k].Field))], d.Min, d.Max).GetAwaiter().GetResult();
                        foreach (int k in d.KeyIndexes)
                        {
                            foreach (long t in model[k].Keys.Where(t => t >= d.Min && t <= d.Max).ToList())
                            {
                                model[k].Remove(t);
                            }

                            deletes.Add((k, d.Min, d.Max, writes));
                        }

                        break;
                    case Snapshot:
                        shard.SnapshotAsync().GetAwaiter().GetResult();
                        break;
                    case Compact c:
                        while (shard.CompactAsync(forceFull: c.Full).GetAwaiter().GetResult() is not null && !c.Full)
                        {
                        }

                        break;
                    case Reopen:
                        shard.DisposeAsync().AsTask().GetAwaiter().GetResult();
                        shard = Shard.Open(dir, options);
                        break;
                }
            }

            finish?.Invoke(shard, model);

            var stored = new List<(int, long[], long[], byte[]?[])>();
            for (int k = 0; k < Keys.Length; k++)
            {
                var (times, bits, strings) = shard.Read(Keys[k].Series, Keys[k].Field, long.MinValue, long.MaxValue);
                stored.Add((k, times, bits, strings));
            }

            return new Outcome(stored, model, deletes);
        }
        finally
        {
            shard.DisposeAsync().AsTask().GetAwaiter().GetResult();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static long ValueOf(int key, long bits, byte[]? s) =>
        Keys[key].Type switch
        {
            FieldType.Float => (long)BitConverter.Int64BitsToDouble(bits),
            FieldType.String => long.Parse(Encoding.UTF8.GetString(s!)[1..], System.Globalization.CultureInfo.InvariantCulture),
            _ => bits,
        };

    [Fact]
    public void Newest_write_wins()
    {
        Histories(deleteWeight: 1).Sample(history =>
        {
            Outcome o = Run(history);
            foreach (var (k, times, bits, strings) in o.Stored)
            {
                for (int i = 0; i < times.Length; i++)
                {
                    Assert.True(o.Model[k].TryGetValue(times[i], out long expected), $"key {k} time {times[i]}: not in the model");
                    Assert.Equal(expected, ValueOf(k, bits[i], Keys[k].Type == FieldType.String ? strings[i] : null));
                    Assert.Equal(Keys[k].Type == FieldType.String ? times.Length : 0, strings.Length);
                }
            }
        }, iter: Iterations);
    }

    [Fact]
    public void No_point_is_lost_or_duplicated()
    {
        Histories(deleteWeight: 1).Sample(history =>
        {
            Outcome o = Run(history);
            foreach (var (k, times, _, _) in o.Stored)
            {
                Assert.Equal(o.Model[k].Keys, times);
            }
        }, iter: Iterations);
    }

    [Fact]
    public void Tombstoned_ranges_stay_gone()
    {
        Histories(deleteWeight: 6).Sample(history =>
        {
            Outcome o = Run(history);
            foreach (var (k, min, max, _) in o.Deletes)
            {
                // A point in a deleted range exists only when written again later, and then the model has it.
                foreach (long t in o.Stored[k].Times.Where(t => t >= min && t <= max))
                {
                    Assert.True(o.Model[k].ContainsKey(t), $"key {k}: {t} was deleted and never written again, yet it is stored");
                }
            }
        }, iter: Iterations);
    }

    [Fact]
    public void Time_order_is_kept()
    {
        Histories(deleteWeight: 2).Sample(history =>
        {
            Outcome o = Run(history);
            foreach (var (_, times, _, _) in o.Stored)
            {
                for (int i = 1; i < times.Length; i++)
                {
                    Assert.True(times[i] > times[i - 1], $"{times[i]} follows {times[i - 1]}");
                }
            }
        }, iter: Iterations);
    }

    [Fact]
    public void A_full_compaction_leaves_one_file_without_tombstones_holding_exactly_the_model()
    {
        Histories(deleteWeight: 4).Sample(history =>
        {
            Outcome o = Run(history, (shard, model) =>
            {
                shard.SnapshotAsync().GetAwaiter().GetResult();
                shard.CompactAsync(forceFull: true).GetAwaiter().GetResult();
                IReadOnlyList<CompactionCandidate> files = shard.Files();
                Assert.True(files.Count <= 1, $"{files.Count} files after a full compaction");
                Assert.All(files, f => Assert.False(f.HasTombstones));

                // Deleted points are gone from the file itself, not just hidden: its blocks hold exactly the model.
                foreach (CompactionCandidate f in files)
                {
                    using TsmReader reader = TsmReader.Open(Path.Combine(shard.Folder, f.Name.FileName));
                    for (int k = 0; k < Keys.Length; k++)
                    {
                        long points = 0;
                        if (reader.TryFind(Keys[k].Series, Keys[k].Field, out int index))
                        {
                            TsmKey key = reader.GetKey(index);
                            for (int b = 0; b < key.BlockCount; b++)
                            {
                                points += reader.GetEntry(key, b).Count;
                            }
                        }

                        Assert.Equal(model[k].Count, points);
                    }
                }
            });
            foreach (var (k, times, _, _) in o.Stored)
            {
                Assert.Equal(o.Model[k].Keys, times);
            }
        }, iter: Iterations);
    }

    [Fact]
    public void Window_aggregates_fed_block_by_block_equal_those_of_the_merged_points()
    {
        // Aggregate feeds decoded blocks straight to the windows when the files follow one another and the cache
        // comes after them, and merges first otherwise; either way the windows are those of the points Read gives.
        int streamed = 0, merged = 0;
        var queries = Gen.Select(Gen.Long[-10, 210], Gen.Long[0, 220], Gen.Long[1, 50], Gen.Long[0, 49], Gen.Int[0, 6]).Array[12];
        Gen.Select(Histories(deleteWeight: 2), queries).Sample((history, ranges) =>
        {
            Run(history, (shard, _) =>
            {
                for (int k = 0; k < Keys.Length; k++)
                {
                    var (series, field, type) = Keys[k];
                    if (type == FieldType.String)
                    {
                        continue;
                    }

                    foreach (var (min, length, every, offsetRaw, agg) in ranges)
                    {
                        long max = min + length;
                        long offset = offsetRaw % every;
                        var aggregate = (WindowAggregate)agg;
                        var sink = new WindowAccumulator(min, max + 1, every, offset, aggregate, type);
                        if (shard.Aggregate(series, field, min, max, sink))
                        {
                            streamed++;
                        }
                        else
                        {
                            merged++;
                        }

                        var (times, bits, strings) = shard.Read(series, field, min, max);
                        var points = new SeriesFieldData(series, "m", [], "f", type, times, bits, strings);
                        List<WindowValue> want = StorageReader.AggregateWindows(points, min, max + 1, every, offset, aggregate);
                        Assert.Equal(want, sink.Finish());
                        Assert.Equal(times.Length, sink.Points);
                    }
                }
            });
        }, iter: Iterations);
        Assert.True(streamed > 0 && merged > 0, $"both ways were taken: {streamed} streamed, {merged} merged");
    }
}
