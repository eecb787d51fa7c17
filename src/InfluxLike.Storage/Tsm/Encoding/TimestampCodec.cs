using System.Buffers;

namespace InfluxLike.Storage.Tsm.Encoding;

/// <summary>
/// Timestamps of a block. Regular series (every scrape at the same interval) take the constant-delta form,
/// a few bytes per block whatever its length. Others are delta-encoded, divided by the largest power of
/// ten dividing every delta (timestamps are often whole ms or s), and bit-packed with
/// <see cref="PackedIntegers"/>.
/// </summary>
internal static class TimestampCodec
{
    public const byte ConstantDelta = IntegerCodec.ConstantDelta;
    public const byte Packed = 1;

    private static readonly long[] PowersOfTen = [.. Enumerable.Range(0, 19).Select(i => (long)Math.Pow(10, i))];

    public static void Encode(ReadOnlySpan<long> timestamps, ByteWriter output)
    {
        int n = timestamps.Length;
        if (IntegerCodec.TryWriteConstantDelta(timestamps, output))
        {
            return;
        }

        long first = timestamps[0];
        ulong[] deltas = ArrayPool<ulong>.Shared.Rent(n - 1);
        try
        {
            int k = 18;
            for (int i = 1; i < n && k > 0; i++)
            {
                long d = unchecked(timestamps[i] - timestamps[i - 1]);
                while (k > 0 && d % PowersOfTen[k] != 0)
                {
                    k--;
                }
            }

            long divisor = PowersOfTen[k];
            for (int i = 1; i < n; i++)
            {
                deltas[i - 1] = Varint.ZigZag(unchecked(timestamps[i] - timestamps[i - 1]) / divisor);
            }

            output.WriteByte(Packed);
            output.WriteVarint(Varint.ZigZag(first));
            output.WriteByte((byte)k);
            PackedIntegers.Encode(deltas.AsSpan(0, n - 1), output);
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(deltas);
        }
    }

    /// <summary>Decodes <paramref name="destination"/>.Length timestamps; false when the input is malformed.</summary>
    public static bool Decode(ReadOnlySpan<byte> source, Span<long> destination)
    {
        int n = destination.Length;
        if (source.IsEmpty)
        {
            return n == 0;
        }

        int pos = 1;
        if (!Varint.TryRead(source, ref pos, out ulong zFirst))
        {
            return false;
        }

        long first = Varint.UnZigZag(zFirst);
        switch (source[0])
        {
            case ConstantDelta:
                return IntegerCodec.TryDecodeConstantDelta(source, pos, first, destination);

            case Packed:
                if (pos >= source.Length || source[pos] > 18 || n < 2)
                {
                    return false;
                }

                long divisor = PowersOfTen[source[pos++]];
                Span<ulong> raw = System.Runtime.InteropServices.MemoryMarshal.Cast<long, ulong>(destination[1..]);
                int used = PackedIntegers.Decode(source[pos..], raw);
                if (used < 0 || pos + used != source.Length)
                {
                    return false;
                }

                destination[0] = first;
                long prev = first;
                for (int i = 1; i < n; i++)
                {
                    prev = unchecked(prev + (Varint.UnZigZag((ulong)destination[i]) * divisor));
                    destination[i] = prev;
                }

                return true;

            default:
                return false;
        }
    }
}
