using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using InfluxLike.Storage.IO;
using K4os.Compression.LZ4;

namespace InfluxLike.Storage.Wal;

/// <summary>When the log makes writes durable.</summary>
public enum FsyncPolicy
{
    /// <summary>fsync before every acknowledgement (group commit shares one fsync among concurrent writers).</summary>
    EveryWrite,

    /// <summary>fsync at most every <see cref="WalOptions.FsyncInterval"/>; a crash may lose that window.</summary>
    Interval,
}

public sealed record WalOptions
{
    /// <summary>A segment is closed and a new one started past this size.</summary>
    public long SegmentSizeBytes { get; init; } = 10 << 20;

    public FsyncPolicy Fsync { get; init; } = FsyncPolicy.EveryWrite;

    public TimeSpan FsyncInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Makes a segment's written bytes durable (a seam: tests inject fsync failures).</summary>
    public Action<FileStream> SyncFile { get; init; } = static f => f.Flush(flushToDisk: true);
}

/// <summary>
/// The write-ahead log of a shard: append-only segment files <c>NNNNNNNN.wal</c> of entries
/// <c>[payload length u32][uncompressed length u32][crc32 u32 of the next two fields' bytes and the payload][LZ4 payload]</c>
/// (an uncompressed length of 0 means the payload is stored as it is: compression did not pay).
/// </summary>
/// <remarks>
/// <para>
/// Group commit: <see cref="AppendAsync"/> queues an entry and returns a task that completes once the entry
/// is durable under the <see cref="FsyncPolicy"/>. One flusher writes everything queued so far with one
/// write and one fsync, so concurrent writers share the cost of a sync.
/// </para>
/// <para>
/// Recovery: <see cref="Replay"/> returns every complete entry in order. An entry cut short or failing its
/// checksum in the last segment with no whole entry after it is a torn write from a crash: it was never
/// acknowledged, so it is cut off. Any other bad entry (in an older segment, or in the last one with a
/// good entry after it) is corruption: reported (a <see cref="CorruptionException"/> message naming file
/// and offset) through the warning callback, the segment copied aside as <c>.bad</c>, and replay goes on
/// from the next entry that passes its checksum, so one damaged entry costs that entry, not the shard or
/// the entries written after it.
/// </para>
/// </remarks>
public sealed class WriteAheadLog : IAsyncDisposable, IDisposable
{
    public const string Extension = ".wal";

    /// <summary>Suffix of the copy of a segment found damaged, kept for inspection.</summary>
    public const string QuarantineSuffix = ".bad";
    private const int EntryHeaderLength = 12;

    private readonly string _directory;
    private readonly WalOptions _options;
    private readonly object _queueLock = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _flusher;
    private List<Pending> _queue = [];
    private FileStream _segment;
    private long _segmentId;
    private long _lastSync;
    private bool _dirty;
    private Exception? _failure;

    private WriteAheadLog(string directory, WalOptions options, long segmentId)
    {
        _directory = directory;
        _options = options;
        _segmentId = segmentId;
        _segment = OpenSegment(segmentId);
        _flusher = Task.Run(FlushLoopAsync);
    }

    /// <summary>The segment entries are being appended to.</summary>
    public long CurrentSegmentId => Interlocked.Read(ref _segmentId);

    /// <summary>Bytes of a torn tail cut off by <see cref="Replay"/>.</summary>
    public long TruncatedBytes { get; private set; }

    /// <summary>Opens the log in <paramref name="directory"/>, appending to a new segment after the existing ones.</summary>
    public static WriteAheadLog Open(string directory, WalOptions? options = null)
    {
        Directory.CreateDirectory(directory);
        long last = SegmentIds(directory).DefaultIfEmpty(0).Max();
        return new WriteAheadLog(directory, options ?? new WalOptions(), last + 1);
    }

    /// <summary>The segment ids present in <paramref name="directory"/>, ascending.</summary>
    public static IEnumerable<long> SegmentIds(string directory) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*" + Extension)
                .Select(f => long.TryParse(Path.GetFileNameWithoutExtension(f), NumberStyles.None, CultureInfo.InvariantCulture, out long id) ? id : -1)
                .Where(id => id > 0)
                .Order()
            : [];

