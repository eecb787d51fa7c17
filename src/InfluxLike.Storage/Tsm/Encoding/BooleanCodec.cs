namespace InfluxLike.Storage.Tsm.Encoding;

/// <summary>Booleans, one bit each (least significant first).</summary>
internal static class BooleanCodec
{
    public const byte BitPacked = 0;

    public static void Encode(ReadOnlySpan<bool> values, ByteWriter output)
    {
        output.WriteByte(BitPacked);
        int bytes = (values.Length + 7) / 8;
        Span<byte> span = output.GetSpan(bytes);
        span[..bytes].Clear();
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i])
            {
                span[i >> 3] |= (byte)(1 << (i & 7));
            }
        }

        output.Advance(bytes);
    }

    public static bool Decode(ReadOnlySpan<byte> source, Span<bool> destination)
    {
        int bytes = (destination.Length + 7) / 8;
        if (source.Length != bytes + 1 || source[0] != BitPacked)
        {
            return false;
        }

        ReadOnlySpan<byte> packed = source[1..];
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = (packed[i >> 3] & (1 << (i & 7))) != 0;
        }

        return true;
    }
}
