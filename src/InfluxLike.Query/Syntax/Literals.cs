using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using InfluxLike.Query.Ast;

namespace InfluxLike.Query.Syntax;

/// <summary>Decoding of literal token text the lexer has already shaped (digits, units, escapes).</summary>
internal static class Literals
{
    private static readonly string[] DurationUnits = ["mo", "ms", "us", "\u00B5s", "ns", "y", "w", "d", "h", "m", "s"];

    /// <summary>Splits 1h30m into (1, h), (30, m); false when a magnitude overflows a long.</summary>
    public static bool TryParseDuration(string text, out ImmutableArray<DurationPart> parts)
    {
        var result = ImmutableArray.CreateBuilder<DurationPart>();
        var i = 0;
        while (i < text.Length)
        {
            var digitsStart = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            if (!long.TryParse(text.AsSpan(digitsStart, i - digitsStart), NumberStyles.None, CultureInfo.InvariantCulture, out var magnitude))
            {
                parts = [];
                return false;
            }

            // Two-letter units first: "mo" and "ms" must not be read as "m".
            var unit = DurationUnits[0];
            foreach (var candidate in DurationUnits)
            {
                if (text.AsSpan(i).StartsWith(candidate, StringComparison.Ordinal))
                {
                    unit = candidate;
                    break;
                }
            }

            result.Add(new DurationPart(magnitude, unit));
            i += unit.Length;
        }

        parts = result.ToImmutable();
        return true;
    }

    /// <summary>
    /// RFC 3339 with up to 9 fractional digits, or a bare date (midnight UTC), to Unix nanoseconds.
    /// The lexer guarantees the shape; this checks the calendar and the int64 nanosecond range.
    /// </summary>
    public static bool TryParseDateTime(string text, out long unixNanoseconds, out string problem)
    {
        unixNanoseconds = 0;
        var fractionStart = text.IndexOf('.');
        var zoneStart = text.Length > 10 ? text.IndexOfAny(['Z', '+', '-'], 19) : -1;
        var secondsEnd = fractionStart >= 0 ? fractionStart : zoneStart >= 0 ? zoneStart : text.Length;
        var fraction = fractionStart >= 0 ? text[(fractionStart + 1)..zoneStart] : "";
        if (fraction.Length > 9)
        {
            problem = "at most 9 fractional second digits (nanoseconds) are allowed";
            return false;
        }

        var zone = zoneStart >= 0 ? text[zoneStart..] : "Z";
        var withoutFraction = text[..secondsEnd] + (text.Length > 10 ? "" : "T00:00:00") + (zone == "Z" ? "+00:00" : zone);
        if (!DateTimeOffset.TryParseExact(withoutFraction, "yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
        {
            problem = "the date or time of day does not exist";
            return false;
        }

        var nanos = (Int128)(time.UtcTicks - DateTime.UnixEpoch.Ticks) * 100 + long.Parse(fraction.PadRight(9, '0'), CultureInfo.InvariantCulture);
        if (nanos < long.MinValue || nanos > long.MaxValue)
        {
            problem = "times must lie between 1677-09-21 and 2262-04-11 (nanoseconds since 1970 in 64 bits)";
            return false;
        }

        unixNanoseconds = (long)nanos;
        problem = "";
        return true;
    }

    /// <summary>Flux string escapes: \" \\ \$ \n \r \t and \xHH bytes (UTF-8 sequences).</summary>
    public static void UnescapeString(string text, StringBuilder into)
    {
        if (!text.Contains('\\', StringComparison.Ordinal))
        {
            into.Append(text);
            return;
        }

        var bytes = new List<byte>();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c != '\\' || i + 1 >= text.Length)
            {
                FlushBytes();
                into.Append(c);
                continue;
            }

            var next = text[++i];
            if (next == 'x' && i + 2 < text.Length && byte.TryParse(text.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                bytes.Add(b);
                i += 2;
                continue;
            }

            FlushBytes();
            into.Append(next switch
            {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                _ => next,
            });
        }

        FlushBytes();

        void FlushBytes()
        {
            if (bytes.Count > 0)
            {
                into.Append(Encoding.UTF8.GetString([.. bytes]));
                bytes.Clear();
            }
        }
    }

    /// <summary>Only \/ is the literal's own escape; every other backslash belongs to the pattern.</summary>
    public static string UnescapeRegex(ReadOnlySpan<char> text) => text.ToString().Replace("\\/", "/", StringComparison.Ordinal);
}