    /// <summary>
    /// Reads every complete entry of the segments in <paramref name="directory"/>, oldest first, cutting off
    /// a torn tail of the last segment. Call before <see cref="Open"/>.
    /// </summary>
    public static IEnumerable<WalRecord> Replay(string directory, Action<string>? warn = null)
    {
        long[] ids = [.. SegmentIds(directory)];
        for (int s = 0; s < ids.Length; s++)
        {
            string path = SegmentPath(directory, ids[s]);
            byte[] data = File.ReadAllBytes(path);
            int pos = 0;
            while (pos < data.Length)
            {
                int start = pos;
                if (!TryReadEntry(data, ref pos, out byte[]? payload, out string? problem))
                {
                    // A bad entry followed by a good one is damage inside the log, even in the last segment: a
                    // crash tears only the end of what was being written, so a whole entry that passes its
                    // checksum after the bad one means the bad one was once complete, and may have been
                    // acknowledged. With nothing good after it in the last segment, it is a torn tail.
                    int resume = Resync(data, start + 1);
                    if (resume < 0 && s == ids.Length - 1)
                    {
                        warn?.Invoke($"{path}: cut off a torn tail of {data.Length - start} bytes at offset {start} ({problem}); it was never acknowledged");
                        using (var f = new FileStream(path, FileMode.Open, FileAccess.Write))
                        {
                            f.SetLength(start);
                            f.Flush(flushToDisk: true);
                        }

                        break;
                    }

                    // The entry was acknowledged and is lost. The rest still serves: skip to the next entry that
                    // passes its checksum, keep a copy of the segment for inspection, and report file and offset.
                    File.Copy(path, path + QuarantineSuffix, overwrite: true);
                    var damage = new CorruptionException(path, start, problem!);
                    warn?.Invoke($"{damage.Message}; skipped {(resume < 0 ? data.Length : resume) - start} bytes to {(resume < 0 ? "the end of the segment" : $"the next good entry at offset {resume}")}; a copy is kept as {Path.GetFileName(path)}{QuarantineSuffix}");
                    if (resume < 0)
                    {
                        break;
                    }

                    pos = resume;
                    continue;
                }

                yield return new WalRecord(ids[s], payload!);
            }
        }
    }

    /// <summary>Queues an entry; the task completes when it is durable (or faults if the log failed).</summary>
    public Task AppendAsync(ReadOnlySpan<byte> payload) => AppendAsync(Prepare(payload));

    /// <summary>
    /// Compresses and checksums an entry without queueing it, so callers can do that work outside their
    /// own locks and queue it with <see cref="AppendAsync(PreparedEntry)"/> in the order they need.
    /// </summary>
    public static PreparedEntry Prepare(ReadOnlySpan<byte> payload) => Encode(payload);

    /// <summary>Queues a prepared entry; the task completes when it is durable.</summary>
    public Task AppendAsync(PreparedEntry prepared)
    {
        var pending = new Pending(prepared.Bytes, prepared.Length);
        lock (_queueLock)
        {
            if (_failure is not null)
            {
                return Task.FromException(new IOException("the write-ahead log failed earlier; writes are refused until restart", _failure));
            }

            _queue.Add(pending);
        }

        _signal.Release();
        return pending.Done.Task;
    }

    /// <summary>Closes the current segment and starts a new one; returns the id of the closed one.</summary>
    /// <remarks>A snapshot of the cache covers everything up to the returned segment, which can then go.</remarks>
    public async Task<long> RollAsync()
    {
        var roll = new Pending(null, 0);
        lock (_queueLock)
        {
            _queue.Add(roll);
        }

        _signal.Release();
        await roll.Done.Task.ConfigureAwait(false);
        return roll.ClosedSegment;
    }

