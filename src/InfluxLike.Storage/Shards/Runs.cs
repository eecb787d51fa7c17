using System.Runtime.InteropServices;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Reads;
using InfluxLike.Storage.Tsm;

namespace InfluxLike.Storage.Shards;

/// <summary>Points sorted by time, distinct times.</summary>
internal readonly record struct Run(long[] Times, long[] Bits, byte[]?[]? Strings, int Count)
{
    /// <summary>The points as arrays of exactly their count; strings empty for a number key (not one null per point).</summary>
    public (long[] Times, long[] Bits, byte[]?[] Strings) ToArrays() =>
        (Times.Length == Count ? Times : Times[..Count],
         Bits.Length == Count ? Bits : Bits[..Count],
         Strings is null ? [] : Strings.Length == Count ? Strings : Strings[..Count]);

    /// <summary>Merges two runs; on a timestamp both hold, <paramref name="newer"/> wins.</summary>
    public static Run Merge(Run older, Run newer)
    {
        if (newer.Count == 0)
        {
            return older;
        }

        if (older.Count == 0)
        {
            return newer;
        }

        bool strings = older.Strings is not null || newer.Strings is not null;
        int capacity = older.Count + newer.Count;
        var times = new long[capacity];
        var bits = new long[capacity];
        byte[]?[]? strs = strings ? new byte[]?[capacity] : null;
        int i = 0;
        int j = 0;
        int n = 0;
        if (older.Times[older.Count - 1] < newer.Times[0])
        {
            // The usual case: the newer run starts after the older one ends.
            Array.Copy(older.Times, times, older.Count);
            Array.Copy(older.Bits, bits, older.Count);
            Array.Copy(newer.Times, 0, times, older.Count, newer.Count);
            Array.Copy(newer.Bits, 0, bits, older.Count, newer.Count);
            if (strs is not null)
            {
                older.Strings?.AsSpan(0, older.Count).CopyTo(strs);
                newer.Strings?.AsSpan(0, newer.Count).CopyTo(strs.AsSpan(older.Count));
            }

            return new Run(times, bits, strs, capacity);
        }

        while (i < older.Count || j < newer.Count)
        {
            bool takeNewer = j < newer.Count && (i >= older.Count || newer.Times[j] <= older.Times[i]);
            if (takeNewer)
            {
                if (i < older.Count && older.Times[i] == newer.Times[j])
                {
                    i++; // the same timestamp in both: the newer value replaces the older
                }

                times[n] = newer.Times[j];
                bits[n] = newer.Bits[j];
                if (strs is not null)
                {
                    strs[n] = newer.Strings?[j];
                }

                j++;
            }
            else
            {
                times[n] = older.Times[i];
                bits[n] = older.Bits[i];
                if (strs is not null)
                {
                    strs[n] = older.Strings?[i];
                }

                i++;
            }

            n++;
        }

        return new Run(times, bits, strs, n);
    }
}

/// <summary>Collects one file's points of a key, already in time order.</summary>
internal struct RunBuilder(bool strings, int capacity = 64)
{
    // Not zeroed: every cell up to the count is written before it is read.
    private long[] _times = GC.AllocateUninitializedArray<long>(capacity);
    private long[] _bits = GC.AllocateUninitializedArray<long>(capacity);
    private byte[]?[]? _strings = strings ? new byte[]?[capacity] : null;
    private int _count;

    /// <summary>Decodes a whole float, integer or unsigned block straight into the run, after what it holds.</summary>
    public void AppendBlock(TsmReader file, in TsmIndexEntry e, FieldType type)
    {
        if (_times.Length - _count < e.Count)
        {
            int size = Math.Max(_count + e.Count, _count * 2);
            Array.Resize(ref _times, size);
            Array.Resize(ref _bits, size);
        }

        Span<long> times = _times.AsSpan(_count);
        Span<long> bits = _bits.AsSpan(_count);
        _count += type switch
        {
            FieldType.Float => file.ReadFloats(e, times, MemoryMarshal.Cast<long, double>(bits)),
            FieldType.Integer => file.ReadIntegers(e, times, bits),
            FieldType.Unsigned => file.ReadUnsigned(e, times, MemoryMarshal.Cast<long, ulong>(bits)),
            _ => throw new ArgumentException($"whole blocks are appended for numbers only, not {type}", nameof(type)),
        };
    }

