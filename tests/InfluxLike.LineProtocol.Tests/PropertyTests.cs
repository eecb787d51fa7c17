using System.Buffers;
using System.Text;
using CsCheck;
using InfluxLike.LineProtocol;

namespace InfluxLike.LineProtocol.Tests;

/// <summary>Round trips and robustness over generated input (CsCheck shrinks any failure to a small case).</summary>
public class PropertyTests
{
    // Pieces that stress escaping: every delimiter, backslashes, quotes, '#', 2-, 3- and 4-byte UTF-8.
    private static readonly string[] Nasty = ["a", "b", "Z", "9", "_", "-", ".", ",", " ", "=", "\"", "\\", "#", "é", "日", "🙂"];

    private static Gen<string> Text(string[] pieces, int min, int max) =>
        Gen.Int[0, pieces.Length - 1].Select(i => pieces[i]).Array[min, max].Select(a => string.Concat(a));

    private static readonly Gen<string> Name = Text(Nasty, 1, 12).Where(s => !s.EndsWith('\\'));

    private static readonly Gen<string> Measurement = Name.Where(s => s[0] != '#');

    private static readonly Gen<string> TagValue = Text([.. Nasty, "\t", "\u0001"], 1, 12).Where(s => !s.EndsWith('\\'));

    private static readonly Gen<FieldValue> Value = Gen.OneOf(
        Gen.Double.Where(double.IsFinite).Select(FieldValue.Float),
        Gen.Double[-1e6, 1e6].Select(d => FieldValue.Float(Math.Round(d, 2))),
        Gen.Long.Select(FieldValue.Integer),
        Gen.ULong.Select(FieldValue.Unsigned),
        Gen.Bool.Select(FieldValue.Boolean),
        Text([.. Nasty, "\n", "\r", "\t"], 0, 20).Select(FieldValue.String));

    private static readonly Gen<Point> PointGen =
        Gen.Select(
            Measurement,
            Gen.Dictionary(Name, TagValue)[0, 6],
            Gen.Dictionary(Name, Value)[1, 6],
            Gen.Long[TimeRange.MinNanoseconds, TimeRange.MaxNanoseconds],
            (m, tags, fields, t) => new Point(m, tags, fields, t));

    [Fact]
    public void Writer_then_reader_gives_back_the_same_points()
    {
        PointGen.Array[1, 20].Sample(points =>
        {
            var buffer = new ArrayBufferWriter<byte>();
            var writer = new LineProtocolWriter(buffer);
            foreach (var p in points)
            {
                p.WriteTo(writer);
            }

            var (read, errors) = Point.ParseAll(buffer.WrittenSpan);
            Assert.Empty(errors);
            Assert.Equal(points.Length, read.Count);
            for (int i = 0; i < points.Length; i++)
            {
                AssertSame(points[i], read[i]);
            }
        }, iter: 2000);
    }

