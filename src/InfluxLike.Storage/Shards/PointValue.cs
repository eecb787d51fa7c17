using System.Buffers.Binary;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Tsm.Encoding;

namespace InfluxLike.Storage.Shards;

/// <summary>One field value of one series at one time: what a shard stores.</summary>
/// <param name="Bits">The value's 64 bits (a double's bit pattern for floats, 0/1 for booleans); unused for strings.</param>
/// <param name="String">UTF-8 bytes for string fields.</param>
public readonly record struct PointValue(byte[] SeriesKey, byte[] Field, FieldType Type, long Time, long Bits, byte[]? String = null);

/// <summary>
/// The WAL payload of a write: <c>[count varint]</c> then per value <c>[series key length varint][series key]
/// [field length varint][field][type u8][time zigzag varint][value]</c>, the value being 8 bytes for a float,
/// a zigzag varint for an integer, a varint for an unsigned, a byte for a boolean, and a length-prefixed
/// byte string for a string. Series keys repeat within a batch; the WAL's LZ4 takes the repetition out.
/// </summary>
internal static class PointBatchCodec
{
    public static void Encode(IReadOnlyList<PointValue> values, ByteWriter output)
    {
        output.WriteVarint((ulong)values.Count);
        foreach (PointValue v in values)
        {
            output.WriteVarint((ulong)v.SeriesKey.Length);
            output.Write(v.SeriesKey);
            output.WriteVarint((ulong)v.Field.Length);
            output.Write(v.Field);
            output.WriteByte((byte)v.Type);
            output.WriteVarint(Varint.ZigZag(v.Time));
            switch (v.Type)
            {
                case FieldType.Float:
                    output.WriteInt64(v.Bits);
                    break;
                case FieldType.Integer:
                    output.WriteVarint(Varint.ZigZag(v.Bits));
                    break;
                case FieldType.Unsigned:
                    output.WriteVarint((ulong)v.Bits);
                    break;
                case FieldType.Boolean:
                    output.WriteByte(v.Bits != 0 ? (byte)1 : (byte)0);
                    break;
                default:
                    byte[] s = v.String ?? [];
                    output.WriteVarint((ulong)s.Length);
                    output.Write(s);
                    break;
            }
        }
    }

    /// <summary>Decodes a payload; false when it is malformed (a WAL entry passed its checksum, so this means a bug).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> payload, List<PointValue> into)
    {
        int pos = 0;
        if (!Varint.TryRead(payload, ref pos, out ulong count))
        {
            return false;
        }

        for (ulong i = 0; i < count; i++)
        {
            if (!TryBytes(payload, ref pos, out byte[]? series) || !TryBytes(payload, ref pos, out byte[]? field) || pos >= payload.Length)
            {
                return false;
            }

            var type = (FieldType)payload[pos++];
            if (!Varint.TryRead(payload, ref pos, out ulong zTime))
            {
                return false;
            }

            long bits = 0;
            byte[]? s = null;
            switch (type)
            {
                case FieldType.Float:
                    if (payload.Length - pos < 8)
                    {
                        return false;
                    }

                    bits = BinaryPrimitives.ReadInt64LittleEndian(payload[pos..]);
                    pos += 8;
                    break;
                case FieldType.Integer:
                    if (!Varint.TryRead(payload, ref pos, out ulong z))
                    {
                        return false;
                    }

                    bits = Varint.UnZigZag(z);
                    break;
                case FieldType.Unsigned:
                    if (!Varint.TryRead(payload, ref pos, out ulong u))
                    {
                        return false;
                    }

                    bits = (long)u;
                    break;
                case FieldType.Boolean:
                    if (pos >= payload.Length)
                    {
                        return false;
                    }

                    bits = payload[pos++];
                    break;
                case FieldType.String:
                    if (!TryBytes(payload, ref pos, out s))
                    {
                        return false;
                    }

                    break;
                default:
                    return false;
            }

            into.Add(new PointValue(series!, field!, type, Varint.UnZigZag(zTime), bits, s));
        }

        return pos == payload.Length;
    }

    private static bool TryBytes(ReadOnlySpan<byte> payload, ref int pos, out byte[]? bytes)
    {
        bytes = null;
        if (!Varint.TryRead(payload, ref pos, out ulong length) || length > (ulong)(payload.Length - pos))
        {
            return false;
        }

        bytes = payload.Slice(pos, (int)length).ToArray();
        pos += (int)length;
        return true;
    }
}
