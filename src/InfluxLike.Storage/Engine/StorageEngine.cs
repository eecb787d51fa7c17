using System.Collections.Concurrent;
using System.Globalization;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.IO;
using InfluxLike.Storage.Index;
using InfluxLike.Storage.Reads;
using InfluxLike.Storage.Shards;
using InfluxLike.Storage.Tsm.Encoding;

namespace InfluxLike.Storage.Engine;

public sealed record EngineOptions
{
    public ShardOptions Shard { get; init; } = new();

    /// <summary>Series limit per bucket; 0 = none.</summary>
    public long MaxSeriesPerBucket { get; init; }

    /// <summary>Longest accepted line in bytes; a longer one is refused as a bad line.</summary>
    public int MaxLineBytes { get; init; } = 1 << 20;

    /// <summary>Most tags a point may have.</summary>
    public int MaxTagsPerPoint { get; init; } = 256;

    /// <summary>Most fields a line may have.</summary>
    public int MaxFieldsPerPoint { get; init; } = 1024;

    /// <summary>Compactions running at once across the engine.</summary>
    public int MaxConcurrentCompactions { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>Bytes per second all compactions together may write; 0 for no limit.</summary>
    public long CompactThroughputBytesPerSecond { get; init; } = 48L << 20;

    /// <summary>The clock for retention (tests set it).</summary>
    public Func<DateTimeOffset> Clock { get; init; } = () => DateTimeOffset.UtcNow;

    /// <summary>Writes are refused while the data folder's disk has fewer free bytes than this (0: never).</summary>
    public long MinFreeDiskBytes { get; init; } = 100L << 20;

    /// <summary>
    /// Where repairs made while opening are reported (TSM files quarantined, damaged WAL entries skipped, series
    /// re-indexed from the data): the server logs them as warnings.
    /// </summary>
    public Action<string> Warn { get; init; } = static _ => { };

    /// <summary>Free bytes on the disk holding a folder (a seam: tests simulate a full disk).</summary>
    public Func<string, long> FreeDiskBytes { get; init; } = path => new DriveInfo(path).AvailableFreeSpace;
}

/// <summary>
/// Writes are refused because the disk is (nearly) full: not transient in the short term, but reads and
/// deletes go on, and writes resume once space is freed.
/// </summary>
public sealed class StorageFullException(string message) : Exception(message);

/// <summary>
/// Writes are refused because making a write durable failed (an fsync or write error of the WAL or the series
/// index): the engine no longer knows what is on disk, so it acknowledges nothing more until a restart, which
/// recovers from the files. Reads go on.
/// </summary>
public sealed class StorageFailedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>One shard's state, for the storage status view.</summary>
public sealed record ShardStatus(
    long Start, long End, int Files, long FileBytes, long CacheBytes, IReadOnlyDictionary<int, int> FilesPerLevel, int FilesWithDeletes, bool CompactionDue, CompactionProgress? Compacting);

/// <summary>A delete whose index clean-up (series left without data) runs in the background.</summary>
public sealed class DeleteProgress(string bucketId, long series)
{
    public string BucketId { get; } = bucketId;

    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    /// <summary>Series the delete touched.</summary>
    public long Series { get; } = series;

    /// <summary>Series checked for remaining data so far.</summary>
    public long Checked { get; internal set; }

    /// <summary>Series removed from the index (no data left in any shard).</summary>
    public long Removed { get; internal set; }

    public bool Done { get; internal set; }

    public string? Error { get; internal set; }
}

/// <summary>The bucket is not (or no longer) in the catalog.</summary>
public sealed class BucketNotFoundException(string name) : Exception($"bucket \"{name}\" not found");

/// <summary>One bucket's state: series, shards, bytes in caches, TSM files.</summary>
public sealed record BucketStatistics(string BucketId, string BucketName, long Series, int Shards, long CacheBytes, int TsmFiles);

/// <summary>What a write stored and what it refused, line by line and value by value.</summary>
public sealed record WriteResult(int LinesWritten, int ValuesWritten, IReadOnlyList<LineProtocolError> LineErrors, IReadOnlyList<string> Rejected)
{
    public bool Complete => LineErrors.Count == 0 && Rejected.Count == 0;
}

/// <summary>
/// The storage engine: buckets from the catalog, each with a series index and time-partitioned shards.
/// Writes are parsed, routed to the shard of each point's time window, and acknowledged once durable.
/// </summary>
public sealed class StorageEngine : IAsyncDisposable
{
    private readonly string _dataDir;
    private readonly EngineOptions _options;
    private readonly ConcurrentDictionary<string, BucketStore> _buckets = new(StringComparer.Ordinal);
    private readonly object _openLock = new();
    private readonly SemaphoreSlim _compactionSlots;
    private readonly ConcurrentQueue<DeleteProgress> _deletes = new();
    private readonly DataFolderLock _folderLock;

    private StorageEngine(string dataDir, EngineOptions options, Catalog catalog, DataFolderLock folderLock)
    {
        _folderLock = folderLock;
        _dataDir = dataDir;
        _options = options;
        Catalog = catalog;
        _compactionSlots = new SemaphoreSlim(Math.Max(1, options.MaxConcurrentCompactions));
        CompactionBudget = new IoBudget(options.CompactThroughputBytesPerSecond);
        MinFreeDiskBytes = options.MinFreeDiskBytes;
    }

    /// <summary>Writes are refused while the disk has fewer free bytes (changeable while running).</summary>
    public long MinFreeDiskBytes { get; set; }

    private long _freeDiskBytes = long.MaxValue;
    private long _freeDiskCheckedAt = long.MinValue / 2;
    private long _writtenSinceFreeDiskCheck;

    /// <summary>
    /// Free bytes on the data folder's disk, measured at most once a second, or sooner once the bodies written
    /// since the last measurement could have used a quarter of the room left above the reserve.
    /// </summary>
    /// <remarks>
    /// Once a second alone let a fast writer (20 MB/s of poorly compressing values) fill 12 MiB of room between two
    /// measurements: the WAL failed with ENOSPC, which stops the engine until a restart, instead of the reserve
    /// refusing writes with 507 until space returns.
    /// </remarks>
    public long FreeDiskBytes()
    {
        long now = Environment.TickCount64;
        long room = Volatile.Read(ref _freeDiskBytes) - MinFreeDiskBytes;
        if (now - Volatile.Read(ref _freeDiskCheckedAt) >= 1000 || Interlocked.Read(ref _writtenSinceFreeDiskCheck) >= room / 4)
        {
            Interlocked.Exchange(ref _writtenSinceFreeDiskCheck, 0);
            try
            {
                Volatile.Write(ref _freeDiskBytes, _options.FreeDiskBytes(_dataDir));
            }
            catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
            {
                Volatile.Write(ref _freeDiskBytes, long.MaxValue); // unknown: do not refuse writes for it
            }

            Volatile.Write(ref _freeDiskCheckedAt, now);
        }

        return Volatile.Read(ref _freeDiskBytes);
    }

