using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace InfluxLike.Storage.Tsm.Encoding;

/// <summary>
/// Golomb-Rice coding of unsigned values: each value as its quotient <c>v >> k</c> in unary (ones ended by
/// a zero) followed by its low <c>k</c> bits. For near-Gaussian deltas (random walks, sensor noise) it
/// comes within ~0.1 bit of the entropy where fixed-width packing loses ~0.5: on 2-decimal TSBS data,
/// 8.8 bits a value against PFOR's 9.2. A quotient of <see cref="MaxUnary"/> or more escapes to the raw
/// 64-bit value, so outliers cost 96 bits instead of millions.
/// </summary>
/// <remarks>Layout: k (1 byte), then the bit stream, most significant bit first, padded to a byte.</remarks>
internal static class RiceIntegers
{
    private const int MaxUnary = 32;

    /// <summary>The best parameter and the size in bits it gives, without encoding.</summary>
    public static long EstimateBits(ReadOnlySpan<ulong> values, out int k)
    {
        k = 0;
        if (values.IsEmpty)
        {
            return 8;
        }

        // The optimum sits near log2(mean); try a few around it.
        double mean = 0;
        foreach (ulong v in values)
        {
            mean += v;
        }

        mean /= values.Length;
        int guess = mean < 1 ? 0 : (int)Math.Log2(mean);
        long best = long.MaxValue;
        for (int candidate = Math.Max(0, guess - 2); candidate <= Math.Min(63, guess + 2); candidate++)
        {
            long bits = 8;
            foreach (ulong v in values)
            {
                ulong q = v >> candidate;
                bits += q < MaxUnary ? (long)q + 1 + candidate : MaxUnary + 64;
            }

            if (bits < best)
            {
                best = bits;
                k = candidate;
            }
        }

        return best;
    }

    public static void Encode(ReadOnlySpan<ulong> values, int k, ByteWriter output)
    {
        output.WriteByte((byte)k);
        var bits = new BitWriter(output);
        ulong lowMask = k == 0 ? 0 : (1UL << k) - 1;
        foreach (ulong v in values)
        {
            ulong q = v >> k;
            if (q < MaxUnary)
            {
                // q ones, a zero, then the k low bits: written as one field when it fits.
                int length = (int)q + 1 + k;
                if (length <= 64)
                {
                    ulong unary = ((1UL << (int)q) - 1) << 1; // q ones then a zero
                    bits.Write((unary << k) | (v & lowMask), length);
                }
                else
                {
                    bits.Write(((1UL << (int)q) - 1) << 1, (int)q + 1);
                    bits.Write(v & lowMask, k);
                }
            }
            else
            {
                bits.Write(uint.MaxValue, MaxUnary);
                bits.Write(v, 64);
            }
        }

        bits.Flush();
    }

    /// <summary>Decodes destination.Length values; returns bytes read or -1 when malformed.</summary>
    public static int Decode(ReadOnlySpan<byte> source, Span<ulong> destination)
    {
        var sink = new RawSink(destination);
        return Decode(source, destination.Length, ref sink);
    }

    /// <summary>
    /// Decodes <paramref name="count"/> values into <paramref name="sink"/>, which may transform them on the
    /// way (prefix sums, scaling) so callers need no second pass. Returns bytes read or -1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Decode<TSink>(ReadOnlySpan<byte> source, int count, ref TSink sink)
        where TSink : struct, IValueSink, allows ref struct
    {
        if (source.IsEmpty || source[0] > 63)
        {
            return -1;
        }

        int k = source[0];
        ReadOnlySpan<byte> data = source[1..];
        long totalBits = (long)data.Length * 8;
        ref byte start = ref MemoryMarshal.GetReference(data);
        int n = count;
        int i = 0;

        // Fast path: a 64-bit bit buffer refilled branch-free to at least 56 bits (F. Giesen's "bit
        // reader variant 4"), so decoding runs on registers and the serial dependency from one value's
        // length to the next value's position costs a shift, not a memory load.
        ulong buffer = 0;
        int valid = 0;   // valid bits in buffer, left-aligned
        int next = 0;    // next byte of data not yet in buffer
        // Refill only when fewer bits remain than a typical value needs: for small k several values
        // decode per refill, and the loop-carried chain is just count-leading-ones, add, shift.
        int threshold = Math.Min(56, k + 9);
        long bit;
        while (true)
        {
            while (i < n)
            {
                if (valid < threshold)
                {
                    if (next + 8 > data.Length)
                    {
                        break;
                    }

                    buffer |= BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, next))) >> valid;
                    next += (63 - valid) >> 3;
                    valid |= 56;
                }

