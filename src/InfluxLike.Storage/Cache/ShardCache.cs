using System.Buffers;
using System.Runtime.InteropServices;
using InfluxLike.LineProtocol;

namespace InfluxLike.Storage.Cache;

/// <summary>Why a point was not taken into the cache.</summary>
public enum CacheWriteResult
{
    Ok,

    /// <summary>The field already holds another type in this shard: the point is rejected, the rest of the batch goes on.</summary>
    TypeConflict,

    /// <summary>The cache is at its hard limit: back-pressure (retry later), never a silent drop.</summary>
    Full,
}

/// <summary>
/// The points of one shard that are in the WAL but not yet in a TSM file: per (series key, field) a
/// typed column of timestamps and values in arrival order. A snapshot freezes the current columns (sorted
/// by time, a later write of the same timestamp winning) so they can be written to a TSM file while new
/// writes go to fresh columns. Readers see the snapshot and the active columns merged.
/// </summary>
/// <remarks>Thread-safe: writes and snapshot swaps take a lock; reads copy what they need under it.</remarks>
public sealed class ShardCache
{
    private readonly object _lock = new();
    private readonly long _maxBytes;
    private Dictionary<byte[], SeriesColumns> _active = new(IO.ByteArrayComparer.Instance);
    private Dictionary<byte[], SeriesColumns>? _snapshot;
    private long _activeBytes;
    private long _snapshotBytes;

    public ShardCache(long maxBytes = 1L << 30)
    {
        _maxBytes = maxBytes;
    }

    /// <summary>Every series key, field and type held (for re-indexing after a damaged series log; not a hot path).</summary>
    public List<(byte[] SeriesKey, byte[] Field, FieldType Type)> Keys()
    {
        lock (_lock)
        {
            var keys = new List<(byte[], byte[], FieldType)>();
            foreach (var columns in (_snapshot is null ? [_active] : new[] { _active, _snapshot }))
            {
                foreach (SeriesColumns series in columns.Values)
                {
                    for (int i = 0; i < series.Count; i++)
                    {
                        keys.Add((series.Key, series[i].Field, series[i].Column.Type));
                    }
                }
            }

            return keys;
        }
    }

    /// <summary>Bytes held by the active columns and the snapshot being written.</summary>
    public long SizeBytes
    {
        get
        {
            lock (_lock)
            {
                return _activeBytes + _snapshotBytes;
            }
        }
    }

    /// <summary>Adds one value. Strings are UTF-8. Never throws for bad input: the result says why.</summary>
    public CacheWriteResult Write(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, FieldType type, long time, long bits, ReadOnlySpan<byte> stringValue = default)
    {
        lock (_lock)
        {
            if (_activeBytes + _snapshotBytes >= _maxBytes)
            {
                return CacheWriteResult.Full;
            }

            SeriesColumns series = ActiveSeries(seriesKey, null);
            return Add(series, field, null, type, time, bits, type == FieldType.String ? stringValue.ToArray() : null);
        }
    }

    /// <summary>
    /// Adds a batch under one lock. <paramref name="checkNewColumn"/> is asked about a (series, field) the
    /// active columns have not seen yet and may refuse it with a reason (the shard checks its files' type).
    /// Values of consecutive entries that share a series key array find their series once. The hard limit is
    /// the caller's to check before a batch: a batch is taken whole (a transient "full" must refuse all of it,
    /// never part), so it may pass the limit by its own size.
    /// </summary>
    /// <returns>The number of values taken; the others are in <paramref name="rejected"/> by index, with the reason.</returns>
    public int WriteBatch(
        IReadOnlyList<Shards.PointValue> values,
        Func<Shards.PointValue, string?> checkNewColumn,
        Func<Shards.PointValue, string> typeConflict,
        List<(int Index, string Reason)> rejected)
    {
        int accepted = 0;
        lock (_lock)
        {
            byte[]? lastKey = null;
            SeriesColumns? series = null;
            for (int i = 0; i < values.Count; i++)
            {
                Shards.PointValue v = values[i];

                if (!ReferenceEquals(v.SeriesKey, lastKey))
                {
                    series = ActiveSeries(v.SeriesKey, v.SeriesKey);
                    lastKey = v.SeriesKey;
                }

                if (series!.Find(v.Field) is null && checkNewColumn(v) is { } refused)
                {
                    rejected.Add((i, refused));
                    continue;
                }

                switch (Add(series, v.Field, v.Field, v.Type, v.Time, v.Bits, v.String))
                {
                    case CacheWriteResult.Ok:
                        accepted++;
                        break;
                    default:
                        rejected.Add((i, typeConflict(v)));
                        break;
                }
            }
        }

        return accepted;
    }

