using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace InfluxLike.LineProtocol;

internal enum NumberStatus : byte
{
    Ok,
    Invalid,
    OutOfRange,
}

/// <summary>
/// Number and boolean syntax of line protocol, strict as InfluxDB's: no white space, no '+' sign, no
/// hexadecimal, no digit separators, no NaN or infinity.
/// </summary>
internal static class NumberParsing
{
    // Powers of ten that a double holds exactly (10^22 is the largest).
    private static ReadOnlySpan<double> ExactPowersOfTen =>
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    private const ulong MaxExactMantissa = 1UL << 53;

    // Eight ASCII digits at once (SWAR, as fast_float does): most telemetry values and every timestamp
    // have runs of 8+ digits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryReadEightDigits(ReadOnlySpan<byte> s, int i, out uint value)
    {
        if (s.Length - i < 8)
        {
            value = 0;
            return false;
        }

        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(s[i..]);
        if ((((v + 0x4646464646464646UL) | (v - 0x3030303030303030UL)) & 0x8080808080808080UL) != 0)
        {
            value = 0;
            return false;
        }

        v -= 0x3030303030303030UL;
        v = (v * 10) + (v >> 8);
        v = (((v & 0x000000FF000000FFUL) * 0x000F424000000064UL) + (((v >> 16) & 0x000000FF000000FFUL) * 0x0000271000000001UL)) >> 32;
        value = (uint)v;
        return true;
    }

    public static bool TryParseBoolean(ReadOnlySpan<byte> s, out bool value)
    {
        switch (s.Length)
        {
            case 1:
                value = s[0] is (byte)'t' or (byte)'T';
                return s[0] is (byte)'t' or (byte)'T' or (byte)'f' or (byte)'F';
            case 4:
                value = true;
                return s.SequenceEqual("true"u8) || s.SequenceEqual("True"u8) || s.SequenceEqual("TRUE"u8);
            case 5:
                value = false;
                return s.SequenceEqual("false"u8) || s.SequenceEqual("False"u8) || s.SequenceEqual("FALSE"u8);
            default:
                value = false;
                return false;
        }
    }

    /// <summary>An optional '-' and at least one decimal digit; leading zeros allowed.</summary>
    public static NumberStatus TryParseInt64(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        bool negative = s.Length > 0 && s[0] == (byte)'-';
        if (negative)
        {
            s = s[1..];
        }

        NumberStatus status = TryParseDigits(s, out ulong magnitude);
        if (status != NumberStatus.Ok)
        {
            return status;
        }

        if (negative)
        {
            if (magnitude > 1UL << 63)
            {
                return NumberStatus.OutOfRange;
            }

            value = unchecked(-(long)magnitude);
            return NumberStatus.Ok;
        }

        if (magnitude > long.MaxValue)
        {
            return NumberStatus.OutOfRange;
        }

        value = (long)magnitude;
        return NumberStatus.Ok;
    }

    /// <summary>At least one decimal digit; no sign.</summary>
    public static NumberStatus TryParseUInt64(ReadOnlySpan<byte> s, out ulong value) => TryParseDigits(s, out value);

    private static NumberStatus TryParseDigits(ReadOnlySpan<byte> s, out ulong value)
    {
        value = 0;
        if (s.IsEmpty)
        {
            return NumberStatus.Invalid;
        }

        ulong v = 0;
        bool overflow = false;
        int start = 0;
        while (v < 100_000_000_000UL && TryReadEightDigits(s, start, out uint eight))
        {
            v = (v * 100_000_000UL) + eight;
            start += 8;
        }

        foreach (byte b in s[start..])
        {
            uint d = (uint)(b - '0');
            if (d > 9)
            {
                return NumberStatus.Invalid;
            }

            if (v > (ulong.MaxValue - d) / 10)
            {
                overflow = true; // keep scanning: a later non-digit makes it a syntax error instead
            }
            else
            {
                v = (v * 10) + d;
            }
        }

        if (overflow)
        {
            return NumberStatus.OutOfRange;
        }

        value = v;
        return NumberStatus.Ok;
    }

