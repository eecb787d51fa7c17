using System.Text;
using CsCheck;
using InfluxLike.Storage.Tsm;
using InfluxLike.Storage.Tsm.Encoding;

namespace InfluxLike.Storage.Tests;

/// <summary>Every codec round-trips adversarial input exactly (CsCheck shrinks failures to small cases).</summary>
public class CodecPropertyTests
{
    private const int Iterations = 3000;

    private static Gen<T> Pick<T>(params T[] items) => Gen.Int[0, items.Length - 1].Select(i => items[i]);

    // Shapes real data takes, plus the extremes.
    private static Gen<long[]> Longs(int max = 2000) => Gen.OneOf(
        Gen.Long.Array[0, max],
        Gen.Select(Gen.Long, Gen.Int[1, max]).Select((v, n) => Enumerable.Repeat(v, n).ToArray()),
        Gen.Select(Gen.Long[-1_000_000, 1_000_000], Gen.Long[-1000, 1000], Gen.Int[1, max]).Select((s, d, n) => Enumerable.Range(0, n).Select(i => s + (d * i)).ToArray()),
        Gen.Select(Gen.Long[0, 1L << 40], Gen.Int[-5, 5].Array[1, max]).Select((s, j) => { long t = s; return j.Select(x => t += 10_000_000_000L + x).ToArray(); }),
        Pick(long.MinValue, long.MaxValue, 0L, -1L, 1L).Array[1, 50],
        Gen.Long[-3, 3].Array[1, max]);

    private static readonly Gen<double> AnyDouble = Gen.OneOf(
        Gen.Double,
        Gen.Long.Select(BitConverter.Int64BitsToDouble), // every bit pattern: NaN payloads, subnormals
        Pick(double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 0.0, double.Epsilon, -double.Epsilon, double.MaxValue, double.MinValue, 2.2250738585072014e-308),
        Gen.Double[-1e6, 1e6].Select(d => Math.Round(d, 2)),
        Gen.Int[-100000, 100000].Select(i => i / 1000.0));

    private static Gen<double[]> Doubles(int max = 2000) => Gen.OneOf(
        AnyDouble.Array[0, max],
        Gen.Select(AnyDouble, Gen.Int[1, max]).Select((v, n) => Enumerable.Repeat(v, n).ToArray()),
        Gen.Select(Gen.Double[0, 100], Gen.Double[-1, 1].Array[1, max], Gen.Int[-1, 4]).Select((s, steps, dec) =>
        {
            double v = s;
            return steps.Select(x => { v = Math.Clamp(v + x, 0, 100); return dec < 0 ? v : Math.Round(v, dec); }).ToArray();
        }));

    [Fact]
    public void Packed_integers_round_trip()
    {
        Gen.OneOf(Gen.ULong.Array[0, 3000], Gen.ULong[0, 1000].Array[0, 3000], Gen.Select(Gen.Int[0, 64], Gen.ULong.Array[1, 500]).Select((w, a) => a.Select(x => w == 64 ? x : x & ((1UL << w) - 1)).ToArray()))
            .Sample(values =>
            {
                using var w = new ByteWriter();
                PackedIntegers.Encode(values, w);
                var back = new ulong[values.Length];
                Assert.Equal(w.Length, PackedIntegers.Decode(w.WrittenSpan, back));
                Assert.Equal(values, back);
            }, iter: Iterations);
    }

    [Fact]
    public void Rice_coded_integers_round_trip_including_escapes()
    {
        var values = Gen.OneOf(
            Gen.ULong[0, 5000].Array[0, 3000],
            Gen.Select(Gen.ULong[0, 300].Array[1, 2000], Gen.ULong.Array[0, 20]).Select((small, big) => small.Concat(big).ToArray()),
            // Escapes and long values amid short ones: the decoder leaves its fast path for one value and comes back.
            Gen.Select(Gen.ULong[0, 300].Array[1, 2000], Gen.ULong.Array[0, 20], Gen.Int).Select((small, big, seed) =>
            {
                ulong[] mixed = [.. small, .. big];
                new Random(seed).Shuffle(mixed);
                return mixed;
            }),
            Gen.ULong.Array[1, 100]);
        Gen.Select(values, Gen.Int[0, 63]).Sample((v, k) =>
        {
            using var w = new ByteWriter();
            RiceIntegers.Encode(v, k, w);
            var back = new ulong[v.Length];
            Assert.Equal(w.Length, RiceIntegers.Decode(w.WrittenSpan, back));
            Assert.Equal(v, back);
        }, iter: Iterations);
    }

    [Fact]
    public void Gaussian_deltas_take_the_rice_form()
    {
        var rng = new Random(3);
        long x = 5000;
        long[] walk = [.. Enumerable.Range(0, 1000).Select(_ => x += (long)Math.Round(100 * (rng.NextDouble() + rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 2) * 1.73))];
        using var w = new ByteWriter();
        IntegerCodec.Encode(walk, w);
        Assert.Equal(IntegerCodec.Rice, w.WrittenSpan[0]);
        Assert.True(w.Length < 1000 * 9.1 / 8, $"{w.Length} bytes for 1000 values");
    }