    private SeriesColumns ActiveSeries(ReadOnlySpan<byte> seriesKey, byte[]? keyArray)
    {
        var lookup = _active.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (!lookup.TryGetValue(seriesKey, out SeriesColumns? series))
        {
            byte[] key = keyArray ?? seriesKey.ToArray();
            series = new SeriesColumns(key);
            _active[key] = series;
            _activeBytes += key.Length + 48;
        }

        return series;
    }

    private CacheWriteResult Add(SeriesColumns series, ReadOnlySpan<byte> field, byte[]? fieldArray, FieldType type, long time, long bits, byte[]? stringValue)
    {
        Column? column = series.Find(field);
        if (column is null)
        {
            // The shard's type for this field may be fixed by the snapshot already.
            if (_snapshot is not null && _snapshot.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(series.Key, out SeriesColumns? frozen)
                && frozen.Find(field) is { } old && old.Type != type)
            {
                return CacheWriteResult.TypeConflict;
            }

            column = series.Add(fieldArray ?? field.ToArray(), type);
            _activeBytes += field.Length + 64;
        }
        else if (column.Type != type)
        {
            return CacheWriteResult.TypeConflict;
        }

        column.Add(time, bits, type == FieldType.String ? stringValue : null);
        _activeBytes += 16 + (stringValue?.Length ?? 0);
        return CacheWriteResult.Ok;
    }

    /// <summary>
    /// Removes the points of the given keys in [<paramref name="minTime"/>, <paramref name="maxTime"/>] from the
    /// active columns and the snapshot being written (whose file gets the same delete as tombstones).
    /// Returns the number of points removed.
    /// </summary>
    public int Delete(IReadOnlyList<(byte[] SeriesKey, byte[] Field)> keys, long minTime, long maxTime)
    {
        int removed = 0;
        lock (_lock)
        {
            foreach (var (seriesKey, field) in keys)
            {
                foreach (var map in new[] { _active, _snapshot })
                {
                    if (map is not null && map.TryGetValue(seriesKey, out SeriesColumns? series) && series.Find(field) is { } column)
                    {
                        int n = column.RemoveRange(minTime, maxTime);
                        removed += n;
                        if (ReferenceEquals(map, _active))
                        {
                            _activeBytes -= 16L * n;
                        }
                        else
                        {
                            _snapshotBytes -= 16L * n;
                        }
                    }
                }
            }
        }

        return removed;
    }

    /// <summary>Whether the active columns hold this key already (then <see cref="Write"/> itself checks the type).</summary>
    public bool HasActiveColumn(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field)
    {
        lock (_lock)
        {
            return _active.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(seriesKey, out SeriesColumns? series) && series.Find(field) is not null;
        }
    }

    /// <summary>
    /// Freezes the active columns for writing to a TSM file (keys in TSM order, points sorted and deduplicated)
    /// and starts new ones. Only one snapshot at a time: call <see cref="ClearSnapshot"/> once it is durable.
    /// </summary>
    public CacheSnapshot TakeSnapshot()
    {
        lock (_lock)
        {
            if (_snapshot is not null)
            {
                throw new InvalidOperationException("The previous snapshot has not been written yet.");
            }

            _snapshot = _active;
            _snapshotBytes = _activeBytes;
            _active = new Dictionary<byte[], SeriesColumns>(IO.ByteArrayComparer.Instance);
            _activeBytes = 0;
            var entries = new List<CacheEntry>(_snapshot.Count);
            foreach (SeriesColumns series in _snapshot.Values)
            {
                for (int i = 0; i < series.Count; i++)
                {
                    var (field, column) = series[i];
                    column.SortAndDeduplicate();
                    column.Frozen = true; // from now on a delete replaces its arrays rather than changing them under the writer
                    entries.Add(column.ToEntry(series.Key, field));
                }
            }

            entries.Sort((a, b) => Tsm.TsmFormat.CompareKeys(a.SeriesKey, a.Field, b.SeriesKey, b.Field));
            return new CacheSnapshot(entries);
        }
    }

    /// <summary>Drops the snapshot once its TSM file is durable (its WAL segments can go too).</summary>
    public void ClearSnapshot()
    {
        lock (_lock)
        {
            if (_snapshot is not null)
            {
                // The snapshot's entries (sharing these arrays) are written and dropped by now; readers copy under
                // the lock, so nothing outside it holds them.
                foreach (SeriesColumns series in _snapshot.Values)
                {
                    for (int i = 0; i < series.Count; i++)
                    {
                        series[i].Column.Release();
                    }
                }
            }

            _snapshot = null;
            _snapshotBytes = 0;
        }
    }

