using System.Text;
using InfluxLike.LineProtocol;

namespace InfluxLike.Storage.Index;

/// <summary>Settings of a bucket's series index.</summary>
public sealed record SeriesIndexOptions
{
    /// <summary>Name used in error messages.</summary>
    public string BucketName { get; init; } = "";

    /// <summary>Most series the bucket may hold; 0 means no limit.</summary>
    public long MaxSeries { get; init; }
}

/// <summary>A write would create more series than the bucket allows. Nothing of the series was stored.</summary>
public sealed class SeriesLimitExceededException : Exception
{
    public SeriesLimitExceededException(string bucket, long limit)
        : base($"bucket \"{bucket}\" has reached its limit of {limit} series; new series are rejected (existing ones still accept points)")
    {
        Bucket = bucket;
        Limit = limit;
    }

    public string Bucket { get; }

    public long Limit { get; }
}

/// <summary>
/// The inverted index of a bucket's series: measurement → tag key → tag value → series ids, plus the
/// field keys of each measurement with their types. Answers series predicates and schema questions.
/// </summary>
/// <remarks>
/// This version keeps the inverted index in memory and rebuilds it at start-up from the series file (not
/// from TSM data); the persisted, memory-mapped index files of issue 4 replace the rebuild.
/// Writers take a write lock only when a series is new; queries share a read lock.
/// </remarks>
public sealed class SeriesIndex : IDisposable
{
    private const string FieldsFileName = "fields.log";

    private readonly SeriesIndexOptions _options;
    private readonly SeriesFile _series;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly SortedDictionary<string, MeasurementEntry> _measurements = new(StringComparer.Ordinal);
    private readonly string _fieldsPath;
    private List<ulong> _all = [];

    private SeriesIndex(string directory, SeriesIndexOptions options, SeriesFile series)
    {
        _options = options;
        _series = series;
        _fieldsPath = Path.Combine(directory, FieldsFileName);
    }

    public long SeriesCount => _series.Count;

    /// <summary>Opens (or creates) the index in <paramref name="directory"/>.</summary>
    public static SeriesIndex Open(string directory, SeriesIndexOptions? options = null)
    {
        SeriesFile series = SeriesFile.Open(directory);
        var index = new SeriesIndex(directory, options ?? new SeriesIndexOptions(), series);
        for (ulong id = 1; id <= series.MaxId; id++)
        {
            if (!series.IsDeleted(id))
            {
                index.AddToIndex(id, series.GetKey(id));
            }
        }

        index.LoadFields();
        return index;
    }

