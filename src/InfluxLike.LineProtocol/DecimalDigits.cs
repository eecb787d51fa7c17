namespace InfluxLike.LineProtocol;

/// <summary>Decimal digits of unsigned integers, two at a time: what number and time formatting share.</summary>
public static class DecimalDigits
{
    private const string Pairs =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
        "8081828384858687888990919293949596979899";

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
    /// <paramref name="value"/>, zero-padded on the left.
    /// </summary>
    public static void Write(Span<char> destination, ulong value)
    {
        int at = destination.Length;
        while (at >= 2)
        {
            ulong quotient = value / 100;
            int pair = (int)(value - (quotient * 100)) * 2;
            value = quotient;
            destination[--at] = Pairs[pair + 1];
            destination[--at] = Pairs[pair];
        }

        if (at == 1)
        {
            destination[0] = (char)('0' + (int)(value % 10));
        }
    }
}
