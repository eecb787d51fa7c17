using System.Buffers;
using InfluxLike.LineProtocol;

namespace InfluxLike.Server.Replication;

/// <summary>
/// Rewrites the valid entries of a write body as canonical line protocol with nanosecond timestamps, the form a
/// replication stream queues: the remote must store the same points, so an entry without a timestamp gets the
/// time the edge stamped it with, and the write's precision is applied here rather than sent along.
/// Entries with syntax errors are left out (the local write skipped them too).
/// </summary>
internal static class CanonicalLines
{
    public static byte[] Rewrite(ReadOnlySpan<byte> body, Precision precision, long defaultTimeNs, out int points)
    {
        points = 0;
        var output = new ArrayBufferWriter<byte>(Math.Max(256, body.Length + (body.Length >> 2)));
        var writer = new LineProtocolWriter(output);
        byte[] scratch = ArrayPool<byte>.Shared.Rent(256);
        var reader = new LineProtocolReader(body, new LineProtocolReaderOptions { Precision = precision, DefaultTimestamp = defaultTimeNs });
        try
        {
            while (reader.Read())
            {
                if (reader.Error is not null)
                {
                    continue;
                }

                writer.StartLine(Unescaped(reader.Measurement, ref scratch));
                for (int i = 0; i < reader.TagCount; i++)
                {
                    LineTag tag = reader.GetTag(i);
                    // Keys and values are unescaped into separate parts of the scratch buffer.
                    ReadOnlySpan<byte> key = Unescaped(tag.Key, ref scratch);
                    byte[] keyCopy = ArrayPool<byte>.Shared.Rent(key.Length);
                    key.CopyTo(keyCopy);
                    writer.AddTag(keyCopy.AsSpan(0, key.Length), Unescaped(tag.Value, ref scratch));
                    ArrayPool<byte>.Shared.Return(keyCopy);
                }

                for (int i = 0; i < reader.FieldCount; i++)
                {
                    LineField field = reader.GetField(i);
                    ReadOnlySpan<byte> key = Unescaped(field.Key, ref scratch);
                    byte[] keyCopy = ArrayPool<byte>.Shared.Rent(key.Length);
                    key.CopyTo(keyCopy);
                    ReadOnlySpan<byte> k = keyCopy.AsSpan(0, key.Length);
                    switch (field.Type)
                    {
                        case FieldType.Float: writer.AddField(k, field.FloatValue); break;
                        case FieldType.Integer: writer.AddField(k, field.IntegerValue); break;
                        case FieldType.Unsigned: writer.AddField(k, field.UnsignedValue); break;
                        case FieldType.Boolean: writer.AddField(k, field.BooleanValue); break;
                        default: writer.AddStringField(k, Unescaped(field.StringValue, ref scratch)); break;
                    }

                    ArrayPool<byte>.Shared.Return(keyCopy);
                }

                writer.EndLine(reader.Timestamp);
                points += reader.FieldCount;
            }
        }
        finally
        {
            reader.Dispose();
            ArrayPool<byte>.Shared.Return(scratch);
        }

        return output.WrittenSpan.ToArray();
    }

    private static ReadOnlySpan<byte> Unescaped(LineToken token, ref byte[] scratch)
    {
        if (!token.IsEscaped)
        {
            return token.Raw;
        }

        int length = token.UnescapedLength;
        if (scratch.Length < length)
        {
            ArrayPool<byte>.Shared.Return(scratch);
            scratch = ArrayPool<byte>.Shared.Rent(length);
        }

        return token.Unescape(scratch);
    }
}
