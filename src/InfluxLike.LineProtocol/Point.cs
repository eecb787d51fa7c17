using System.Buffers;
using System.Globalization;
using System.Text;

namespace InfluxLike.LineProtocol;

/// <summary>A field value of a <see cref="Point"/>.</summary>
public readonly record struct FieldValue
{
    private readonly long _bits;
    private readonly string? _string;

    private FieldValue(FieldType type, long bits, string? s)
    {
        Type = type;
        _bits = bits;
        _string = s;
    }

    public FieldType Type { get; }

    public double AsFloat => BitConverter.Int64BitsToDouble(_bits);

    public long AsInteger => _bits;

    public ulong AsUnsigned => unchecked((ulong)_bits);

    public bool AsBoolean => _bits != 0;

    public string AsString => _string ?? string.Empty;

    public static FieldValue Float(double v) => new(FieldType.Float, BitConverter.DoubleToInt64Bits(v), null);

    public static FieldValue Integer(long v) => new(FieldType.Integer, v, null);

    public static FieldValue Unsigned(ulong v) => new(FieldType.Unsigned, unchecked((long)v), null);

    public static FieldValue Boolean(bool v) => new(FieldType.Boolean, v ? 1 : 0, null);

    public static FieldValue String(string v) => new(FieldType.String, 0, v);

    public override string ToString() => Type switch
    {
        FieldType.Float => AsFloat.ToString("R", CultureInfo.InvariantCulture),
        FieldType.Integer => AsInteger.ToString(CultureInfo.InvariantCulture) + "i",
        FieldType.Unsigned => AsUnsigned.ToString(CultureInfo.InvariantCulture) + "u",
        FieldType.Boolean => AsBoolean ? "true" : "false",
        _ => "\"" + AsString + "\"",
    };
}

/// <summary>
/// One point as plain objects: for tests, tools and the CLI. The write path does not use it (it reads
/// straight from <see cref="LineProtocolReader"/>).
/// </summary>
public sealed class Point
{
    public Point(string measurement, IEnumerable<KeyValuePair<string, string>> tags, IEnumerable<KeyValuePair<string, FieldValue>> fields, long timestamp)
    {
        Measurement = measurement;
        var sortedTags = tags.ToList();
        sortedTags.Sort((a, b) => Utf8Order.Compare(a.Key, b.Key));
        Tags = sortedTags;

        // A field key given twice keeps its last value, in the place of its first: InfluxDB's rule.
        var list = new List<KeyValuePair<string, FieldValue>>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var f in fields)
        {
            if (index.TryGetValue(f.Key, out int i))
            {
                list[i] = f;
            }
            else
            {
                index[f.Key] = list.Count;
                list.Add(f);
            }
        }

        Fields = list;
        Timestamp = timestamp;
    }

    public string Measurement { get; }

    /// <summary>Tags in ascending key order (UTF-8 byte order).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Tags { get; }

    public IReadOnlyList<KeyValuePair<string, FieldValue>> Fields { get; }

    /// <summary>Nanoseconds since the Unix epoch.</summary>
    public long Timestamp { get; }

    /// <summary>Parses exactly one line; throws <see cref="LineProtocolException"/> when it is not valid.</summary>
    public static Point Parse(string line, Precision precision = Precision.Nanoseconds)
    {
        var (points, errors) = ParseAll(Encoding.UTF8.GetBytes(line), new LineProtocolReaderOptions { Precision = precision });
        if (errors.Count > 0)
        {
            throw errors[0].ToException();
        }

        if (points.Count != 1)
        {
            throw new ArgumentException($"Expected one line of line protocol, found {points.Count}.", nameof(line));
        }

        return points[0];
    }

    /// <summary>Parses a whole body: every valid line becomes a point, every bad one an error.</summary>
    public static (List<Point> Points, List<LineProtocolError> Errors) ParseAll(ReadOnlySpan<byte> body, LineProtocolReaderOptions options = default)
    {
        var points = new List<Point>();
        var errors = new List<LineProtocolError>();
        var reader = new LineProtocolReader(body, options);
        try
        {
            while (reader.Read())
            {
                if (reader.Error is { } error)
                {
                    errors.Add(error);
                    continue;
                }

                points.Add(FromReader(ref reader));
            }
        }
        finally
        {
            reader.Dispose();
        }

        return (points, errors);
    }

    /// <summary>Copies the entry the reader is on into a <see cref="Point"/>.</summary>
    public static Point FromReader(ref LineProtocolReader reader)
    {
        var tags = new List<KeyValuePair<string, string>>(reader.TagCount);
        for (int i = 0; i < reader.TagCount; i++)
        {
            LineTag t = reader.GetTag(i);
            tags.Add(new(t.Key.ToString(), t.Value.ToString()));
        }

        var fields = new List<KeyValuePair<string, FieldValue>>(reader.FieldCount);
        for (int i = 0; i < reader.FieldCount; i++)
        {
            LineField f = reader.GetField(i);
            FieldValue v = f.Type switch
            {
                FieldType.Float => FieldValue.Float(f.FloatValue),
                FieldType.Integer => FieldValue.Integer(f.IntegerValue),
                FieldType.Unsigned => FieldValue.Unsigned(f.UnsignedValue),
                FieldType.Boolean => FieldValue.Boolean(f.BooleanValue),
                _ => FieldValue.String(f.StringValue.ToString()),
            };
            fields.Add(new(f.Key.ToString(), v));
        }

        return new Point(reader.Measurement.ToString(), tags, fields, reader.Timestamp);
    }

    /// <summary>The point as one line of canonical line protocol, without the trailing newline.</summary>
    public string ToLineProtocol(Precision precision = Precision.Nanoseconds)
    {
        var buffer = new ArrayBufferWriter<byte>();
        WriteTo(new LineProtocolWriter(buffer, precision));
        return Encoding.UTF8.GetString(buffer.WrittenSpan[..^1]);
    }

    public void WriteTo(LineProtocolWriter writer)
    {
        writer.StartLine(Measurement);
        foreach (var t in Tags)
        {
            writer.AddTag(t.Key, t.Value);
        }

        foreach (var f in Fields)
        {
            switch (f.Value.Type)
            {
                case FieldType.Float: writer.AddField(f.Key, f.Value.AsFloat); break;
                case FieldType.Integer: writer.AddField(f.Key, f.Value.AsInteger); break;
                case FieldType.Unsigned: writer.AddField(f.Key, f.Value.AsUnsigned); break;
                case FieldType.Boolean: writer.AddField(f.Key, f.Value.AsBoolean); break;
                default: writer.AddField(f.Key, f.Value.AsString); break;
            }
        }

        writer.EndLine(Timestamp);
    }

    public override string ToString() => ToLineProtocol();
}

/// <summary>Orders strings by their UTF-8 bytes, the order of series keys and of InfluxDB's tag sort.</summary>
public static class Utf8Order
{
    public static int Compare(string? a, string? b)
    {
        if (a is null || b is null)
        {
            return a is null ? (b is null ? 0 : -1) : 1;
        }

        // UTF-16 ordinal order equals UTF-8 byte order except for surrogates against U+E000..U+FFFF.
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            char x = a[i], y = b[i];
            if (x != y)
            {
                return Fix(x) - Fix(y);
            }
        }

        return a.Length - b.Length;

        static int Fix(char c) => c >= 0xD800 && c <= 0xDFFF ? c + 0x2000 : (c >= 0xE000 ? c - 0x800 : c);
    }
}