    public void Add(long time, long bits, byte[]? s)
    {
        if (_count == _times.Length)
        {
            Array.Resize(ref _times, _count * 2);
            Array.Resize(ref _bits, _count * 2);
            if (_strings is not null)
            {
                Array.Resize(ref _strings, _count * 2);
            }
        }

        _times[_count] = time;
        _bits[_count] = bits;
        if (_strings is not null)
        {
            _strings[_count] = s;
        }

        _count++;
    }

    public readonly Run Build() => new(_times, _bits, _strings, _count);
}

/// <summary>
/// Decodes a key's blocks from TSM files into runs, reusing its buffers across blocks and keys (one per
/// reader or compaction, not shared between threads).
/// </summary>
internal sealed class BlockDecoder(int maxPointsPerBlock) : IDisposable
{
    private readonly StringColumn _strings = new();
    private long[] _ts = [];
    private long[] _bits = [];
    private bool[] _bools = [];

    public ReadOnlySpan<long> Times => _ts;

    public ReadOnlySpan<long> Bits => _bits;

    public StringColumn Strings => _strings;

    /// <summary>The points of one file's key in [min, max], tombstones applied, in time order.</summary>
    public Run ReadRun(TsmReader file, int keyIndex, long minTime, long maxTime)
    {
        // Sized from the index: doubling from a small array to a key's 8,640 points of a day copies the run
        // eight times and ends in a 128 KiB array, on the large object heap.
        var run = new RunBuilder(file.GetKey(keyIndex).Type == FieldType.String, Math.Max(Extent(file, keyIndex, minTime, maxTime).Count, 1));
        AppendRun(file, keyIndex, minTime, maxTime, ref run);
        return run.Build();
    }

    /// <summary>
    /// From the index alone, the blocks of one file's key overlapping [min, max]: their point count and time
    /// bounds (an upper bound of what <see cref="AppendRun"/> adds, before tombstones and the range's edges).
    /// </summary>
    public static (int Count, long MinTime, long MaxTime) Extent(TsmReader file, int keyIndex, long minTime, long maxTime)
    {
        int count = 0;
        long lo = long.MaxValue;
        long hi = long.MinValue;
        foreach (TsmIndexEntry e in file.BlocksOverlapping(file.GetKey(keyIndex), minTime, maxTime))
        {
            count += e.Count;
            lo = Math.Min(lo, e.MinTime);
            hi = Math.Max(hi, e.MaxTime);
        }

        return (count, lo, hi);
    }

    /// <summary>
    /// Adds the points of one file's key in [min, max], tombstones applied, in time order, to <paramref name="run"/>;
    /// the caller makes sure they all come after the points already in it.
    /// </summary>
    public void AppendRun(TsmReader file, int keyIndex, long minTime, long maxTime, ref RunBuilder run)
    {
        TsmKey key = file.GetKey(keyIndex);
        IReadOnlyList<Tombstone> deleted = file.Tombstones.For(key.SeriesKey, key.Field);
        foreach (TsmIndexEntry e in file.BlocksOverlapping(key, minTime, maxTime))
        {
            if (deleted.Count > 0 && TombstoneFilter.CoversBlock(e, deleted))
            {
                continue;
            }

            AppendBlock(file, e, key.Type, deleted, minTime, maxTime, ref run);
        }
    }

    /// <summary>
    /// Adds one block's points in [min, max] that <paramref name="deleted"/> spares to <paramref name="run"/>;
    /// the caller makes sure they all come after the points already in it.
    /// </summary>
    public void AppendBlock(TsmReader file, in TsmIndexEntry e, FieldType type, IReadOnlyList<Tombstone> deleted, long minTime, long maxTime, ref RunBuilder run)
    {
        if (deleted.Count == 0 && e.MinTime >= minTime && e.MaxTime <= maxTime && type is FieldType.Float or FieldType.Integer or FieldType.Unsigned)
        {
            run.AppendBlock(file, e, type); // every point kept: no per-point checks or copy
            return;
        }

        bool isString = type == FieldType.String;
        int n = Decode(file, e, type);
        for (int i = 0; i < n; i++)
        {
            long t = _ts[i];
            if (t < minTime || t > maxTime || (deleted.Count > 0 && IsDeleted(deleted, t)))
            {
                continue;
            }

            run.Add(t, _bits[i], isString ? _strings[i].ToArray() : null);
        }
    }