                int ones = BitOperations.LeadingZeroCount(~buffer);
                int length = ones + 1 + k;
                if (ones >= MaxUnary || length > valid)
                {
                    if (valid >= 56 || next + 8 > data.Length)
                    {
                        break; // an escape or a value longer than the buffer: the slow path reads it
                    }

                    buffer |= BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, next))) >> valid;
                    next += (63 - valid) >> 3;
                    valid |= 56;
                    continue;
                }

                ulong low = k == 0 ? 0 : (buffer << (ones + 1)) >> (64 - k);
                sink.Put(i++, ((ulong)ones << k) | low);
                buffer <<= length;
                valid -= length;
            }

            bit = ((long)next * 8) - valid;
            if (i >= n || next + 8 > data.Length)
            {
                break;
            }

            // One value the buffer cannot hold (an escape, or longer than 56 bits with a large k): read it the slow
            // way, then refill the buffer from where it ends and go on fast. Before, one such value sent the whole
            // rest of the block down the slow path.
            sink.Put(i++, ReadSlow(data, ref bit, k));
            if (bit > totalBits)
            {
                return -1;
            }

            next = (int)(bit >> 3);
            int skip = (int)(bit & 7);
            if (next + 8 > data.Length)
            {
                valid = 0;
                break;
            }

            buffer = BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, next))) << skip;
            next += 7;
            valid = 56 - skip;
        }

        for (; i < n; i++)
        {
            sink.Put(i, ReadSlow(data, ref bit, k));
            if (bit > totalBits)
            {
                return -1;
            }
        }

        if (bit > totalBits)
        {
            return -1;
        }

        return 1 + (int)((bit + 7) / 8);
    }

    private static ulong ReadSlow(ReadOnlySpan<byte> data, ref long bit, int k)
    {
        ulong word = Peek(data, bit);
        int ones = BitOperations.LeadingZeroCount(~word);
        if (ones < MaxUnary)
        {
            bit += ones + 1;
            ulong low = k == 0 ? 0 : Peek(data, bit) >> (64 - k);
            bit += k;
            return ((ulong)ones << k) | low;
        }

        bit += MaxUnary;
        ulong value = Peek(data, bit);
        bit += 64;
        return value;
    }

    // The 64 bits starting at `bit`, zero-filled past the end.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Peek(ReadOnlySpan<byte> data, long bit)
    {
        int at = (int)(bit >> 3);
        int shift = (int)(bit & 7);
        ulong word;
        if (data.Length - at >= 9)
        {
            word = BinaryPrimitives.ReadUInt64BigEndian(data[at..]) << shift;
            if (shift != 0)
            {
                word |= (ulong)data[at + 8] >> (8 - shift);
            }

            return word;
        }

        word = 0;
        for (int i = 0; i < 8; i++)
        {
            word = (word << 8) | (at + i < data.Length ? data[at + i] : (byte)0);
        }

        word <<= shift;
        if (shift != 0 && at + 8 < data.Length)
        {
            word |= (ulong)data[at + 8] >> (8 - shift);
        }

        return word;
    }
}

/// <summary>Receives decoded values in order; implemented by structs so calls inline.</summary>
internal interface IValueSink
{
    void Put(int index, ulong value);
}

/// <summary>Stores values as they are.</summary>
internal readonly ref struct RawSink : IValueSink
{
    private readonly Span<ulong> _destination;

    public RawSink(Span<ulong> destination) => _destination = destination;

    public void Put(int index, ulong value) => _destination[index] = value;
}