    /// <summary>
    /// The cached points of a key in [<paramref name="minTime"/>, <paramref name="maxTime"/>], sorted by time,
    /// the newest write of a timestamp winning (active columns over the snapshot).
    /// </summary>
    public CacheEntry? Read(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, long minTime, long maxTime)
    {
        lock (_lock)
        {
            Column? older = null;
            if (_snapshot is not null && _snapshot.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(seriesKey, out SeriesColumns? frozen))
            {
                older = frozen.Find(field);
            }

            Column? newer = _active.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(seriesKey, out SeriesColumns? live) ? live.Find(field) : null;
            if (older is null && newer is null)
            {
                return null;
            }

            // Sorted once, in place, rather than in each reader's copy: after a WAL replay or with concurrent
            // writers the active column is in arrival order, and every query would sort it again.
            newer?.SortInPlace();
            var merged = new Column((older ?? newer)!.Type);
            foreach (Column? c in new[] { older, newer })
            {
                if (c is null)
                {
                    continue;
                }

                ReadOnlySpan<long> times = c.Times, bits = c.Bits;
                for (int i = 0; i < times.Length; i++)
                {
                    long t = times[i];
                    if (t >= minTime && t <= maxTime)
                    {
                        merged.Add(t, bits[i], c.StringAt(i));
                    }
                }
            }

            merged.SortAndDeduplicate();
            return merged.ToEntry(seriesKey.ToArray(), field.ToArray()); // the merged column is this reader's own
        }
    }

    /// <summary>
    /// The first (or last) cached point of a key in [<paramref name="minTime"/>, <paramref name="maxTime"/>], the newest
    /// write of a timestamp winning, found by binary search in the sorted columns instead of copying them.
    /// </summary>
    public (bool Found, long Time, long Bits, byte[]? String) ReadEdge(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, long minTime, long maxTime, bool last)
    {
        lock (_lock)
        {
            Column? older = _snapshot is not null && _snapshot.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(seriesKey, out SeriesColumns? frozen) ? frozen.Find(field) : null;
            Column? newer = _active.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(seriesKey, out SeriesColumns? live) ? live.Find(field) : null;
            newer?.SortInPlace();
            (bool Found, long Time, long Bits, byte[]? String) best = default;
            foreach (Column? c in (ReadOnlySpan<Column?>)[older, newer]) // the newer last: it wins a timestamp both hold
            {
                if (c is null)
                {
                    continue;
                }

                // A snapshot's columns were sorted before they froze; the active one just now. Both are distinct by time.
                ReadOnlySpan<long> times = c.Times;
                int i = times.BinarySearch(last ? maxTime : minTime);
                if (i < 0)
                {
                    i = last ? ~i - 1 : ~i;
                }

                if (i < 0 || i >= times.Length || times[i] < minTime || times[i] > maxTime)
                {
                    continue;
                }

                if (!best.Found || (last ? times[i] >= best.Time : times[i] <= best.Time))
                {
                    best = (true, times[i], c.Bits[i], c.StringAt(i));
                }
            }

            return best;
        }
    }

    /// <summary>One series' columns, by field: a short list searched linearly (a point has a handful of fields).</summary>
    private sealed class SeriesColumns(byte[] key)
    {
        private const int LinearLimit = 16;
        private byte[][] _fields = new byte[4][];
        private Column[] _columns = new Column[4];
        private Dictionary<byte[], Column>? _wide; // past LinearLimit fields

        public byte[] Key { get; } = key;

        public int Count { get; private set; }

        public (byte[] Field, Column Column) this[int i] => (_fields[i], _columns[i]);

        public Column? Find(ReadOnlySpan<byte> field)
        {
            if (_wide is not null)
            {
                return _wide.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(field, out Column? c) ? c : null;
            }

            for (int i = 0; i < Count; i++)
            {
                if (field.SequenceEqual(_fields[i]))
                {
                    return _columns[i];
                }
            }

            return null;
        }

        public Column Add(byte[] field, FieldType type)
        {
            if (Count == _fields.Length)
            {
                Array.Resize(ref _fields, Count * 2);
                Array.Resize(ref _columns, Count * 2);
            }

            var column = new Column(type);
            _fields[Count] = field;
            _columns[Count] = column;
            Count++;
            if (_wide is not null)
            {
                _wide[field] = column;
            }
            else if (Count > LinearLimit)
            {
                _wide = new Dictionary<byte[], Column>(IO.ByteArrayComparer.Instance);
                for (int i = 0; i < Count; i++)
                {
                    _wide[_fields[i]] = _columns[i];
                }
            }

            return column;
        }
    }