    [Fact]
    public void Timestamps_round_trip()
    {
        Longs().Sample(values =>
        {
            using var w = new ByteWriter();
            TimestampCodec.Encode(values, w);
            var back = new long[values.Length];
            Assert.True(TimestampCodec.Decode(w.WrittenSpan, back));
            Assert.Equal(values, back);
        }, iter: Iterations);
    }

    [Fact]
    public void Integers_round_trip()
    {
        Longs().Sample(values =>
        {
            using var w = new ByteWriter();
            IntegerCodec.Encode(values, w);
            var back = new long[values.Length];
            Assert.True(IntegerCodec.Decode(w.WrittenSpan, back));
            Assert.Equal(values, back);
        }, iter: Iterations);
    }

    [Fact]
    public void Unsigned_round_trip_including_extremes()
    {
        Gen.OneOf(Gen.ULong.Array[0, 2000], Pick(0UL, ulong.MaxValue, 1UL << 63, (1UL << 63) - 1).Array[1, 100]).Sample(values =>
        {
            using var w = new ByteWriter();
            IntegerCodec.Encode(values, w);
            var back = new ulong[values.Length];
            Assert.True(IntegerCodec.Decode(w.WrittenSpan, back));
            Assert.Equal(values, back);
        }, iter: Iterations);
    }

    [Fact]
    public void Floats_round_trip_every_bit()
    {
        Doubles().Sample(values =>
        {
            using var w = new ByteWriter();
            FloatCodec.Encode(values, w);
            var back = new double[values.Length];
            Assert.True(FloatCodec.Decode(w.WrittenSpan, back));
            for (int i = 0; i < values.Length; i++)
            {
                Assert.Equal(BitConverter.DoubleToInt64Bits(values[i]), BitConverter.DoubleToInt64Bits(back[i]));
            }
        }, iter: Iterations);
    }

    [Theory]
    [InlineData(FloatCodec.Xor)]
    [InlineData(FloatCodec.Decimal)]
    [InlineData(FloatCodec.BitDeltas)]
    public void Each_float_form_is_chosen_for_the_data_it_suits(byte expected)
    {
        double[] values = expected switch
        {
            FloatCodec.Decimal => [.. Enumerable.Range(0, 1000).Select(i => Math.Round(50 + (10 * Math.Sin(i / 10.0)), 2))],
            FloatCodec.BitDeltas => [.. Enumerable.Range(0, 1000).Select(i => 50 + (10 * Math.Sin(i / 10.0)))],
            _ => [.. Enumerable.Range(0, 1000).Select(i => i % 100 < 90 ? 1.0 / 3 : 2.0 / 3)],
        };
        using var w = new ByteWriter();
        FloatCodec.Encode(values, w);
        Assert.Equal(expected, w.WrittenSpan[0]);
    }

    [Fact]
    public void Booleans_round_trip()
    {
        Gen.Bool.Array[0, 3000].Sample(values =>
        {
            using var w = new ByteWriter();
            BooleanCodec.Encode(values, w);
            var back = new bool[values.Length];
            Assert.True(BooleanCodec.Decode(w.WrittenSpan, back));
            Assert.Equal(values, back);
        }, iter: Iterations);
    }

    [Fact]
    public void Strings_round_trip()
    {
        var pieces = new[] { "", "a", "日本", "🙂", "\"", "\\", "\n", "\0", "log line " };
        var str = Gen.OneOf(
            Gen.Int[0, pieces.Length - 1].Array[0, 20].Select(a => string.Concat(a.Select(i => pieces[i]))),
            Gen.Int[0, 200_000].Select(n => new string('x', n)));
        str.Array[1, 200].Sample(values =>
        {
            using var column = new StringColumn();
            foreach (string s in values)
            {
                column.Add(s);
            }

            using var w = new ByteWriter();
            StringCodec.Encode(column, w);
            using var back = new StringColumn();
            Assert.True(StringCodec.Decode(w.WrittenSpan, values.Length, back));
            Assert.Equal(values, Enumerable.Range(0, back.Count).Select(back.GetString));
        }, iter: 300);
    }

    [Fact]
    public void Truncated_or_damaged_input_is_rejected_not_misread()
    {
        // Decoders must either fail or, if they succeed, do so only on input they could have produced:
        // here every truncation of a valid encoding fails.
        Doubles(200).Where(a => a.Length > 1).Sample(values =>
        {
            using var w = new ByteWriter();
            FloatCodec.Encode(values, w);
            var back = new double[values.Length];
            for (int cut = 0; cut < w.Length; cut += Math.Max(1, w.Length / 7))
            {
                Assert.False(FloatCodec.Decode(w.WrittenSpan[..cut], back));
            }
        }, iter: 500);
    }
}
