using System.Numerics;

namespace InfluxLike.LineProtocol;

/// <summary>
/// The shortest decimal that reads back as the same double, nearest to it when several are that short, ties to the
/// even digit: Ulf Adams's Ryū (PLDI 2018), the algorithm behind Go's <c>FormatFloat(v, 'f', -1, 64)</c>.
/// It is several times faster than .NET's Grisu3 with its Dragon4 fallback, and unlike .NET's "R" it always reads
/// back: "R" writes 16 digits for 2^-958, which read back as the double below it. The two 125-bit power-of-5 tables
/// are computed once, exactly, with <see cref="BigInteger"/>, rather than pasted in as 1,300 literals.
/// </summary>
public static class ShortestFloat
{
    private const int MantissaBits = 52;
    private const int Bias = 1023;
    private const int Pow5InverseBitCount = 125;
    private const int Pow5BitCount = 125;
    private const int InverseTableSize = 342;
    private const int TableSize = 326;

    // [2i] is the low 64 bits, [2i + 1] the high bits.
    private static readonly ulong[] Pow5Inverse = BuildInverseTable(); // ⌊2^(bits(5^i) - 1 + 125) / 5^i⌋ + 1
    private static readonly ulong[] Pow5 = BuildTable();               // 5^i scaled to exactly 125 bits, truncated

    /// <summary>A bound on the text <see cref="FormatFixed"/> writes: a sign, <c>0.</c>, 323 zeros and 17 digits.</summary>
    public const int MaxFixedLength = 343;

    /// <summary>
    /// For finite, non-zero <paramref name="value"/>: |value| reads back from <c>digits × 10^exponent</c>, the
    /// shortest such decimal, with no trailing zeros in <c>digits</c> (at most 17 of them).
    /// </summary>
    public static ulong Decompose(double value, out int exponent)
    {
        if (value == 0 || !double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "only finite, non-zero doubles have shortest digits");
        }

        ulong bits = BitConverter.DoubleToUInt64Bits(value);
        ulong digits = ToDecimal(bits & ((1UL << MantissaBits) - 1), (uint)(bits >> MantissaBits) & 0x7FF, out exponent);
        while (digits % 10 == 0)
        {
            digits /= 10;
            exponent++;
        }

