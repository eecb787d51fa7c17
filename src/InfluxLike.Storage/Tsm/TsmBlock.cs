using System.Buffers.Binary;
using System.IO.Hashing;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Tsm.Encoding;

namespace InfluxLike.Storage.Tsm;

/// <summary>The header of an encoded block: its type and point count, and where its two sections are.</summary>
public readonly record struct BlockHeader(FieldType Type, int Count, int TimestampsStart, int TimestampsLength, int ValuesStart, int ValuesLength);

/// <summary>
/// One block: up to a few thousand points of one series field, timestamps and values compressed apart.
/// <code>
/// [type:1][count:varint][timestamps length:varint][timestamps][values][crc32:4, little-endian]
/// </code>
/// The CRC-32 covers every byte before it. Decoding checks it first, so a damaged block is reported,
/// never decoded into wrong values. Format drawn in docs/format/tsm.md.
/// </summary>
public static class TsmBlock
{
    public const int ChecksumLength = 4;

    /// <summary>Points per block unless configured otherwise (InfluxDB's default too).</summary>
    public const int DefaultMaxPoints = 1000;

    internal static void EncodeFloats(ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values, ByteWriter output)
    {
        int start = Begin(FieldType.Float, timestamps, output);
        FloatCodec.Encode(values, output);
        End(start, output);
    }

    internal static void EncodeIntegers(ReadOnlySpan<long> timestamps, ReadOnlySpan<long> values, ByteWriter output)
    {
        int start = Begin(FieldType.Integer, timestamps, output);
        IntegerCodec.Encode(values, output);
        End(start, output);
    }

    internal static void EncodeUnsigned(ReadOnlySpan<long> timestamps, ReadOnlySpan<ulong> values, ByteWriter output)
    {
        int start = Begin(FieldType.Unsigned, timestamps, output);
        IntegerCodec.Encode(values, output);
        End(start, output);
    }

    internal static void EncodeBooleans(ReadOnlySpan<long> timestamps, ReadOnlySpan<bool> values, ByteWriter output)
    {
        int start = Begin(FieldType.Boolean, timestamps, output);
        BooleanCodec.Encode(values, output);
        End(start, output);
    }

    internal static void EncodeStrings(ReadOnlySpan<long> timestamps, StringColumn values, ByteWriter output)
    {
        int start = Begin(FieldType.String, timestamps, output);
        StringCodec.Encode(values, output);
        End(start, output);
    }

    /// <summary>Checks the checksum and reads the header. False (with a reason) when the block is damaged.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> block, out BlockHeader header, out string? error)
    {
        header = default;
        if (block.Length < 1 + 1 + 1 + ChecksumLength)
        {
            error = $"block of {block.Length} bytes is too short";
            return false;
        }

        ReadOnlySpan<byte> body = block[..^ChecksumLength];
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(block[^ChecksumLength..]);
        if (Crc32.HashToUInt32(body) != stored)
        {
            error = "block checksum mismatch";
            return false;
        }

        var type = (FieldType)body[0];
        if (type is < FieldType.Float or > FieldType.String)
        {
            error = $"unknown block type {body[0]}";
            return false;
        }

        int pos = 1;
        if (!Varint.TryRead(body, ref pos, out ulong count) || count == 0 || count > int.MaxValue / 8
            || !Varint.TryRead(body, ref pos, out ulong tsLength) || tsLength > (ulong)(body.Length - pos))
        {
            error = "bad block header";
            return false;
        }

        int valuesStart = pos + (int)tsLength;
        header = new BlockHeader(type, (int)count, pos, (int)tsLength, valuesStart, body.Length - valuesStart);
        error = null;
        return true;
    }

    public static bool TryDecodeTimestamps(ReadOnlySpan<byte> block, in BlockHeader h, Span<long> destination) =>
        TimestampCodec.Decode(block.Slice(h.TimestampsStart, h.TimestampsLength), destination[..h.Count]);

    public static bool TryDecodeFloats(ReadOnlySpan<byte> block, in BlockHeader h, Span<double> destination) =>
        h.Type == FieldType.Float && FloatCodec.Decode(block.Slice(h.ValuesStart, h.ValuesLength), destination[..h.Count]);

    public static bool TryDecodeIntegers(ReadOnlySpan<byte> block, in BlockHeader h, Span<long> destination) =>
        h.Type == FieldType.Integer && IntegerCodec.Decode(block.Slice(h.ValuesStart, h.ValuesLength), destination[..h.Count]);

    public static bool TryDecodeUnsigned(ReadOnlySpan<byte> block, in BlockHeader h, Span<ulong> destination) =>
        h.Type == FieldType.Unsigned && IntegerCodec.Decode(block.Slice(h.ValuesStart, h.ValuesLength), destination[..h.Count]);

    public static bool TryDecodeBooleans(ReadOnlySpan<byte> block, in BlockHeader h, Span<bool> destination) =>
        h.Type == FieldType.Boolean && BooleanCodec.Decode(block.Slice(h.ValuesStart, h.ValuesLength), destination[..h.Count]);

    public static bool TryDecodeStrings(ReadOnlySpan<byte> block, in BlockHeader h, StringColumn destination) =>
        h.Type == FieldType.String && StringCodec.Decode(block.Slice(h.ValuesStart, h.ValuesLength), h.Count, destination);

    private static int Begin(FieldType type, ReadOnlySpan<long> timestamps, ByteWriter output)
    {
        if (timestamps.IsEmpty)
        {
            throw new ArgumentException("A block needs at least one point.", nameof(timestamps));
        }

        int start = output.Length;
        output.WriteByte((byte)type);
        output.WriteVarint((ulong)timestamps.Length);

        // The timestamps' length is known only after encoding them: encode first, then move them up by
        // the varint's size. Blocks are small, so the copy costs little.
        int lengthAt = output.Length;
        output.Advance(Varint.MaxLength);
        int tsStart = output.Length;
        TimestampCodec.Encode(timestamps, output);
        int tsLength = output.Length - tsStart;
        Span<byte> lengthBytes = stackalloc byte[Varint.MaxLength];
        int n = Varint.Write(lengthBytes, (ulong)tsLength);
        Span<byte> region = output.WrittenRange(lengthAt, Varint.MaxLength + tsLength);
        region.Slice(Varint.MaxLength, tsLength).CopyTo(region[n..]);
        lengthBytes[..n].CopyTo(region);
        output.Clear();
        output.Advance(lengthAt + n + tsLength);
        return start;
    }

    private static void End(int start, ByteWriter output)
    {
        uint crc = Crc32.HashToUInt32(output.WrittenSpan[start..]);
        output.WriteUInt32(crc);
    }
}
