using System.Globalization;
using System.Numerics;
using System.Text;
using CsCheck;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Tests.Execution;

/// <summary>
/// The span formatters the CSV writer uses give the same text as the reference forms: RFC 3339 from .NET's own
/// calendar, and Go's shortest float without an exponent.
/// </summary>
public sealed class TextFormatTests
{
    // The reference: .NET's calendar for the date and time, the fraction trimmed of trailing zeros.
    private static string ReferenceTime(long ns)
    {
        long seconds = Math.DivRem(ns, 1_000_000_000, out long nanos);
        if (nanos < 0)
        {
            nanos += 1_000_000_000;
            seconds--;
        }

        string text = DateTime.UnixEpoch.AddSeconds(seconds).ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        return nanos == 0 ? text + "Z" : text + "." + nanos.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0') + "Z";
    }

    [Fact]
    public void Times_match_the_calendar_over_the_whole_range_of_nanoseconds()
    {
        Gen.Long.Sample(ns => Assert.Equal(ReferenceTime(ns), Formats.Time(ns)), iter: 200_000);
    }

    [Fact]
    public void Times_as_utf8_bytes_are_the_same_text()
    {
        Gen.Long.Sample(ns =>
        {
            Span<byte> bytes = stackalloc byte[Formats.MaxTimeLength];
            Assert.Equal(ReferenceTime(ns), Encoding.UTF8.GetString(bytes[..Formats.FormatTime(ns, bytes)]));
        }, iter: 100_000);
    }

    [Fact]
    public void A_time_text_that_remembers_the_day_writes_what_the_calendar_says()
    {
        // Runs of times on one day (what a table's rows are), jumps across days and eras, negative times.
        var runs = Gen.Select(Gen.Long, Gen.Long[0, 3_600_000_000_000].Array[1, 30]).Array[1, 8];
        runs.Sample(list =>
        {
            // One cache used for chars and for UTF-8 bytes alternately: the CSV writer writes bytes, string() chars.
            var text = new Formats.TimeText();
            Span<char> buffer = stackalloc char[Formats.MaxTimeLength];
            Span<byte> bytes = stackalloc byte[Formats.MaxTimeLength];
            int i = 0;
            foreach (var (start, steps) in list)
            {
                long t = start;
                foreach (long step in steps)
                {
                    t = t > long.MaxValue - step ? start : t + step;
                    string expected = ReferenceTime(t);
                    string written = i++ % 2 == 0
                        ? new string(buffer[..text.Format(t, buffer)])
                        : Encoding.UTF8.GetString(bytes[..text.Format(t, bytes)]);
                    Assert.Equal(expected, written);
                }
            }
        }, iter: 5_000);
    }

    [Theory]
    [InlineData(0L, "1970-01-01T00:00:00Z")]
    [InlineData(-1L, "1969-12-31T23:59:59.999999999Z")]
    [InlineData(951_782_400_000_000_000L, "2000-02-29T00:00:00Z")]
    [InlineData(1_767_225_600_500_000_000L, "2026-01-01T00:00:00.5Z")]
    [InlineData(long.MaxValue, "2262-04-11T23:47:16.854775807Z")]
    [InlineData(long.MinValue, "1677-09-21T00:12:43.145224192Z")]
    public void Times_at_the_edges(long ns, string expected)
    {
        Assert.Equal(expected, Formats.Time(ns));
        Assert.Equal(ReferenceTime(ns), expected);
    }

    // The reference: .NET's shortest round-trip digits ("R"), with any exponent written out as Go's 'f' does.
    private static string ReferenceFloat(double v)
    {
        string r = v.ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOf('E', StringComparison.Ordinal);
        if (e < 0)
        {
            return r;
        }

        bool negative = r[0] == '-';
        string mantissa = r[(negative ? 1 : 0)..e];
        int exponent = int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        int dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        string digits = dot < 0 ? mantissa : mantissa.Remove(dot, 1);
        int pointPos = (dot < 0 ? mantissa.Length : dot) + exponent;
        string body = pointPos <= 0 ? "0." + new string('0', -pointPos) + digits
            : pointPos >= digits.Length ? digits + new string('0', pointPos - digits.Length)
            : digits[..pointPos] + "." + digits[pointPos..];
        return negative ? "-" + body : body;
    }

