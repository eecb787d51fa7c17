namespace InfluxLike.LineProtocol;

/// <summary>The unit of the timestamps in a line-protocol body.</summary>
public enum Precision : byte
{
    Nanoseconds = 0,
    Microseconds = 1,
    Milliseconds = 2,
    Seconds = 3,
    // Only InfluxDB 1.x's /write accepts these two.
    Minutes = 4,
    Hours = 5,
}

public static class PrecisionExtensions
{
    /// <summary>Nanoseconds in one unit of <paramref name="precision"/>.</summary>
    public static long NanosecondsPerUnit(this Precision precision) => precision switch
    {
        Precision.Nanoseconds => 1L,
        Precision.Microseconds => 1_000L,
        Precision.Milliseconds => 1_000_000L,
        Precision.Seconds => 1_000_000_000L,
        Precision.Minutes => 60_000_000_000L,
        Precision.Hours => 3_600_000_000_000L,
        _ => throw new ArgumentOutOfRangeException(nameof(precision)),
    };

    /// <summary>
    /// Parses a precision as the InfluxDB APIs spell it: v2 takes <c>ns us ms s</c>; v1 also takes
    /// <c>n u µ m h</c> (minutes and hours), and <c>rfc3339</c> is left to the caller.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Precision precision)
    {
        switch (text)
        {
            case "ns" or "n" or "":
                precision = Precision.Nanoseconds; return true;
            case "us" or "u" or "µ" or "µs":
                precision = Precision.Microseconds; return true;
            case "ms":
                precision = Precision.Milliseconds; return true;
            case "s":
                precision = Precision.Seconds; return true;
            case "m":
                precision = Precision.Minutes; return true;
            case "h":
                precision = Precision.Hours; return true;
            default:
                precision = default; return false;
        }
    }

    public static string ToShortString(this Precision precision) => precision switch
    {
        Precision.Nanoseconds => "ns",
        Precision.Microseconds => "us",
        Precision.Milliseconds => "ms",
        Precision.Seconds => "s",
        Precision.Minutes => "m",
        Precision.Hours => "h",
        _ => throw new ArgumentOutOfRangeException(nameof(precision)),
    };
}