        return digits;
    }

    /// <summary>
    /// Writes finite <paramref name="value"/> in Go's <c>'f', -1</c> form (digits, never an exponent) into
    /// <paramref name="destination"/>, as chars or as UTF-8 bytes; the number written, or -1 when it does not fit
    /// (nothing useful is written then).
    /// </summary>
    public static int FormatFixed<TChar>(double value, Span<TChar> destination)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        int at = 0;
        if (double.IsNegative(value))
        {
            if (destination.IsEmpty)
            {
                return -1;
            }

            destination[at++] = TChar.CreateTruncating('-');
        }

        if (value == 0)
        {
            if (at >= destination.Length)
            {
                return -1;
            }

            destination[at] = TChar.CreateTruncating('0');
            return at + 1;
        }

        ulong digits = Decompose(value, out int exponent);
        int length = DecimalDigits.Length(digits);
        if (exponent >= 0)
        {
            // digits, then zeros
            int total = at + length + exponent;
            if (total > destination.Length)
            {
                return -1;
            }

            DecimalDigits.Write(destination.Slice(at, length), digits);
            destination.Slice(at + length, exponent).Fill(TChar.CreateTruncating('0'));
            return total;
        }

        int point = length + exponent; // digits before the '.'
        if (point > 0)
        {
            int total = at + length + 1;
            if (total > destination.Length)
            {
                return -1;
            }

            // fraction digits first, then the '.', then the integer part's digits
            ulong scale = PowersOf10[-exponent];
            ulong whole = digits / scale;
            DecimalDigits.Write(destination.Slice(at + point + 1, -exponent), digits - (whole * scale));
            destination[at + point] = TChar.CreateTruncating('.');
            DecimalDigits.Write(destination.Slice(at, point), whole);
            return total;
        }
        else
        {
            int zeros = -point;
            int total = at + 2 + zeros + length;
            if (total > destination.Length)
            {
                return -1;
            }

            destination[at] = TChar.CreateTruncating('0');
            destination[at + 1] = TChar.CreateTruncating('.');
            destination.Slice(at + 2, zeros).Fill(TChar.CreateTruncating('0'));
            DecimalDigits.Write(destination.Slice(at + 2 + zeros, length), digits);
            return total;
        }
    }

    /// <summary>Ryū's d2d: <c>digits × 10^exponent</c> is the shortest, nearest decimal for a positive finite double.</summary>
    private static ulong ToDecimal(ulong ieeeMantissa, uint ieeeExponent, out int exponent)
    {
        int e2;
        ulong m2;
        if (ieeeExponent == 0)
        {
            e2 = 1 - Bias - MantissaBits - 2;
            m2 = ieeeMantissa;
        }
        else
        {
            e2 = (int)ieeeExponent - Bias - MantissaBits - 2;
            m2 = (1UL << MantissaBits) | ieeeMantissa;
        }

        // The bounds are part of the interval when the mantissa is even (round-half-even reads them back to it).
        bool acceptBounds = (m2 & 1) == 0;

        // The interval of decimals that read back as this double, in units of 2^e2: [mv - 1 - mmShift, mv + 2]
        // (the lower gap is half as wide just above a power of two).
        ulong mv = 4 * m2;
        uint mmShift = ieeeMantissa != 0 || ieeeExponent <= 1 ? 1u : 0u;

        ulong vr, vp, vm;
        int e10;
        bool vmIsTrailingZeros = false;
        bool vrIsTrailingZeros = false;
        if (e2 >= 0)
        {
            int q = Log10Pow2(e2) - (e2 > 3 ? 1 : 0);
            e10 = q;
            int k = Pow5InverseBitCount + Pow5Bits(q) - 1;
            int i = -e2 + q + k;
            vr = MulShiftAll(m2, Pow5Inverse[2 * q], Pow5Inverse[(2 * q) + 1], i, mmShift, out vp, out vm);
            if (q <= 21)
            {
                // Only here can the values be exact multiples of 10^q: 5^22 needs more than 52 bits.
                if (mv % 5 == 0)
                {
                    vrIsTrailingZeros = MultipleOfPowerOf5(mv, q);
                }
                else if (acceptBounds)
                {
                    vmIsTrailingZeros = MultipleOfPowerOf5(mv - 1 - mmShift, q);
                }
                else if (MultipleOfPowerOf5(mv + 2, q))
                {
                    vp--;
                }
            }
        }
        else
        {
            int q = Log10Pow5(-e2) - (-e2 > 1 ? 1 : 0);
            e10 = q + e2;
            int i = -e2 - q;
            int k = Pow5Bits(i) - Pow5BitCount;
            int j = q - k;
            vr = MulShiftAll(m2, Pow5[2 * i], Pow5[(2 * i) + 1], j, mmShift, out vp, out vm);
            if (q <= 1)
            {
                // mv, mp and mm all have at least q trailing zero bits, so the products are exact.
                vrIsTrailingZeros = true;
                if (acceptBounds)
                {
                    vmIsTrailingZeros = mmShift == 1;
                }
                else
                {
                    vp--;
                }
            }
            else if (q < 63)
            {
                vrIsTrailingZeros = MultipleOfPowerOf2(mv, q);
            }
        }

        // Drop digits while the interval still holds a shorter decimal.
        int removed = 0;
        int lastRemovedDigit = 0;
        ulong output;
        if (vmIsTrailingZeros || vrIsTrailingZeros)
        {
            // The rare general case (about 0.7 % of doubles): exact ties and an included lower bound.
            while (vp / 10 > vm / 10)
            {
                ulong vmDiv10 = vm / 10;
                ulong vrDiv10 = vr / 10;
                vmIsTrailingZeros &= vm - (vmDiv10 * 10) == 0;
                vrIsTrailingZeros &= lastRemovedDigit == 0;
                lastRemovedDigit = (int)(vr - (vrDiv10 * 10));
                vr = vrDiv10;
                vp /= 10;
                vm = vmDiv10;
                removed++;
            }

            if (vmIsTrailingZeros)
            {
                while (vm % 10 == 0)
                {
                    ulong vrDiv10 = vr / 10;
                    vrIsTrailingZeros &= lastRemovedDigit == 0;
                    lastRemovedDigit = (int)(vr - (vrDiv10 * 10));
                    vr = vrDiv10;
                    vp /= 10;
                    vm /= 10;
                    removed++;
                }
            }

            if (vrIsTrailingZeros && lastRemovedDigit == 5 && vr % 2 == 0)
            {
                lastRemovedDigit = 4; // exactly halfway: round to even
            }

            bool up = (vr == vm && (!acceptBounds || !vmIsTrailingZeros)) || lastRemovedDigit >= 5;
            output = vr + (up ? 1UL : 0UL);
        }
        else
        {
            bool roundUp = false;
            if (vp / 100 > vm / 100)
            {
                // two digits at a time first (most doubles lose at least two)
                ulong vrDiv100 = vr / 100;
                roundUp = vr - (vrDiv100 * 100) >= 50;
                vr = vrDiv100;
                vp /= 100;
                vm /= 100;
                removed += 2;
            }

            while (vp / 10 > vm / 10)
            {
                ulong vrDiv10 = vr / 10;
                roundUp = vr - (vrDiv10 * 10) >= 5;
                vr = vrDiv10;
                vp /= 10;
                vm /= 10;
                removed++;
            }

            output = vr + (vr == vm || roundUp ? 1UL : 0UL);
        }

        exponent = e10 + removed;
        return output;
    }

    // (4·m2 + {0, 2, -1 - mmShift}) × mul >> j, the three ends of the interval, from two 64 × 64-bit products
    // instead of six (Ryū's mulShiftAll64): 2·m2 × mul once, then ± mul. 64 < j < 128.
    private static ulong MulShiftAll(ulong m2, ulong mulLow, ulong mulHigh, int j, uint mmShift, out ulong vp, out ulong vm)
    {
        ulong m = m2 << 1; // at most 55 bits
        ulong tmp = Math.BigMul(m, mulLow, out ulong lo);
        ulong hi = Math.BigMul(m, mulHigh, out ulong midLow);
        ulong mid = tmp + midLow;
        hi += mid < tmp ? 1UL : 0UL;

        ulong lo2 = lo + mulLow;
        ulong mid2 = mid + mulHigh + (lo2 < lo ? 1UL : 0UL);
        ulong hi2 = hi + (mid2 < mid ? 1UL : 0UL);
        vp = ShiftRight128(mid2, hi2, j - 64 - 1);

        if (mmShift == 1)
        {
            ulong lo3 = lo - mulLow;
            ulong mid3 = mid - mulHigh - (lo3 > lo ? 1UL : 0UL);
            ulong hi3 = hi - (mid3 > mid ? 1UL : 0UL);
            vm = ShiftRight128(mid3, hi3, j - 64 - 1);
        }
        else
        {
            ulong lo3 = lo + lo;
            ulong mid3 = mid + mid + (lo3 < lo ? 1UL : 0UL);
            ulong hi3 = hi + hi + (mid3 < mid ? 1UL : 0UL);
            ulong lo4 = lo3 - mulLow;
            ulong mid4 = mid3 - mulHigh - (lo4 > lo3 ? 1UL : 0UL);
            ulong hi4 = hi3 - (mid4 > mid3 ? 1UL : 0UL);
            vm = ShiftRight128(mid4, hi4, j - 64);
        }

        return ShiftRight128(mid, hi, j - 64 - 1);
    }

    // The 64 bits of (hi:lo) >> shift, 0 < shift < 64.
    private static ulong ShiftRight128(ulong lo, ulong hi, int shift) => (hi << (64 - shift)) | (lo >> shift);

    // ⌈log2(5^e)⌉ for e ≥ 1, and 1 for e = 0: the bit length of 5^e (exact for 0 ≤ e ≤ 3528).
    private static int Pow5Bits(int e) => (int)(((uint)e * 1217359) >> 19) + 1;

    // ⌊log10(2^e)⌋ (exact for 0 ≤ e ≤ 1650).
    private static int Log10Pow2(int e) => (int)(((uint)e * 78913) >> 18);

    // ⌊log10(5^e)⌋ (exact for 0 ≤ e ≤ 2620).
    private static int Log10Pow5(int e) => (int)(((uint)e * 732923) >> 20);

    private static bool MultipleOfPowerOf5(ulong value, int p)
    {
        int count = 0;
        while (value % 5 == 0)
        {
            value /= 5;
            count++;
        }

        return count >= p;
    }

    private static bool MultipleOfPowerOf2(ulong value, int p) => (value & ((1UL << p) - 1)) == 0;

    private static readonly ulong[] PowersOf10 =
    [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000, 10_000_000_000,
        100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000, 1_000_000_000_000_000,
        10_000_000_000_000_000, 100_000_000_000_000_000,
    ];

    private static ulong[] BuildInverseTable()
    {
        var table = new ulong[2 * InverseTableSize];
        BigInteger pow = BigInteger.One;
        for (int i = 0; i < InverseTableSize; i++, pow *= 5)
        {
            int bits = (int)pow.GetBitLength();
            Store(table, i, (BigInteger.One << (bits - 1 + Pow5InverseBitCount)) / pow + 1);
        }

        return table;
    }

    private static ulong[] BuildTable()
    {
        var table = new ulong[2 * TableSize];
        BigInteger pow = BigInteger.One;
        for (int i = 0; i < TableSize; i++, pow *= 5)
        {
            int bits = (int)pow.GetBitLength();
            Store(table, i, bits <= Pow5BitCount ? pow << (Pow5BitCount - bits) : pow >> (bits - Pow5BitCount));
        }

        return table;
    }

    private static void Store(ulong[] table, int i, BigInteger value)
    {
        table[2 * i] = (ulong)(value & ulong.MaxValue);
        table[(2 * i) + 1] = (ulong)(value >> 64);
    }
}
