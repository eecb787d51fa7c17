using System.Buffers;
using K4os.Compression.LZ4;

namespace InfluxLike.Storage.Tsm.Encoding;

/// <summary>
/// UTF-8 string values: each length-prefixed (varint), the whole run compressed with LZ4 (fast level:
/// log lines and labels repeat a lot, and decompression runs at memory speed).
/// </summary>
/// <remarks>Layout: form byte, uncompressed length (varint), LZ4 block.</remarks>
internal static class StringCodec
{
    public const byte Lz4 = 0;

    public static void Encode(StringColumn values, ByteWriter output)
    {
        int rawLength = 0;
        for (int i = 0; i < values.Count; i++)
        {
            int len = values[i].Length;
            rawLength += Varint.Size((ulong)len) + len;
        }

        byte[] raw = ArrayPool<byte>.Shared.Rent(Math.Max(rawLength, 1));
        try
        {
            int o = 0;
            for (int i = 0; i < values.Count; i++)
            {
                ReadOnlySpan<byte> v = values[i];
                o += Varint.Write(raw.AsSpan(o), (ulong)v.Length);
                v.CopyTo(raw.AsSpan(o));
                o += v.Length;
            }

            output.WriteByte(Lz4);
            output.WriteVarint((ulong)rawLength);
            int max = LZ4Codec.MaximumOutputSize(rawLength);
            int written = LZ4Codec.Encode(raw.AsSpan(0, rawLength), output.GetSpan(max)[..max], LZ4Level.L00_FAST);
            output.Advance(written);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
        }
    }

    /// <summary>Decodes <paramref name="count"/> strings into <paramref name="destination"/> (cleared first).</summary>
    public static bool Decode(ReadOnlySpan<byte> source, int count, StringColumn destination)
    {
        destination.Clear();
        if (source.IsEmpty || source[0] != Lz4)
        {
            return false;
        }

        int pos = 1;
        if (!Varint.TryRead(source, ref pos, out ulong rawLength) || rawLength > int.MaxValue / 2)
        {
            return false;
        }

        byte[] raw = ArrayPool<byte>.Shared.Rent(Math.Max((int)rawLength, 1));
        try
        {
            int decoded = rawLength == 0 ? 0 : LZ4Codec.Decode(source[pos..], raw.AsSpan(0, (int)rawLength));
            if (decoded != (int)rawLength)
            {
                return false;
            }

            int o = 0;
            ReadOnlySpan<byte> span = raw.AsSpan(0, decoded);
            for (int i = 0; i < count; i++)
            {
                if (!Varint.TryRead(span, ref o, out ulong len) || len > (ulong)(span.Length - o))
                {
                    return false;
                }

                destination.Add(span.Slice(o, (int)len));
                o += (int)len;
            }

            return o == span.Length;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
        }
    }
}