    private string? _failure;

    /// <summary>
    /// Why writes are refused until a restart (the first durability failure, naming the file), or null while
    /// the engine is healthy. Health checks report it.
    /// </summary>
    public string? Failure => Volatile.Read(ref _failure);

    private StorageFailedException Failed(Exception cause)
    {
        MarkFailed(cause);
        return RefusedAfterFailure(cause);
    }

    // The first durability failure (a write's or a delete's) puts the engine in the failed state: health fails,
    // writes and deletes are refused until a restart.
    private void MarkFailed(Exception cause)
    {
        Interlocked.CompareExchange(ref _failure, $"{DateTimeOffset.UtcNow:yyyy-MM-dd'T'HH:mm:ss'Z'}: {cause.Message}", null);
        StorageMetrics.WriteErrors.Add(1, new KeyValuePair<string, object?>("kind", "io"));
    }

    private StorageFailedException RefusedAfterFailure(Exception? cause = null) =>
        new($"writes and deletes are refused until the server is restarted: making a write durable failed at {Failure}; reads still work", cause);

    /// <summary>Forgets the last free-space measurement (after freeing space, or in tests).</summary>
    public void RecheckFreeDisk() => Volatile.Write(ref _freeDiskCheckedAt, long.MinValue / 2);

    public Catalog Catalog { get; }

    /// <summary>The IO budget shared by compactions (its rate can be changed while running).</summary>
    public IoBudget CompactionBudget { get; }

    /// <exception cref="DataFolderInUseException">Another engine has <paramref name="dataDir"/> open.</exception>
    public static StorageEngine Open(string dataDir, EngineOptions? options = null)
    {
        string full = Path.GetFullPath(dataDir);
        var folderLock = DataFolderLock.Acquire(full);
        try
        {
            return Open(full, options ?? new EngineOptions(), folderLock);
        }
        catch
        {
            folderLock.Dispose();
            throw;
        }
    }

    private static StorageEngine Open(string full, EngineOptions options, DataFolderLock folderLock)
    {
        var catalog = Catalog.Open(full);

        // A bucket dropped just before a crash may leave its folder behind: the catalog is the truth.
        string buckets = Path.Combine(full, "buckets");
        if (Directory.Exists(buckets))
        {
            var known = catalog.Buckets.Select(b => b.Id).ToHashSet(StringComparer.Ordinal);
            foreach (string d in Directory.GetDirectories(buckets))
            {
                if (!known.Contains(Path.GetFileName(d)))
                {
                    Directory.Delete(d, recursive: true);
                }
            }
        }

        return new(full, options, catalog, folderLock);
    }

    /// <summary>
    /// Deletes a bucket: first from the catalog (durably, so it is gone even if the process dies next), then
    /// its files. Returns false when there is no such bucket.
    /// </summary>
    public async Task<bool> DropBucketAsync(string bucketId)
    {
        if (!Catalog.DeleteBucket(bucketId))
        {
            return false;
        }

        BucketStore? store;
        lock (_openLock)
        {
            _buckets.TryRemove(bucketId, out store);
        }

        if (store is not null)
        {
            await store.DisposeAsync().ConfigureAwait(false);
        }

        string directory = Path.Combine(_dataDir, "buckets", bucketId);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        return true;
    }

    /// <summary>
    /// Writes a line-protocol body. Good lines are stored even when others are bad; every bad line and
    /// every rejected value is reported. Completes once everything stored is durable.
    /// </summary>
    public async Task<WriteResult> WriteLineProtocolAsync(BucketInfo bucket, ReadOnlyMemory<byte> body, Precision precision, long defaultTimeNs) =>
        (await WriteLineProtocolAsync(bucket, body, precision, defaultTimeNs, final: true, firstLine: 1).ConfigureAwait(false)).Result;

    /// <summary>
    /// Writes the complete lines of a piece of a body that is still arriving: unless <paramref name="final"/>,
    /// the last entry of <paramref name="body"/> may be cut short, so it is left unread and
    /// <c>Consumed</c> tells where it starts (the caller keeps those bytes and adds the next piece).
    /// Line numbers in errors count from <paramref name="firstLine"/>.
    /// </summary>
    public async Task<(WriteResult Result, int Consumed)> WriteLineProtocolAsync(
        BucketInfo bucket, ReadOnlyMemory<byte> body, Precision precision, long defaultTimeNs, bool final, long firstLine)
    {
        BucketStore store = GetStore(bucket);
        if (Failure is not null)
        {
            throw RefusedAfterFailure();
        }

        long min = MinFreeDiskBytes;
        if (min > 0 && FreeDiskBytes() is long free && free < min)
        {
            StorageMetrics.WriteErrors.Add(1, new KeyValuePair<string, object?>("kind", "disk_full"));
            throw new StorageFullException(
                $"writes are refused: the disk of the data folder has {free} bytes free, less than the {min} kept in reserve (storage-min-free-disk); reads and deletes still work, and writes resume once space is freed");
        }

        var rejected = new List<string>();
        // Points older than the retention would land in shards the enforcer drops: refused, as InfluxDB does.
        BucketInfo current = Catalog.GetBucket(bucket.Id) ?? bucket;
        TimeSpan retention = current.Retention;
        long cutoff = RetentionCutoff(retention, _options.Clock());
        // New shards take the bucket's shard duration as it is now; existing shards keep the range they were made with.
        long duration = (long)current.ShardGroupDuration.TotalNanoseconds;
        var (byShard, errors, lines, createdSeries, consumed) = Parse(store, _options, body.Span, precision, defaultTimeNs, final, firstLine, rejected, cutoff, retention, duration);
        if (createdSeries)
        {
            try
            {
                store.Index.Flush(); // series keys durable before the points that name them are acknowledged
            }
            catch (IOException e) when (e is not CorruptionException)
            {
                throw Failed(e);
            }
        }

        StorageMetrics.BytesWritten.Add(consumed);
        Interlocked.Add(ref _writtenSinceFreeDiskCheck, consumed);
        if (errors.Count > 0)
        {
            StorageMetrics.WriteErrors.Add(errors.Count, new KeyValuePair<string, object?>("kind", "parse"));
        }

        if (rejected.Count > 0)
        {
            StorageMetrics.WriteErrors.Add(rejected.Count, new KeyValuePair<string, object?>("kind", "series_limit"));
        }

        int values = 0;
        try
        {
            foreach (var (range, points) in byShard)
            {
                ShardWriteResult r;
                try
                {
                    r = await store.GetShard(range).WriteAsync(points).ConfigureAwait(false);
                }
                catch (ShardBusyException)
                {
                    StorageMetrics.WriteErrors.Add(points.Count, new KeyValuePair<string, object?>("kind", "busy"));
                    throw;
                }
                catch (IOException e) when (e is not CorruptionException) // a damaged file read for a type check is not a write failure
                {
                    throw Failed(e);
                }

                values += r.Written;
                rejected.AddRange(r.Rejected.Select(x => x.Reason));
                if (r.Rejected.Count > 0)
                {
                    StorageMetrics.WriteErrors.Add(r.Rejected.Count, new KeyValuePair<string, object?>("kind", "type_conflict"));
                }
            }
        }
        finally
        {
            foreach (PooledList<PointValue> points in byShard.Values)
            {
                points.Dispose();
            }
        }

        StorageMetrics.ValuesWritten.Add(values);

        return (new WriteResult(lines, values, errors, rejected), consumed);
    }