    [Fact]
    public void Random_bytes_never_crash_and_every_error_has_a_position()
    {
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            var (points, errors) = Point.ParseAll(bytes);
            foreach (var e in errors)
            {
                Assert.True(e.Line >= 1 && e.Column >= 1 && e.Message.Length > 0);
            }

            // Whatever was accepted writes back and reads back the same.
            foreach (var p in points)
            {
                AssertSame(p, Point.Parse(p.ToLineProtocol()));
            }
        }, iter: 20000);
    }

    [Fact]
    public void Random_line_protocol_ish_text_never_crashes()
    {
        Gen.String[Gen.Char["cpu,host=a b v=1.5i\"\\ #\r\n\t0123456789-eE.tTfFu"], 0, 200].Sample(text =>
        {
            var (points, errors) = Point.ParseAll(Encoding.UTF8.GetBytes(text));
            Assert.All(errors, e => Assert.True(e.Line >= 1 && e.Column >= 1));
            Assert.All(points, p => Assert.True(p.Fields.Count >= 1));
        }, iter: 20000);
    }

    [Fact]
    public void Parsing_line_by_line_equals_parsing_the_whole_body()
    {
        PointGen.Array[1, 10].Sample(points =>
        {
            // Points without newlines in strings, so the body splits at '\n' into its lines.
            string[] lines = [.. points.Select(p => p.ToLineProtocol()).Where(l => !l.Contains('\n') && !l.Contains('\r'))];
            string body = string.Join("\n", lines.Select((l, i) => i % 3 == 0 ? l + "  " : l)) + (lines.Length % 2 == 0 ? "\r\n" : "");
            var whole = Point.ParseAll(Encoding.UTF8.GetBytes(body)).Points;
            var separate = lines.SelectMany(l => Point.ParseAll(Encoding.UTF8.GetBytes(l)).Points).ToList();
            Assert.Equal(separate.Select(p => p.ToLineProtocol()), whole.Select(p => p.ToLineProtocol()));
        }, iter: 500);
    }

    [Fact]
    public void Float_formatting_reads_back_exactly()
    {
        static void ReadsBack(double d)
        {
            Span<byte> buffer = stackalloc byte[40];
            int n = LineProtocolWriter.FormatFloat(d, buffer);
            Assert.Equal(NumberStatus.Ok, NumberParsing.TryParseDouble(buffer[..n], out double back));
            Assert.True(BitConverter.DoubleToInt64Bits(d) == BitConverter.DoubleToInt64Bits(back), Encoding.ASCII.GetString(buffer[..n]));
        }

        Gen.Double.Where(double.IsFinite).Sample(ReadsBack, iter: 100000);
        Gen.ULong.Select(BitConverter.UInt64BitsToDouble).Where(double.IsFinite).Sample(ReadsBack, iter: 100000);
        for (int e = -1074; e <= 1023; e++)
        {
            ReadsBack(Math.ScaleB(1.0, e)); // .NET's "R" gets 2^-958 wrong; the writer must not
        }
    }

    [Fact]
    public void Shortest_digits_are_refused_for_zero_and_non_numbers()
    {
        foreach (double v in new[] { 0.0, -0.0, double.NaN, double.PositiveInfinity })
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => ShortestFloat.Decompose(v, out _));
        }
    }

    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(-0.0, "-0")]
    [InlineData(42.0, "42")]
    [InlineData(12.123, "12.123")]
    [InlineData(6632243.0, "6.632243e+06")]
    [InlineData(100000.0, "100000")]
    [InlineData(1e-5, "1e-05")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(-1.5e300, "-1.5e+300")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(4.1045368012983762e-289, "4.1045368012983762e-289")]
    public void Floats_are_written_as_gos_g_format_writes_them(double value, string expected)
    {
        Span<byte> buffer = stackalloc byte[40];
        Assert.Equal(expected, Encoding.ASCII.GetString(buffer[..LineProtocolWriter.FormatFloat(value, buffer)]));
    }

    [Fact]
    public void Float_parsing_agrees_with_the_runtime()
    {
        // Mantissas of 1 to 25 digits (beyond 19 the parser truncates), a decimal point anywhere, exponents
        // across the whole double range and past it: every result must be the correctly rounded double.
        var gen = Gen.Select(Gen.Char['0', '9'].Array[1, 25], Gen.Int[-1, 25], Gen.Int[-360, 330], Gen.Bool);
        gen.Sample((digits, point, exp, negative) =>
        {
            string mantissa = new(digits);
            if (point >= 0 && point <= mantissa.Length)
            {
                mantissa = mantissa.Insert(point, ".");
            }

            string s = (negative ? "-" : "") + mantissa + "e" + exp;
            double expected = double.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
            NumberStatus status = NumberParsing.TryParseDouble(Encoding.ASCII.GetBytes(s), out double mine);
            if (double.IsInfinity(expected))
            {
                Assert.Equal(NumberStatus.OutOfRange, status);
            }
            else
            {
                Assert.Equal(NumberStatus.Ok, status);
                Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(mine));
            }
        }, iter: 200000);
    }

    [Theory]
    [InlineData("2.6224297271376256")]
    [InlineData("1.7976931348623157e308")]
    [InlineData("2.2250738585072014e-308")]
    [InlineData("4.9e-324")]
    [InlineData("9007199254740993")]
    [InlineData("0.1")]
    [InlineData("123456789012345678901234567890")]
    [InlineData("7.2057594037927933e16")]
    public void Float_parsing_edge_values(string s)
    {
        Assert.Equal(NumberStatus.Ok, NumberParsing.TryParseDouble(Encoding.ASCII.GetBytes(s), out double mine));
        Assert.Equal(BitConverter.DoubleToInt64Bits(double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)), BitConverter.DoubleToInt64Bits(mine));
    }

    private static void AssertSame(Point want, Point got)
    {
        Assert.Equal(want.Measurement, got.Measurement);
        Assert.Equal(want.Tags, got.Tags);
        Assert.Equal(want.Timestamp, got.Timestamp);
        Assert.Equal(want.Fields.Count, got.Fields.Count);
        for (int i = 0; i < want.Fields.Count; i++)
        {
            Assert.Equal(want.Fields[i].Key, got.Fields[i].Key);
            FieldValue a = want.Fields[i].Value, b = got.Fields[i].Value;
            Assert.Equal(a.Type, b.Type);
            if (a.Type == FieldType.Float)
            {
                Assert.Equal(BitConverter.DoubleToInt64Bits(a.AsFloat), BitConverter.DoubleToInt64Bits(b.AsFloat));
            }
            else
            {
                Assert.Equal(a, b);
            }
        }
    }
}
