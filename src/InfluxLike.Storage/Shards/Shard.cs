using System.Buffers;
using System.Globalization;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Cache;
using InfluxLike.Storage.IO;
using InfluxLike.Storage.Reads;
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

    /// <summary>Points per block in fully compacted (cold) files.</summary>
    public int FullCompactionMaxPointsPerBlock { get; init; } = TsmBlock.DefaultMaxPoints;
}

/// <summary>What a finished compaction did.</summary>
public sealed record CompactionResult(CompactionPlan Plan, int InputFiles, long InputBytes, long OutputBytes, long Keys, TimeSpan Duration);

/// <summary>A running compaction, for status pages.</summary>
public sealed class CompactionProgress(CompactionPlan plan, int inputFiles, long inputBytes)
{
    public CompactionPlan Plan { get; } = plan;

    public int InputFiles { get; } = inputFiles;

    public long InputBytes { get; } = inputBytes;

    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    /// <summary>Bytes of the output written so far.</summary>
    public long BytesWritten { get; set; }
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

    // Files of a shard a read keeps its per-file state for on the stack (more are rented).
    private const int MaxStackFiles = 32;
    private const string QuarantineSuffix = TsmFileName.QuarantineSuffix;

    // See RentDecoder.
    [ThreadStatic]
    private static BlockDecoder? t_decoder;

    [ThreadStatic]
    private static List<SourceBlock>? t_blocks; // FeedMerged's list of a key's blocks, kept per thread between reads

    private readonly string _directory;
    private readonly ShardOptions _options;
    // An async gate, not a Monitor: writers queue behind a batch being applied without spinning (with 4
    // writers on 2 cores, Monitor's spin-waits burned a measurable share of the CPU).
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _snapshotLock = new(1, 1);
    private readonly ShardCache _cache;
    private readonly WriteAheadLog _wal;
    private readonly List<string> _warnings = [];
    private volatile FileSet _fileSet;        // swapped under _gate; readers take a reference
    private long _generation;
    private readonly SemaphoreSlim _compactionLock = new(1, 1);
    private CompactionProgress? _compacting;  // the running compaction (for status), null when none
    private List<(IReadOnlyList<(byte[] SeriesKey, byte[] Field)> Keys, long Min, long Max)>? _deletesDuringCompaction; // guarded by _gate
    private int _disposed;
    private readonly CancellationTokenSource _stopping = new();
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
        _fileSet = new FileSet(files);
        foreach (TsmReader f in files)
        {
            f.Dispose(); // the set holds them now
        }