    /// <summary>
    /// A key's points in [min, max] across the bucket's shards, in time order. Strings hold a string key's values,
    /// one per point; for a number key they are empty.
    /// </summary>
    public (long[] Times, long[] Bits, byte[]?[] Strings) Read(BucketInfo bucket, ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, long minTime, long maxTime)
    {
        BucketStore store = GetStore(bucket);

        // Most reads fall in one shard: its arrays are returned as they are; several are joined once, at their
        // exact size (no growing lists, whose doubling put every day-long read on the large object heap).
        (long[] Times, long[] Bits, byte[]?[] Strings) first = ([], [], []);
        List<(long[] Times, long[] Bits, byte[]?[] Strings)>? more = null;
        foreach (Shard shard in store.ShardsIn(minTime, maxTime))
        {
            (long[] t, long[] b, byte[]?[] s) = ([], [], []);
            try
            {
                (t, b, s) = shard.Read(seriesKey, field, minTime, maxTime);
            }
            catch (ObjectDisposedException)
            {
                // dropped by retention meanwhile: its points are past the bucket's retention
            }

            if (t.Length == 0)
            {
                continue;
            }

            if (first.Times.Length == 0)
            {
                first = (t, b, s);
            }
            else
            {
                (more ??= [first]).Add((t, b, s));
            }
        }

        return more is null ? first : Concat(more);
    }

    /// <summary>
    /// Feeds a key's points in [min, max] across the bucket's shards to <paramref name="sink"/> in time order,
    /// block by block where the shard allows (see <see cref="Shard.Aggregate"/>), without materialising the range.
    /// </summary>
    public void Aggregate(BucketInfo bucket, ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, long minTime, long maxTime, WindowAccumulator sink)
    {
        BucketStore store = GetStore(bucket);
        foreach (Shard shard in store.ShardsIn(minTime, maxTime))
        {
            try
            {
                shard.Aggregate(seriesKey, field, minTime, maxTime, sink);
            }
            catch (ObjectDisposedException)
            {
                // dropped by retention meanwhile (before it fed anything: it fails taking its files)
            }
        }
    }

    private static (long[] Times, long[] Bits, byte[]?[] Strings) Concat(List<(long[] Times, long[] Bits, byte[]?[] Strings)> parts)
    {
        int n = 0;
        foreach (var part in parts)
        {
            n += part.Times.Length;
        }

        var times = new long[n];
        var bits = new long[n];
        var strings = parts.Exists(p => p.Strings.Length > 0) ? new byte[]?[n] : [];
        int at = 0;
        foreach (var (t, b, s) in parts)
        {
            t.CopyTo(times, at);
            b.CopyTo(bits, at);
            if (s.Length > 0)
            {
                s.CopyTo(strings, at);
            }

            at += t.Length;
        }

        return (times, bits, strings);
    }

    /// <summary>
    /// Deletes the points in [<paramref name="minTime"/>, <paramref name="maxTime"/>] of every series field the
    /// index predicate selects and <paramref name="accept"/> (measurement, tags, field) confirms; visible to
    /// queries when it returns. Returns the number of series fields it applied to. Series stay in the index
    /// (removing series without data comes with compaction).
    /// </summary>
    public async Task<int> DeleteAsync(BucketInfo bucket, SeriesPredicate predicate, Func<string, IReadOnlyList<KeyValuePair<string, string>>, string, bool> accept, long minTime, long maxTime)
    {
        BucketStore store = GetStore(bucket);
        if (Failure is not null)
        {
            throw RefusedAfterFailure();
        }

        var keys = new List<(byte[] SeriesKey, byte[] Field)>();
        foreach (ulong id in store.Index.Find(predicate))
        {
            byte[] key = store.Index.GetSeriesKey(id).ToArray();
            var (measurementBytes, tagBytes) = SeriesKey.Parse(key);
            string measurement = System.Text.Encoding.UTF8.GetString(measurementBytes);
            KeyValuePair<string, string>[] tags = [.. tagBytes.Select(t => new KeyValuePair<string, string>(System.Text.Encoding.UTF8.GetString(t.Key), System.Text.Encoding.UTF8.GetString(t.Value)))];
            foreach (var (field, _) in store.Index.FieldKeys(measurement))
            {
                if (accept(measurement, tags, field))
                {
                    keys.Add((key, System.Text.Encoding.UTF8.GetBytes(field)));
                }
            }
        }

        Shard[] shards = store.ShardsIn(minTime, maxTime);
        for (int i = 0; i < shards.Length; i++)
        {
            Shard shard = shards[i];
            try
            {
                await shard.DeleteAsync(keys, Math.Max(minTime, shard.Range.Start), Math.Min(maxTime, shard.Range.Last)).ConfigureAwait(false);
            }
            catch (IOException e) when (e is not CorruptionException)
            {
                // As for a write: the disk failed under this shard, so nothing more is acknowledged until a restart.
                MarkFailed(e);
                throw new StorageFailedException(
                    $"the delete failed: making it durable failed ({e.Message}); it took effect in {i} of the {shards.Length} shard(s) of its time range, "
                    + "and after a restart each shard has it whole or not at all: send it again after the restart (a delete can be repeated). "
                    + "Writes and deletes are refused until the server is restarted; reads still work",
                    e);
            }
        }

        // Series left without any point leave the index in the background; the delete is visible already.
        byte[][] series = [.. keys.Select(k => k.SeriesKey).Distinct(ReferenceEqualityComparer.Instance).Cast<byte[]>()];
        if (series.Length > 0)
        {
            var progress = new DeleteProgress(bucket.Id, series.Length);
            _deletes.Enqueue(progress);
            while (_deletes.Count > 100 && _deletes.TryPeek(out DeleteProgress? oldest) && oldest.Done)
            {
                _deletes.TryDequeue(out _);
            }

            Track(Task.Run(() => RemoveSeriesWithoutData(store, series, progress)));
        }

        return keys.Count;
    }

