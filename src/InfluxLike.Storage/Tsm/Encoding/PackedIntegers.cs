using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace InfluxLike.Storage.Tsm.Encoding;

/// <summary>
/// Patched frame-of-reference bit packing (PFOR) of unsigned 64-bit values, the workhorse under the
/// timestamp, integer and float codecs: every value is stored in the same width <c>w</c>, chosen per block
/// to minimise the total size, and the few values wider than <c>w</c> are patched afterwards from an
/// exception list. Random-walk deltas are near-Gaussian, so a fixed width at the maximum wastes about a
/// bit per value where PFOR spends ~0.2.
/// </summary>
/// <remarks>
/// Layout: <c>w</c> (1 byte), exception count (varint), <c>ceil(n·w/8)</c> bytes of values packed
/// least-significant bit first, then per exception: position delta from the previous exception (varint)
/// and the bits above <c>w</c> (varint). The count <c>n</c> is known to the caller.
/// </remarks>
internal static class PackedIntegers
{
    /// <summary>The size in bits the best width gives (headers included), without encoding.</summary>
    public static long EstimateBits(ReadOnlySpan<ulong> values) => ChooseWidth(values, out _);

    private static long ChooseWidth(ReadOnlySpan<ulong> values, out int bestWidth)
    {
        // Histogram of bit lengths picks the cheapest width.
        Span<int> counts = stackalloc int[65];
        counts.Clear();
        foreach (ulong v in values)
        {
            counts[64 - BitOperations.LeadingZeroCount(v)]++;
        }

        int n = values.Length;
        bestWidth = 64;
        long bestCost = long.MaxValue;
        for (int w = 64; w >= 0; w--)
        {
            // Exceptions for width w: values longer than w bits (2 bytes of position + the high bits).
            long exceptionBits = 0;
            for (int l = w + 1; l <= 64; l++)
            {
                if (counts[l] != 0)
                {
                    exceptionBits += counts[l] * (16L + (8L * ((l - w + 6) / 7)));
                }
            }

            long cost = ((long)n * w) + exceptionBits;
            if (cost < bestCost)
            {
                bestCost = cost;
                bestWidth = w;
            }
        }

        return bestCost + 16;
    }

    public static void Encode(ReadOnlySpan<ulong> values, ByteWriter output)
    {
        ChooseWidth(values, out int bestWidth);
        Span<int> counts = stackalloc int[65];
        counts.Clear();
        foreach (ulong v in values)
        {
            counts[64 - BitOperations.LeadingZeroCount(v)]++;
        }

        int n = values.Length;
        int width = bestWidth;
        int exceptions = 0;
        for (int l = width + 1; l <= 64; l++)
        {
            exceptions += counts[l];
        }

        output.WriteByte((byte)width);
        output.WriteVarint((ulong)exceptions);
        int packedBytes = (int)(((long)n * width + 7) / 8);
        Span<byte> packed = output.GetSpan(packedBytes + 8);
        Pack(values, width, packed);
        output.Advance(packedBytes);

        if (exceptions > 0)
        {
            int previous = 0;
            for (int i = 0; i < n; i++)
            {
                if (width < 64 && values[i] >> width != 0)
                {
                    output.WriteVarint((ulong)(i - previous));
                    output.WriteVarint(values[i] >> width);
                    previous = i;
                }
            }
        }
    }

    /// <summary>Decodes <paramref name="destination"/>.Length values; returns bytes read, or -1 when the input is malformed.</summary>
    public static int Decode(ReadOnlySpan<byte> source, Span<ulong> destination)
    {
        if (source.IsEmpty)
        {
            return -1;
        }

        int width = source[0];
        int pos = 1;
        if (width > 64 || !Varint.TryRead(source, ref pos, out ulong exceptionCount))
        {
            return -1;
        }

        int n = destination.Length;
        long packedBytes = ((long)n * width + 7) / 8;
        if (packedBytes > source.Length - pos || exceptionCount > (ulong)n)
        {
            return -1;
        }

        Unpack(source.Slice(pos, (int)packedBytes), width, destination);
        pos += (int)packedBytes;

        int index = 0;
        for (ulong e = 0; e < exceptionCount; e++)
        {
            if (!Varint.TryRead(source, ref pos, out ulong delta) || !Varint.TryRead(source, ref pos, out ulong high))
            {
                return -1;
            }

            if (delta > (ulong)(n - index) || (e > 0 && delta == 0))
            {
                return -1;
            }

            index += (int)delta;
            if (index >= n || width >= 64)
            {
                return -1;
            }

            destination[index] |= high << width;
        }

        return pos;
    }

    // destination has 8 spare bytes past the packed length.
    private static void Pack(ReadOnlySpan<ulong> values, int width, Span<byte> destination)
    {
        if (width == 0)
        {
            return;
        }

        ulong mask = width == 64 ? ulong.MaxValue : (1UL << width) - 1;
        ulong acc = 0;
        int bits = 0;
        int o = 0;
        foreach (ulong raw in values)
        {
            ulong v = raw & mask;
            acc |= v << bits;
            int total = bits + width;
            if (total >= 64)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(destination[o..], acc);
                o += 8;
                total -= 64;
                acc = total == 0 ? 0 : v >> (width - total);
            }

            bits = total;
        }

        if (bits > 0)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination[o..], acc);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Unpack(ReadOnlySpan<byte> source, int width, Span<ulong> destination)
    {
        int n = destination.Length;
        if (width == 0)
        {
            destination.Clear();
            return;
        }

        ulong mask = width == 64 ? ulong.MaxValue : (1UL << width) - 1;
        int i = 0;
        if (width <= 56)
        {
            // Fast path: one unaligned 8-byte read per value while 8 bytes remain.
            long safeBits = ((long)source.Length - 8) * 8;
            for (; i < n; i++)
            {
                long bit = (long)i * width;
                if (bit > safeBits)
                {
                    break;
                }

                ulong word = BinaryPrimitives.ReadUInt64LittleEndian(source[(int)(bit >> 3)..]);
                destination[i] = (word >> (int)(bit & 7)) & mask;
            }
        }

        else
        {
            // Wide values may straddle 9 bytes: one 8-byte read plus one byte.
            long safeBits = ((long)source.Length - 9) * 8;
            for (; i < n; i++)
            {
                long bit = (long)i * width;
                if (bit > safeBits)
                {
                    break;
                }

                int at = (int)(bit >> 3);
                int shift = (int)(bit & 7);
                ulong v = BinaryPrimitives.ReadUInt64LittleEndian(source[at..]) >> shift;
                if (shift != 0)
                {
                    v |= (ulong)source[at + 8] << (64 - shift);
                }

                destination[i] = v & mask;
            }
        }

        for (; i < n; i++)
        {
            destination[i] = ReadBits(source, (long)i * width, width, mask);
        }
    }

    // General read of `width` bits at `bit`, safe at the end of the input and for widths up to 64.
    private static ulong ReadBits(ReadOnlySpan<byte> source, long bit, int width, ulong mask)
    {
        int at = (int)(bit >> 3);
        int shift = (int)(bit & 7);
        int needed = (shift + width + 7) >> 3; // bytes touched, up to 9
        ulong lo = 0;
        int take = Math.Min(needed, 8);
        for (int b = 0; b < take; b++)
        {
            lo |= (ulong)source[at + b] << (8 * b);
        }

        ulong v = lo >> shift;
        if (needed > 8)
        {
            v |= (ulong)source[at + 8] << (64 - shift);
        }

        return v & mask;
    }
}