    // The definition, in exact rational arithmetic: of the decimals with the fewest significant digits that read back as
    // v, the one nearest to v, an exact tie going to the even digit. Slow; the check where .NET's "R" cannot be used.
    private static string ExactShortest(double v)
    {
        if (v == 0)
        {
            return double.IsNegative(v) ? "-0" : "0";
        }

        bool negative = v < 0;
        long bits = BitConverter.DoubleToInt64Bits(Math.Abs(v));
        int field = (int)(bits >> 52);
        long m = bits & ((1L << 52) - 1);
        int e = -1074;
        if (field != 0)
        {
            m |= 1L << 52;
            e = field - 1075;
        }

        // Exact integers: every quantity is multiplied by 2^1076 · 10^400, so v, its half gaps and each candidate
        // d·10^p (p ≥ -400) are whole numbers and distances compare directly.
        const int Shift = 1076;
        var ten400 = BigInteger.Pow(10, 400);
        var value = (new BigInteger(m) << (e + Shift)) * ten400;
        var above = (BigInteger.One << (e - 1 + Shift)) * ten400;
        var below = m == 1L << 52 && field > 1 ? above / 2 : above; // just above a power of two the gap below halves
        bool inclusive = (m & 1) == 0; // round-half-even reads a bound back to an even mantissa
        int k10 = (int)Math.Floor(Math.Log10(Math.Abs(v)));
        for (int n = 1; n <= 17; n++)
        {
            (BigInteger D, int P, BigInteger Distance)? best = null;
            for (int p = k10 - n; p <= k10 - n + 2; p++) // Log10 may be off by one either way
            {
                var unit = BigInteger.Pow(10, p + 400) << Shift;
                var floor = value / unit;
                foreach (var d in new[] { floor, floor + 1 })
                {
                    if (d.IsZero || d.ToString(CultureInfo.InvariantCulture).Length != n)
                    {
                        continue;
                    }

                    var candidate = d * unit;
                    var distance = BigInteger.Abs(candidate - value);
                    var gap = candidate < value ? below : above;
                    if (distance > gap || (distance == gap && !inclusive))
                    {
                        continue;
                    }

                    if (best is null || distance < best.Value.Distance || (distance == best.Value.Distance && d.IsEven))
                    {
                        best = (d, p, distance);
                    }
                }
            }

            if (best is { } found)
            {
                string digits = found.D.ToString(CultureInfo.InvariantCulture);
                int point = digits.Length + found.P;
                string body = found.P >= 0 ? digits + new string('0', found.P)
                    : point > 0 ? digits[..point] + "." + digits[point..]
                    : "0." + new string('0', -point) + digits;
                if (body.Contains('.', StringComparison.Ordinal))
                {
                    body = body.TrimEnd('0').TrimEnd('.');
                }

                return negative ? "-" + body : body;
            }
        }

        throw new InvalidOperationException($"no 17-digit decimal reads back as {bits:X}");
    }

    private static bool RoundTrips(string text, double v) =>
        BitConverter.DoubleToInt64Bits(double.Parse(text, CultureInfo.InvariantCulture)) == BitConverter.DoubleToInt64Bits(v);

    // .NET's "R" is the fast reference; where its text does not read back as v (it misses at some powers of two,
    // 2^-958 among them), the exact definition decides.
    private static void AssertFloat(double v)
    {
        string text = Formats.Float(v);
        string reference = ReferenceFloat(v);
        if (!RoundTrips(reference, v))
        {
            reference = ExactShortest(v);
        }

        Assert.True(reference == text, $"{BitConverter.DoubleToInt64Bits(v):X}: expected {reference}, wrote {text}");
        Assert.True(RoundTrips(text, v), text);
    }

    [Fact]
    public void The_exact_reference_agrees_with_the_formatter_on_random_doubles()
    {
        Gen.ULong.Select(BitConverter.UInt64BitsToDouble).Where(double.IsFinite).Sample(v => Assert.Equal(ExactShortest(v), Formats.Float(v)), iter: 5_000);
        Gen.Select(Gen.Long[-99_999_999, 99_999_999], Gen.Int[-20, 20]).Sample((mantissa, scale) =>
        {
            double v = double.Parse($"{mantissa}e{scale}", CultureInfo.InvariantCulture);
            Assert.Equal(ExactShortest(v), Formats.Float(v));
        }, iter: 5_000);
    }

