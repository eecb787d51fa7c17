using System.Buffers.Binary;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Tsm.Encoding;

namespace InfluxLike.Storage.Shards;

/// <summary>One field value of one series at one time: what a shard stores.</summary>
/// <param name="Bits">The value's 64 bits (a double's bit pattern for floats, 0/1 for booleans); unused for strings.</param>
/// <param name="String">UTF-8 bytes for string fields.</param>
public readonly record struct PointValue(byte[] SeriesKey, byte[] Field, FieldType Type, long Time, long Bits, byte[]? String = null);

/// <summary>
/// The WAL payload of a write: a table of the distinct series keys and field keys, then the values.
/// <code>
/// [key count varint] ([length varint][series key])...
/// [field count varint] ([length varint][field key])...
/// [value count varint] ([key index varint][field index varint][type u8][time zigzag varint][value])...
/// </code>
/// The value is 8 bytes for a float, a zigzag varint for an integer, a varint for an unsigned, a byte for a
/// boolean, a length-prefixed byte string for a string. A TSBS line names its ~150-byte series key once for
/// ten values, so the table shrinks the payload (and the LZ4 work on it) about tenfold.
/// </summary>
internal static class PointBatchCodec
{
    public static void Encode(IReadOnlyList<PointValue> values, ByteWriter output)
    {
        var keys = new Dictionary<byte[], int>(IO.ByteArrayComparer.Instance);
        var fields = new Dictionary<byte[], int>(IO.ByteArrayComparer.Instance);
        var keyList = new List<byte[]>();
        var fieldList = new List<byte[]>();
        int[] keyIndex = System.Buffers.ArrayPool<int>.Shared.Rent(values.Count);
        int[] fieldIndex = System.Buffers.ArrayPool<int>.Shared.Rent(values.Count);
        byte[]? lastKey = null;
        int lastKeyIndex = 0;
        for (int i = 0; i < values.Count; i++)
        {
            // The values of one line share their series key array: hash it once per line, not per value.
            byte[] key = values[i].SeriesKey;
            if (!ReferenceEquals(key, lastKey))
            {
                lastKeyIndex = IndexOf(key, keys, keyList);
                lastKey = key;
            }

            keyIndex[i] = lastKeyIndex;
            fieldIndex[i] = IndexOf(values[i].Field, fields, fieldList);
        }

        WriteTable(keyList, output);
        WriteTable(fieldList, output);
        output.WriteVarint((ulong)values.Count);
        for (int i = 0; i < values.Count; i++)
        {
            PointValue v = values[i];
            output.WriteVarint((ulong)keyIndex[i]);
            output.WriteVarint((ulong)fieldIndex[i]);
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

        System.Buffers.ArrayPool<int>.Shared.Return(keyIndex);
        System.Buffers.ArrayPool<int>.Shared.Return(fieldIndex);
    }

    /// <summary>Decodes a payload; false when it is malformed (a WAL entry passed its checksum, so this means a bug).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> payload, List<PointValue> into)
    {
        int pos = 0;
        if (!TryReadTable(payload, ref pos, out byte[][]? keys) || !TryReadTable(payload, ref pos, out byte[][]? fields)
            || !Varint.TryRead(payload, ref pos, out ulong count))
        {
            return false;
        }

        for (ulong i = 0; i < count; i++)
        {
            if (!Varint.TryRead(payload, ref pos, out ulong k) || k >= (ulong)keys!.Length
                || !Varint.TryRead(payload, ref pos, out ulong f) || f >= (ulong)fields!.Length || pos >= payload.Length)
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

            into.Add(new PointValue(keys[k], fields[f], type, Varint.UnZigZag(zTime), bits, s));
        }

        return pos == payload.Length;
    }

    private static int IndexOf(byte[] bytes, Dictionary<byte[], int> indexes, List<byte[]> list)
    {
        if (!indexes.TryGetValue(bytes, out int index))
        {
            indexes[bytes] = index = list.Count;
            list.Add(bytes);
        }

        return index;
    }

    /// <summary>
    /// A delete as a WAL payload: three zero counts (no keys, no fields, no values: what no write produces),
    /// then the deleted keys and the inclusive time range. Older readers would decode it as an empty batch.
    /// <code>[0][0][0] [key count varint] ([series length varint][series][field length varint][field])... [min i64][max i64]</code>
    /// </summary>
    public static void EncodeDelete(IReadOnlyList<(byte[] SeriesKey, byte[] Field)> keys, long minTime, long maxTime, ByteWriter output)
    {
        output.WriteByte(0);
        output.WriteByte(0);
        output.WriteByte(0);
        output.WriteVarint((ulong)keys.Count);
        foreach (var (series, field) in keys)
        {
            output.WriteVarint((ulong)series.Length);
            output.Write(series);
            output.WriteVarint((ulong)field.Length);
            output.Write(field);
        }

        output.WriteInt64(minTime);
        output.WriteInt64(maxTime);
    }

    /// <summary>Whether a payload is a delete (see <see cref="EncodeDelete"/>); false for a batch of values.</summary>
    public static bool IsDelete(ReadOnlySpan<byte> payload) => payload.Length > 3 && payload[0] == 0 && payload[1] == 0 && payload[2] == 0;

    public static bool TryDecodeDelete(ReadOnlySpan<byte> payload, out List<(byte[] SeriesKey, byte[] Field)> keys, out long minTime, out long maxTime)
    {
        keys = [];
        minTime = maxTime = 0;
        int pos = 3;
        if (!IsDelete(payload) || !Varint.TryRead(payload, ref pos, out ulong count) || count > (ulong)payload.Length)
        {
            return false;
        }

        for (ulong i = 0; i < count; i++)
        {
            if (!TryBytes(payload, ref pos, out byte[]? series) || !TryBytes(payload, ref pos, out byte[]? field))
            {
                return false;
            }

            keys.Add((series!, field!));
        }

        if (payload.Length - pos != 16)
        {
            return false;
        }

        minTime = BinaryPrimitives.ReadInt64LittleEndian(payload[pos..]);
        maxTime = BinaryPrimitives.ReadInt64LittleEndian(payload[(pos + 8)..]);
        return true;
    }

    private static void WriteTable(List<byte[]> table, ByteWriter output)
    {
        output.WriteVarint((ulong)table.Count);
        foreach (byte[] entry in table)
        {
            output.WriteVarint((ulong)entry.Length);
            output.Write(entry);
        }
    }

    private static bool TryReadTable(ReadOnlySpan<byte> payload, ref int pos, out byte[][]? table)
    {
        table = null;
        if (!Varint.TryRead(payload, ref pos, out ulong count) || count > (ulong)(payload.Length - pos))
        {
            return false;
        }

        table = new byte[count][];
        for (ulong i = 0; i < count; i++)
        {
            if (!TryBytes(payload, ref pos, out byte[]? entry))
            {
                return false;
            }

            table[i] = entry!;
        }

        return true;
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
