using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Engine;
using InfluxLike.Storage.Index;

namespace InfluxLike.Storage.Reads;

/// <summary>
/// What to read: a bucket, a half-open time range [start, stop), a series predicate for the index, optionally some
/// fields, and optionally an exact test of each series field (measurement, tags, field) applied before reading points.
/// </summary>
public sealed record ReadRequest(
    BucketInfo Bucket,
    long Start,
    long Stop,
    SeriesPredicate Predicate,
    IReadOnlyCollection<string>? Fields = null,
    Func<string, IReadOnlyList<KeyValuePair<string, string>>, string, bool>? Accept = null);

/// <summary>One series field: its series key, measurement, tags (sorted by key), field and the field's type.</summary>
public record SeriesField(
    byte[] SeriesKey,
    string Measurement,
    IReadOnlyList<KeyValuePair<string, string>> Tags,
    string Field,
    FieldType Type);

/// <summary>
/// The points of one series field in a time range, in time order: values as bit patterns; a string field's values as
/// UTF-8 in <see cref="Strings"/>, one per point (empty for other types).
/// </summary>
public sealed record SeriesFieldData(
    byte[] SeriesKey,
    string Measurement,
    IReadOnlyList<KeyValuePair<string, string>> Tags,
    string Field,
    FieldType Type,
    long[] Times,
    long[] Bits,
    byte[]?[] Strings) : SeriesField(SeriesKey, Measurement, Tags, Field, Type)
{
    public double Float(int i) => BitConverter.Int64BitsToDouble(Bits[i]);
}

/// <summary>One series field's windows holding points in a time range, each with its aggregate.</summary>
public sealed record SeriesFieldWindows(SeriesField Series, List<WindowValue> Windows);

/// <summary>Aggregates <see cref="StorageReader.ReadWindowAggregate"/> computes in storage.</summary>
public enum WindowAggregate
{
    Count,
    Sum,
    Min,
    Max,
    Mean,
    First,
    Last,
}

/// <summary>One window's aggregate: the window bounds and the value (an integer count, else the field's type; mean is a float).</summary>
public readonly record struct WindowValue(long Start, long Stop, long Bits, FieldType Type);

/// <summary>
/// The read API the query engine uses (it knows nothing else of storage): series selection through the
/// index, points merged from TSM files and caches with tombstones applied, and windowed aggregates.
/// </summary>
/// <remarks>
/// This first version materialises each series field's points for the range before returning it; the
/// streaming cursor over blocks, and aggregation from block metadata, come with the query engine.
/// </remarks>
public static class StorageReader
{
    /// <summary>Every series field matching the request that has points in the range, series in id order, fields by name.</summary>
    public static IEnumerable<SeriesFieldData> ReadFilter(StorageEngine engine, ReadRequest request)
    {
        foreach (var (key, measurement, tags, field, type) in MatchingFields(engine, request))
        {
            if (Read(engine, request, new SeriesField(key, measurement, tags, field, type)) is { } data)
            {
                yield return data;
            }
        }
    }

    /// <summary>Every series field matching the request, whether or not it has points in the range (see <see cref="Read"/>).</summary>
    public static IEnumerable<SeriesField> SeriesFields(StorageEngine engine, ReadRequest request)
    {
        foreach (var (key, measurement, tags, field, type) in MatchingFields(engine, request))
        {
            yield return new SeriesField(key, measurement, tags, field, type);
        }
    }

    /// <summary>The points of one series field in the request's range, or null if it has none there.</summary>
    public static SeriesFieldData? Read(StorageEngine engine, ReadRequest request, SeriesField series)
    {
        var (times, bits, strings) = engine.Read(request.Bucket, series.SeriesKey, Encoding.UTF8.GetBytes(series.Field), request.Start, request.Stop - 1);
        return times.Length == 0 ? null
            : new SeriesFieldData(series.SeriesKey, series.Measurement, series.Tags, series.Field, series.Type, times, bits, strings);
    }

    /// <summary>
    /// The windows of one series field holding points in the request's range, each with its aggregate (see
    /// <see cref="WindowAccumulator"/>), computed block by block as storage decodes them: the range's points
    /// are never gathered. Empty when the series field has no points in the range.
    /// </summary>
    public static List<WindowValue> AggregateWindows(StorageEngine engine, ReadRequest request, SeriesField series, long every, long offset, WindowAggregate aggregate)
    {
        var sink = new WindowAccumulator(request.Start, request.Stop, every, offset, aggregate, series.Type);
        if (request.Stop > request.Start)
        {
            engine.Aggregate(request.Bucket, series.SeriesKey, Encoding.UTF8.GetBytes(series.Field), request.Start, request.Stop - 1, sink);
        }

        return sink.Finish();
    }

