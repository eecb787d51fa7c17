using InfluxLike.LineProtocol;
using InfluxLike.Storage.Tsm.Encoding;

namespace InfluxLike.Storage.Index;

/// <summary>
/// The canonical series key: <c>measurement,tag1=v1,tag2=v2</c> with tags in key order and exactly the
/// escapes line protocol needs (<c>\,</c> <c>\ </c> in the measurement; <c>\,</c> <c>\=</c> <c>\ </c> in tags),
/// so one series always has one key however its lines were written.
/// </summary>
public static class SeriesKey
{
    /// <summary>Appends the key of the entry <paramref name="reader"/> is on (its tags are already sorted).</summary>
    internal static void Write(ref LineProtocolReader reader, ByteWriter output)
    {
        AppendCanonical(reader.Measurement, measurement: true, output);
        for (int i = 0; i < reader.TagCount; i++)
        {
            LineTag tag = reader.GetTag(i);
            output.WriteByte((byte)',');
            AppendCanonical(tag.Key, measurement: false, output);
            output.WriteByte((byte)'=');
            AppendCanonical(tag.Value, measurement: false, output);
        }
    }

    /// <summary>Builds a key from unescaped parts; <paramref name="tags"/> must be sorted by key (UTF-8 order).</summary>
    public static byte[] Build(string measurement, IEnumerable<KeyValuePair<string, string>> tags)
    {
        using var w = new ByteWriter(256);
        Escape(System.Text.Encoding.UTF8.GetBytes(measurement), measurement: true, w);
        foreach (var (k, v) in tags)
        {
            w.WriteByte((byte)',');
            Escape(System.Text.Encoding.UTF8.GetBytes(k), measurement: false, w);
            w.WriteByte((byte)'=');
            Escape(System.Text.Encoding.UTF8.GetBytes(v), measurement: false, w);
        }

        return w.WrittenSpan.ToArray();
    }

    /// <summary>Splits a canonical key into its unescaped measurement and tags.</summary>
    public static (byte[] Measurement, List<(byte[] Key, byte[] Value)> Tags) Parse(ReadOnlySpan<byte> key)
    {
        int end = NextUnescaped(key, 0, (byte)',');
        byte[] measurement = Unescape(key[..end], measurement: true);
        var tags = new List<(byte[], byte[])>();
        int pos = end;
        while (pos < key.Length)
        {
            pos++; // the comma
            int eq = NextUnescaped(key, pos, (byte)'=');
            int next = NextUnescaped(key, eq + 1, (byte)',');
            tags.Add((Unescape(key[pos..eq], measurement: false), Unescape(key[(eq + 1)..next], measurement: false)));
            pos = next;
        }

        return (measurement, tags);
    }

    private static int NextUnescaped(ReadOnlySpan<byte> key, int from, byte delimiter)
    {
        for (int i = from; i < key.Length; i++)
        {
            if (key[i] == (byte)'\\' && i + 1 < key.Length)
            {
                i++;
            }
            else if (key[i] == delimiter)
            {
                return i;
            }
        }

        return key.Length;
    }

    private static byte[] Unescape(ReadOnlySpan<byte> escaped, bool measurement)
    {
        var result = new byte[escaped.Length];
        int n = 0;
        for (int i = 0; i < escaped.Length; i++)
        {
            byte b = escaped[i];
            if (b == (byte)'\\' && i + 1 < escaped.Length && (escaped[i + 1] is (byte)',' or (byte)' ' || (!measurement && escaped[i + 1] == (byte)'=')))
            {
                b = escaped[++i];
            }

            result[n++] = b;
        }

        return result[..n];
    }

    private static void AppendCanonical(LineToken token, bool measurement, ByteWriter output)
    {
        if (!token.IsEscaped)
        {
            // Unescaped input holds no delimiter, so it is canonical as it stands.
            output.Write(token.Raw);
            return;
        }

        Span<byte> buffer = token.Raw.Length <= 512 ? stackalloc byte[512] : new byte[token.Raw.Length];
        Escape(token.Unescape(buffer), measurement, output);
    }

    private static void Escape(ReadOnlySpan<byte> value, bool measurement, ByteWriter output)
    {
        foreach (byte b in value)
        {
            if (b is (byte)',' or (byte)' ' || (!measurement && b == (byte)'='))
            {
                output.WriteByte((byte)'\\');
            }

            output.WriteByte(b);
        }
    }
}
