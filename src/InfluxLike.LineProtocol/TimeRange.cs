namespace InfluxLike.LineProtocol;

/// <summary>The timestamps a point may carry, in nanoseconds since the Unix epoch.</summary>
/// <remarks>
/// InfluxDB reserves <see cref="long.MinValue"/> and <see cref="long.MaxValue"/> (and MinValue + 1) as
/// sentinels for open time ranges, so stored points live strictly inside; we keep the same bounds so data
/// moves between the two without surprises.
/// </remarks>
public static class TimeRange
{
    public const long MinNanoseconds = long.MinValue + 2;
    public const long MaxNanoseconds = long.MaxValue - 1;
}