    /// <summary>The id of a series, adding it when new. Throws <see cref="SeriesLimitExceededException"/> past the limit.</summary>
    public ulong GetOrAddSeries(ReadOnlySpan<byte> seriesKey)
    {
        if (_series.TryGetId(seriesKey, out ulong id))
        {
            return id;
        }

        _lock.EnterWriteLock();
        try
        {
            if (_series.TryGetId(seriesKey, out id))
            {
                return id;
            }

            if (_options.MaxSeries > 0 && _series.Count >= _options.MaxSeries)
            {
                throw new SeriesLimitExceededException(_options.BucketName, _options.MaxSeries);
            }

            id = _series.GetOrAdd(seriesKey, out _);
            AddToIndex(id, seriesKey);
            return id;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public bool TryGetSeriesId(ReadOnlySpan<byte> seriesKey, out ulong id) => _series.TryGetId(seriesKey, out id);

    public ReadOnlySpan<byte> GetSeriesKey(ulong id) => _series.GetKey(id);

    /// <summary>Records a field's type for its measurement; returns the type already known (which wins) or the new one.</summary>
    public FieldType GetOrAddField(string measurement, string field, FieldType type)
    {
        _lock.EnterUpgradeableReadLock();
        try
        {
            if (_measurements.TryGetValue(measurement, out MeasurementEntry? m) && m.Fields.TryGetValue(field, out FieldType known))
            {
                return known;
            }

            _lock.EnterWriteLock();
            try
            {
                m ??= GetMeasurement(measurement);
                m.Fields[field] = type;
                AppendField(measurement, field, type);
                return type;
            }
            finally
            {
                _lock.ExitWriteLock();
            }
        }
        finally
        {
            _lock.ExitUpgradeableReadLock();
        }
    }

    /// <summary>Series ids matching <paramref name="predicate"/>, ascending.</summary>
    public ulong[] Find(SeriesPredicate predicate)
    {
        _lock.EnterReadLock();
        try
        {
            return Evaluate(predicate);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public IReadOnlyList<string> Measurements(SeriesPredicate? predicate = null) => Schema(predicate, (ids, result) =>
    {
        foreach (var (name, m) in _measurements)
        {
            if (Overlaps(m.Series, ids))
            {
                result.Add(name);
            }
        }
    });

    public IReadOnlyList<string> TagKeys(SeriesPredicate? predicate = null) => Schema(predicate, (ids, result) =>
    {
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (MeasurementEntry m in _measurements.Values)
        {
            foreach (var (key, entry) in m.Tags)
            {
                if (!keys.Contains(key) && Overlaps(entry.Series, ids))
                {
                    keys.Add(key);
                }
            }
        }

        result.AddRange(keys);
    });

    public IReadOnlyList<string> TagValues(string key, SeriesPredicate? predicate = null) => Schema(predicate, (ids, result) =>
    {
        var values = new SortedSet<string>(StringComparer.Ordinal);
        foreach (MeasurementEntry m in _measurements.Values)
        {
            if (m.Tags.TryGetValue(key, out TagKeyEntry? entry))
            {
                foreach (var (value, series) in entry.Values)
                {
                    if (!values.Contains(value) && Overlaps(series, ids))
                    {
                        values.Add(value);
                    }
                }
            }
        }

        result.AddRange(values);
    });

    public IReadOnlyList<(string Field, FieldType Type)> FieldKeys(string measurement)
    {
        _lock.EnterReadLock();
        try
        {
            return _measurements.TryGetValue(measurement, out MeasurementEntry? m)
                ? [.. m.Fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => (f.Key, f.Value))]
                : [];
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Exact number of series, in the bucket or in one measurement.</summary>
    public long Cardinality(string? measurement = null)
    {
        _lock.EnterReadLock();
        try
        {
            return measurement is null ? _all.Count : _measurements.TryGetValue(measurement, out MeasurementEntry? m) ? m.Series.Count : 0;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Removes series (when their data is gone), durably; their ids are never reused.</summary>
    public void DeleteSeries(IReadOnlyCollection<ulong> ids)
    {
        _lock.EnterWriteLock();
        try
        {
            _series.Delete(ids);
            _series.Flush();
            var gone = new HashSet<ulong>(ids);
            _all.RemoveAll(gone.Contains);
            foreach (MeasurementEntry m in _measurements.Values)
            {
                m.Series.RemoveAll(gone.Contains);
                foreach (TagKeyEntry t in m.Tags.Values)
                {
                    t.Series.RemoveAll(gone.Contains);
                    foreach (List<ulong> list in t.Values.Values)
                    {
                        list.RemoveAll(gone.Contains);
                    }
                }
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Makes new series durable.</summary>
    public void Flush() => _series.Flush();

    public void Dispose()
    {
        _series.Dispose();
        _lock.Dispose();
    }

    private IReadOnlyList<string> Schema(SeriesPredicate? predicate, Action<ulong[], List<string>> collect)
    {
        _lock.EnterReadLock();
        try
        {
            ulong[] ids = Evaluate(predicate ?? SeriesPredicate.All);
            var result = new List<string>();
            if (ids.Length > 0)
            {
                collect(ids, result);
            }

            return result;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private static bool Overlaps(List<ulong> sorted, ulong[] ids)
    {
        // Walk the smaller side, binary search the larger.
        if (sorted.Count <= ids.Length)
        {
            foreach (ulong id in sorted)
            {
                if (Array.BinarySearch(ids, id) >= 0)
                {
                    return true;
                }
            }

            return false;
        }

        foreach (ulong id in ids)
        {
            if (sorted.BinarySearch(id) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    // Under the read or write lock.
    private ulong[] Evaluate(SeriesPredicate predicate) => predicate switch
    {
        SeriesPredicate.AllSeries => [.. _all],
        SeriesPredicate.MeasurementEquals m => _measurements.TryGetValue(m.Name, out MeasurementEntry? e) ? [.. e.Series] : [],
        SeriesPredicate.MeasurementMatches m => Postings.UnionAll(_measurements.Where(kv => m.Pattern.IsMatch(kv.Key)).Select(kv => kv.Value.Series.ToArray())),
        SeriesPredicate.TagEquals t when t.Value.Length == 0 => Postings.Except([.. _all], Evaluate(new SeriesPredicate.TagExists(t.Key))),
        SeriesPredicate.TagEquals t => Postings.UnionAll(_measurements.Values
            .Select(m => m.Tags.TryGetValue(t.Key, out TagKeyEntry? k) && k.Values.TryGetValue(t.Value, out List<ulong>? l) ? l.ToArray() : [])),
        SeriesPredicate.TagNotEquals t => Postings.Except([.. _all], Evaluate(new SeriesPredicate.TagEquals(t.Key, t.Value))),
        SeriesPredicate.TagMatches t => TagMatches(t),
        SeriesPredicate.TagNotMatches t => Postings.Except([.. _all], TagMatches(new SeriesPredicate.TagMatches(t.Key, t.Pattern))),
        SeriesPredicate.TagExists t => Postings.UnionAll(_measurements.Values.Select(m => m.Tags.TryGetValue(t.Key, out TagKeyEntry? k) ? k.Series.ToArray() : [])),
        SeriesPredicate.And a => Postings.Intersect(Evaluate(a.Left), Evaluate(a.Right)),
        SeriesPredicate.Or o => Postings.Union(Evaluate(o.Left), Evaluate(o.Right)),
        SeriesPredicate.Not n => Postings.Except([.. _all], Evaluate(n.Inner)),
        _ => throw new NotSupportedException($"unknown predicate {predicate.GetType().Name}"),
    };

    private ulong[] TagMatches(SeriesPredicate.TagMatches t)
    {
        var sets = new List<ulong[]>();
        foreach (MeasurementEntry m in _measurements.Values)
        {
            if (m.Tags.TryGetValue(t.Key, out TagKeyEntry? k))
            {
                foreach (var (value, series) in k.Values)
                {
                    if (t.Pattern.IsMatch(value))
                    {
                        sets.Add([.. series]);
                    }
                }
            }
        }

        ulong[] matched = Postings.UnionAll(sets);

        // A series without the tag compares as "": it matches when the pattern matches the empty string.
        return t.Pattern.IsMatch("") ? Postings.Union(matched, Postings.Except([.. _all], Evaluate(new SeriesPredicate.TagExists(t.Key)))) : matched;
    }

    // Under the write lock (or during Open).
    private void AddToIndex(ulong id, ReadOnlySpan<byte> key)
    {
        var (measurementBytes, tags) = SeriesKey.Parse(key);
        MeasurementEntry m = GetMeasurement(Encoding.UTF8.GetString(measurementBytes));
        Append(m.Series, id);
        Append(_all, id);
        foreach (var (k, v) in tags)
        {
            string tagKey = Encoding.UTF8.GetString(k);
            if (!m.Tags.TryGetValue(tagKey, out TagKeyEntry? entry))
            {
                m.Tags[tagKey] = entry = new TagKeyEntry();
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

    // Ids grow, so appending keeps lists sorted; a re-added series (deleted before) gets a larger id too.
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

    private MeasurementEntry GetMeasurement(string name)
    {
        if (!_measurements.TryGetValue(name, out MeasurementEntry? m))
        {
            _measurements[name] = m = new MeasurementEntry();
        }

        return m;
    }

    private void LoadFields()
    {
        if (!File.Exists(_fieldsPath))
        {
            return;
        }

        foreach (string line in File.ReadAllLines(_fieldsPath))
        {
            // measurement \t field \t type-number; a torn last line (no type) is ignored.
            string[] parts = line.Split('\t');
            if (parts.Length == 3 && byte.TryParse(parts[2], out byte t) && t is >= 1 and <= 5)
            {
                GetMeasurement(Unquote(parts[0])).Fields.TryAdd(Unquote(parts[1]), (FieldType)t);
            }
        }
    }

    private void AppendField(string measurement, string field, FieldType type)
    {
        File.AppendAllText(_fieldsPath, $"{Quote(measurement)}\t{Quote(field)}\t{(byte)type}\n");
    }

    // Names may hold tabs or newlines: escape them in the text log.
    private static string Quote(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Unquote(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length)
            {
                char c = s[++i];
                sb.Append(c switch { 't' => '\t', 'n' => '\n', _ => c });
            }
            else
            {
                sb.Append(s[i]);
            }
        }

        return sb.ToString();
    }

    private sealed class MeasurementEntry
    {
        public List<ulong> Series { get; } = [];

        public Dictionary<string, TagKeyEntry> Tags { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, FieldType> Fields { get; } = new(StringComparer.Ordinal);
    }

    private sealed class TagKeyEntry
    {
        public List<ulong> Series { get; } = [];

        public Dictionary<string, List<ulong>> Values { get; } = new(StringComparer.Ordinal);
    }
}
