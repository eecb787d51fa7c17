using CsCheck;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Reads;

namespace InfluxLike.Storage.Tests;

/// <summary>
/// Window aggregation over points fed in chunks (as storage decodes blocks): the same windows however the points
/// are cut, and the values a direct computation over each window's points gives, for every type and aggregate.
/// </summary>
public class WindowAccumulatorTests
{
    private static readonly FieldType[] Types = [FieldType.Float, FieldType.Integer, FieldType.Unsigned, FieldType.Boolean];

    // Sorted distinct times, values drawn for the type, cut points, window length and offset, aggregate, type.
    private static readonly Gen<(long[] Times, long[] Bits, int[] Cuts, long Every, long Offset, WindowAggregate Aggregate, FieldType Type)> Cases =
        Gen.Select(Gen.Long[-500, 500].Array[1, 120], Gen.Long[1, 90], Gen.Long[0, 89], Gen.Int[0, 6], Gen.Int[0, Types.Length - 1], Gen.Int[0, 130].Array[0, 8], Gen.ULong.Array[120])
            .Select((raw, every, offset, agg, typeIndex, cuts, values) =>
            {
                long[] times = [.. raw.Distinct().Order()];
                FieldType type = Types[typeIndex];
                long[] bits = new long[times.Length];
                for (int i = 0; i < bits.Length; i++)
                {
                    ulong v = values[i];
                    bits[i] = type switch
                    {
                        // Floats of every sign and size, some equal, including zeros; integers at the edges of their range.
                        FieldType.Float => BitConverter.DoubleToInt64Bits((long)(v % 2001) - 1000 + ((v >> 20) % 4 == 0 ? 0 : (v >> 24) / (double)(1UL << 40))),
                        FieldType.Boolean => (long)(v & 1),
                        FieldType.Integer => (v % 5) switch { 0 => long.MaxValue - (long)(v >> 60), 1 => long.MinValue + (long)(v >> 60), _ => (long)(v % 2001) - 1000 },
                        _ => (v % 3) == 0 ? unchecked((long)(ulong.MaxValue - (v >> 60))) : (long)(v % 2001),
                    };
                }

                return (times, bits, cuts.Select(c => Math.Min(c, times.Length)).Distinct().Order().ToArray(), every, offset % every, (WindowAggregate)agg, type);
            });

    [Fact]
    public void Chunks_give_the_windows_of_a_direct_computation()
    {
        Cases.Sample(c =>
        {
            long start = c.Times[0] - 3, stop = c.Times[^1] + 7;
            var sink = new WindowAccumulator(start, stop, c.Every, c.Offset, c.Aggregate, c.Type);
            int from = 0;
            foreach (int cut in c.Cuts.Append(c.Times.Length))
            {
                sink.Add(c.Times.AsSpan(from, cut - from), c.Bits.AsSpan(from, cut - from));
                from = cut;
            }

            List<WindowValue> got = sink.Finish();
            var expected = Enumerable.Range(0, c.Times.Length)
                .GroupBy(i => StorageReader.WindowStart(c.Times[i], c.Every, c.Offset))
                .Select(g => Expected(g.Key, c, [.. g], start, stop))
                .ToList();
            Assert.Equal(expected, got);
        }, iter: 3000);
    }

    [Fact]
    public void Window_bounds_are_clipped_to_the_range_and_empty_windows_are_left_out()
    {
        var sink = new WindowAccumulator(15, 95, 20, 0, WindowAggregate.Count, FieldType.Float);
        sink.Add([16, 17, 61], [0, 0, 0]);
        sink.Add([], []);
        sink.Add([62, 90], [0, 0]);
        Assert.Equal(
            [new WindowValue(15, 20, 2, FieldType.Integer), new WindowValue(60, 80, 2, FieldType.Integer), new WindowValue(80, 95, 1, FieldType.Integer)],
            sink.Finish());
    }

    [Fact]
    public void Strings_are_counted_but_not_aggregated()
    {
        var sink = new WindowAccumulator(0, 100, 10, 0, WindowAggregate.Count, FieldType.String);
        sink.Add([1, 2, 15], [0, 0, 0]);
        Assert.Equal([2L, 1L], sink.Finish().Select(w => w.Bits));
        Assert.Throws<NotSupportedException>(() => new WindowAccumulator(0, 100, 10, 0, WindowAggregate.Last, FieldType.String));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WindowAccumulator(0, 100, 0, 0, WindowAggregate.Count, FieldType.Float));
    }

    private static WindowValue Expected(long windowStart, (long[] Times, long[] Bits, int[] Cuts, long Every, long Offset, WindowAggregate Aggregate, FieldType Type) c, int[] rows, long start, long stop)
    {
        long s = Math.Max(windowStart, start), e = Math.Min(windowStart + c.Every, stop);
        long[] v = [.. rows.Select(i => c.Bits[i])];
        double[] f = [.. v.Select(BitConverter.Int64BitsToDouble)];
        bool isFloat = c.Type == FieldType.Float;
        bool unsigned = c.Type == FieldType.Unsigned;
        return c.Aggregate switch
        {
            WindowAggregate.Count => new WindowValue(s, e, v.Length, FieldType.Integer),
            WindowAggregate.First => new WindowValue(s, e, v[0], c.Type),
            WindowAggregate.Last => new WindowValue(s, e, v[^1], c.Type),
            WindowAggregate.Mean => new WindowValue(s, e, BitConverter.DoubleToInt64Bits(
                (isFloat ? f.Aggregate(0.0, (a, x) => a + x) : v.Aggregate(0.0, (a, x) => a + (unsigned ? (ulong)x : x))) / v.Length), FieldType.Float),
            WindowAggregate.Sum when isFloat => new WindowValue(s, e, BitConverter.DoubleToInt64Bits(f.Aggregate(0.0, (a, x) => a + x)), FieldType.Float),
            WindowAggregate.Sum => new WindowValue(s, e, v.Aggregate(0L, (a, x) => unchecked(a + x)), c.Type == FieldType.Boolean ? FieldType.Integer : c.Type),
            WindowAggregate.Min when isFloat => new WindowValue(s, e, BitConverter.DoubleToInt64Bits(f.Min()), FieldType.Float),
            WindowAggregate.Max when isFloat => new WindowValue(s, e, BitConverter.DoubleToInt64Bits(f.Max()), FieldType.Float),
            WindowAggregate.Min => new WindowValue(s, e, unsigned ? (long)v.Select(x => (ulong)x).Min() : v.Min(), c.Type),
            _ => new WindowValue(s, e, unsigned ? (long)v.Select(x => (ulong)x).Max() : v.Max(), c.Type),
        };
    }
}