    /// <summary>
    /// One key's points in arrival order, in arrays from <see cref="ColumnArrays"/>, given back when the column's
    /// snapshot is written.
    /// </summary>
    private sealed class Column(FieldType type)
    {
        private long[] _times = ColumnArrays.Rent(16);
        private long[] _bits = ColumnArrays.Rent(16);
        private byte[]?[]? _strings = type == FieldType.String ? new byte[]?[16] : null;
        private bool _unordered; // a point arrived at or before the one added last: a sort (and dedup) is due

        public FieldType Type { get; } = type;

        public int Count { get; private set; }

        /// <summary>Part of a snapshot being written: its arrays are shared with the snapshot's entries.</summary>
        public bool Frozen { get; set; }

        public ReadOnlySpan<long> Times => _times.AsSpan(0, Count);

        public ReadOnlySpan<long> Bits => _bits.AsSpan(0, Count);

        public byte[]? StringAt(int i) => _strings?[i];

        public CacheEntry ToEntry(byte[] seriesKey, byte[] field) => new(seriesKey, field, Type, _times, _bits, _strings?[..Count], Count);

        public void Add(long time, long bits, byte[]? s)
        {
            if (Count == _times.Length || (_strings is not null && Count == _strings.Length))
            {
                Grow(Count * 2);
            }

            _unordered |= Count > 0 && time <= _times[Count - 1];
            _times[Count] = time;
            _bits[Count] = bits;
            if (_strings is not null)
            {
                _strings[Count] = s;
            }

            Count++;
        }

        /// <summary>Gives the arrays back to the pool; the column is empty afterwards.</summary>
        public void Release()
        {
            ColumnArrays.Return(_times);
            ColumnArrays.Return(_bits);
            _times = _bits = [];
            _strings = _strings is null ? null : [];
            Count = 0;
            _unordered = false;
        }

        /// <summary>Drops the points in [min, max]; returns how many.</summary>
        public int RemoveRange(long min, long max)
        {
            int n = 0;
            while (n < Count && (_times[n] < min || _times[n] > max))
            {
                n++;
            }

            if (n == Count)
            {
                return 0;
            }

            if (Frozen)
            {
                // The snapshot's writer may be reading the arrays: the delete works on copies (the file written
                // from the originals gets the same delete as tombstones), and the originals are left to the
                // snapshot's entries and the collector, never back to the pool.
                long[] times = ColumnArrays.Rent(Math.Max(8, Count));
                long[] bits = ColumnArrays.Rent(times.Length);
                _times.AsSpan(0, Count).CopyTo(times);
                _bits.AsSpan(0, Count).CopyTo(bits);
                _times = times;
                _bits = bits;
                if (_strings is not null)
                {
                    byte[]?[] strings = new byte[]?[times.Length];
                    Array.Copy(_strings, strings, Count);
                    _strings = strings;
                }

                Frozen = false;
            }

            for (int i = n; i < Count; i++)
            {
                if (_times[i] >= min && _times[i] <= max)
                {
                    continue;
                }

                _times[n] = _times[i];
                _bits[n] = _bits[i];
                if (_strings is not null)
                {
                    _strings[n] = _strings[i];
                }

                n++;
            }

            int removed = Count - n;
            if (_strings is not null)
            {
                Array.Clear(_strings, n, removed);
            }

            Count = n;
            return removed;
        }

        /// <summary>Sorts an active column where it is (a frozen one is its snapshot's, and sorted already).</summary>
        public void SortInPlace()
        {
            if (!Frozen)
            {
                SortAndDeduplicate();
            }
        }