    [Fact]
    public void Two_to_the_minus_958_needs_17_digits_where_dotnet_writes_16()
    {
        double v = Math.ScaleB(1.0, -958);
        Assert.False(RoundTrips(v.ToString("R", CultureInfo.InvariantCulture), v)); // if .NET is mended, this test has done its job
        Assert.Equal("0." + new string('0', 288) + "41045368012983762", Formats.Float(v));
        Assert.Equal(ExactShortest(v), Formats.Float(v));
    }

    [Fact]
    public void Floats_are_the_shortest_round_trip_digits_for_any_bit_pattern()
    {
        Gen.ULong.Select(BitConverter.UInt64BitsToDouble).Where(double.IsFinite).Sample(AssertFloat, iter: 400_000);
        Gen.Double.Sample(AssertFloat, iter: 100_000);
    }

    [Fact]
    public void Floats_read_from_short_decimals_print_those_decimals()
    {
        // What sensors send: a few significant digits, often trailing zeros after parsing, near every scale.
        Gen.Select(Gen.Long[-999_999_999_999, 999_999_999_999], Gen.Int[-30, 30]).Sample((mantissa, scale) =>
        {
            double v = double.Parse($"{mantissa}e{scale}", CultureInfo.InvariantCulture);
            AssertFloat(v);
        }, iter: 200_000);
    }

    [Fact]
    public void Floats_at_every_power_of_two_and_ten_and_their_neighbours()
    {
        var values = new List<double> { 0.0, -0.0, double.Epsilon, double.MaxValue, -double.MaxValue, 2.2250738585072014e-308, 2.225073858507201e-308, 9007199254740993, 1e23, 5e-324, 0.1, 0.2, 0.3, 1.0 / 3 };
        for (int e = -1074; e <= 1023; e++)
        {
            values.Add(Math.ScaleB(1.0, e));
        }

        for (int e = -323; e <= 308; e++)
        {
            values.Add(double.Parse($"1e{e}", CultureInfo.InvariantCulture));
        }

        foreach (double v in values)
        {
            foreach (double x in new[] { v, Math.BitIncrement(v), Math.BitDecrement(v), -v })
            {
                if (double.IsFinite(x))
                {
                    AssertFloat(x);
                }
            }
        }
    }

    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(-0.0, "-0")]
    [InlineData(100.0, "100")]
    [InlineData(0.000123, "0.000123")]
    [InlineData(1e21, "1000000000000000000000")]
    [InlineData(55.17098634105852, "55.17098634105852")]
    [InlineData(-90.00000000000001, "-90.00000000000001")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    public void Floats_written_as_go_writes_them(double v, string expected)
    {
        Assert.Equal(expected, Formats.Float(v));
    }

    [Fact]
    public void The_smallest_and_largest_doubles_are_written_out_in_full()
    {
        Assert.Equal("0." + new string('0', 323) + "5", Formats.Float(double.Epsilon));
        Assert.Equal("-179769313486231570" + new string('0', 291), Formats.Float(-double.MaxValue));
    }

    [Fact]
    public void Floats_formatted_in_place_match_the_string_form()
    {
        Span<char> buffer = stackalloc char[32];
        int inPlace = 0;
        foreach (double v in new[] { 0.0, -0.0, 1.5, 90.00000000000001, 1e21, 1e-7, 123456789.125, double.MaxValue, double.Epsilon, double.NaN, double.PositiveInfinity })
        {
            if (Formats.TryFormatFloat(v, buffer, out int written))
            {
                Assert.Equal(Formats.Float(v), new string(buffer[..written]));
                inPlace++;
            }
        }

        Assert.True(inPlace >= 5, $"only {inPlace} formatted in place");
        Gen.Double.Sample(v =>
        {
            Span<char> text = stackalloc char[32]; // Sample runs on several threads at once
            Span<byte> bytes = stackalloc byte[32];
            Assert.Equal(Formats.TryFormatFloat(v, text, out int written), Formats.TryFormatFloat(v, bytes, out int writtenBytes));
            if (written > 0)
            {
                Assert.Equal(Formats.Float(v), new string(text[..written]));
                Assert.Equal(Formats.Float(v), Encoding.UTF8.GetString(bytes[..writtenBytes]));
            }
            else
            {
                // only text longer than the buffer (or no number at all) sends the writer to the string form
                Assert.True(!double.IsFinite(v) || Formats.Float(v).Length > text.Length, Formats.Float(v));
            }
        }, iter: 200_000);
    }
}