    /// <summary>Deletes the closed segments up to and including <paramref name="segmentId"/>.</summary>
    public void RemoveSegmentsUpTo(long segmentId)
    {
        foreach (long id in SegmentIds(_directory))
        {
            if (id <= segmentId && id < CurrentSegmentId)
            {
                File.Delete(SegmentPath(_directory, id));
            }
        }

        FileSystem.SyncDirectory(_directory);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _signal.Release();
        try
        {
            await _flusher.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _segment.Flush(flushToDisk: true);
        await _segment.DisposeAsync().ConfigureAwait(false);
        _signal.Dispose();
        _stop.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static string SegmentPath(string directory, long id) => Path.Combine(directory, id.ToString("D8", CultureInfo.InvariantCulture) + Extension);

    private FileStream OpenSegment(long id)
    {
        var f = new FileStream(SegmentPath(_directory, id), FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16);
        FileSystem.SyncDirectory(_directory);
        return f;
    }

    // The entry is built in a pooled array (returned once written): per-batch entries are large, and fresh
    // arrays of that size would land on the large-object heap and drive gen-2 collections.
    private static PreparedEntry Encode(ReadOnlySpan<byte> payload)
    {
        int max = LZ4Codec.MaximumOutputSize(payload.Length);
        byte[] entry = ArrayPool<byte>.Shared.Rent(EntryHeaderLength + Math.Max(max, payload.Length));
        int compressed = payload.Length >= 64 ? LZ4Codec.Encode(payload, entry.AsSpan(EntryHeaderLength, max), LZ4Level.L00_FAST) : -1;
        bool useCompressed = compressed > 0 && compressed < payload.Length;
        int bodyLength = useCompressed ? compressed : payload.Length;
        if (!useCompressed)
        {
            payload.CopyTo(entry.AsSpan(EntryHeaderLength));
        }

        BinaryPrimitives.WriteInt32LittleEndian(entry, bodyLength);
        BinaryPrimitives.WriteInt32LittleEndian(entry.AsSpan(4), useCompressed ? payload.Length : 0);
        var crc = new Crc32();
        crc.Append(entry.AsSpan(0, 8));
        crc.Append(entry.AsSpan(EntryHeaderLength, bodyLength));
        BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(8), crc.GetCurrentHashAsUInt32());
        return new PreparedEntry(entry, EntryHeaderLength + bodyLength);
    }

    // The first offset at or after from where a whole entry passes its checksum, or -1.
    private static int Resync(byte[] data, int from)
    {
        for (int p = from; p <= data.Length - EntryHeaderLength; p++)
        {
            int probe = p;
            if (TryReadEntry(data, ref probe, out _, out _))
            {
                return p;
            }
        }

        return -1;
    }

    private static bool TryReadEntry(byte[] data, ref int pos, out byte[]? payload, out string? problem)
    {
        payload = null;
        if (data.Length - pos < EntryHeaderLength)
        {
            problem = "entry header cut short";
            return false;
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(pos));
        int raw = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(pos + 4));
        if (length < 0 || raw < 0 || length > data.Length - pos - EntryHeaderLength)
        {
            problem = "entry runs past the end of the segment";
            return false;
        }

        if (raw > (length * 255L) + 16)
        {
            problem = "entry claims more uncompressed bytes than LZ4 can produce from it"; // never allocate that
            return false;
        }

        var crc = new Crc32();
        crc.Append(data.AsSpan(pos, 8));
        crc.Append(data.AsSpan(pos + EntryHeaderLength, length));
        if (crc.GetCurrentHashAsUInt32() != BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos + 8)))
        {
            problem = "entry checksum mismatch";
            return false;
        }

        ReadOnlySpan<byte> body = data.AsSpan(pos + EntryHeaderLength, length);
        if (raw == 0)
        {
            payload = body.ToArray();
        }
        else
        {
            payload = new byte[raw];
            if (LZ4Codec.Decode(body, payload) != raw)
            {
                problem = "entry does not decompress";
                payload = null;
                return false;
            }
        }

        pos += EntryHeaderLength + length;
        problem = null;
        return true;
    }

    private async Task FlushLoopAsync()
    {
        while (true)
        {
            try
            {
                // Under the interval policy, wake up to sync written-but-unsynced entries even when no
                // new write arrives.
                bool signalled = await _signal.WaitAsync(_options.Fsync == FsyncPolicy.Interval ? _options.FsyncInterval : Timeout.InfiniteTimeSpan, _stop.Token).ConfigureAwait(false);
                if (!signalled && _dirty)
                {
                    await BlockingIo.RunAsync(static log => ((WriteAheadLog)log).Sync(), this).ConfigureAwait(false);
                    continue;
                }
            }
            catch (OperationCanceledException)
            {
                FlushQueued(); // finish what was queued
                return;
            }

            // Writes and fsyncs block for as long as the disk takes: not on a pool thread (see BlockingIo).
            await BlockingIo.RunAsync(static log => ((WriteAheadLog)log).FlushQueued(), this).ConfigureAwait(false);
        }
    }

    // One write and one fsync for everything queued: the group commit.
    private void FlushQueued()
    {
        List<Pending> batch;
        lock (_queueLock)
        {
            if (_queue.Count == 0)
            {
                return;
            }

            batch = _queue;
            _queue = [];
        }

        var done = new List<Pending>(batch.Count);
        try
        {
            foreach (Pending p in batch)
            {
                if (p.Entry is null)
                {
                    Sync();
                    Roll();
                    p.ClosedSegment = _segmentId - 1;
                    p.Done.TrySetResult();
                    continue;
                }

                _segment.Write(p.Entry, 0, p.Length);
                StorageMetrics.WalBytes.Add(p.Length);
                p.ReturnEntry(); // written (copied into the file's buffer or to the file): the pooled array is free
                done.Add(p);
                if (_segment.Length >= _options.SegmentSizeBytes)
                {
                    Sync();
                    Complete(done);
                    Roll();
                }
            }

            bool sync = _options.Fsync == FsyncPolicy.EveryWrite
                || Environment.TickCount64 - _lastSync >= (long)_options.FsyncInterval.TotalMilliseconds;
            if (sync)
            {
                Sync();
            }
            else
            {
                _segment.Flush(flushToDisk: false);
                _dirty = true;
            }

            Complete(done);
        }
        catch (Exception e)
        {
            // The disk failed: stop acknowledging rather than pretend (writes are refused until restart). After a
            // failed fsync the kernel may have dropped the dirty pages and a retry could "succeed" without them
            // (PostgreSQL's fsyncgate), and a failed write may have left half an entry that later entries must
            // not follow.
            lock (_queueLock)
            {
                _failure = e;
            }

            foreach (Pending p in batch)
            {
                p.Done.TrySetException(new IOException($"write-ahead log {_segment.Name} failed: {e.Message}", e));
            }
        }
    }

    private static void Complete(List<Pending> done)
    {
        foreach (Pending p in done)
        {
            p.Done.TrySetResult();
        }

        done.Clear();
    }

    private void Sync()
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        _options.SyncFile(_segment);
        StorageMetrics.RecordSince(StorageMetrics.WalFsyncSeconds, start);
        _lastSync = Environment.TickCount64;
        _dirty = false;
    }

    private void Roll()
    {
        _segment.Dispose();
        long next = _segmentId + 1;
        _segment = OpenSegment(next);
        Interlocked.Exchange(ref _segmentId, next);
    }

    private sealed class Pending(byte[]? entry, int length)
    {
        public byte[]? Entry { get; private set; } = entry;

        public int Length { get; } = length;

        public void ReturnEntry()
        {
            if (Entry is not null)
            {
                ArrayPool<byte>.Shared.Return(Entry);
                Entry = null;
            }
        }

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long ClosedSegment { get; set; }
    }
}

/// <summary>An entry ready to append: compressed, checksummed, framed.</summary>
public sealed class PreparedEntry
{
    internal PreparedEntry(byte[] bytes, int length)
    {
        Bytes = bytes;
        Length = length;
    }

    /// <summary>A pooled array; the entry is its first <see cref="Length"/> bytes.</summary>
    internal byte[] Bytes { get; }

    internal int Length { get; }
}

/// <summary>One entry read back from the log, with the segment it came from.</summary>
public sealed record WalRecord(long SegmentId, byte[] Payload);