    /// <summary>
    /// Feeds the points of one file's key in [min, max], tombstones applied, to <paramref name="sink"/> block by
    /// block, in time order (numbers and booleans: strings are not numbers to aggregate).
    /// </summary>
    public void FeedRun(TsmReader file, int keyIndex, long minTime, long maxTime, WindowAccumulator sink)
    {
        TsmKey key = file.GetKey(keyIndex);
        IReadOnlyList<Tombstone> deleted = file.Tombstones.For(key.SeriesKey, key.Field);
        foreach (TsmIndexEntry e in file.BlocksOverlapping(key, minTime, maxTime))
        {
            if (deleted.Count > 0 && TombstoneFilter.CoversBlock(e, deleted))
            {
                continue;
            }

            FeedBlock(file, e, key.Type, deleted, minTime, maxTime, sink);
        }
    }

    /// <summary>Feeds one block's points in [min, max] that <paramref name="deleted"/> spares to <paramref name="sink"/>.</summary>
    public void FeedBlock(TsmReader file, in TsmIndexEntry e, FieldType type, IReadOnlyList<Tombstone> deleted, long minTime, long maxTime, WindowAccumulator sink)
    {
        int n = Decode(file, e, type);
        if (deleted.Count > 0 || e.MinTime < minTime || e.MaxTime > maxTime)
        {
            // Keep the points in range and not deleted, moved forward in place.
            int kept = 0;
            for (int i = 0; i < n; i++)
            {
                long t = _ts[i];
                if (t >= minTime && t <= maxTime && (deleted.Count == 0 || !IsDeleted(deleted, t)))
                {
                    _ts[kept] = t;
                    _bits[kept] = _bits[i];
                    kept++;
                }
            }

            n = kept;
        }

        if (n > 0)
        {
            sink.Add(_ts.AsSpan(0, n), _bits.AsSpan(0, n));
        }
    }

    /// <summary>Decodes one block into <see cref="Times"/>, <see cref="Bits"/> and <see cref="Strings"/>; returns its point count.</summary>
    public int Decode(TsmReader file, in TsmIndexEntry e, FieldType type)
    {
        if (_ts.Length < e.Count)
        {
            _ts = new long[Math.Max(e.Count, maxPointsPerBlock)];
            _bits = new long[_ts.Length];
        }

        _strings.Clear();
        switch (type)
        {
            case FieldType.Float:
                return file.ReadFloats(e, _ts, MemoryMarshal.Cast<long, double>(_bits.AsSpan()));
            case FieldType.Integer:
                return file.ReadIntegers(e, _ts, _bits);
            case FieldType.Unsigned:
                return file.ReadUnsigned(e, _ts, MemoryMarshal.Cast<long, ulong>(_bits.AsSpan()));
            case FieldType.Boolean:
                if (_bools.Length < e.Count)
                {
                    _bools = new bool[_ts.Length];
                }

                int n = file.ReadBooleans(e, _ts, _bools);
                for (int i = 0; i < n; i++)
                {
                    _bits[i] = _bools[i] ? 1 : 0;
                }

                return n;
            default:
                return file.ReadStrings(e, _ts, _strings);
        }
    }

    /// <summary>Decodes only the values of a number block into <see cref="Bits"/> (see <see cref="TsmReader.ReadValues"/>); returns its point count.</summary>
    public int DecodeValues(TsmReader file, in TsmIndexEntry e, FieldType type)
    {
        if (_bits.Length < e.Count)
        {
            _ts = new long[Math.Max(e.Count, maxPointsPerBlock)];
            _bits = new long[_ts.Length];
        }

        return file.ReadValues(e, type, _bits);
    }

    public static bool IsDeleted(IReadOnlyList<Tombstone> deleted, long t)
    {
        for (int i = 0; i < deleted.Count; i++)
        {
            if (deleted[i].Contains(t))
            {
                return true;
            }
        }

        return false;
    }

    public void Dispose() => _strings.Dispose();
}