    // The series fields the request selects (index predicate, field list, exact test), series in id order.
    private static IEnumerable<(byte[] Key, string Measurement, KeyValuePair<string, string>[] Tags, string Field, FieldType Type)> MatchingFields(StorageEngine engine, ReadRequest request)
    {
        if (request.Stop <= request.Start)
        {
            yield break;
        }

        SeriesIndex index = engine.GetIndex(request.Bucket);
        foreach (ulong id in index.Find(request.Predicate))
        {
            byte[] key = index.GetSeriesKey(id).ToArray();
            var (measurementBytes, tagBytes) = SeriesKey.Parse(key);
            string measurement = Encoding.UTF8.GetString(measurementBytes);
            KeyValuePair<string, string>[] tags = [.. tagBytes.Select(t => new KeyValuePair<string, string>(Encoding.UTF8.GetString(t.Key), Encoding.UTF8.GetString(t.Value)))];
            foreach (var (field, type) in index.FieldKeys(measurement))
            {
                if ((request.Fields is null || request.Fields.Contains(field)) && (request.Accept is null || request.Accept(measurement, tags, field)))
                {
                    yield return (key, measurement, tags, field, type);
                }
            }
        }
    }

    /// <summary>
    /// Every series field matching the request that has points in the range, each with only its first (or last)
    /// point: what first() and last() select, answered from the edge blocks without reading the range.
    /// </summary>
    public static IEnumerable<SeriesFieldData> ReadSelector(StorageEngine engine, ReadRequest request, bool last)
    {
        foreach (var (key, measurement, tags, field, type) in MatchingFields(engine, request))
        {
            var edge = engine.ReadEdge(request.Bucket, key, Encoding.UTF8.GetBytes(field), request.Start, request.Stop - 1, last);
            if (edge.Found)
            {
                yield return new SeriesFieldData(key, measurement, tags, field, type, [edge.Time], [edge.Bits], type == FieldType.String ? [edge.String] : []);
            }
        }
    }

    /// <summary>Measurements with points in [start, stop) among the series matching the predicate.</summary>
    public static IReadOnlyList<string> Measurements(StorageEngine engine, ReadRequest request) =>
        [.. SeriesWithData(engine, request).Select(d => d.Measurement).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>Tag keys of the series with points in [start, stop) matching the predicate.</summary>
    public static IReadOnlyList<string> TagKeys(StorageEngine engine, ReadRequest request) =>
        [.. SeriesWithData(engine, request).SelectMany(d => d.Tags.Select(t => t.Key)).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>Values of a tag key among the series with points in [start, stop) matching the predicate.</summary>
    public static IReadOnlyList<string> TagValues(StorageEngine engine, ReadRequest request, string key) =>
        [.. SeriesWithData(engine, request).SelectMany(d => d.Tags.Where(t => t.Key == key).Select(t => t.Value)).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>Field keys, with their types, that have points in [start, stop) among the matching series.</summary>
    public static IReadOnlyList<(string Field, FieldType Type)> FieldKeys(StorageEngine engine, ReadRequest request) =>
        [.. ReadFilter(engine, request).Select(d => (d.Field, d.Type)).Distinct().OrderBy(f => f.Field, StringComparer.Ordinal)];

    // One entry per series that has any point in the range (the first field found).
    private static IEnumerable<SeriesFieldData> SeriesWithData(StorageEngine engine, ReadRequest request) =>
        ReadFilter(engine, request).DistinctBy(d => Convert.ToBase64String(d.SeriesKey));

    /// <summary>
    /// Per series field with points in the range, the aggregate of each window of <paramref name="every"/>
    /// nanoseconds (shifted by <paramref name="offset"/>) that holds points, windows aligned to the Unix epoch as
    /// Flux aligns them. Strings support count only.
    /// </summary>
    public static IEnumerable<SeriesFieldWindows> ReadWindowAggregate(
        StorageEngine engine, ReadRequest request, long every, long offset, WindowAggregate aggregate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(every, 0);
        foreach (SeriesField series in SeriesFields(engine, request))
        {
            if (!Supports(series.Type, aggregate) && Read(engine, request, series) is null)
            {
                continue; // a string field without points in the range has nothing to refuse
            }

            List<WindowValue> windows = AggregateWindows(engine, request, series, every, offset, aggregate);
            if (windows.Count > 0)
            {
                yield return new SeriesFieldWindows(series, windows);
            }
        }
    }

    /// <summary>True when storage computes <paramref name="aggregate"/> for fields of <paramref name="type"/>.</summary>
    public static bool Supports(FieldType type, WindowAggregate aggregate) =>
        type != FieldType.String || aggregate is WindowAggregate.Count;

    /// <summary>
    /// The windows of one series field's points holding points, each with its aggregate; bounds clipped to
    /// [<paramref name="start"/>, <paramref name="stop"/>).
    /// </summary>
    public static List<WindowValue> AggregateWindows(SeriesFieldData data, long start, long stop, long every, long offset, WindowAggregate aggregate)
    {
        var sink = new WindowAccumulator(start, stop, every, offset, aggregate, data.Type);
        sink.Add(data.Times, data.Bits);
        return sink.Finish();
    }

    /// <summary>The start of the window holding <paramref name="time"/> (floor, also before 1970).</summary>
    public static long WindowStart(long time, long every, long offset)
    {
        long shifted = time - offset;
        long start = shifted - (((shifted % every) + every) % every);
        return start + offset;
    }
}
