using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using InfluxLike.LineProtocol;
using InfluxLike.Testing;

namespace InfluxLike.LineProtocol.Tests;

/// <summary>
/// Runs every case of ../shared/conformance/line-protocol (InfluxData's line-protocol corpus) as a test.
/// Deviations are listed in <see cref="KnownDeviations"/> with their reasons (and in the README).
/// </summary>
public class CorpusTests
{
    /// <summary>Corpus cases where InfluxLike deliberately differs. Empty while none is needed.</summary>
    internal static readonly IReadOnlyDictionary<string, string> KnownDeviations = new Dictionary<string, string>();

    private static readonly Lazy<Dictionary<string, JsonElement>> Decode = new(() => Load("decode.jsonl"));
    private static readonly Lazy<Dictionary<string, JsonElement>> Encode = new(() => Load("encode.jsonl"));

    public static TheoryData<string> DecodeCases() => new(Decode.Value.Keys.Order(StringComparer.Ordinal));

    public static TheoryData<string> EncodeCases() => new(Encode.Value.Keys.Order(StringComparer.Ordinal));

    [Fact]
    public void Corpus_is_complete()
    {
        Assert.Equal(6615, Decode.Value.Count);
        Assert.Equal(115, Encode.Value.Count);
    }

    [Theory]
    [MemberData(nameof(DecodeCases))]
    public void Decodes_like_the_corpus(string id)
    {
        JsonElement c = Decode.Value[id];
        if (KnownDeviations.ContainsKey(id))
        {
            return;
        }

        byte[] input = Convert.FromBase64String(c.GetProperty("input_base64").GetString()!);
        Precision precision = ParsePrecision(c.GetProperty("precision").GetString()!);
        var options = new LineProtocolReaderOptions { Precision = precision, DefaultTimestamp = c.GetProperty("default_time_ns").GetInt64() };
        var (points, errors) = Point.ParseAll(input, options);

        if (c.GetProperty("expect").GetString() == "error")
        {
            Assert.True(errors.Count > 0, $"expected an error ({c.GetProperty("error").GetString()}), got {points.Count} point(s): {string.Join(" | ", points)}");
            foreach (var e in errors)
            {
                Assert.True(e.Line >= 1 && e.Column >= 1, e.ToString());
            }

            return;
        }

        Assert.True(errors.Count == 0, "unexpected errors: " + string.Join("; ", errors));
        JsonElement[] want = [.. c.GetProperty("points").EnumerateArray()];
        Assert.Equal(want.Length, points.Count);
        for (int i = 0; i < want.Length; i++)
        {
            AssertPoint(want[i], points[i]);
        }
    }

    [Theory]
    [MemberData(nameof(EncodeCases))]
    public void Encodes_like_the_corpus(string id)
    {
        JsonElement c = Encode.Value[id];
        JsonElement p = c.GetProperty("point");
        Precision precision = ParsePrecision(c.GetProperty("precision").GetString()!);
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new LineProtocolWriter(buffer, precision);

        void WriteIt()
        {
            writer.StartLine(p.GetProperty("measurement").GetString()!);
            foreach (var t in p.GetProperty("tags").EnumerateArray())
            {
                writer.AddTag(t.GetProperty("key").GetString()!, t.GetProperty("value").GetString()!);
            }

            foreach (var f in p.GetProperty("fields").EnumerateArray())
            {
                string key = f.GetProperty("key").GetString()!;
                JsonElement v = f.GetProperty("value");
                switch (f.GetProperty("type").GetString())
                {
                    case "float": writer.AddField(key, double.Parse(v.GetRawText(), CultureInfo.InvariantCulture)); break;
                    case "int": writer.AddField(key, v.GetInt64()); break;
                    case "uint": writer.AddField(key, v.GetUInt64()); break;
                    case "bool": writer.AddField(key, v.GetBoolean()); break;
                    default: writer.AddField(key, v.GetString()!); break;
                }
            }

            writer.EndLine(p.GetProperty("time_ns").GetInt64());
        }

        if (c.GetProperty("expect").GetString() == "error")
        {
            Assert.ThrowsAny<ArgumentException>(WriteIt);
            return;
        }

        WriteIt();
        string line = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.Equal(c.GetProperty("line").GetString() + "\n", line);

        // And it reads back to the same point.
        var (points, errors) = Point.ParseAll(buffer.WrittenSpan, new LineProtocolReaderOptions { Precision = precision });
        Assert.Empty(errors);
        AssertPoint(p, Assert.Single(points));
    }

    internal static void AssertPoint(JsonElement want, Point got)
    {
        Assert.Equal(want.GetProperty("measurement").GetString(), got.Measurement);
        var tags = want.GetProperty("tags").EnumerateArray()
            .Select(t => new KeyValuePair<string, string>(t.GetProperty("key").GetString()!, t.GetProperty("value").GetString()!)).ToList();
        Assert.Equal(tags, got.Tags);
        JsonElement[] fields = [.. want.GetProperty("fields").EnumerateArray()];
        Assert.Equal(fields.Length, got.Fields.Count);
        for (int i = 0; i < fields.Length; i++)
        {
            JsonElement f = fields[i];
            var (key, value) = got.Fields[i];
            Assert.Equal(f.GetProperty("key").GetString(), key);
            JsonElement v = f.GetProperty("value");
            switch (f.GetProperty("type").GetString())
            {
                case "float":
                    Assert.Equal(FieldType.Float, value.Type);
                    double expected = double.Parse(v.GetRawText(), CultureInfo.InvariantCulture);
                    if (expected == 0)
                    {
                        // The corpus's JSON writes -0 as 0 ("-0." and "-0e-4" are -0.0 in every parser).
                        Assert.Equal(0.0, value.AsFloat);
                    }
                    else
                    {
                        Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(value.AsFloat));
                    }

                    break;
                case "int":
                    Assert.Equal(FieldType.Integer, value.Type);
                    Assert.Equal(v.GetInt64(), value.AsInteger);
                    break;
                case "uint":
                    Assert.Equal(FieldType.Unsigned, value.Type);
                    Assert.Equal(v.GetUInt64(), value.AsUnsigned);
                    break;
                case "bool":
                    Assert.Equal(FieldType.Boolean, value.Type);
                    Assert.Equal(v.GetBoolean(), value.AsBoolean);
                    break;
                default:
                    Assert.Equal(FieldType.String, value.Type);
                    Assert.Equal(v.GetString(), value.AsString);
                    break;
            }
        }

        Assert.Equal(want.GetProperty("time_ns").GetInt64(), got.Timestamp);
    }

    private static Precision ParsePrecision(string s) =>
        PrecisionExtensions.TryParse(s, out var p) ? p : throw new InvalidDataException("precision " + s);

    private static Dictionary<string, JsonElement> Load(string file)
    {
        var result = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(RepoPaths.Conformance("line-protocol", file)))
        {
            if (line.Length == 0)
            {
                continue;
            }

            JsonElement e = JsonDocument.Parse(line).RootElement;
            result[e.GetProperty("id").GetString()!] = e;
        }

        return result;
    }
}
