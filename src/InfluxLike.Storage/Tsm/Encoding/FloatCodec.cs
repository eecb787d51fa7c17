using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;

namespace InfluxLike.Storage.Tsm.Encoding;

/// <summary>
/// Float64 values, in whichever of three forms is smallest for the block (all three are tried):
/// <list type="bullet">
/// <item><b>Decimal</b>: when every value is <c>m / 10^d</c> exactly for one <c>d ≤ 15</c> and integers
/// <c>|m| ≤ 2^53</c> — sensor readings and rounded metrics — the integers' zig-zag deltas are bit-packed.
/// 2-decimal TSBS data costs ~9 bits a value here where XOR needs ~55.</item>
/// <item><b>Bit deltas</b>: zig-zag deltas of the IEEE-754 bit patterns, bit-packed. For a smooth series the
/// bit patterns move like integers (same sign and exponent), so a random walk costs ~49 bits a value.</item>
/// <item><b>XOR</b> (Gorilla, as InfluxDB and Prometheus use): best for series that repeat values or change
/// only low-order bits.</item>
/// </list>
/// Every form round-trips every bit pattern: NaN payloads, ±Inf, -0.0, subnormals.
/// </summary>
internal static class FloatCodec
{
    public const byte Xor = 0;
    public const byte Decimal = 1;
    public const byte BitDeltas = 2;

    private const int MaxDecimals = 15;
    private const long MaxExactInteger = 1L << 53;

    private static readonly double[] PowersOfTen = [.. Enumerable.Range(0, MaxDecimals + 1).Select(i => Math.Pow(10, i))];

    public static void Encode(ReadOnlySpan<double> values, ByteWriter output)
    {
        using var scratch = new ByteWriter(values.Length * 9 + 32);
        int bestStart = output.Length;

        EncodeBitDeltas(values, output);
        int bestLength = output.Length - bestStart;

        if (TryEncodeDecimal(values, scratch) && scratch.Length < bestLength)
        {
            Replace(output, bestStart, scratch.WrittenSpan);
            bestLength = scratch.Length;
        }

        scratch.Clear();
        EncodeXor(values, scratch);
        if (scratch.Length < bestLength)
        {
            Replace(output, bestStart, scratch.WrittenSpan);
        }
    }

    public static bool Decode(ReadOnlySpan<byte> source, Span<double> destination)
    {
        if (source.IsEmpty)
        {
            return destination.IsEmpty;
        }

        return source[0] switch
        {
            Xor => DecodeXor(source[1..], destination),
            Decimal => DecodeDecimal(source[1..], destination),
            BitDeltas => DecodeBitDeltas(source[1..], destination),
            _ => false,
        };
    }

    private static void Replace(ByteWriter output, int start, ReadOnlySpan<byte> bytes)
    {
        output.Clear();
        output.Advance(start);
        output.Write(bytes);
    }

    private static void EncodeBitDeltas(ReadOnlySpan<double> values, ByteWriter output)
    {
        output.WriteByte(BitDeltas);
        ReadOnlySpan<long> bits = MemoryMarshal.Cast<double, long>(values);
        IntegerCodec.Encode(bits, output);
    }

    private static bool DecodeBitDeltas(ReadOnlySpan<byte> source, Span<double> destination) =>
        IntegerCodec.Decode(source, MemoryMarshal.Cast<double, long>(destination));

    private static bool TryEncodeDecimal(ReadOnlySpan<double> values, ByteWriter output)
    {
        int n = values.Length;
        if (n == 0)
        {
            return false;
        }

        // The fewest decimals that represent every value exactly.
        // A value exact at d decimals need not test exact at a larger d by this check, so passes repeat
        // until one goes through without raising d.
        int d = 0;
        bool raised;
        do
        {
            raised = false;
            foreach (double v in values)
            {
                while (!IsExactAt(v, d))
                {
                    raised = true;
                    if (++d > MaxDecimals)
                    {
                        return false;
                    }
                }
            }
        }
        while (raised);

        long[] mantissas = ArrayPool<long>.Shared.Rent(n);
        try
        {
            double scale = PowersOfTen[d];
            for (int i = 0; i < n; i++)
            {
                mantissas[i] = (long)Math.Round(values[i] * scale);
            }

            output.WriteByte(Decimal);
            output.WriteByte((byte)d);
            IntegerCodec.Encode(mantissas.AsSpan(0, n), output);
            return true;
        }
        finally
        {
            ArrayPool<long>.Shared.Return(mantissas);
        }
    }

