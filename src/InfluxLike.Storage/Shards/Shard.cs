using System.Globalization;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Cache;
using InfluxLike.Storage.Tsm;
using InfluxLike.Storage.Tsm.Encoding;
using InfluxLike.Storage.Wal;

namespace InfluxLike.Storage.Shards;

public sealed record ShardOptions
{
    public WalOptions Wal { get; init; } = new();

    /// <summary>Hard limit of the cache: past it, writes get <see cref="ShardBusyException"/> until a snapshot frees room.</summary>
    public long CacheMaxBytes { get; init; } = 1L << 30;

    public int MaxPointsPerBlock { get; init; } = TsmBlock.DefaultMaxPoints;

    /// <summary>A cache past this size is written to a TSM file in the background (InfluxDB's cache-snapshot-memory-size).</summary>
    public long SnapshotThresholdBytes { get; init; } = 25L << 20;
}

/// <summary>A transient refusal (the cache is full): retry after a moment; nothing of the batch was stored.</summary>
public sealed class ShardBusyException(string message) : Exception(message);

/// <summary>What a write stored and what it rejected, with the reason for each rejected value.</summary>
public sealed record ShardWriteResult(int Written, IReadOnlyList<(PointValue Value, string Reason)> Rejected);

/// <summary>
/// One time window of a bucket: its write-ahead log, its cache and its TSM files. A write is acknowledged
/// once its WAL entry is durable; snapshots move the cache into a new TSM file and then drop the WAL
/// segments it covers. Opening replays the WAL into the cache.
/// </summary>
/// <remarks>
/// Applying a batch to the cache and queueing its WAL entry happen under one lock, and a snapshot takes
/// the same lock to swap the cache and roll the WAL, so every WAL segment a snapshot deletes holds only
/// entries that snapshot wrote, and WAL order is cache order. Encoding and compressing the entry happen
/// before the lock, and the durable wait after it: writers share fsyncs.
/// </remarks>
public sealed class Shard : IAsyncDisposable
{
    private const string WalDirectory = "wal";
    private const string QuarantineSuffix = ".bad";

    private readonly string _directory;
    private readonly ShardOptions _options;
    // An async gate, not a Monitor: writers queue behind a batch being applied without spinning (with 4
    // writers on 2 cores, Monitor's spin-waits burned a measurable share of the CPU).
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _snapshotLock = new(1, 1);
    private readonly ShardCache _cache;
    private readonly WriteAheadLog _wal;
    private readonly List<string> _warnings = [];
    private volatile TsmReader[] _files;
    private long _generation;
    private int _snapshotScheduled;
    private CacheSnapshot? _pendingSnapshot;  // frozen but not yet durable in a TSM file (guarded by _snapshotLock)

    // Deletes that arrived while a snapshot was frozen: its file holds their points and gets them as tombstones
    // before it is published (both guarded by _gate).
    private readonly List<(IReadOnlyList<(byte[] SeriesKey, byte[] Field)> Keys, long Min, long Max)> _deletesDuringSnapshot = [];
    private bool _snapshotFrozen;
    private long _pendingSegment;             // the last WAL segment it covers
    private long _lastWriteTicks = Environment.TickCount64;
    private Task _backgroundSnapshot = Task.CompletedTask;

    private Shard(string directory, ShardOptions options, ShardCache cache, WriteAheadLog wal, TsmReader[] files, long generation)
    {
        _directory = directory;
        _options = options;
        _cache = cache;
        _wal = wal;
        _files = files;
        _generation = generation;
    }

    /// <summary>Problems met while opening (a torn WAL tail cut off, a corrupt TSM file moved aside).</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    public int FileCount => _files.Length;

    public long CacheBytes => _cache.SizeBytes;

