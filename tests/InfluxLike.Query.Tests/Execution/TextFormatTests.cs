using System.Globalization;
using CsCheck;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Tests.Execution;

/// <summary>
/// The span formatters the CSV writer uses give the same text as the reference forms: RFC 3339 from .NET's own
/// calendar, and Go's shortest float without an exponent.
/// </summary>
public sealed class TextFormatTests
{
    // The reference: .NET's calendar for the date and time, the fraction trimmed of trailing zeros.
    private static string ReferenceTime(long ns)
    {
        long seconds = Math.DivRem(ns, 1_000_000_000, out long nanos);
        if (nanos < 0)
        {
            nanos += 1_000_000_000;
            seconds--;
        }

        string text = DateTime.UnixEpoch.AddSeconds(seconds).ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        return nanos == 0 ? text + "Z" : text + "." + nanos.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0') + "Z";
    }

    [Fact]
    public void Times_match_the_calendar_over_the_whole_range_of_nanoseconds()
    {
        Gen.Long.Sample(ns => Assert.Equal(ReferenceTime(ns), Formats.Time(ns)), iter: 200_000);
    }

    [Theory]
    [InlineData(0L, "1970-01-01T00:00:00Z")]
    [InlineData(-1L, "1969-12-31T23:59:59.999999999Z")]
    [InlineData(951_782_400_000_000_000L, "2000-02-29T00:00:00Z")]
    [InlineData(1_767_225_600_500_000_000L, "2026-01-01T00:00:00.5Z")]
    [InlineData(long.MaxValue, "2262-04-11T23:47:16.854775807Z")]
    [InlineData(long.MinValue, "1677-09-21T00:12:43.145224192Z")]
    public void Times_at_the_edges(long ns, string expected)
    {
        Assert.Equal(expected, Formats.Time(ns));
        Assert.Equal(ReferenceTime(ns), expected);
    }

    [Fact]
    public void Floats_formatted_in_place_match_the_string_form()
    {
        Span<char> buffer = stackalloc char[32];
        int inPlace = 0;
        foreach (double v in new[] { 0.0, -0.0, 1.5, 90.00000000000001, 1e21, 1e-7, 123456789.125, double.MaxValue, double.Epsilon, double.NaN, double.PositiveInfinity })
        {
            if (Formats.TryFormatFloat(v, buffer, out int written))
            {
                Assert.Equal(Formats.Float(v), new string(buffer[..written]));
                inPlace++;
            }
        }

        Assert.True(inPlace >= 5, $"only {inPlace} formatted in place");
        Gen.Double.Sample(v =>
        {
            Span<char> text = stackalloc char[32]; // Sample runs on several threads at once
            if (Formats.TryFormatFloat(v, text, out int written))
            {
                Assert.Equal(Formats.Float(v), new string(text[..written]));
            }
            else
            {
                // only where the shortest form needs an exponent (or there is no number) does the writer fall back
                Assert.True(!double.IsFinite(v) || v.ToString("R", CultureInfo.InvariantCulture).Contains('E', StringComparison.Ordinal), v.ToString("R", CultureInfo.InvariantCulture));
            }
        }, iter: 200_000);
    }
}