        // Stable by arrival for equal times, keeping the last: "last write wins".
        public void SortAndDeduplicate()
        {
            if (!_unordered)
            {
                return; // every point came after the one before: sorted and distinct already
            }

            _unordered = false;

            // Sorted by time with the arrival index alongside (primitive keys: no comparer call per comparison),
            // then runs of equal times put back in arrival order, so the last write of a timestamp ends up last.
            long[] keys = ArrayPool<long>.Shared.Rent(Count);
            int[] order = ArrayPool<int>.Shared.Rent(Count);
            try
            {
                _times.AsSpan(0, Count).CopyTo(keys);
                for (int i = 0; i < Count; i++)
                {
                    order[i] = i;
                }

                keys.AsSpan(0, Count).Sort(order.AsSpan(0, Count));
                for (int i = 1; i < Count; i++)
                {
                    if (keys[i] == keys[i - 1])
                    {
                        int start = i - 1;
                        while (i < Count && keys[i] == keys[start])
                        {
                            i++;
                        }

                        order.AsSpan(start, i - start).Sort();
                    }
                }

                long[] t2 = ColumnArrays.Rent(Math.Max(8, Count));
                long[] b2 = ColumnArrays.Rent(t2.Length);
                byte[]?[]? s2 = _strings is null ? null : new byte[]?[t2.Length];
                int n = 0;
                for (int k = 0; k < Count; k++)
                {
                    int i = order[k];
                    if (n > 0 && t2[n - 1] == _times[i])
                    {
                        n--; // a later write of the same timestamp replaces the earlier one
                    }

                    t2[n] = _times[i];
                    b2[n] = _bits[i];
                    if (s2 is not null)
                    {
                        s2[n] = _strings![i];
                    }

                    n++;
                }

                ColumnArrays.Return(_times);
                ColumnArrays.Return(_bits);
                _times = t2;
                _bits = b2;
                _strings = s2;
                Count = n;
            }
            finally
            {
                ArrayPool<long>.Shared.Return(keys);
                ArrayPool<int>.Shared.Return(order);
            }
        }

        private void Grow(int capacity)
        {
            long[] times = ColumnArrays.Rent(capacity);
            long[] bits = ColumnArrays.Rent(capacity);
            _times.AsSpan(0, Count).CopyTo(times);
            _bits.AsSpan(0, Count).CopyTo(bits);
            ColumnArrays.Return(_times);
            ColumnArrays.Return(_bits);
            _times = times;
            _bits = bits;
            if (_strings is not null)
            {
                Array.Resize(ref _strings, times.Length);
            }
        }
    }
}

/// <summary>
/// One key's cached points, sorted by time (values as bit patterns; strings as UTF-8). The arrays may be longer
/// than <see cref="Count"/>; a snapshot's entries share the frozen columns' arrays rather than copying them.
/// </summary>
public sealed class CacheEntry
{
    private readonly long[] _times;
    private readonly long[] _bits;

    internal CacheEntry(byte[] seriesKey, byte[] field, FieldType type, long[] times, long[] bits, byte[]?[]? strings, int count)
    {
        SeriesKey = seriesKey;
        Field = field;
        Type = type;
        _times = times;
        _bits = bits;
        Strings = strings;
        Count = count;
    }

    public byte[] SeriesKey { get; }

    public byte[] Field { get; }

    public FieldType Type { get; }

    public int Count { get; }

    public ReadOnlySpan<long> Times => _times.AsSpan(0, Count);

    public ReadOnlySpan<long> Bits => _bits.AsSpan(0, Count);

    /// <summary>UTF-8 values of a string key (<see cref="Count"/> of them), else null.</summary>
    public byte[]?[]? Strings { get; }

    public ReadOnlySpan<double> Floats => MemoryMarshal.Cast<long, double>(Bits);

    /// <summary>The points as a run to merge with the files' (the arrays shared, not copied).</summary>
    internal Shards.Run AsRun() => new(_times, _bits, Strings, Count);
}

/// <summary>A frozen cache, keys in TSM order, ready to be written as one TSM file.</summary>
public sealed class CacheSnapshot(IReadOnlyList<CacheEntry> entries)
{
    public IReadOnlyList<CacheEntry> Entries { get; } = entries;

    /// <summary>Writes every entry, in key order, into <paramref name="writer"/>.</summary>
    public void WriteTo(Tsm.TsmWriter writer)
    {
        foreach (CacheEntry e in Entries)
        {
            if (e.Count == 0)
            {
                continue;
            }

            switch (e.Type)
            {
                case FieldType.Float:
                    writer.WriteFloats(e.SeriesKey, e.Field, e.Times, e.Floats);
                    break;
                case FieldType.Integer:
                    writer.WriteIntegers(e.SeriesKey, e.Field, e.Times, e.Bits);
                    break;
                case FieldType.Unsigned:
                    writer.WriteUnsigned(e.SeriesKey, e.Field, e.Times, MemoryMarshal.Cast<long, ulong>(e.Bits));
                    break;
                case FieldType.Boolean:
                    bool[] booleans = new bool[e.Count];
                    for (int i = 0; i < booleans.Length; i++)
                    {
                        booleans[i] = e.Bits[i] != 0;
                    }

                    writer.WriteBooleans(e.SeriesKey, e.Field, e.Times, booleans);
                    break;
                default:
                    using (var column = new Tsm.StringColumn())
                    {
                        for (int i = 0; i < e.Count; i++)
                        {
                            column.Add(e.Strings![i] ?? []);
                        }

                        writer.WriteStrings(e.SeriesKey, e.Field, e.Times, column);
                    }

                    break;
            }
        }
    }
}
