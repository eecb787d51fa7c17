using System.Runtime.InteropServices;
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

/// <summary>The points of one series field in a time range, in time order (values as bit patterns; strings as UTF-8).</summary>
public sealed record SeriesFieldData(
    byte[] SeriesKey,
    string Measurement,
    IReadOnlyList<KeyValuePair<string, string>> Tags,
    string Field,
    FieldType Type,
    long[] Times,
    long[] Bits,
    byte[]?[] Strings)
{
    public double Float(int i) => BitConverter.Int64BitsToDouble(Bits[i]);
}

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
            var (times, bits, strings) = engine.Read(request.Bucket, key, Encoding.UTF8.GetBytes(field), request.Start, request.Stop - 1);
            if (times.Length > 0)
            {
                yield return new SeriesFieldData(key, measurement, tags, field, type, times, bits, strings);
            }
        }
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
                yield return new SeriesFieldData(key, measurement, tags, field, type, [edge.Time], [edge.Bits], [edge.String]);
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
    /// Per series field, the aggregate of each window of <paramref name="every"/> nanoseconds (shifted by
    /// <paramref name="offset"/>) that holds points, windows aligned to the Unix epoch as Flux aligns them.
    /// Strings support count, first and last only.
    /// </summary>
    public static IEnumerable<(SeriesFieldData Series, IReadOnlyList<WindowValue> Windows)> ReadWindowAggregate(
        StorageEngine engine, ReadRequest request, long every, long offset, WindowAggregate aggregate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(every, 0);
        foreach (SeriesFieldData data in ReadFilter(engine, request))
        {
            yield return (data, AggregateWindows(data, request.Start, request.Stop, every, offset, aggregate));
        }
    }

    /// <summary>True when <see cref="AggregateWindows"/> computes <paramref name="aggregate"/> for fields of <paramref name="type"/>.</summary>
    public static bool Supports(FieldType type, WindowAggregate aggregate) =>
        type != FieldType.String || aggregate is WindowAggregate.Count or WindowAggregate.First or WindowAggregate.Last;

    /// <summary>
    /// The windows of one series field holding points, each with its aggregate; bounds clipped to
    /// [<paramref name="start"/>, <paramref name="stop"/>).
    /// </summary>
    public static List<WindowValue> AggregateWindows(SeriesFieldData data, long start, long stop, long every, long offset, WindowAggregate aggregate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(every, 0);
        if (!Supports(data.Type, aggregate))
        {
            throw new NotSupportedException($"{aggregate} of string field \"{data.Field}\" is not defined");
        }

        long[] times = data.Times;
        // At most one window per point, and no more than the span of the points holds.
        long span = times.Length == 0 ? 0 : (long)Math.Min((ulong)(times[^1] - times[0]) / (ulong)every + 2, (ulong)times.Length);
        var windows = new List<WindowValue>((int)span);
        int i = 0;
        while (i < times.Length)
        {
            long windowStart = WindowStart(times[i], every, offset);
            long windowStop = windowStart + every;
            int j = i;
            while (j < times.Length && times[j] < windowStop)
            {
                j++;
            }

            windows.Add(Aggregate(data, i, j, Math.Max(windowStart, start), Math.Min(windowStop, stop), aggregate));
            i = j;
        }

        return windows;
    }

    /// <summary>The start of the window holding <paramref name="time"/> (floor, also before 1970).</summary>
    public static long WindowStart(long time, long every, long offset)
    {
        long shifted = time - offset;
        long start = shifted - (((shifted % every) + every) % every);
        return start + offset;
    }

    private static WindowValue Aggregate(SeriesFieldData d, int from, int to, long start, long stop, WindowAggregate aggregate)
    {
        long[] bits = d.Bits;
        switch (aggregate)
        {
            case WindowAggregate.Count:
                return new WindowValue(start, stop, to - from, FieldType.Integer);
            case WindowAggregate.First:
                return new WindowValue(start, stop, bits[from], d.Type);
            case WindowAggregate.Last:
                return new WindowValue(start, stop, bits[to - 1], d.Type);
        }

        if (d.Type == FieldType.Float)
        {
            ReadOnlySpan<double> values = MemoryMarshal.Cast<long, double>(bits.AsSpan(from, to - from));
            double acc = aggregate is WindowAggregate.Min or WindowAggregate.Max ? values[0] : 0;
            switch (aggregate)
            {
                case WindowAggregate.Min:
                    foreach (double v in values)
                    {
                        acc = Math.Min(acc, v);
                    }

                    break;
                case WindowAggregate.Max:
                    foreach (double v in values)
                    {
                        acc = Math.Max(acc, v);
                    }

                    break;
                default:
                    foreach (double v in values)
                    {
                        acc += v;
                    }

                    if (aggregate == WindowAggregate.Mean)
                    {
                        acc /= values.Length;
                    }

                    break;
            }

            return new WindowValue(start, stop, BitConverter.DoubleToInt64Bits(acc), FieldType.Float);
        }

        bool unsigned = d.Type == FieldType.Unsigned;
        if (aggregate == WindowAggregate.Mean)
        {
            double sum = 0;
            for (int k = from; k < to; k++)
            {
                sum += unsigned ? (ulong)bits[k] : bits[k];
            }

            return new WindowValue(start, stop, BitConverter.DoubleToInt64Bits(sum / (to - from)), FieldType.Float);
        }

        // Integers, unsigned and booleans (as 0/1): sum wraps as Go's does; a boolean sum is an integer.
        long best = bits[from];
        long total = 0;
        for (int k = from; k < to; k++)
        {
            long v = bits[k];
            total = unchecked(total + v);
            int order = unsigned ? ((ulong)v).CompareTo((ulong)best) : v.CompareTo(best);
            if ((aggregate == WindowAggregate.Min && order < 0) || (aggregate == WindowAggregate.Max && order > 0))
            {
                best = v;
            }
        }

        return aggregate == WindowAggregate.Sum
            ? new WindowValue(start, stop, total, d.Type == FieldType.Boolean ? FieldType.Integer : d.Type)
            : new WindowValue(start, stop, best, d.Type);
    }
}
