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
        ReadOnlySpan<byte> pairs = Pairs;
        int at = destination.Length;
        while (at >= 2)
        {
            ulong quotient = value / 100;
            int pair = (int)(value - (quotient * 100)) * 2;
            value = quotient;
            destination[--at] = TChar.CreateTruncating(pairs[pair + 1]);
            destination[--at] = TChar.CreateTruncating(pairs[pair]);
        }

        if (at == 1)
        {
            destination[0] = TChar.CreateTruncating('0' + (int)(value % 10));
        }
    }
}
