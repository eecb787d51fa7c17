using System.Text;
using System.Text.RegularExpressions;

namespace InfluxLike.Storage.Index;

/// <summary>
/// The in-memory part of a series index: the series added since the mapped file was written.
/// Ids only grow, so appending keeps every postings list sorted. Guarded by the owner's lock.
/// </summary>
internal sealed class MemoryIndex : IIndexSource
{
    private readonly Dictionary<string, Measurement> _measurements = new(StringComparer.Ordinal);
    private readonly List<ulong> _all = [];

    public int Count => _all.Count;

    public void Add(ulong id, ReadOnlySpan<byte> key)
    {
        var (measurementBytes, tags) = SeriesKey.Parse(key);
        string name = Encoding.UTF8.GetString(measurementBytes);
        if (!_measurements.TryGetValue(name, out Measurement? m))
        {
            _measurements[name] = m = new Measurement();
        }

        Append(m.Series, id);
        Append(_all, id);
        foreach (var (k, v) in tags)
        {
            string tagKey = Encoding.UTF8.GetString(k);
            if (!m.Tags.TryGetValue(tagKey, out TagKey? entry))
            {
                m.Tags[tagKey] = entry = new TagKey();
            }

            Append(entry.Series, id);
            string tagValue = Encoding.UTF8.GetString(v);
            if (!entry.Values.TryGetValue(tagValue, out List<ulong>? list))
            {
                entry.Values[tagValue] = list = [];
            }

            Append(list, id);
        }
    }

    public void Remove(HashSet<ulong> gone)
    {
        _all.RemoveAll(gone.Contains);
        foreach (Measurement m in _measurements.Values)
        {
            m.Series.RemoveAll(gone.Contains);
            foreach (TagKey t in m.Tags.Values)
            {
                t.Series.RemoveAll(gone.Contains);
                foreach (List<ulong> list in t.Values.Values)
                {
                    list.RemoveAll(gone.Contains);
                }
            }
        }
    }

    public ulong[] All() => [.. _all];

    public IEnumerable<string> MeasurementNames() => _measurements.Where(m => m.Value.Series.Count > 0).Select(m => m.Key);

    public ulong[] MeasurementSeries(string measurement) => _measurements.TryGetValue(measurement, out Measurement? m) ? [.. m.Series] : [];

    public IEnumerable<string> TagKeys(string measurement) =>
        _measurements.TryGetValue(measurement, out Measurement? m) ? m.Tags.Where(t => t.Value.Series.Count > 0).Select(t => t.Key) : [];

    public ulong[] TagKeySeries(string measurement, string key) =>
        _measurements.TryGetValue(measurement, out Measurement? m) && m.Tags.TryGetValue(key, out TagKey? t) ? [.. t.Series] : [];

    public IEnumerable<string> TagValues(string measurement, string key) =>
        _measurements.TryGetValue(measurement, out Measurement? m) && m.Tags.TryGetValue(key, out TagKey? t)
            ? t.Values.Where(v => v.Value.Count > 0).Select(v => v.Key)
            : [];

    public ulong[] ValueSeries(string measurement, string key, string value) =>
        _measurements.TryGetValue(measurement, out Measurement? m) && m.Tags.TryGetValue(key, out TagKey? t) && t.Values.TryGetValue(value, out List<ulong>? l)
            ? [.. l]
            : [];

    public IEnumerable<ulong[]> ValuesMatching(string measurement, string key, Regex pattern)
    {
        if (_measurements.TryGetValue(measurement, out Measurement? m) && m.Tags.TryGetValue(key, out TagKey? t))
        {
            string prefix = RegexPrefix.Literal(pattern) ?? "";
            foreach (var (value, list) in t.Values)
            {
                if (list.Count > 0 && value.StartsWith(prefix, StringComparison.Ordinal) && pattern.IsMatch(value))
                {
                    yield return [.. list];
                }
            }
        }
    }

    // A re-added series (deleted before) gets a larger id, so appending still keeps order; insert otherwise.
    private static void Append(List<ulong> list, ulong id)
    {
        if (list.Count == 0 || list[^1] < id)
        {
            list.Add(id);
        }
        else if (list.BinarySearch(id) is int at and < 0)
        {
            list.Insert(~at, id);
        }
    }

    private sealed class Measurement
    {
        public List<ulong> Series { get; } = [];

        public Dictionary<string, TagKey> Tags { get; } = new(StringComparer.Ordinal);
    }

    private sealed class TagKey
    {
        public List<ulong> Series { get; } = [];

        public Dictionary<string, List<ulong>> Values { get; } = new(StringComparer.Ordinal);
    }
}

/// <summary>Several index parts seen as one, without deleted series: what a merge writes.</summary>
internal sealed class MergedSource(IReadOnlyList<IIndexSource> parts, Func<ulong, bool> isDeleted) : IIndexSource
{
    public ulong[] All() => Live(Postings.UnionAll(parts.Select(p => p.All())));

    public IEnumerable<string> MeasurementNames() => parts.SelectMany(p => p.MeasurementNames()).Distinct(StringComparer.Ordinal);

    public ulong[] MeasurementSeries(string measurement) => Live(Postings.UnionAll(parts.Select(p => p.MeasurementSeries(measurement))));

    public IEnumerable<string> TagKeys(string measurement) => parts.SelectMany(p => p.TagKeys(measurement)).Distinct(StringComparer.Ordinal);

    public ulong[] TagKeySeries(string measurement, string key) => Live(Postings.UnionAll(parts.Select(p => p.TagKeySeries(measurement, key))));

    public IEnumerable<string> TagValues(string measurement, string key) => parts.SelectMany(p => p.TagValues(measurement, key)).Distinct(StringComparer.Ordinal);

    public ulong[] ValueSeries(string measurement, string key, string value) => Live(Postings.UnionAll(parts.Select(p => p.ValueSeries(measurement, key, value))));

    public IEnumerable<ulong[]> ValuesMatching(string measurement, string key, Regex pattern) =>
        parts.SelectMany(p => p.ValuesMatching(measurement, key, pattern)).Select(Live);

    private ulong[] Live(ulong[] ids) => Array.FindAll(ids, id => !isDeleted(id));
}