    // Whether v == m / 10^d bit for bit for the integer m nearest v·10^d (so decoding by one division,
    // correctly rounded, gives v back). Rejects -0.0, NaN and infinities, which the other forms carry.
    private static bool IsExactAt(double v, int d)
    {
        double scaled = v * PowersOfTen[d];
        if (!(Math.Abs(scaled) <= MaxExactInteger))
        {
            return false;
        }

        // Through long, as decoding goes: -0.0 becomes 0 and fails the comparison, as it must.
        long m = (long)Math.Round(scaled);
        double back = m / PowersOfTen[d];
        return BitConverter.DoubleToInt64Bits(back) == BitConverter.DoubleToInt64Bits(v);
    }

    private static bool DecodeDecimal(ReadOnlySpan<byte> source, Span<double> destination)
    {
        if (source.IsEmpty || source[0] > MaxDecimals)
        {
            return false;
        }

        double scale = PowersOfTen[source[0]];
        Span<long> mantissas = MemoryMarshal.Cast<double, long>(destination);
        if (!IntegerCodec.Decode(source[1..], mantissas))
        {
            return false;
        }

        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = mantissas[i] / scale;
        }

        return true;
    }

    private static void EncodeXor(ReadOnlySpan<double> values, ByteWriter output)
    {
        output.WriteByte(Xor);
        if (values.IsEmpty)
        {
            return;
        }

        var bits = new BitWriter(output);
        ulong prev = BitConverter.DoubleToUInt64Bits(values[0]);
        bits.Write(prev, 64);
        int prevLeading = -1, prevTrailing = 0;
        for (int i = 1; i < values.Length; i++)
        {
            ulong cur = BitConverter.DoubleToUInt64Bits(values[i]);
            ulong xor = cur ^ prev;
            prev = cur;
            if (xor == 0)
            {
                bits.Write(0, 1);
                continue;
            }

            int leading = Math.Min(BitOperations.LeadingZeroCount(xor), 31);
            int trailing = BitOperations.TrailingZeroCount(xor);
            if (prevLeading >= 0 && leading >= prevLeading && trailing >= prevTrailing)
            {
                // Fits in the previous window: '10' + meaningful bits.
                bits.Write(0b10, 2);
                bits.Write(xor >> prevTrailing, 64 - prevLeading - prevTrailing);
            }
            else
            {
                // New window: '11' + 5 bits leading + 6 bits length (64 stored as 0) + meaningful bits.
                int length = 64 - leading - trailing;
                bits.Write(0b11, 2);
                bits.Write((ulong)leading, 5);
                bits.Write((ulong)(length & 63), 6);
                bits.Write(xor >> trailing, length);
                prevLeading = leading;
                prevTrailing = trailing;
            }
        }

        bits.Flush();
    }

    private static bool DecodeXor(ReadOnlySpan<byte> source, Span<double> destination)
    {
        if (destination.IsEmpty)
        {
            return source.IsEmpty;
        }

        var bits = new BitReader(source);
        ulong prev = bits.Read(64);
        destination[0] = BitConverter.UInt64BitsToDouble(prev);
        int leading = -1, trailing = 0;
        for (int i = 1; i < destination.Length; i++)
        {
            if (bits.Read(1) != 0)
            {
                if (bits.Read(1) != 0)
                {
                    leading = (int)bits.Read(5);
                    int length = (int)bits.Read(6);
                    if (length == 0)
                    {
                        length = 64;
                    }

                    trailing = 64 - leading - length;
                    if (trailing < 0)
                    {
                        return false;
                    }
                }
                else if (leading < 0)
                {
                    return false;
                }

                int meaningful = 64 - leading - trailing;
                prev ^= bits.Read(meaningful) << trailing;
            }

            destination[i] = BitConverter.UInt64BitsToDouble(prev);
        }

        return !bits.Overrun && bits.BytesConsumed == source.Length;
    }
}