        _generation = generation;
    }

    /// <summary>The shard's folder.</summary>
    public string Folder => _directory;

    /// <summary>The times the shard holds in its bucket (set by the engine when it opens or creates the shard).</summary>
    public ShardRange Range { get; internal set; } = new(long.MinValue, long.MaxValue);

    /// <summary>The latest time of any point the shard holds, in its files or its cache (deletes aside); <see cref="long.MinValue"/> when empty.</summary>
    public long LatestTime()
    {
        long latest = long.MinValue;
        FileSet set = AcquireFiles();
        try
        {
            foreach (TsmReader file in set.Files)
            {
                latest = Math.Max(latest, file.MaxTime);
            }
        }
        finally
        {
            set.Release();
        }

        foreach (var (seriesKey, field, _) in _cache.Keys())
        {
            var edge = _cache.ReadEdge(seriesKey, field, long.MinValue, long.MaxValue, last: true);
            if (edge.Found)
            {
                latest = Math.Max(latest, edge.Time);
            }
        }

        return latest;
    }

    /// <summary>Problems met while opening (a torn WAL tail cut off, a corrupt TSM file moved aside).</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    public int FileCount => _fileSet.Files.Length;

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
        foreach (string path in LiveFiles(directory, warnings))
        {
            TsmFileName.TryParse(path, out TsmFileName name);
            generation = Math.Max(generation, name.Last);
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
        Cache.ColumnArrays.AllowRetained(2 * Math.Min(options.SnapshotThresholdBytes, options.CacheMaxBytes));
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

    // The shard's TSM files in order (oldest first). A file superseded by another (the input of a
    // compaction whose output was committed before the crash that stopped it deleting its inputs) is
    // removed, and so are tombstone files left without their TSM file.
    private static List<string> LiveFiles(string directory, List<string> warnings)
    {
        var named = new List<(string Path, TsmFileName Name)>();
        foreach (string path in Directory.GetFiles(directory, "*" + TsmFormat.Extension))
        {
            if (TsmFileName.TryParse(path, out TsmFileName name))
            {
                named.Add((path, name));
            }
            else
            {
                warnings.Add($"{path}: not a TSM file name this version writes; left alone and not read");
            }
        }

        named.Sort((a, b) => a.Name.First != b.Name.First ? a.Name.First.CompareTo(b.Name.First) : b.Name.Last.CompareTo(a.Name.Last));
        var live = new List<(string Path, TsmFileName Name)>();
        foreach (var file in named)
        {
            if (named.Any(other => other.Name.Supersedes(file.Name)))
            {
                File.Delete(file.Path);
                File.Delete(file.Path + TsmFormat.TombstoneExtension);
                continue;
            }

            live.Add(file);
        }

        foreach (string tombstones in Directory.GetFiles(directory, "*" + TsmFormat.Extension + TsmFormat.TombstoneExtension))
        {
            if (!File.Exists(tombstones[..^TsmFormat.TombstoneExtension.Length]))
            {
                File.Delete(tombstones);
            }
        }

        return [.. live.Select(f => f.Path)];
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
                // A batch may push the cache past the limit while a snapshot runs; once that snapshot is done
                // nothing but a write would start the next, and every write is refused: start it here, or the
                // shard refused writes until the idle-snapshot timer (10 minutes by default) fired.
                ScheduleSnapshotIfDue();
                throw new ShardBusyException($"the shard's cache is full ({_options.CacheMaxBytes} bytes); retry once it is written to disk");
            }

            // The files are searched only for a key the cache has not seen since the last snapshot: once its
            // column exists, the cache checks the type.
            TsmReader[] files = _fileSet.Files; // under the gate: no swap can retire them meanwhile
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
        ScheduleSnapshotIfDue();
        return new ShardWriteResult(accepted, [.. refused.Select(r => (values[r.Index], r.Reason))]);
    }

    private void ScheduleSnapshotIfDue()
    {
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
                string path = Path.Combine(_directory, TsmFileName.Snapshot(generation).FileName);
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

                    Publish([.. _fileSet.Files, written]);
                    _deletesDuringSnapshot.Clear();
                    _snapshotFrozen = false;
                }
                finally
                {
                    _gate.Release();
                    written.Dispose(); // the set holds it
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
    /// Deletes the points of the given keys in [<paramref name="minTime"/>, <paramref name="maxTime"/>]: first as a
    /// durable WAL entry, so that a restart replays the delete over the replayed points, then from the cache and
    /// as tombstones (durable) beside every file that holds them. Visible to readers when it returns. Compaction
    /// removes the points from the files for good.
    /// </summary>
    /// <exception cref="IOException">The WAL entry could not be made durable: nothing of the delete was applied
    /// (a restart may still find the entry on disk and apply it whole), and the WAL refuses everything after.</exception>
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

        // Durable in the WAL first, then applied, all under the gate. Applied first (as a write is), a delete whose
        // entry then failed to become durable was half kept: its tombstones, fsynced, hid the files' points for good
        // while the points in the WAL came back at the restart. Now a failed entry leaves nothing applied, and a
        // durable one is replayed whole (tombstones included) if the process dies before the end of this method.
        // Holding the gate over the fsync keeps WAL order = apply order against concurrent writes; it stalls this
        // shard's writers for one fsync per delete, and deletes are rare.
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await _wal.AppendAsync(entry).ConfigureAwait(false);
            _cache.Delete(keys, minTime, maxTime);
            TombstoneFiles(_fileSet.Files, keys, minTime, maxTime);
            if (_snapshotFrozen)
            {
                _deletesDuringSnapshot.Add((keys, minTime, maxTime));
            }

            _deletesDuringCompaction?.Add((keys, minTime, maxTime));
        }
        finally
        {
            _gate.Release();
        }

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
    /// Strings hold a string key's values, one per point; for a number key they are empty.
    /// </summary>
    public (long[] Times, long[] Bits, byte[]?[] Strings) Read(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, long minTime, long maxTime)
    {
        // The cache first, then the files: a snapshot adds its file before it drops its cache snapshot, so
        // whatever moves from cache to file meanwhile is seen in one or the other (reading the files first
        // could miss it in both). Cache values are applied last: they are the newest.
        CacheEntry? cached = _cache.Read(seriesKey, field, minTime, maxTime);

        // Each file gives one sorted run (a key's blocks in one file never overlap). Snapshots cut time in
        // order, so the files' blocks of a key usually follow one another (the index tells): then every file
        // appends to one run sized from the index, each point copied once. Otherwise runs are merged oldest
        // first, a newer run winning a timestamp both hold (merging pairwise copied the 24 h TSBS workload's
        // 6 files' points 4 times over).
        Run merged = default;
        bool any = false;
        FileSet set = AcquireFiles();
        TsmReader[] files = set.Files;
        int[]? rented = null;
        Span<int> keys = files.Length <= MaxStackFiles ? stackalloc int[MaxStackFiles] : (rented = ArrayPool<int>.Shared.Rent(files.Length));
        try
        {
            var (ordered, _, capacity, isString) = LocateKey(files, seriesKey, field, minTime, maxTime, keys);

            using var decoder = new BlockDecoder(_options.MaxPointsPerBlock);
            var builder = new RunBuilder(isString, ordered ? Math.Max(capacity, 1) : 1);
            for (int f = 0; f < files.Length; f++)
            {
                if (keys[f] < 0)
                {
                    continue;
                }

                if (ordered)
                {
                    decoder.AppendRun(files[f], keys[f], minTime, maxTime, ref builder);
                }
                else
                {
                    Run run = decoder.ReadRun(files[f], keys[f], minTime, maxTime);
                    merged = any ? Run.Merge(merged, run) : run;
                }

                any = true;
            }

            if (ordered && any)
            {
                merged = builder.Build();
            }
        }
        finally
        {
            set.Release();
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }

        if (cached is not null && cached.Count > 0)
        {
            Run run = cached.AsRun();
            merged = any ? Run.Merge(merged, run) : run;
            any = true;
        }

        return any ? merged.ToArrays() : ([], [], []);
    }

    /// <summary>
    /// Feeds a key's points in [<paramref name="minTime"/>, <paramref name="maxTime"/>] to <paramref name="sink"/>
    /// in time order, one decoded block at a time, without gathering them into arrays. When the files' blocks of
    /// the key follow one another and the cached points come after them (snapshots cut time in order), every block
    /// goes straight to the sink. Otherwise (writers that sent batches out of order leave files whose edges
    /// overlap, and so does a cache that took late points) the blocks and the cache are taken in time order and
    /// only those whose times overlap are merged, the newer source winning a timestamp both hold, as
    /// <see cref="Read"/> merges them. Strings, which are not aggregated block by block, are merged whole.
    /// Same points, same order, any way.
    /// </summary>
    /// <returns>True when the blocks followed one another; false when some were merged first.</returns>
    public bool Aggregate(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, long minTime, long maxTime, WindowAccumulator sink)
    {
        // The cache first, then the files, as Read does (a snapshot adds its file before dropping its cache).
        CacheEntry? cached = _cache.Read(seriesKey, field, minTime, maxTime);
        FileSet set = AcquireFiles();
        TsmReader[] files = set.Files;
        int[]? rented = null;
        Span<int> keys = files.Length <= MaxStackFiles ? stackalloc int[MaxStackFiles] : (rented = ArrayPool<int>.Shared.Rent(files.Length));
        try
        {
            var (ordered, lastMax, _, isString) = LocateKey(files, seriesKey, field, minTime, maxTime, keys);
            if (!isString && cached?.Type != FieldType.String)
            {
                ordered &= cached is null || cached.Count == 0 || cached.Times[0] > lastMax;
                BlockDecoder decoder = RentDecoder();
                try
                {
                    if (ordered)
                    {
                        for (int f = 0; f < files.Length; f++)
                        {
                            if (keys[f] >= 0)
                            {
                                decoder.FeedRun(files[f], keys[f], minTime, maxTime, sink);
                            }
                        }

                        if (cached is not null && cached.Count > 0)
                        {
                            sink.Add(cached.Times, cached.Bits);
                        }
                    }
                    else
                    {
                        FeedMerged(files, keys, cached, minTime, maxTime, decoder, sink);
                    }
                }
                finally
                {
                    ReturnDecoder(decoder, strings: false);
                }

                return ordered;
            }
        }
        finally
        {
            set.Release();
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }

        var (times, bits, _) = Read(seriesKey, field, minTime, maxTime); // strings: counted, merged whole
        sink.Add(times, bits);
        return false;
    }

    // The key's blocks of every file and the cached points as one more source, in time order: a block or the cache
    // whose times overlap no other goes to the sink as it is; a cluster of overlapping ones is merged source by
    // source, oldest file first and the cache last (newer wins a timestamp), then fed.
    private static void FeedMerged(TsmReader[] files, ReadOnlySpan<int> keys, CacheEntry? cached, long minTime, long maxTime, BlockDecoder decoder, WindowAccumulator sink)
    {
        List<SourceBlock> blocks = t_blocks ?? [];
        t_blocks = null;
        var deleted = new IReadOnlyList<Tombstone>[files.Length];
        var types = new FieldType[files.Length];
        try
        {
            blocks.Clear();
            for (int f = 0; f < files.Length; f++)
            {
                if (keys[f] < 0)
                {
                    continue;
                }

                TsmKey key = files[f].GetKey(keys[f]);
                deleted[f] = files[f].Tombstones.For(key.SeriesKey, key.Field);
                types[f] = key.Type;
                foreach (TsmIndexEntry e in files[f].BlocksOverlapping(key, minTime, maxTime))
                {
                    if (deleted[f].Count == 0 || !TombstoneFilter.CoversBlock(e, deleted[f]))
                    {
                        blocks.Add(new SourceBlock(f, e));
                    }
                }
            }

            int cache = files.Length; // the cache's source number: after every file
            if (cached is not null && cached.Count > 0)
            {
                blocks.Add(new SourceBlock(cache, new TsmIndexEntry(cached.Times[0], cached.Times[^1], 0, 0, cached.Count)));
            }

            // By start; a source's own blocks never overlap, so they stay in their order.
            blocks.Sort(static (a, b) => a.Entry.MinTime != b.Entry.MinTime ? a.Entry.MinTime.CompareTo(b.Entry.MinTime) : a.Source.CompareTo(b.Source));
            for (int i = 0; i < blocks.Count;)
            {
                long end = blocks[i].Entry.MaxTime;
                int j = i + 1;
                while (j < blocks.Count && blocks[j].Entry.MinTime <= end)
                {
                    end = Math.Max(end, blocks[j].Entry.MaxTime);
                    j++;
                }

                if (j == i + 1)
                {
                    SourceBlock only = blocks[i];
                    if (only.Source == cache)
                    {
                        sink.Add(cached!.Times, cached.Bits);
                    }
                    else
                    {
                        decoder.FeedBlock(files[only.Source], only.Entry, types[only.Source], deleted[only.Source], minTime, maxTime, sink);
                    }
                }
                else
                {
                    Run merged = default;
                    for (int source = 0; source <= cache; source++)
                    {
                        int points = 0;
                        for (int b = i; b < j; b++)
                        {
                            points += blocks[b].Source == source ? blocks[b].Entry.Count : 0;
                        }

                        if (points == 0)
                        {
                            continue; // no block of this source in the cluster
                        }

                        Run run;
                        if (source == cache)
                        {
                            run = cached!.AsRun();
                        }
                        else
                        {
                            var builder = new RunBuilder(false, points);
                            for (int b = i; b < j; b++)
                            {
                                if (blocks[b].Source == source)
                                {
                                    decoder.AppendBlock(files[source], blocks[b].Entry, types[source], deleted[source], minTime, maxTime, ref builder);
                                }
                            }

                            run = builder.Build();
                        }

                        merged = merged.Times is null ? run : Run.Merge(merged, run);
                    }

                    if (merged.Count > 0)
                    {
                        sink.Add(merged.Times.AsSpan(0, merged.Count), merged.Bits.AsSpan(0, merged.Count));
                    }
                }

                i = j;
            }
        }
        finally
        {
            blocks.Clear();
            t_blocks = blocks;
        }
    }

    // A block of one source of a key's points: a file (by its place in the file set) or the cache (after them).
    private readonly record struct SourceBlock(int Source, TsmIndexEntry Entry);

    /// <summary>
    /// Finds a key in each file: <paramref name="keys"/>[f] is its entry in file f when it has blocks overlapping
    /// [min, max], else -1. Also whether those files' blocks follow one another in time (none overlaps an earlier
    /// file's), the last of their time bounds, their point count (an upper bound of what is in range) and whether
    /// the key holds strings. From the files' indexes only.
    /// </summary>
    private static (bool Ordered, long LastMax, int Capacity, bool IsString) LocateKey(
        TsmReader[] files, ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, long minTime, long maxTime, Span<int> keys)
    {
        bool ordered = true;
        bool isString = false;
        long lastMax = long.MinValue;
        int capacity = 0;
        for (int f = 0; f < files.Length; f++)
        {
            keys[f] = -1;
            if (!files[f].TryFind(seriesKey, field, out int k))
            {
                continue;
            }

            var (count, lo, hi) = BlockDecoder.Extent(files[f], k, minTime, maxTime);
            if (count == 0)
            {
                continue; // no block in range: an empty run, which merges to nothing
            }

            keys[f] = k;
            isString = files[f].GetKey(k).Type == FieldType.String;
            ordered &= lo > lastMax;
            lastMax = hi;
            capacity += count;
        }

        return (ordered, lastMax, capacity, isString);
    }

    // A block decoder kept per thread between reads (lastpoint asks for a thousand keys in a row; a window
    // aggregate for a hundred): taken while in use, so a nested call makes its own.
    private static BlockDecoder RentDecoder()
    {
        BlockDecoder decoder = t_decoder ?? new BlockDecoder(TsmBlock.DefaultMaxPoints);
        t_decoder = null;
        return decoder;
    }

    private static void ReturnDecoder(BlockDecoder decoder, bool strings)
    {
        if (strings)
        {
            decoder.Dispose(); // its pooled string buffers may have grown large: not kept
        }
        else
        {
            t_decoder = decoder;
        }
    }

    /// <summary>
    /// The first (or last) point of a key in [<paramref name="minTime"/>, <paramref name="maxTime"/>], from
    /// block metadata: only the edge block of each file is decoded (walking inward past blocks whose points
    /// are all deleted or out of range), not the whole range. On a timestamp held twice the newest source wins.
    /// </summary>
    public (bool Found, long Time, long Bits, byte[]? String) ReadEdge(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, long minTime, long maxTime, bool last)
    {
        (bool Found, long Time, long Bits, byte[]? String) best = _cache.ReadEdge(seriesKey, field, minTime, maxTime, last);

        FileSet set = AcquireFiles();
        BlockDecoder decoder = RentDecoder();
        bool strings = false;
        try
        {
            TsmReader[] files = set.Files;
            for (int f = files.Length - 1; f >= 0; f--)
            {
                TsmReader file = files[f];

                // A file whose points all lie at or before the best found (after, for first) cannot beat it: newer
                // sources won ties already. Files are written in time order as a rule, so last() mostly searches
                // the newest file's index only.
                if (best.Found && (last ? file.MaxTime <= best.Time : file.MinTime >= best.Time))
                {
                    continue;
                }

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

                    if (deleted.Count == 0 && e.MinTime >= minTime && e.MaxTime <= maxTime && key.Type is FieldType.Float or FieldType.Integer or FieldType.Unsigned)
                    {
                        // The whole block is in range: its edge point is at the index's time bound, only the values need decoding.
                        int count = decoder.DecodeValues(file, e, key.Type);
                        long edgeTime = last ? e.MaxTime : e.MinTime;
                        if (!best.Found || (last ? edgeTime > best.Time : edgeTime < best.Time))
                        {
                            best = (true, edgeTime, decoder.Bits[last ? count - 1 : 0], null);
                        }

                        break;
                    }

                    strings |= key.Type == FieldType.String;
                    int n = decoder.Decode(file, e, key.Type);
                    bool foundInBlock = false;
                    for (int step = 0; step < n; step++)
                    {
                        int i = last ? n - 1 - step : step;
                        long t = decoder.Times[i];
                        if (t < minTime || t > maxTime || (deleted.Count > 0 && BlockDecoder.IsDeleted(deleted, t)))
                        {
                            continue;
                        }

                        if (!best.Found || (last ? t > best.Time : t < best.Time))
                        {
                            best = (true, t, decoder.Bits[i], key.Type == FieldType.String ? decoder.Strings[i].ToArray() : null);
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
        }
        finally
        {
            set.Release();
            ReturnDecoder(decoder, strings);
        }

        return best;
    }

    /// <summary>
    /// Runs the next compaction the planner picks, if any (one at a time per shard; returns null at once when
    /// one is running or nothing is due). Writers and readers go on meanwhile: the output is written beside the
    /// inputs and swapped in under the write lock; the inputs are deleted once no reader holds them. Deletes
    /// that arrive meanwhile are recorded as tombstones of the output before it is committed.
    /// </summary>
    /// <param name="fullColdAfter">A shard without writes for this long is compacted whole (null: only when <paramref name="forceFull"/>).</param>
    /// <param name="budget">Paces the bytes written (the compaction IO budget); null for none.</param>
    public async Task<CompactionResult?> CompactAsync(bool forceFull = false, TimeSpan? fullColdAfter = null, IoBudget? budget = null, CancellationToken cancel = default)
    {
        if (Volatile.Read(ref _disposed) != 0 || !await _compactionLock.WaitAsync(0, CancellationToken.None).ConfigureAwait(false))
        {
            return null;
        }

        FileSet? set = null;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancel, _stopping.Token);
        cancel = linked.Token;
        try
        {
            set = AcquireFiles();
            bool cold = forceFull || (fullColdAfter is { } after && IdleFor >= after && _cache.SizeBytes == 0);
            CompactionPlan? plan = CompactionPlanner.Plan(Candidates(set.Files), cold);
            if (plan is null)
            {
                return null;
            }

            TsmReader[] inputs = set.Files[plan.FirstIndex..(plan.FirstIndex + plan.Count)];
            TsmFileName output = TsmFileName.Merge([.. inputs.Select(NameOf)], plan.Level);
            string path = Path.Combine(_directory, output.FileName);
            var progress = new CompactionProgress(plan, inputs.Length, inputs.Sum(f => f.Size));
            await _gate.WaitAsync(cancel).ConfigureAwait(false);
            _deletesDuringCompaction = [];
            _compacting = progress;
            _gate.Release();

            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            long keys = 0;
            long written = 0;
            bool committed = false;
            try
            {
                (keys, written) = await Task.Run(() => WriteMerged(inputs, path, plan.Level, progress, budget, cancel), cancel).ConfigureAwait(false);
                await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                try
                {
                    Commit(inputs, keys > 0 ? path : null);
                    committed = true;
                }
                finally
                {
                    _deletesDuringCompaction = null;
                    _compacting = null;
                    _gate.Release();
                }
            }
            finally
            {
                if (!committed)
                {
                    File.Delete(path + TsmFormat.TempSuffix);
                    File.Delete(path + TsmFormat.TombstoneExtension);
                    await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                    _deletesDuringCompaction = null;
                    _compacting = null;
                    _gate.Release();
                }
            }

            var result = new CompactionResult(plan, inputs.Length, progress.InputBytes, written, keys, System.Diagnostics.Stopwatch.GetElapsedTime(started));
            StorageMetrics.CompactionSeconds.Record(result.Duration.TotalSeconds);
            StorageMetrics.CompactionBytes.Add(written);
            StorageMetrics.Compactions.Add(1, new KeyValuePair<string, object?>("level", plan.Level == TsmFileName.FullLevel && plan.Reason.StartsWith("full", StringComparison.Ordinal) ? "full" : plan.Level.ToString(CultureInfo.InvariantCulture)));
            return result;
        }
        finally
        {
            set?.Release();
            _compactionLock.Release();
        }
    }

    /// <summary>Bytes the shard holds on disk (TSM files, tombstones, WAL).</summary>
    public long DiskBytes()
    {
        long total = 0;
        try
        {
            foreach (FileInfo f in new DirectoryInfo(_directory).EnumerateFiles("*", SearchOption.AllDirectories))
            {
                try
                {
                    total += f.Length;
                }
                catch (FileNotFoundException)
                {
                    // removed meanwhile (a compaction input, a WAL segment)
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
        }

        return total;
    }

    /// <summary>
    /// Calls <paramref name="action"/> with the path of each TSM file of the current set (and its tombstone file,
    /// if any), holding the set meanwhile: a compaction may retire the files, but they stay on disk until the
    /// action is done with them (a backup reads a consistent set).
    /// </summary>
    public async Task ForEachFileAsync(Func<string, Task> action)
    {
        FileSet set = AcquireFiles();
        try
        {
            foreach (TsmReader file in set.Files)
            {
                await action(file.Path).ConfigureAwait(false);
                if (File.Exists(file.Tombstones.FilePath))
                {
                    await action(file.Tombstones.FilePath).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            set.Release();
        }
    }

    /// <summary>Every series key, field and type the shard holds, in its files and its cache (not a hot path).</summary>
    public List<(byte[] SeriesKey, byte[] Field, FieldType Type)> Keys()
    {
        List<(byte[] SeriesKey, byte[] Field, FieldType Type)> keys = _cache.Keys();
        FileSet set = AcquireFiles();
        try
        {
            foreach (TsmReader file in set.Files)
            {
                for (int k = 0; k < file.KeyCount; k++)
                {
                    var key = file.GetKey(k);
                    keys.Add((key.SeriesKey.ToArray(), key.Field.ToArray(), key.Type));
                }
            }
        }
        finally
        {
            set.Release();
        }

        return keys;
    }

    /// <summary>The running compaction, or null.</summary>
    public CompactionProgress? Compacting => _compacting;

    /// <summary>The shard's files in order, with their level and whether deletes wait to be purged from them.</summary>
    public IReadOnlyList<CompactionCandidate> Files()
    {
        FileSet set = AcquireFiles();
        try
        {
            return Candidates(set.Files);
        }
        finally
        {
            set.Release();
        }
    }

    /// <summary>Whether the planner has a compaction for this shard now (the compaction queue).</summary>
    public bool CompactionDue(TimeSpan? fullColdAfter)
    {
        bool cold = fullColdAfter is { } after && IdleFor >= after && _cache.SizeBytes == 0;
        return CompactionPlanner.Plan(Files(), cold) is not null;
    }

    private static List<CompactionCandidate> Candidates(TsmReader[] files) =>
        [.. files.Select(f => new CompactionCandidate(NameOf(f), f.Size, !f.Tombstones.IsEmpty))];

    private static TsmFileName NameOf(TsmReader file) =>
        TsmFileName.TryParse(file.Path, out TsmFileName name) ? name : TsmFileName.Snapshot(0);

    // Writes the merged file as name.tsm.tmp (complete and durable); returns its keys and bytes (0 keys: no file).
    private (long Keys, long Bytes) WriteMerged(TsmReader[] inputs, string path, int level, CompactionProgress progress, IoBudget? budget, CancellationToken cancel)
    {
        int blockSize = level == TsmFileName.FullLevel ? _options.FullCompactionMaxPointsPerBlock : _options.MaxPointsPerBlock;
        using var writer = new TsmWriter(path, blockSize);
        long paced = 0;
        long keys = Compactor.Merge(inputs, writer, Math.Max(blockSize, _options.MaxPointsPerBlock), bytes =>
        {
            progress.BytesWritten = bytes;
            budget?.Consume(bytes - paced, cancel);
            paced = bytes;
        }, cancel);
        if (keys == 0)
        {
            return (0, 0);
        }

        TsmFileInfo info = writer.Finish(moveIntoPlace: false);
        return (keys, info.Size);
    }

    // Under the gate: records the deletes that raced the compaction as tombstones of its output, moves the
    // output into place (the commit: from here a restart removes the inputs), and swaps it in for the inputs.
    private void Commit(TsmReader[] inputs, string? output)
    {
        TsmReader? merged = null;
        if (output is not null)
        {
            if (_deletesDuringCompaction is { Count: > 0 } deletes)
            {
                using TsmReader temporary = TsmReader.Open(output + TsmFormat.TempSuffix);
                var add = new List<(byte[], byte[], Tombstone)>();
                foreach (var (keys, min, max) in deletes)
                {
                    foreach (var (series, field) in keys)
                    {
                        if (temporary.TryFind(series, field, out int k) && Overlaps(temporary, k, min, max))
                        {
                            add.Add((series, field, new Tombstone(min, max)));
                        }
                    }
                }

                if (add.Count > 0)
                {
                    TombstoneSet.Load(output + TsmFormat.TombstoneExtension).Append(add);
                }
            }

            TsmWriter.MoveIntoPlace(output);
            merged = TsmReader.Open(output);
        }

        TsmReader[] current = _fileSet.Files;
        int at = Array.IndexOf(current, inputs[0]);
        var files = new List<TsmReader>(current.Length);
        files.AddRange(current[..at]);
        if (merged is not null)
        {
            files.Add(merged);
        }

        files.AddRange(current[(at + inputs.Length)..]);
        Publish([.. files]);
        merged?.Dispose(); // the set holds it
        foreach (TsmReader input in inputs)
        {
            input.DeleteWhenUnused();
        }
    }

    /// <summary>
    /// Whether any of the series' fields has a point left in this shard (cache or files, deletes applied):
    /// a series with none left in any shard leaves the index.
    /// </summary>
    public bool HasData(ReadOnlySpan<byte> seriesKey, IReadOnlyList<byte[]> fields)
    {
        foreach (byte[] field in fields)
        {
            CacheEntry? cached = _cache.Read(seriesKey, field, long.MinValue, long.MaxValue);
            if (cached is not null && cached.Count > 0)
            {
                return true;
            }
        }

        FileSet set = AcquireFiles();
        try
        {
            foreach (TsmReader file in set.Files)
            {
                foreach (byte[] field in fields)
                {
                    if (!file.TryFind(seriesKey, field, out int k))
                    {
                        continue;
                    }

                    IReadOnlyList<Tombstone> deleted = file.Tombstones.For(seriesKey, field);
                    TsmKey key = file.GetKey(k);
                    for (int b = 0; b < key.BlockCount; b++)
                    {
                        if (deleted.Count == 0 || !TombstoneFilter.CoversBlock(file.GetEntry(key, b), deleted))
                        {
                            return true; // a block not wholly deleted (a partly deleted one counts: cheap and safe)
                        }
                    }
                }
            }
        }
        finally
        {
            set.Release();
        }

        return false;
    }

    // A reference to the current files; released by the caller when done reading.
    private FileSet AcquireFiles()
    {
        while (true)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            FileSet set = _fileSet;
            if (set.TryAcquire())
            {
                return set;
            }
        }
    }

    // Under the gate: the new file set becomes current; the old one goes once its readers let go.
    private void Publish(TsmReader[] files)
    {
        FileSet old = _fileSet;
        _fileSet = new FileSet(files);
        old.Release();
    }

    /// <summary>Files shared by readers: each reader holds the set, the set holds its files.</summary>
    private sealed class FileSet
    {
        private int _refs = 1; // the shard's, while the set is current

        public FileSet(TsmReader[] files)
        {
            Files = files;
            foreach (TsmReader f in files)
            {
                f.AddRef();
            }
        }

        public TsmReader[] Files { get; }

        public bool TryAcquire()
        {
            while (true)
            {
                int refs = Volatile.Read(ref _refs);
                if (refs == 0)
                {
                    return false;
                }

                if (Interlocked.CompareExchange(ref _refs, refs + 1, refs) == refs)
                {
                    return true;
                }
            }
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _refs) == 0)
            {
                foreach (TsmReader f in Files)
                {
                    f.Release();
                }
            }
        }
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

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _compactionLock.WaitAsync().ConfigureAwait(false); // a running compaction is cancelled and cleans up first
        await _wal.DisposeAsync().ConfigureAwait(false);
        Interlocked.Exchange(ref _disposed, 1);
        _fileSet.Release(); // files stay mapped until the last reader lets go
        _snapshotLock.Dispose();
    }

    private static PreparedEntry Prepare(IReadOnlyList<PointValue> values)
    {
        using var payload = new ByteWriter(Math.Max(256, values.Count * 24));
        PointBatchCodec.Encode(values, payload);
        return WriteAheadLog.Prepare(payload.WrittenSpan);
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