    /// <summary>Deletes whose background part (index clean-up) runs or ran lately, oldest first.</summary>
    public IReadOnlyList<DeleteProgress> RecentDeletes => [.. _deletes];

    /// <summary>Waits for the background part of every delete so far (tests, shutdown).</summary>
    public Task WhenDeletesDoneAsync() => Task.WhenAll(_background.Keys);

    private readonly ConcurrentDictionary<Task, byte> _background = new();

    private void Track(Task task)
    {
        _background[task] = 0;
        task.ContinueWith(t => _background.TryRemove(t, out _), TaskScheduler.Default);
    }

    // Removes from the index each series with no point left in any shard. A series written again while this
    // runs is put back (checked again after removal), so a racing write is not hidden for long.
    private static void RemoveSeriesWithoutData(BucketStore store, byte[][] series, DeleteProgress progress)
    {
        try
        {
            var fieldsOf = new Dictionary<string, byte[][]>(StringComparer.Ordinal);
            var batch = new List<(ulong Id, byte[] Key, byte[][] Fields)>();
            for (int i = 0; i < series.Length; i++)
            {
                byte[] key = series[i];
                string measurement = System.Text.Encoding.UTF8.GetString(SeriesKey.Parse(key).Measurement);
                if (!fieldsOf.TryGetValue(measurement, out byte[][]? fields))
                {
                    fieldsOf[measurement] = fields = [.. store.Index.FieldKeys(measurement).Select(f => System.Text.Encoding.UTF8.GetBytes(f.Field))];
                }

                if (!store.Shards.Values.Any(s => s.HasData(key, fields)) && store.Index.TryGetSeriesId(key, out ulong id))
                {
                    batch.Add((id, key, fields));
                }

                progress.Checked = i + 1;
                if (batch.Count >= 10_000 || (i == series.Length - 1 && batch.Count > 0))
                {
                    store.Index.DeleteSeries([.. batch.Select(b => b.Id)]);
                    foreach (var (_, k, f) in batch)
                    {
                        if (store.Shards.Values.Any(s => s.HasData(k, f)))
                        {
                            store.Index.GetOrAddSeries(k);
                        }
                        else
                        {
                            progress.Removed++;
                        }
                    }

                    batch.Clear();
                }
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or IOException or CorruptionException)
        {
            progress.Error = e.Message; // the bucket was dropped or the engine closed meanwhile
        }
        finally
        {
            progress.Done = true;
        }
    }

    /// <summary>
    /// Runs the compactions the planner finds due in every open bucket, at most
    /// <see cref="EngineOptions.MaxConcurrentCompactions"/> at once, each shard until nothing more is due.
    /// <paramref name="full"/> first writes every cache to disk and compacts every shard whole, without the IO
    /// budget (what an operator asks for before a backup, or the benchmark's settle step); otherwise a shard
    /// idle for <paramref name="fullColdAfter"/> is compacted whole. A failed compaction leaves its inputs as
    /// they were and is counted; the next round retries it.
    /// </summary>
    public async Task<IReadOnlyList<CompactionResult>> CompactAsync(bool full = false, TimeSpan? fullColdAfter = null, CancellationToken cancel = default)
    {
        if (full)
        {
            await SnapshotAllAsync().ConfigureAwait(false);
        }

        Shard[] shards = [.. _buckets.Values.SelectMany(b => b.Shards.Values)];
        var results = new ConcurrentBag<CompactionResult>();
        if (MinFreeDiskBytes > 0 && FreeDiskBytes() < MinFreeDiskBytes / 2)
        {
            // A compaction needs room for its output before its inputs go: not on a disk this full.
            LastCompactionError = $"compactions paused: {FreeDiskBytes()} bytes free on the data folder's disk";
            return [];
        }

        await Parallel.ForEachAsync(shards, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.MaxConcurrentCompactions), CancellationToken = cancel }, async (shard, ct) =>
        {
            while (true)
            {
                await _compactionSlots.WaitAsync(ct).ConfigureAwait(false);
                CompactionResult? result;
                try
                {
                    result = await shard.CompactAsync(full, fullColdAfter, full ? null : CompactionBudget, ct).ConfigureAwait(false);
                }
                catch (ObjectDisposedException)
                {
                    return; // dropped meanwhile (retention, bucket deleted)
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    return; // the shard is closing
                }
                catch (Exception e) when (e is IOException or CorruptionException or UnauthorizedAccessException)
                {
                    StorageMetrics.CompactionErrors.Add(1);
                    LastCompactionError = $"{shard.Folder}: {e.Message}";
                    return;
                }
                finally
                {
                    _compactionSlots.Release();
                }

                if (result is null)
                {
                    return;
                }

                results.Add(result);
            }
        }).ConfigureAwait(false);
        return [.. results];
    }