    /// <summary>How long since the last write was acknowledged.</summary>
    public TimeSpan IdleFor => TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _lastWriteTicks));

    public static Shard Open(string directory, ShardOptions? options = null)
    {
        options ??= new ShardOptions();
        Directory.CreateDirectory(directory);
        var warnings = new List<string>();

        // A crash mid-write leaves temporary files: never complete, never acknowledged.
        foreach (string tmp in Directory.GetFiles(directory, "*" + TsmFormat.TempSuffix))
        {
            File.Delete(tmp);
        }

        var files = new List<TsmReader>();
        long generation = 0;
        foreach (string path in Directory.GetFiles(directory, "*" + TsmFormat.Extension).Order(StringComparer.Ordinal))
        {
            generation = Math.Max(generation, long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out long g) ? g : 0);
            try
            {
                files.Add(TsmReader.Open(path));
            }
            catch (CorruptionException e)
            {
                // The rest of the shard still serves; the damaged file is kept aside for inspection.
                File.Move(path, path + QuarantineSuffix, overwrite: true);
                warnings.Add($"{e.Message}; moved aside to {Path.GetFileName(path)}{QuarantineSuffix}");
            }
        }

        // Replay goes through the batch path, which never refuses for size: a WAL can hold more than the
        // limit when snapshots failed before a crash, and every entry in it was acknowledged.
        var cache = new ShardCache(options.CacheMaxBytes);
        string walDir = Path.Combine(directory, WalDirectory);
        var batch = new List<PointValue>();
        var refused = new List<(int, string)>();
        foreach (WalRecord record in WriteAheadLog.Replay(walDir, warnings.Add))
        {
            batch.Clear();
            if (PointBatchCodec.IsDelete(record.Payload))
            {
                if (!PointBatchCodec.TryDecodeDelete(record.Payload, out var deletedKeys, out long min, out long max))
                {
                    throw new CorruptionException(Path.Combine(walDir, record.SegmentId.ToString("D8", CultureInfo.InvariantCulture) + WriteAheadLog.Extension), 0, "a WAL delete entry passed its checksum but does not decode");
                }

                // Again on the files too: a snapshot file published after the delete but before its tombstones
                // (a crash in between) must not bring the points back.
                cache.Delete(deletedKeys, min, max);
                TombstoneFiles(files, deletedKeys, min, max);
                continue;
            }

            if (!PointBatchCodec.TryDecode(record.Payload, batch))
            {
                throw new CorruptionException(Path.Combine(walDir, record.SegmentId.ToString("D8", CultureInfo.InvariantCulture) + WriteAheadLog.Extension), 0, "a WAL entry passed its checksum but does not decode");
            }

            refused.Clear();
            cache.WriteBatch(batch, _ => null, _ => "", refused);
        }


        var shard = new Shard(directory, options, cache, WriteAheadLog.Open(walDir, options.Wal), [.. files], generation);
        shard._warnings.AddRange(warnings);
        return shard;
    }

    /// <summary>
    /// Stores a batch. Values whose field already holds another type in this shard are rejected (the others
    /// are written); a full cache refuses the whole batch with <see cref="ShardBusyException"/>.
    /// Completes once the accepted values are durable.
    /// </summary>
    public async Task<ShardWriteResult> WriteAsync(IReadOnlyList<PointValue> values)
    {
        var refused = new List<(int Index, string Reason)>();
        int accepted;

        // The WAL entry is encoded and compressed before taking the lock, for the common case where every
        // value is accepted; under the lock the batch is applied to the cache and the entry queued, so WAL
        // order is cache order (and a snapshot, which takes the same lock to swap the cache and queue the
        // WAL roll, only ever deletes segments whose entries it wrote).
        PreparedEntry prepared = Prepare(values);
        Task durable;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_cache.SizeBytes >= _options.CacheMaxBytes)
            {
                throw new ShardBusyException($"the shard's cache is full ({_options.CacheMaxBytes} bytes); retry once it is written to disk");
            }

            // The files are searched only for a key the cache has not seen since the last snapshot: once its
            // column exists, the cache checks the type.
            TsmReader[] files = _files;
            accepted = _cache.WriteBatch(
                values,
                v => FileType(files, v) is FieldType known && known != v.Type ? Conflict(v, known) : null,
                v => Conflict(v, null),
                refused);

            if (accepted == 0)
            {
                durable = Task.CompletedTask;
            }
            else
            {
                durable = _wal.AppendAsync(refused.Count == 0 ? prepared : Prepare(Without(values, refused)));
            }
        }
        finally
        {
            _gate.Release();
        }

        await durable.ConfigureAwait(false);
        Volatile.Write(ref _lastWriteTicks, Environment.TickCount64);
        if (_cache.SizeBytes >= _options.SnapshotThresholdBytes && Interlocked.CompareExchange(ref _snapshotScheduled, 1, 0) == 0)
        {
            // In the background: writers keep going into the fresh cache while the snapshot is written.
            _backgroundSnapshot = Task.Run(async () =>
            {
                try
                {
                    await SnapshotAsync().ConfigureAwait(false);
                }
                finally
                {
                    Volatile.Write(ref _snapshotScheduled, 0);
                }
            });
        }

        return new ShardWriteResult(accepted, [.. refused.Select(r => (values[r.Index], r.Reason))]);
    }

    private static List<PointValue> Without(IReadOnlyList<PointValue> values, List<(int Index, string Reason)> refused)
    {
        var kept = new List<PointValue>(values.Count - refused.Count);
        int next = 0;
        for (int i = 0; i < values.Count; i++)
        {
            if (next < refused.Count && refused[next].Index == i)
            {
                next++;
                continue;
            }

            kept.Add(values[i]);
        }

        return kept;
    }

    /// <summary>Writes the cache to a new TSM file and drops the WAL segments that file now covers.</summary>
    /// <remarks>
    /// If writing the file fails (a full disk), the frozen snapshot and the segment it covers are kept and
    /// the next call retries them, rather than freezing a newer cache whose WAL it must not delete.
    /// </remarks>
    public async Task SnapshotAsync()
    {
        await _snapshotLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_pendingSnapshot is null)
            {
                Task<long> roll;
                CacheSnapshot snapshot;
                await _gate.WaitAsync().ConfigureAwait(false);
                try
                {
                    snapshot = _cache.TakeSnapshot();
                    roll = _wal.RollAsync();
                    _snapshotFrozen = true;
                    _deletesDuringSnapshot.Clear();
                }
                finally
                {
                    _gate.Release();
                }

                _pendingSegment = await roll.ConfigureAwait(false);
                _pendingSnapshot = snapshot;
            }

            if (_pendingSnapshot.Entries.Count > 0)
            {
                long started = System.Diagnostics.Stopwatch.GetTimestamp();
                long generation = Interlocked.Increment(ref _generation);
                string path = Path.Combine(_directory, generation.ToString("D9", CultureInfo.InvariantCulture) + TsmFormat.Extension);
                using (var writer = new TsmWriter(path, _options.MaxPointsPerBlock))
                {
                    _pendingSnapshot.WriteTo(writer);
                    writer.Finish();
                }

                TsmReader written = TsmReader.Open(path);
                await _gate.WaitAsync().ConfigureAwait(false);
                try
                {
                    foreach (var (keys, min, max) in _deletesDuringSnapshot)
                    {
                        TombstoneFiles([written], keys, min, max);
                    }

                    _files = [.. _files, written];
                    _deletesDuringSnapshot.Clear();
                    _snapshotFrozen = false;
                }
                finally
                {
                    _gate.Release();
                }

                StorageMetrics.RecordSince(StorageMetrics.SnapshotSeconds, started);
                StorageMetrics.SnapshotBytes.Add(new FileInfo(path).Length);
            }
            else
            {
                await _gate.WaitAsync().ConfigureAwait(false);
                _deletesDuringSnapshot.Clear();
                _snapshotFrozen = false;
                _gate.Release();
            }

            // Readers see the file before the cache lets go of the same points.
            _cache.ClearSnapshot();
            _wal.RemoveSegmentsUpTo(_pendingSegment);
            _pendingSnapshot = null;
        }
        finally
        {
            _snapshotLock.Release();
        }
    }

    /// <summary>
    /// Deletes the points of the given keys in [<paramref name="minTime"/>, <paramref name="maxTime"/>]: at once
    /// from the cache, as tombstones (durable) beside every file that holds them, and as a WAL entry so that a
    /// restart replays the delete over the replayed points. Visible to readers when it returns. Compaction
    /// (storage part 2) removes the points from the files for good.
    /// </summary>
    public async Task DeleteAsync(IReadOnlyList<(byte[] SeriesKey, byte[] Field)> keys, long minTime, long maxTime)
    {
        if (keys.Count == 0 || maxTime < minTime)
        {
            return;
        }

        PreparedEntry entry;
        using (var payload = new ByteWriter(256))
        {
            PointBatchCodec.EncodeDelete(keys, minTime, maxTime, payload);
            entry = WriteAheadLog.Prepare(payload.WrittenSpan);
        }

        Task durable;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _cache.Delete(keys, minTime, maxTime);
            TombstoneFiles(_files, keys, minTime, maxTime);
            if (_snapshotFrozen)
            {
                _deletesDuringSnapshot.Add((keys, minTime, maxTime));
            }

            durable = _wal.AppendAsync(entry);
        }
        finally
        {
            _gate.Release();
        }

        await durable.ConfigureAwait(false);
        Volatile.Write(ref _lastWriteTicks, Environment.TickCount64);
    }

    private static bool Overlaps(TsmReader file, int keyIndex, long minTime, long maxTime)
    {
        foreach (TsmIndexEntry e in file.BlocksOverlapping(file.GetKey(keyIndex), minTime, maxTime))
        {
            return true;
        }

        return false;
    }

    // Appends (fsynced) a tombstone beside each file for the keys it holds with points in the range; a range
    // already recorded for a key is not recorded again (a replayed delete).
    private static void TombstoneFiles(IReadOnlyList<TsmReader> files, IReadOnlyList<(byte[] SeriesKey, byte[] Field)> keys, long minTime, long maxTime)
    {
        var range = new Tombstone(minTime, maxTime);
        foreach (TsmReader file in files)
        {
            var add = new List<(byte[], byte[], Tombstone)>();
            foreach (var (series, field) in keys)
            {
                if (file.TryFind(series, field, out int k) && Overlaps(file, k, minTime, maxTime) && !file.Tombstones.For(series, field).Contains(range))
                {
                    add.Add((series, field, range));
                }
            }

            if (add.Count > 0)
            {
                file.Tombstones.Append(add);
            }
        }
    }

    /// <summary>
    /// Every stored point of a key in [<paramref name="minTime"/>, <paramref name="maxTime"/>], sorted by time,
    /// newer writes of a timestamp winning (cache over files, later files over earlier), tombstones applied.
    /// </summary>
    public (long[] Times, long[] Bits, byte[]?[] Strings) Read(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, long minTime, long maxTime)
    {
        // The cache first, then the files: a snapshot adds its file before it drops its cache snapshot, so
        // whatever moves from cache to file meanwhile is seen in one or the other (reading the files first
        // could miss it in both). Cache values are applied last: they are the newest.
        CacheEntry? cached = _cache.Read(seriesKey, field, minTime, maxTime);

        // Each file gives one sorted run (a key's blocks in one file never overlap); runs are merged oldest
        // first, a newer run winning a timestamp both hold. Snapshots cut time in order, so runs usually
        // follow one another and the merge is an append.
        Run merged = default;
        bool any = false;
        using var strings = new StringColumn();
        long[] ts = [];
        long[] bits = [];
        foreach (TsmReader file in _files)
        {
            if (!file.TryFind(seriesKey, field, out int k))
            {
                continue;
            }

            TsmKey key = file.GetKey(k);
            IReadOnlyList<Tombstone> deleted = file.Tombstones.For(seriesKey, field);
            var run = new RunBuilder(key.Type == FieldType.String);
            foreach (TsmIndexEntry e in file.BlocksOverlapping(key, minTime, maxTime))
            {
                int n = DecodeBlock(file, e, key.Type, ref ts, ref bits, strings);
                for (int i = 0; i < n; i++)
                {
                    long t = ts[i];
                    if (t < minTime || t > maxTime || (deleted.Count > 0 && IsDeleted(deleted, t)))
                    {
                        continue;
                    }

                    run.Add(t, bits[i], key.Type == FieldType.String ? strings[i].ToArray() : null);
                }
            }

            merged = any ? Run.Merge(merged, run.Build()) : run.Build();
            any = true;
        }

        if (cached is not null && cached.Times.Length > 0)
        {
            var run = new Run(cached.Times, cached.Bits, cached.Strings, cached.Times.Length);
            merged = any ? Run.Merge(merged, run) : run;
            any = true;
        }

        return any ? merged.ToArrays() : ([], [], []);
    }

    /// <summary>
    /// The first (or last) point of a key in [<paramref name="minTime"/>, <paramref name="maxTime"/>], from
    /// block metadata: only the edge block of each file is decoded (walking inward past blocks whose points
    /// are all deleted or out of range), not the whole range. On a timestamp held twice the newest source wins.
    /// </summary>
    public (bool Found, long Time, long Bits, byte[]? String) ReadEdge(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, long minTime, long maxTime, bool last)
    {
        CacheEntry? cached = _cache.Read(seriesKey, field, minTime, maxTime);
        (bool Found, long Time, long Bits, byte[]? String) best = default;
        if (cached is not null && cached.Times.Length > 0)
        {
            int i = last ? cached.Times.Length - 1 : 0;
            best = (true, cached.Times[i], cached.Bits[i], cached.Strings?[i]);
        }

        TsmReader[] files = _files;
        using var strings = new StringColumn();
        long[] ts = [];
        long[] bits = [];
        for (int f = files.Length - 1; f >= 0; f--)
        {
            TsmReader file = files[f];
            if (!file.TryFind(seriesKey, field, out int k))
            {
                continue;
            }

            TsmKey key = file.GetKey(k);
            var blocks = new List<TsmIndexEntry>();
            foreach (TsmIndexEntry e in file.BlocksOverlapping(key, minTime, maxTime))
            {
                blocks.Add(e);
            }

            IReadOnlyList<Tombstone> deleted = file.Tombstones.For(seriesKey, field);
            for (int b = 0; b < blocks.Count; b++)
            {
                TsmIndexEntry e = blocks[last ? blocks.Count - 1 - b : b];

                // Nothing in this block (or further in) can beat what is found: newer sources won ties already.
                if (best.Found && (last ? e.MaxTime <= best.Time : e.MinTime >= best.Time))
                {
                    break;
                }

                int n = DecodeBlock(file, e, key.Type, ref ts, ref bits, strings);
                bool foundInBlock = false;
                for (int step = 0; step < n; step++)
                {
                    int i = last ? n - 1 - step : step;
                    long t = ts[i];
                    if (t < minTime || t > maxTime || (deleted.Count > 0 && IsDeleted(deleted, t)))
                    {
                        continue;
                    }

                    if (!best.Found || (last ? t > best.Time : t < best.Time))
                    {
                        best = (true, t, bits[i], key.Type == FieldType.String ? strings[i].ToArray() : null);
                    }

                    foundInBlock = true;
                    break;
                }

                if (foundInBlock)
                {
                    break;
                }
            }
        }

        return best;
    }

    // Decodes one block into the reused buffers (grown when a block is larger); strings go to the column.
    private int DecodeBlock(TsmReader file, in TsmIndexEntry e, FieldType type, ref long[] ts, ref long[] bits, StringColumn strings)
    {
        if (ts.Length < e.Count)
        {
            ts = new long[Math.Max(e.Count, _options.MaxPointsPerBlock)];
            bits = new long[ts.Length];
        }

        strings.Clear();
        return type switch
        {
            FieldType.Float => file.ReadFloats(e, ts, System.Runtime.InteropServices.MemoryMarshal.Cast<long, double>(bits.AsSpan())),
            FieldType.Integer => file.ReadIntegers(e, ts, bits),
            FieldType.Unsigned => file.ReadUnsigned(e, ts, System.Runtime.InteropServices.MemoryMarshal.Cast<long, ulong>(bits.AsSpan())),
            FieldType.Boolean => ReadBooleans(file, e, ts, bits),
            _ => file.ReadStrings(e, ts, strings),
        };
    }

    private static bool IsDeleted(IReadOnlyList<Tombstone> deleted, long t)
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

    /// <summary>Points sorted by time, distinct times.</summary>
    private readonly record struct Run(long[] Times, long[] Bits, byte[]?[]? Strings, int Count)
    {
        public (long[] Times, long[] Bits, byte[]?[] Strings) ToArrays() =>
            (Times.Length == Count ? Times : Times[..Count],
             Bits.Length == Count ? Bits : Bits[..Count],
             Strings is null ? new byte[]?[Count] : Strings.Length == Count ? Strings : Strings[..Count]);

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
    private struct RunBuilder(bool strings)
    {
        private long[] _times = new long[64];
        private long[] _bits = new long[64];
        private byte[]?[]? _strings = strings ? new byte[]?[64] : null;
        private int _count;

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

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _backgroundSnapshot.ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The WAL still holds everything the failed snapshot did not write.
        }

        await _wal.DisposeAsync().ConfigureAwait(false);
        foreach (TsmReader f in _files)
        {
            f.Dispose();
        }

        _snapshotLock.Dispose();
    }

    private static PreparedEntry Prepare(IReadOnlyList<PointValue> values)
    {
        using var payload = new ByteWriter(Math.Max(256, values.Count * 24));
        PointBatchCodec.Encode(values, payload);
        return WriteAheadLog.Prepare(payload.WrittenSpan);
    }

    private static int ReadBooleans(TsmReader file, in TsmIndexEntry e, long[] ts, long[] bits)
    {
        var b = new bool[e.Count];
        int n = file.ReadBooleans(e, ts, b);
        for (int i = 0; i < n; i++)
        {
            bits[i] = b[i] ? 1 : 0;
        }

        return n;
    }

    // The type a field has in this shard's files, if any (the newest file that has the key says).
    private static FieldType? FileType(TsmReader[] files, in PointValue v)
    {
        for (int i = files.Length - 1; i >= 0; i--)
        {
            if (files[i].TryFind(v.SeriesKey, v.Field, out int k))
            {
                return files[i].GetKey(k).Type;
            }
        }

        return null;
    }

    private static string Conflict(in PointValue v, FieldType? known) =>
        $"field type conflict: field \"{System.Text.Encoding.UTF8.GetString(v.Field)}\" of \"{System.Text.Encoding.UTF8.GetString(v.SeriesKey)}\" is {(known?.ToString() ?? "another type").ToLowerInvariant()} in this shard; {v.Type.ToString().ToLowerInvariant()} rejected";
}
