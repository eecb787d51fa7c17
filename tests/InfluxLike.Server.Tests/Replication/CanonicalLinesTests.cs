using System.Text;
using CsCheck;
using InfluxLike.LineProtocol;
using InfluxLike.Server.Replication;

namespace InfluxLike.Server.Tests.Replication;

public sealed class CanonicalLinesTests
{
    private sealed record Entry(string Measurement, string Tags, string Fields, long Time);

    private static List<Entry> Parse(ReadOnlySpan<byte> text, Precision precision, long defaultTime)
    {
        var entries = new List<Entry>();
        var reader = new LineProtocolReader(text, new LineProtocolReaderOptions { Precision = precision, DefaultTimestamp = defaultTime });
        try
        {
            while (reader.Read())
            {
                if (reader.Error is not null)
                {
                    continue;
                }

                var tags = new StringBuilder();
                for (int i = 0; i < reader.TagCount; i++)
                {
                    LineTag t = reader.GetTag(i);
                    tags.Append(Unescape(t.Key)).Append('=').Append(Unescape(t.Value)).Append(';');
                }

                var fields = new StringBuilder();
                for (int i = 0; i < reader.FieldCount; i++)
                {
                    LineField f = reader.GetField(i);
                    fields.Append(Unescape(f.Key)).Append('=').Append(f.Type).Append(':')
                        .Append(f.Type == FieldType.String ? Unescape(f.StringValue) : f.RawBits.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(';');
                }

                entries.Add(new Entry(Unescape(reader.Measurement), tags.ToString(), fields.ToString(), reader.Timestamp));
            }
        }
        finally
        {
            reader.Dispose();
        }

        return entries;
    }

    private static string Unescape(LineToken token)
    {
        byte[] buffer = new byte[token.UnescapedLength];
        return Encoding.UTF8.GetString(token.Unescape(buffer));
    }

    [Fact]
    public void Lines_without_a_timestamp_get_the_write_time_and_others_become_nanoseconds_and_bad_lines_are_left_out()
    {
        byte[] body = "cpu,host=a usage=1.5 1700000000\nbad line here\nmem free=3i\n"u8.ToArray();
        byte[] canonical = CanonicalLines.Rewrite(body, Precision.Seconds, defaultTimeNs: 1_700_000_005_000_000_000, out int points);
        Assert.Equal("cpu,host=a usage=1.5 1700000000000000000\nmem free=3i 1700000005000000000\n", Encoding.UTF8.GetString(canonical));
        Assert.Equal(2, points);
    }

    private static readonly Gen<string> Name = Gen.String[Gen.Char["a-z ,=\\\"é"], 1, 8].Where(s => s.Trim().Length > 0 && !s.EndsWith('\\') && !s.StartsWith('#'));

    private static string Escape(string s, bool measurement) =>
        measurement ? s.Replace("\\", "\\\\").Replace(",", "\\,").Replace(" ", "\\ ")
        : s.Replace("\\", "\\\\").Replace(",", "\\,").Replace(" ", "\\ ").Replace("=", "\\=");

    /// <summary>Any valid entries, in any precision, rewrite to lines that parse to the same points at nanoseconds.</summary>
    [Fact]
    public void Property_rewritten_lines_hold_the_same_points()
    {
        var field = Gen.Select(Name, Gen.Int[0, 4], Gen.Long[-1_000_000, 1_000_000], Gen.String[Gen.Char["a-z \"\\,="], 0, 6]).Select((k, t, v, s) =>
            Escape(k, false) + "=" + t switch
            {
                0 => v.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".25",
                1 => v.ToString(System.Globalization.CultureInfo.InvariantCulture) + "i",
                2 => Math.Abs(v).ToString(System.Globalization.CultureInfo.InvariantCulture) + "u",
                3 => v % 2 == 0 ? "true" : "F",
                _ => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"",
            });
        var line = Gen.Select(Name, Gen.Select(Name, Name).Array[0, 3], field.Array[1, 3], Gen.Long[0, 2_000_000_000].Array[0, 1]).Select((m, tags, fields, ts) =>
            Escape(m, true)
            + string.Concat(tags.DistinctBy(t => t.Item1).Select(t => "," + Escape(t.Item1, false) + "=" + Escape(t.Item2, false)))
            + " " + string.Join(",", fields.DistinctBy(f => f[..f.IndexOf('=', StringComparison.Ordinal)]))
            + (ts.Length == 1 ? " " + ts[0].ToString(System.Globalization.CultureInfo.InvariantCulture) : ""));
        Gen.Select(line.Array[1, 8], Gen.Int[0, 3]).Sample((lines, p) =>
        {
            var precision = (Precision)p;
            byte[] body = Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n");
            const long now = 1_700_000_000_123_456_789;
            byte[] canonical = CanonicalLines.Rewrite(body, precision, now, out _);
            var expected = Parse(body, precision, now);
            var actual = Parse(canonical, Precision.Nanoseconds, 0);
            Assert.Equal(expected, actual);
        }, iter: 500);
    }
}
