using System.Numerics;

namespace InfluxLike.LineProtocol;

/// <summary>Decimal digits of unsigned integers, two at a time: what number and time formatting share.</summary>
public static class DecimalDigits
{
    private static ReadOnlySpan<byte> Pairs =>
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"u8 +
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"u8 +
        "8081828384858687888990919293949596979899"u8;

    /// <summary>The number of decimal digits in <paramref name="v"/> (1 for 0).</summary>
    public static int Length(ulong v)
    {
        int length = 1;
        while (v >= 10_000)
        {
            v /= 10_000;
            length += 4;
        }

        return v >= 1000 ? length + 3 : v >= 100 ? length + 2 : v >= 10 ? length + 1 : length;
    }

    /// <summary>
    /// Fills all of <paramref name="destination"/> with the last <c>destination.Length</c> digits of
    /// <paramref name="value"/>, zero-padded on the left: as chars, or as UTF-8 bytes.
    /// </summary>
    public static void Write<TChar>(Span<TChar> destination, ulong value)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        // Eight digits at a time in 32-bit arithmetic, as two independent halves of four: shorter chains of
        // multiplications than one 64-bit division by 100 per pair.
        int at = destination.Length;
        while (at > 8)
        {
            ulong quotient = value / 100_000_000;
            WriteEight(destination.Slice(at - 8, 8), (uint)(value - (quotient * 100_000_000)));
            value = quotient;
            at -= 8;
        }

        if (at == 8)
        {
            WriteEight(destination[..8], (uint)(value % 100_000_000));
            return;
        }

        ReadOnlySpan<byte> pairs = Pairs;
        uint rest = (uint)(value % 100_000_000);
        while (at >= 2)
        {
            uint quotient = rest / 100;
            int pair = (int)(rest - (quotient * 100)) * 2;
            rest = quotient;
            destination[--at] = TChar.CreateTruncating(pairs[pair + 1]);
            destination[--at] = TChar.CreateTruncating(pairs[pair]);
        }

        if (at == 1)
        {
            destination[0] = TChar.CreateTruncating('0' + (int)(rest % 10));
        }
    }

    /// <summary>The two digits of <paramref name="value"/> (0 to 99) into <paramref name="destination"/>[0..2].</summary>
    public static void WritePair<TChar>(Span<TChar> destination, int value)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        ReadOnlySpan<byte> pair = Pairs.Slice(value * 2, 2);
        destination[1] = TChar.CreateTruncating(pair[1]);
        destination[0] = TChar.CreateTruncating(pair[0]);
    }

    // Exactly eight digits (value < 10^8) into destination[0..8].
    private static void WriteEight<TChar>(Span<TChar> destination, uint value)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        ReadOnlySpan<byte> pairs = Pairs;
        Span<TChar> d = destination[..8];
        uint high = value / 10_000;
        uint low = value - (high * 10_000);
        uint h1 = high / 100;
        uint l1 = low / 100;
        int h2 = (int)(high - (h1 * 100)) * 2;
        int l2 = (int)(low - (l1 * 100)) * 2;
        int h1p = (int)h1 * 2;
        int l1p = (int)l1 * 2;
        d[0] = TChar.CreateTruncating(pairs[h1p]);
        d[1] = TChar.CreateTruncating(pairs[h1p + 1]);
        d[2] = TChar.CreateTruncating(pairs[h2]);
        d[3] = TChar.CreateTruncating(pairs[h2 + 1]);
        d[4] = TChar.CreateTruncating(pairs[l1p]);
        d[5] = TChar.CreateTruncating(pairs[l1p + 1]);
        d[6] = TChar.CreateTruncating(pairs[l2]);
        d[7] = TChar.CreateTruncating(pairs[l2 + 1]);
    }
}
