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

    /// <summary>Series kept in the in-memory part before it is merged into the mapped index file.</summary>
    public int CheckpointEvery { get; init; } = 100_000;

    /// <summary>
    /// In an <c>and</c>, when one side leaves at most this many series the other is tested on their keys
    /// rather than read from the index.
    /// </summary>
    public int FilterThreshold { get; init; } = 4096;
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
/// Two parts, unioned by every query: an immutable, memory-mapped index file (<see cref="TsiFile"/>) for
/// the series up to its max id, and an in-memory part for the series added since. When the in-memory part
/// passes <see cref="SeriesIndexOptions.CheckpointEvery"/> series (and at shutdown) both are merged into a
/// new file, swapped in atomically. Start-up maps the file and rebuilds only the in-memory part, from the
/// series log: nothing is rebuilt from TSM data, and the managed heap holds nothing per mapped series.
/// Series deleted after the file was written are filtered out by id until the next merge drops them.
/// Writers take a write lock only when a series is new; queries share a read lock.
/// </remarks>
public sealed class SeriesIndex : IDisposable
{
    private const string FieldsFileName = "fields.log";

    private readonly SeriesIndexOptions _options;
    private readonly SeriesFile _series;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<string, Dictionary<string, FieldType>> _fields = new(StringComparer.Ordinal);
    private readonly string _fieldsPath;
    private readonly string _tsiPath;
    private MemoryIndex _memory = new();
    private TsiFile? _file;
    private bool _deletedSinceCheckpoint;

    private SeriesIndex(string directory, SeriesIndexOptions options, SeriesFile series)
    {
        _options = options;
        _series = series;
        _fieldsPath = Path.Combine(directory, FieldsFileName);
        _tsiPath = Path.Combine(directory, TsiFile.FileName);
    }

    /// <summary>Series held by the mapped index file (the rest are in memory).</summary>
    public long MappedSeries => _file?.SeriesCount ?? 0;

    /// <summary>Bytes of the mapped index file.</summary>
    public long IndexFileBytes => _file?.SizeBytes ?? 0;

    public long SeriesCount => _series.Count;