    /// <summary>
    /// An online backup of a bucket: every cache is written to disk, then each shard's current files are handed to
    /// <paramref name="sink"/> (the shard's folder name, <see cref="ShardRange.FolderName"/>; file name; path) while
    /// the shard keeps them. Points acknowledged before
    /// the call are in the backup; later ones may be. The series index is not copied: a restore rebuilds it from
    /// the files' keys.
    /// </summary>
    public async Task BackupAsync(BucketInfo bucket, Func<string, string, string, Task> sink)
    {
        BucketStore store = GetStore(bucket);
        foreach (Shard shard in store.ShardsIn(long.MinValue, long.MaxValue))
        {
            await shard.SnapshotAsync().ConfigureAwait(false);
            string folder = shard.Range.FolderName;
            await shard.ForEachFileAsync(path => sink(folder, Path.GetFileName(path), path)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Restores a backup as a new bucket: creates it, puts the files in place (durably), opens it and rebuilds its
    /// series index from the TSM keys. <paramref name="files"/> yields (shard folder name, file name, content); a
    /// folder named by its start alone (backups from before shards recorded their range) spans
    /// <paramref name="shardGroupDuration"/>.
    /// </summary>
    /// <exception cref="CatalogConflictException">A bucket of that name exists in the organisation.</exception>
    public async Task<BucketInfo> RestoreBucketAsync(string orgId, string name, TimeSpan retention, TimeSpan shardGroupDuration, IAsyncEnumerable<(string Shard, string FileName, Stream Content)> files)
    {
        BucketInfo bucket = Catalog.CreateBucket(orgId, name, retention, shardGroupDuration);
        string shards = Path.Combine(_dataDir, "buckets", bucket.Id, "shards");
        var ranges = new Dictionary<long, ShardRange>();
        try
        {
            await foreach (var (shard, fileName, content) in files.ConfigureAwait(false))
            {
                if (!ShardRange.TryParseFolderName(shard, (long)shardGroupDuration.TotalNanoseconds, out ShardRange range))
                {
                    throw new ArgumentException($"unexpected shard folder \"{shard}\" in the backup: expected {{start}}_{{last}} in nanoseconds");
                }

                // Shards must not overlap (reads take them in order); one start must name one range.
                if (ranges.TryGetValue(range.Start, out ShardRange known) ? known != range : ranges.Values.Any(r => r.Overlaps(range.Start, range.Last)))
                {
                    throw new ArgumentException($"shard folder \"{shard}\" of the backup overlaps another shard's times");
                }

                ranges[range.Start] = range;

                // Only names the shard itself would have written: a TSM file name or one with the tombstone
                // suffix. That also keeps every name inside the shard folder (no separators, no "..").
                string tsmName = fileName.EndsWith(Tsm.TsmFormat.TombstoneExtension, StringComparison.Ordinal) ? fileName[..^Tsm.TsmFormat.TombstoneExtension.Length] : fileName;
                if (fileName.Contains('/', StringComparison.Ordinal) || !Tsm.TsmFileName.TryParse(tsmName, out _))
                {
                    throw new ArgumentException($"unexpected file \"{fileName}\" in the backup");
                }

                string dir = Path.Combine(shards, range.FolderName);
                Directory.CreateDirectory(dir);
                string target = Path.Combine(dir, fileName);
                await using (var output = new FileStream(target + ".restore", FileMode.Create, FileAccess.Write))
                {
                    await content.CopyToAsync(output).ConfigureAwait(false);
                    output.Flush(flushToDisk: true);
                }

                FileSystem.ReplaceDurably(target + ".restore", target);
            }

            // The index, from every file's keys. A file that does not open fails the restore: opening a shard
            // quarantines it with a warning, which a restore must not shrug off.
            BucketStore store = GetStore(bucket);
            if (store.Shards.Values.SelectMany(s => s.Warnings).FirstOrDefault(w => w.Contains(Tsm.TsmFileName.QuarantineSuffix, StringComparison.Ordinal)) is { } bad)
            {
                throw new CorruptionException(bad, 0, "a file of the backup does not open");
            }

            store.Reindex();
            return bucket;
        }
        catch
        {
            await DropBucketAsync(bucket.Id).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The last compaction failure (file and reason), for the status view; null when none.</summary>
    public string? LastCompactionError { get; private set; }

    /// <summary>
    /// Drops every shard wholly older than its bucket's retention (InfluxDB's retention enforcer), opening
    /// buckets not opened yet. Returns the shards dropped. A shard is first renamed aside, so a crash
    /// mid-drop never leaves half a shard that queries would read.
    /// </summary>
    public async Task<int> EnforceRetentionAsync()
    {
        int dropped = 0;
        DateTimeOffset now = _options.Clock();
        foreach (BucketInfo bucket in Catalog.Buckets)
        {
            BucketStore store;
            try
            {
                store = GetStore(bucket);
            }
            catch (BucketNotFoundException)
            {
                continue;
            }

            dropped += await DropOverSizeAsync(store, bucket.MaxSizeBytes).ConfigureAwait(false);
            if (bucket.Retention <= TimeSpan.Zero)
            {
                continue;
            }

            long cutoff = RetentionCutoff(bucket.Retention, now);
            foreach (var (start, held) in store.Shards.ToArray())
            {
                if (held.Range.Last >= cutoff || !store.TryRemoveShard(start, out Shard? shard))
                {
                    continue;
                }

                await DropShardAsync(shard).ConfigureAwait(false);
                dropped++;
            }
        }

        return dropped;
    }

    private static async Task DropShardAsync(Shard shard)
    {
        await shard.DisposeAsync().ConfigureAwait(false);
        string aside = shard.Folder + BucketStore.DroppingSuffix;
        Directory.Move(shard.Folder, aside);
        FileSystem.SyncDirectory(Path.GetDirectoryName(shard.Folder)!);
        Directory.Delete(aside, recursive: true);
        StorageMetrics.RetentionDroppedShards.Add(1);
    }

    // Past the bucket's size limit, its oldest shards go first; the newest one always stays (it takes the writes).
    private static async Task<int> DropOverSizeAsync(BucketStore store, long maxBytes)
    {
        int dropped = 0;
        while (maxBytes > 0 && store.Shards.Count > 1)
        {
            long size = store.Shards.Values.Sum(s => s.DiskBytes());
            if (size <= maxBytes)
            {
                break;
            }

            long oldest = store.Shards.Keys.Min();
            if (!store.TryRemoveShard(oldest, out Shard? shard))
            {
                break;
            }

            await DropShardAsync(shard).ConfigureAwait(false);
            dropped++;
        }

        return dropped;
    }

    private static long RetentionCutoff(TimeSpan retention, DateTimeOffset now) =>
        retention <= TimeSpan.Zero ? long.MinValue : (now - retention).ToUnixTimeMilliseconds() * 1_000_000L;

    /// <summary>Every open bucket's shards: files per level, pending deletes, compaction state.</summary>
    public IReadOnlyList<(BucketInfo Bucket, IReadOnlyList<ShardStatus> Shards)> StorageStatus(TimeSpan? fullColdAfter = null) =>
        [.. _buckets.Values.Select(b => (b.Bucket, (IReadOnlyList<ShardStatus>)[.. b.Shards.OrderBy(s => s.Key).Select(s => ShardStatusOf(s.Key, s.Value, fullColdAfter))]))];

    private static ShardStatus ShardStatusOf(long start, Shard shard, TimeSpan? fullColdAfter)
    {
        IReadOnlyList<CompactionCandidate> files;
        try
        {
            files = shard.Files();
        }
        catch (ObjectDisposedException)
        {
            files = [];
        }

        return new ShardStatus(
            start,
            shard.Range.End,
            files.Count,
            files.Sum(f => f.Size),
            shard.CacheBytes,
            files.GroupBy(f => f.Name.Level).ToDictionary(g => g.Key, g => g.Count()),
            files.Count(f => f.HasTombstones),
            files.Count > 0 && shard.CompactionDue(fullColdAfter),
            shard.Compacting);
    }

    /// <summary>A key's first (or last) point in [min, max] across the bucket's shards, read from the edge blocks only.</summary>
    public (bool Found, long Time, long Bits, byte[]? String) ReadEdge(BucketInfo bucket, ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, long minTime, long maxTime, bool last)
    {
        BucketStore store = GetStore(bucket);
        Shard[] shards = store.ShardsIn(minTime, maxTime);
        for (int i = 0; i < shards.Length; i++)
        {
            Shard shard = shards[last ? shards.Length - 1 - i : i];
            (bool Found, long Time, long Bits, byte[]? String) edge = default;
            try
            {
                edge = shard.ReadEdge(seriesKey, field, minTime, maxTime, last);
            }
            catch (ObjectDisposedException)
            {
                // dropped by retention meanwhile
            }

            if (edge.Found)
            {
                return edge; // shards partition time: the first shard in order that has a point holds the edge
            }
        }

        return default;
    }

    public SeriesIndex GetIndex(BucketInfo bucket) => GetStore(bucket).Index;

    /// <summary>State of every bucket opened since start-up (for metrics and status pages).</summary>
    public IReadOnlyList<BucketStatistics> Statistics() =>
        [.. _buckets.Values.Select(b => new BucketStatistics(
            b.Bucket.Id,
            b.Bucket.Name,
            b.Index.SeriesCount,
            b.Shards.Count,
            b.Shards.Values.Sum(s => s.CacheBytes),
            b.Shards.Values.Sum(s => s.FileCount)))];

    /// <summary>Writes every shard's cache to TSM files.</summary>
    public async Task SnapshotAllAsync()
    {
        foreach (BucketStore b in _buckets.Values)
        {
            foreach (Shard s in b.Shards.Values)
            {
                await s.SnapshotAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Snapshots every shard whose cache holds data and that has had no write for <paramref name="idleFor"/>
    /// (InfluxDB's cache-snapshot-write-cold-duration), so a quiet shard's WAL does not wait for the size
    /// threshold. Returns the number of shards snapshotted. The server calls it periodically.
    /// </summary>
    public async Task<int> SnapshotIdleShardsAsync(TimeSpan idleFor)
    {
        int count = 0;
        foreach (BucketStore b in _buckets.Values)
        {
            foreach (Shard s in b.Shards.Values)
            {
                if (s.CacheBytes > 0 && s.IdleFor >= idleFor)
                {
                    await s.SnapshotAsync().ConfigureAwait(false);
                    count++;
                }
            }
        }

        return count;
    }

    public async ValueTask DisposeAsync()
    {
        await WhenDeletesDoneAsync().ConfigureAwait(false);
        foreach (BucketStore b in _buckets.Values)
        {
            await b.DisposeAsync().ConfigureAwait(false);
        }

        _buckets.Clear();
        _folderLock.Dispose(); // last: the folder is free for another engine once every file is closed
    }

    private static (Dictionary<ShardRange, PooledList<PointValue>> ByShard, List<LineProtocolError> Errors, int Lines, bool CreatedSeries, int Consumed) Parse(
        BucketStore store, EngineOptions options, ReadOnlySpan<byte> body, Precision precision, long defaultTimeNs, bool final, long firstLine, List<string> rejected, long retentionCutoff, TimeSpan retention,
        long shardDuration)
    {
        int consumed = body.Length;
        var byShard = new Dictionary<ShardRange, PooledList<PointValue>>();
        var errors = new List<LineProtocolError>();
        int lines = 0;
        bool created = false;
        ShardRange shard = default;
        PooledList<PointValue>? shardPoints = null; // the last point's shard and its points: lines mostly share one
        var reader = new LineProtocolReader(body, new LineProtocolReaderOptions { Precision = precision, DefaultTimestamp = defaultTimeNs, FirstLineNumber = firstLine });
        using var key = new ByteWriter(256);
        Span<byte> scratch = stackalloc byte[256];
        var fields = new Interner();
        var seriesKeys = new Interner();
        Dictionary<object, string>? refusedSeries = null;
        var seenFields = new HashSet<(byte[], byte[])>();
        byte[]? lastMeasurement = null;
        byte[]?[] lastFields = new byte[]?[32];
        try
        {
            while (true)
            {
                int entryStart = reader.BytesConsumed;
                if (!reader.Read())
                {
                    break;
                }

                if (!final && reader.BytesConsumed >= body.Length)
                {
                    consumed = entryStart; // may be cut short: left for the next piece
                    break;
                }

                if (reader.Error is { } error)
                {
                    errors.Add(error);
                    continue;
                }

                if (LimitError(ref reader, options) is { } limit)
                {
                    errors.Add(limit);
                    continue;
                }

                if (reader.Timestamp < retentionCutoff)
                {
                    rejected.Add($"line {reader.LineNumber}: point is older than the bucket's retention period ({retention}); points beyond retention policy are dropped");
                    continue;
                }

                key.Clear();
                SeriesKey.Write(ref reader, key);
                // A batch names each series many times: one array per series, and one index lookup.
                byte[] seriesKey = seriesKeys.Intern(key.WrittenSpan, out bool firstInBatch);
                if (firstInBatch)
                {
                    try
                    {
                        long before = store.Index.SeriesCount;
                        store.Index.GetOrAddSeries(seriesKey);
                        created |= store.Index.SeriesCount != before;
                    }
                    catch (SeriesLimitExceededException e)
                    {
                        (refusedSeries ??= new(ReferenceEqualityComparer.Instance)).Add(seriesKey, e.Message);
                    }
                }

                if (refusedSeries is not null && refusedSeries.TryGetValue(seriesKey, out string? refusal))
                {
                    rejected.Add($"line {reader.LineNumber}: {refusal}");
                    continue;
                }

                long time = reader.Timestamp;
                if (shardPoints is null || !shard.Contains(time))
                {
                    shard = store.RangeFor(time, shardDuration);
                    if (!byShard.TryGetValue(shard, out shardPoints))
                    {
                        byShard[shard] = shardPoints = new PooledList<PointValue>(Math.Clamp(body.Length / 40, 256, 1 << 20));
                    }
                }

                PooledList<PointValue> points = shardPoints;

                byte[] measurement = fields.Intern(reader.Measurement.Unescape(scratch));
                for (int i = 0; i < reader.FieldCount; i++)
                {
                    LineField f = reader.GetField(i);
                    byte[] field = fields.Intern(f.Key.Unescape(scratch));

                    // The index learns a (measurement, field) once per batch, not once per value; interned
                    // arrays compare by reference, and a line usually repeats the previous line's fields.
                    bool known = ReferenceEquals(measurement, lastMeasurement) && i < lastFields.Length && ReferenceEquals(lastFields[i], field);
                    if (!known && i < lastFields.Length)
                    {
                        lastFields[i] = field;
                    }

                    if (!known && seenFields.Add((measurement, field)))
                    {
                        store.Index.GetOrAddField(System.Text.Encoding.UTF8.GetString(measurement), System.Text.Encoding.UTF8.GetString(field), f.Type);
                    }

                    points.Add(f.Type == FieldType.String
                        ? new PointValue(seriesKey, field, f.Type, time, 0, System.Text.Encoding.UTF8.GetBytes(f.StringValue.ToString()))
                        : new PointValue(seriesKey, field, f.Type, time, f.RawBits));
                }

                if (!ReferenceEquals(measurement, lastMeasurement))
                {
                    Array.Clear(lastFields);
                    lastMeasurement = measurement;
                }

                lines++;
            }
        }
        finally
        {
            reader.Dispose();
        }

        return (byShard, errors, lines, created, consumed);
    }

    private static LineProtocolError? LimitError(ref LineProtocolReader reader, EngineOptions options)
    {
        string? reason =
            reader.RawEntry.Length > options.MaxLineBytes ? $"the line is {reader.RawEntry.Length} bytes long; the limit is {options.MaxLineBytes}"
            : reader.TagCount > options.MaxTagsPerPoint ? $"the point has {reader.TagCount} tags; the limit is {options.MaxTagsPerPoint}"
            : reader.FieldCount > options.MaxFieldsPerPoint ? $"the line has {reader.FieldCount} fields; the limit is {options.MaxFieldsPerPoint}"
            : null;
        return reason is null
            ? null
            : new LineProtocolError(reader.LineNumber, 1, reason, System.Text.Encoding.UTF8.GetString(reader.RawEntry[..Math.Min(reader.RawEntry.Length, LineProtocolError.MaxLineTextBytes)]));
    }

    /// <summary>One array per distinct byte string within a batch: field keys repeat on every line.</summary>
    private sealed class Interner
    {
        private readonly Dictionary<byte[], byte[]> _seen = new(ByteArrayComparer.Instance);

        public byte[] Intern(ReadOnlySpan<byte> bytes) => Intern(bytes, out _);

        public byte[] Intern(ReadOnlySpan<byte> bytes, out bool added)
        {
            var lookup = _seen.GetAlternateLookup<ReadOnlySpan<byte>>();
            if (lookup.TryGetValue(bytes, out byte[]? known))
            {
                added = false;
                return known;
            }

            byte[] copy = bytes.ToArray();
            _seen[copy] = copy;
            added = true;
            return copy;
        }
    }

    private BucketStore GetStore(BucketInfo bucket)
    {
        if (_buckets.TryGetValue(bucket.Id, out BucketStore? store))
        {
            return store;
        }

        lock (_openLock)
        {
            if (Catalog.GetBucket(bucket.Id) is null)
            {
                throw new BucketNotFoundException(bucket.Name);
            }

            return _buckets.GetOrAdd(bucket.Id, _ => BucketStore.Open(Path.Combine(_dataDir, "buckets", bucket.Id), bucket, _options));
        }
    }

    /// <summary>One bucket's index and shards.</summary>
    private sealed class BucketStore : IAsyncDisposable
    {
        private readonly string _directory;
        private readonly EngineOptions _options;
        private readonly object _lock = new();

        private BucketStore(string directory, BucketInfo bucket, EngineOptions options, SeriesIndex index)
        {
            _directory = directory;
            Bucket = bucket;
            _options = options;
            Index = index;
        }

        public BucketInfo Bucket { get; }

        public SeriesIndex Index { get; }

        /// <summary>The shards by the start of their range. After opening, added and removed only through
        /// <see cref="GetShard"/> and <see cref="TryRemoveShard"/>, which keep the sorted ranges in step.</summary>
        public ConcurrentDictionary<long, Shard> Shards { get; } = new();

        private volatile ShardRange[]? _ranges; // the shards' ranges by start; rebuilt after a shard comes or goes

        /// <summary>A shard folder being dropped (renamed first, deleted next; a crash in between leaves it to delete on open).</summary>
        public const string DroppingSuffix = ".dropping";

        public static BucketStore Open(string directory, BucketInfo bucket, EngineOptions options)
        {
            var index = SeriesIndex.Open(Path.Combine(directory, "index"), new SeriesIndexOptions { BucketName = bucket.Name, MaxSeries = options.MaxSeriesPerBucket });
            var store = new BucketStore(directory, bucket, options, index);
            string shards = Path.Combine(directory, "shards");
            if (Directory.Exists(shards))
            {
                foreach (string d in Directory.GetDirectories(shards))
                {
                    if (d.EndsWith(DroppingSuffix, StringComparison.Ordinal))
                    {
                        Directory.Delete(d, recursive: true);
                        continue;
                    }

                    string name = Path.GetFileName(d);
                    if (ShardRange.TryParseFolderName(name, (long)bucket.ShardGroupDuration.TotalNanoseconds, out ShardRange range))
                    {
                        Shard shard = store.OpenShard(d);
                        if (!name.Contains('_', StringComparison.Ordinal))
                        {
                            // A folder from before shards recorded their range, perhaps made with a longer duration
                            // than the bucket's now: it spans at least its points, so none is hidden, kept out of a
                            // delete or dropped by retention early.
                            range = range with { Last = Math.Max(range.Last, shard.LatestTime()) };
                        }

                        shard.Range = range;
                        store.Shards[range.Start] = shard;
                    }
                }
            }

            foreach (string repair in index.Repairs)
            {
                options.Warn(repair);
            }

            if (index.SeriesLogBytesCut > 0)
            {
                // A cut series log is a torn tail after a crash (its series were never acknowledged, so no data
                // names them) or damage (then data names series the log lost): find them again in the data.
                int added = store.Reindex();
                options.Warn($"{index.SeriesLogPath}: cut {index.SeriesLogBytesCut} bytes at offset {index.SeriesLogCutAt} that failed their checksum; "
                    + (added == 0 ? "no data names a series from them (a torn tail after a crash)" : $"damage: {added} series found again in the shards' data and re-indexed"));
            }

            return store;
        }

        private Shard OpenShard(string directory)
        {
            Shard shard = Shard.Open(directory, _options.Shard);
            foreach (string warning in shard.Warnings)
            {
                _options.Warn(warning);
            }

            return shard;
        }

        /// <summary>Adds to the index every series and field the shards hold; returns how many series were missing.</summary>
        public int Reindex()
        {
            int added = 0;
            foreach (Shard shard in Shards.Values)
            {
                foreach (var (seriesKey, field, type) in shard.Keys())
                {
                    if (!Index.TryGetSeriesId(seriesKey, out _))
                    {
                        Index.GetOrAddSeries(seriesKey);
                        added++;
                    }

                    string measurement = System.Text.Encoding.UTF8.GetString(SeriesKey.Parse(seriesKey).Measurement);
                    Index.GetOrAddField(measurement, System.Text.Encoding.UTF8.GetString(field), type);
                }
            }

            Index.Flush();
            return added;
        }

        /// <summary>
        /// The range of the shard that holds <paramref name="time"/>: an existing shard's, or a new shard's (created
        /// here) spanning the window of <paramref name="duration"/> around it, cut short where existing shards begin
        /// or end, so shards never overlap whatever durations they were created with.
        /// </summary>
        public ShardRange RangeFor(long time, long duration)
        {
            if (Find(Ranges, time) is { } found)
            {
                return found;
            }

            lock (_lock)
            {
                ShardRange[] ranges = SortedRanges();
                foreach (ShardRange r in ranges)
                {
                    if (r.Contains(time))
                    {
                        return r; // made meanwhile, or a folder from before ranges were recorded that overlaps another
                    }
                }

                ShardRange window = ShardRange.Window(time, duration);
                long start = window.Start, last = window.Last;
                foreach (ShardRange r in ranges)
                {
                    if (r.Last < time && r.Last >= start)
                    {
                        start = r.Last + 1; // an older shard holds the window's beginning
                    }
                    else if (r.Start > time && r.Start <= last)
                    {
                        last = r.Start - 1; // a newer one holds its end
                    }
                }

                var range = new ShardRange(start, last);
                GetShard(range);
                return range;
            }
        }

        /// <summary>The shard of <paramref name="range"/> (as <see cref="RangeFor"/> gave it), opened or created.</summary>
        /// <exception cref="ShardBusyException">The shard was dropped (size limit, retention) since the points were
        /// routed to it and its times are now another shard's: the write is refused, to be sent again.</exception>
        public Shard GetShard(ShardRange range)
        {
            if (Shards.TryGetValue(range.Start, out Shard? shard) && shard.Range == range)
            {
                return shard;
            }

            lock (_lock)
            {
                if (!Shards.TryGetValue(range.Start, out shard))
                {
                    if (SortedRanges().Any(r => r.Overlaps(range.Start, range.Last)))
                    {
                        throw Rerouted(range);
                    }

                    shard = OpenShard(Path.Combine(_directory, "shards", range.FolderName));
                    shard.Range = range;
                    Shards[range.Start] = shard;
                    _ranges = null;
                }
                else if (shard.Range != range)
                {
                    throw Rerouted(range);
                }

                return shard;
            }
        }

        private static ShardBusyException Rerouted(ShardRange range) =>
            new($"the shard for {range.Start}..{range.Last} was dropped and its times taken by another while the write was routed to it; send the write again");

        public bool TryRemoveShard(long start, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Shard? shard)
        {
            lock (_lock)
            {
                _ranges = null;
                return Shards.TryRemove(start, out shard);
            }
        }

        /// <summary>The shards overlapping [min, max], oldest first.</summary>
        public Shard[] ShardsIn(long min, long max)
        {
            ShardRange[] ranges = Ranges;
            var found = new List<Shard>(2);
            foreach (ShardRange r in ranges)
            {
                if (r.Overlaps(min, max) && Shards.TryGetValue(r.Start, out Shard? shard))
                {
                    found.Add(shard);
                }
            }

            return [.. found];
        }

        private static ShardRange? Find(ShardRange[] ranges, long time)
        {
            int lo = 0, hi = ranges.Length - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                if (ranges[mid].Last < time)
                {
                    lo = mid + 1;
                }
                else if (ranges[mid].Start > time)
                {
                    hi = mid - 1;
                }
                else
                {
                    return ranges[mid];
                }
            }

            return null;
        }

        private ShardRange[] Ranges => _ranges ?? SortedRanges();

        // Rebuilt under the lock only, so a list taken before a shard came cannot be published after it.
        private ShardRange[] SortedRanges()
        {
            lock (_lock)
            {
                return _ranges ??= [.. Shards.Values.Select(s => s.Range).OrderBy(r => r.Start)];
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (Shard s in Shards.Values)
            {
                await s.DisposeAsync().ConfigureAwait(false);
            }

            Index.Dispose();
        }
    }
}
