using System.Text.RegularExpressions;

namespace InfluxLike.Storage.Index;

/// <summary>
/// A condition on series (measurement and tags), evaluated by <see cref="SeriesIndex"/> to a set of series
/// ids. A tag a series lacks compares as the empty string, as in InfluxDB's storage engine: so
/// <c>host != "a"</c> and <c>host !~ /a/</c> include series without a host tag, and <c>host == ""</c> finds them.
/// </summary>
public abstract record SeriesPredicate
{
    public static readonly SeriesPredicate All = new AllSeries();

    public static SeriesPredicate operator &(SeriesPredicate a, SeriesPredicate b) => new And(a, b);

    public static SeriesPredicate operator |(SeriesPredicate a, SeriesPredicate b) => new Or(a, b);

    public static SeriesPredicate operator !(SeriesPredicate a) => new Not(a);

    /// <summary>Direct evaluation on one series' measurement and tags (the reference the index must agree with).</summary>
    public abstract bool Matches(string measurement, IReadOnlyDictionary<string, string> tags);

    public sealed record AllSeries : SeriesPredicate
    {
        public override bool Matches(string measurement, IReadOnlyDictionary<string, string> tags) => true;
    }

    public sealed record MeasurementEquals(string Name) : SeriesPredicate
    {
        public override bool Matches(string measurement, IReadOnlyDictionary<string, string> tags) => measurement == Name;
    }

    public sealed record MeasurementMatches(Regex Pattern) : SeriesPredicate
    {
        public override bool Matches(string measurement, IReadOnlyDictionary<string, string> tags) => Pattern.IsMatch(measurement);
    }

    public sealed record TagEquals(string Key, string Value) : SeriesPredicate
    {
        public override bool Matches(string measurement, IReadOnlyDictionary<string, string> tags) => tags.GetValueOrDefault(Key, "") == Value;
    }

    public sealed record TagNotEquals(string Key, string Value) : SeriesPredicate
    {
        public override bool Matches(string measurement, IReadOnlyDictionary<string, string> tags) => tags.GetValueOrDefault(Key, "") != Value;
    }

    public sealed record TagMatches(string Key, Regex Pattern) : SeriesPredicate
    {
        public override bool Matches(string measurement, IReadOnlyDictionary<string, string> tags) => Pattern.IsMatch(tags.GetValueOrDefault(Key, ""));
    }

    public sealed record TagNotMatches(string Key, Regex Pattern) : SeriesPredicate
    {
        public override bool Matches(string measurement, IReadOnlyDictionary<string, string> tags) => !Pattern.IsMatch(tags.GetValueOrDefault(Key, ""));
    }

    public sealed record TagExists(string Key) : SeriesPredicate
    {
        public override bool Matches(string measurement, IReadOnlyDictionary<string, string> tags) => tags.ContainsKey(Key);
    }

    public sealed record And(SeriesPredicate Left, SeriesPredicate Right) : SeriesPredicate
    {
        public override bool Matches(string measurement, IReadOnlyDictionary<string, string> tags) => Left.Matches(measurement, tags) && Right.Matches(measurement, tags);
    }

    public sealed record Or(SeriesPredicate Left, SeriesPredicate Right) : SeriesPredicate
    {
        public override bool Matches(string measurement, IReadOnlyDictionary<string, string> tags) => Left.Matches(measurement, tags) || Right.Matches(measurement, tags);
    }

    public sealed record Not(SeriesPredicate Inner) : SeriesPredicate
    {
        public override bool Matches(string measurement, IReadOnlyDictionary<string, string> tags) => !Inner.Matches(measurement, tags);
    }
}