    /// <summary>Opens (or creates) the index in <paramref name="directory"/>.</summary>
    public static SeriesIndex Open(string directory, SeriesIndexOptions? options = null)
    {
        SeriesFile series = SeriesFile.Open(directory);
        var index = new SeriesIndex(directory, options ?? new SeriesIndexOptions(), series);
        try
        {
            if (File.Exists(index._tsiPath))
            {
                try
                {
                    index._file = TsiFile.Open(index._tsiPath);
                    if (index._file.MaxId > series.MaxId)
                    {
                        // The file names series the log does not have: trust the log, rebuild.
                        index._file.Dispose();
                        index._file = null;
                    }
                }
                catch (CorruptionException e)
                {
                    index._file = null; // rebuilt from the series log below
                    series.Repairs.Add($"{e.Message}; rebuilt from the series log");
                }
            }

            for (ulong id = (index._file?.MaxId ?? 0) + 1; id <= series.MaxId; id++)
            {
                if (!series.IsDeleted(id))
                {
                    index._memory.Add(id, series.GetKey(id));
                }
            }

            index.LoadFields();
            if (index._memory.Count >= index._options.CheckpointEvery)
            {
                index.Checkpoint();
            }

            return index;
        }
        catch
        {
            index.Dispose();
            throw;
        }
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
            _memory.Add(id, seriesKey);
            if (_memory.Count >= _options.CheckpointEvery)
            {
                _series.Flush();
                CheckpointLocked();
            }

            return id;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public bool TryGetSeriesId(ReadOnlySpan<byte> seriesKey, out ulong id) => _series.TryGetId(seriesKey, out id);

    /// <summary>
    /// What opening repaired: damaged derived files rebuilt, and a series log cut at a record that failed its
    /// checksum (a torn tail after a crash, or damage: then the series after it must be found again in the data).
    /// </summary>
    public IReadOnlyList<string> Repairs => _series.Repairs;

    /// <summary>Bytes cut off the series log at open; when not 0 the caller re-adds the series its data names.</summary>
    public long SeriesLogBytesCut => _series.RecoveredTornBytes;

    /// <summary>Where the series log was cut.</summary>
    public long SeriesLogCutAt => _series.RecoveredAtOffset;

    /// <summary>The series log's path, for reports.</summary>
    public string SeriesLogPath => _series.FilePath;

    public ReadOnlySpan<byte> GetSeriesKey(ulong id) => _series.GetKey(id);

    /// <summary>Records a field's type for its measurement; returns the type already known (which wins) or the new one.</summary>
    public FieldType GetOrAddField(string measurement, string field, FieldType type)
    {
        _lock.EnterUpgradeableReadLock();
        try
        {
            if (_fields.TryGetValue(measurement, out Dictionary<string, FieldType>? m) && m.TryGetValue(field, out FieldType known))
            {
                return known;
            }

            _lock.EnterWriteLock();
            try
            {
                FieldsOf(measurement)[field] = type;
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

    public IReadOnlyList<string> Measurements(SeriesPredicate? predicate = null) => Schema(predicate, (ids, names) =>
    {
        foreach (IIndexSource part in Parts())
        {
            foreach (string m in part.MeasurementNames())
            {
                if (!names.Contains(m) && Overlaps(part.MeasurementSeries(m), ids))
                {
                    names.Add(m);
                }
            }
        }
    });

    public IReadOnlyList<string> TagKeys(SeriesPredicate? predicate = null) => Schema(predicate, (ids, names) =>
    {
        foreach (IIndexSource part in Parts())
        {
            foreach (string m in part.MeasurementNames())
            {
                foreach (string key in part.TagKeys(m))
                {
                    if (!names.Contains(key) && Overlaps(part.TagKeySeries(m, key), ids))
                    {
                        names.Add(key);
                    }
                }
            }
        }
    });

    public IReadOnlyList<string> TagValues(string key, SeriesPredicate? predicate = null) => Schema(predicate, (ids, names) =>
    {
        foreach (IIndexSource part in Parts())
        {
            foreach (string m in part.MeasurementNames())
            {
                foreach (string value in part.TagValues(m, key))
                {
                    if (!names.Contains(value) && Overlaps(part.ValueSeries(m, key, value), ids))
                    {
                        names.Add(value);
                    }
                }
            }
        }
    });

    public IReadOnlyList<(string Field, FieldType Type)> FieldKeys(string measurement)
    {
        _lock.EnterReadLock();
        try
        {
            return _fields.TryGetValue(measurement, out Dictionary<string, FieldType>? m)
                ? [.. m.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => (f.Key, f.Value))]
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
            return Evaluate(measurement is null ? SeriesPredicate.All : new SeriesPredicate.MeasurementEquals(measurement)).Length;
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
            _memory.Remove(new HashSet<ulong>(ids));
            _deletedSinceCheckpoint = true;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Merges the in-memory part into a new mapped index file.</summary>
    public void Checkpoint()
    {
        _lock.EnterWriteLock();
        try
        {
            CheckpointLocked();
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
        try
        {
            if (_memory.Count > 0 || _deletedSinceCheckpoint)
            {
                Checkpoint();
            }
        }
        finally
        {
            _file?.Dispose();
            _series.Dispose();
            _lock.Dispose();
        }
    }

    // Under the write lock: no query is running, so the old file can be closed at once.
    private void CheckpointLocked()
    {
        var merged = new MergedSource([.. Parts()], _series.IsDeleted);
        TsiFile.Write(_tsiPath, _series.MaxId, merged);
        _file?.Dispose();
        _file = TsiFile.Open(_tsiPath);
        _memory = new MemoryIndex();
        _deletedSinceCheckpoint = false;
    }

    private IEnumerable<IIndexSource> Parts()
    {
        if (_file is not null)
        {
            yield return _file;
        }

        yield return _memory;
    }

    private IReadOnlyList<string> Schema(SeriesPredicate? predicate, Action<ulong[], HashSet<string>> collect)
    {
        _lock.EnterReadLock();
        try
        {
            ulong[] ids = Evaluate(predicate ?? SeriesPredicate.All);
            var names = new HashSet<string>(StringComparer.Ordinal);
            if (ids.Length > 0)
            {
                collect(ids, names);
            }

            return [.. names.Order(StringComparer.Ordinal)];
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private static bool Overlaps(ulong[] sorted, ulong[] ids)
    {
        // Walk the smaller side, binary search the larger.
        if (sorted.Length <= ids.Length)
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
            if (Array.BinarySearch(sorted, id) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    // Under the read or write lock. Predicates hold per series, so each part is evaluated on its own
    // and the results unioned; mapped series deleted since the file was written are dropped here.
    private ulong[] Evaluate(SeriesPredicate predicate)
    {
        ulong[] fromMemory = Evaluate(predicate, _memory);
        if (_file is null)
        {
            return fromMemory;
        }

        ulong[] fromFile = Evaluate(predicate, _file);
        if (_series.Count < (long)_series.MaxId)
        {
            fromFile = Array.FindAll(fromFile, id => !_series.IsDeleted(id));
        }

        return Postings.Union(fromFile, fromMemory);
    }

    private ulong[] Evaluate(SeriesPredicate predicate, IIndexSource part) => predicate switch
    {
        SeriesPredicate.AllSeries => part.All(),
        SeriesPredicate.MeasurementEquals m => part.MeasurementSeries(m.Name),
        SeriesPredicate.MeasurementMatches m => Postings.UnionAll(part.MeasurementNames().Where(n => m.Pattern.IsMatch(n)).Select(part.MeasurementSeries)),
        SeriesPredicate.TagEquals t when t.Value.Length == 0 => Postings.Except(part.All(), Evaluate(new SeriesPredicate.TagExists(t.Key), part)),
        SeriesPredicate.TagEquals t => Postings.UnionAll(part.MeasurementNames().Select(m => part.ValueSeries(m, t.Key, t.Value))),
        SeriesPredicate.TagNotEquals t => Postings.Except(part.All(), Evaluate(new SeriesPredicate.TagEquals(t.Key, t.Value), part)),
        SeriesPredicate.TagMatches t => TagMatches(t, part),
        SeriesPredicate.TagNotMatches t => Postings.Except(part.All(), TagMatches(new SeriesPredicate.TagMatches(t.Key, t.Pattern), part)),
        SeriesPredicate.TagExists t => Postings.UnionAll(part.MeasurementNames().Select(m => part.TagKeySeries(m, t.Key))),
        SeriesPredicate.And a => EvaluateAnd(a, part),
        SeriesPredicate.Or o => Postings.Union(Evaluate(o.Left, part), Evaluate(o.Right, part)),
        SeriesPredicate.Not n => Postings.Except(part.All(), Evaluate(n.Inner, part)),
        _ => throw new NotSupportedException($"unknown predicate {predicate.GetType().Name}"),
    };

    // Evaluates the likelier-selective side first; when it leaves few series, the other side is tested
    // on their keys instead of reading its (possibly huge) postings: `_measurement == "cpu" and host == "a"`
    // costs one postings list of one series, not the whole measurement's.
    private ulong[] EvaluateAnd(SeriesPredicate.And a, IIndexSource part)
    {
        var (first, second) = Cost(a.Left) <= Cost(a.Right) ? (a.Left, a.Right) : (a.Right, a.Left);
        ulong[] ids = Evaluate(first, part);
        if (ids.Length == 0)
        {
            return ids;
        }

        if (ids.Length <= _options.FilterThreshold)
        {
            var kept = new List<ulong>(ids.Length);
            foreach (ulong id in ids)
            {
                var (measurement, tags) = SeriesKey.Parse(_series.GetKey(id));
                var dictionary = new Dictionary<string, string>(tags.Count, StringComparer.Ordinal);
                foreach (var (k, v) in tags)
                {
                    dictionary[Encoding.UTF8.GetString(k)] = Encoding.UTF8.GetString(v);
                }

                if (second.Matches(Encoding.UTF8.GetString(measurement), dictionary))
                {
                    kept.Add(id);
                }
            }

            return [.. kept];
        }

        return Postings.Intersect(ids, Evaluate(second, part));
    }

    // Rough selectivity: an exact tag value picks few series, a measurement or a negation many.
    private static int Cost(SeriesPredicate p) => p switch
    {
        SeriesPredicate.TagEquals t when t.Value.Length > 0 => 1,
        SeriesPredicate.TagMatches => 3,
        SeriesPredicate.TagExists => 4,
        SeriesPredicate.MeasurementEquals => 5,
        SeriesPredicate.MeasurementMatches => 6,
        SeriesPredicate.And a => Math.Min(Cost(a.Left), Cost(a.Right)),
        SeriesPredicate.Or o => Math.Max(Cost(o.Left), Cost(o.Right)),
        _ => 8,
    };

    private ulong[] TagMatches(SeriesPredicate.TagMatches t, IIndexSource part)
    {
        ulong[] matched = Postings.UnionAll(part.MeasurementNames().SelectMany(m => part.ValuesMatching(m, t.Key, t.Pattern)));

        // A series without the tag compares as "": it matches when the pattern matches the empty string.
        return t.Pattern.IsMatch("")
            ? Postings.Union(matched, Postings.Except(part.All(), Evaluate(new SeriesPredicate.TagExists(t.Key), part)))
            : matched;
    }

    private Dictionary<string, FieldType> FieldsOf(string measurement)
    {
        if (!_fields.TryGetValue(measurement, out Dictionary<string, FieldType>? m))
        {
            _fields[measurement] = m = new(StringComparer.Ordinal);
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
                FieldsOf(Unquote(parts[0])).TryAdd(Unquote(parts[1]), (FieldType)t);
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
}