    /// <summary>
    /// A decimal float: <c>-?(digits(.digits?)?|.digits)([eE][+-]?digits)?</c>. Correctly rounded; values
    /// beyond the double range are out of range (not infinity), values below it round to zero.
    /// </summary>
    public static NumberStatus TryParseDouble(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        int i = 0;
        bool negative = false;
        if (i < s.Length && s[i] == (byte)'-')
        {
            negative = true;
            i++;
        }

        ulong mantissa = 0;
        int significant = 0;
        int exponent = 0;
        bool truncated = false;
        int digitCount = 0;

        for (; i < s.Length; i++)
        {
            uint d = (uint)(s[i] - '0');
            if (d > 9)
            {
                break;
            }

            digitCount++;
            if (mantissa == 0 && d == 0)
            {
                continue;
            }

            if (significant < 19)
            {
                mantissa = (mantissa * 10) + d;
                significant++;
            }
            else
            {
                truncated = true;
                exponent++;
            }
        }

        if (i < s.Length && s[i] == (byte)'.')
        {
            i++;
            while (mantissa != 0 && significant <= 11 && TryReadEightDigits(s, i, out uint eight))
            {
                mantissa = (mantissa * 100_000_000UL) + eight;
                significant += 8;
                exponent -= 8;
                digitCount += 8;
                i += 8;
            }

            for (; i < s.Length; i++)
            {
                uint d = (uint)(s[i] - '0');
                if (d > 9)
                {
                    break;
                }

                digitCount++;
                if (mantissa == 0 && d == 0)
                {
                    exponent--;
                    continue;
                }

                if (significant < 19)
                {
                    mantissa = (mantissa * 10) + d;
                    significant++;
                    exponent--;
                }
                else
                {
                    truncated = true;
                }
            }
        }

        if (digitCount == 0)
        {
            return NumberStatus.Invalid;
        }

        if (i < s.Length && (s[i] | 0x20) == (byte)'e')
        {
            i++;
            bool expNegative = false;
            if (i < s.Length && s[i] is (byte)'-' or (byte)'+')
            {
                expNegative = s[i] == (byte)'-';
                i++;
            }

            int expDigits = 0;
            int e = 0;
            for (; i < s.Length; i++)
            {
                uint d = (uint)(s[i] - '0');
                if (d > 9)
                {
                    break;
                }

                expDigits++;
                if (e < 100_000)
                {
                    e = (e * 10) + (int)d;
                }
            }

            if (expDigits == 0)
            {
                return NumberStatus.Invalid;
            }

            exponent += expNegative ? -e : e;
        }

        if (i != s.Length)
        {
            return NumberStatus.Invalid;
        }

        // Clinger's fast path: an exact mantissa times or divided by an exact power of ten is one
        // correctly rounded operation. It covers most telemetry (up to 15 significant digits).
        if (!truncated && mantissa <= MaxExactMantissa && exponent >= -22 && exponent <= 22)
        {
            double m = mantissa;
            value = exponent >= 0 ? m * ExactPowersOfTen[exponent] : m / ExactPowersOfTen[-exponent];
        }
        else if (EiselLemire.TryCompute(mantissa, exponent, negative, out value)
            && (!truncated || (EiselLemire.TryCompute(mantissa + 1, exponent, negative, out double upper) && upper == value)))
        {
            // Digits beyond the 19th were dropped: the result is exact only when rounding the kept digits
            // down and up gives the same double.
            return NumberStatus.Ok;
        }
        else if (!double.TryParse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out value))
        {
            return NumberStatus.Invalid;
        }
        else if (double.IsInfinity(value))
        {
            value = 0;
            return NumberStatus.OutOfRange;
        }
        else
        {
            return NumberStatus.Ok; // sign already applied by double.TryParse
        }

        if (negative)
        {
            value = -value;
        }

        return NumberStatus.Ok;
    }
}
