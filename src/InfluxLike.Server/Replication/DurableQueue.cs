using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using InfluxLike.Storage.IO;

namespace InfluxLike.Server.Replication;

/// <summary>Where a queue's reader stands: a segment and a byte offset in it.</summary>
internal readonly record struct QueuePosition(long Segment, long Offset) : IComparable<QueuePosition>
{
    public int CompareTo(QueuePosition other) => Segment != other.Segment ? Segment.CompareTo(other.Segment) : Offset.CompareTo(other.Offset);
}

/// <summary>One record read from the queue.</summary>
internal readonly record struct QueueRecord(long EnqueuedUnixMs, ReadOnlyMemory<byte> Payload);

/// <summary>
/// A first-in first-out queue on disk for one replication stream: segment files of checksummed records, and a
/// cursor file naming the first record not yet delivered.
/// <code>
/// folder/NNNNNNNNNNNNNNNN.seg   records: u32 length of payload | u32 CRC-32 of (time, payload) | i64 enqueued unix ms | payload
/// folder/cursor                 i64 segment | i64 offset | u32 CRC-32 of the 16 bytes before (replaced atomically)
/// </code>
/// <see cref="Append"/> returns once the record is on disk (fsync): a write is acknowledged only after that.
/// A crash can leave a torn record at the end of the last segment: opening truncates it (it was never
/// acknowledged). A crash between delivery and <see cref="Acknowledge"/> delivers that batch again, which a
/// time-series write makes harmless (same series, field and time: the value is overwritten with itself).
/// Thread-safe: writers append while one reader reads and acknowledges.
/// </summary>
internal sealed class DurableQueue : IDisposable
{
    public const int HeaderBytes = 16;
    private const string CursorFile = "cursor";
    private const string SegmentExtension = ".seg";

    private readonly string _folder;
    private readonly long _segmentMaxBytes;
    private readonly object _lock = new();
    private readonly SortedDictionary<long, long> _segments = []; // segment → size in bytes
    private FileStream? _tail;
    private long _tailSegment;
    private QueuePosition _cursor;
    private long _bytes; // bytes from the cursor to the end
    private bool _disposed;

    private DurableQueue(string folder, long segmentMaxBytes)
    {
        _folder = folder;
        _segmentMaxBytes = segmentMaxBytes;
    }

    /// <summary>Bytes of records not yet acknowledged (headers included).</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Records repaired away at open (a torn tail or a damaged record and what followed it).</summary>
    public long RepairedBytes { get; private set; }

    /// <summary>Opens (or creates) the queue in <paramref name="folder"/>, repairing a torn tail.</summary>
    public static DurableQueue Open(string folder, long segmentMaxBytes = 4 << 20)
    {
        Directory.CreateDirectory(folder);
        var q = new DurableQueue(folder, segmentMaxBytes);
        q.Load();
        return q;
    }

    private string SegmentPath(long segment) => Path.Combine(_folder, segment.ToString("x16", CultureInfo.InvariantCulture) + SegmentExtension);

    private void Load()
    {
        foreach (string path in Directory.EnumerateFiles(_folder, "*" + SegmentExtension))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long seg))
            {
                _segments[seg] = new FileInfo(path).Length;
            }
        }

        _cursor = ReadCursor() ?? new QueuePosition(_segments.Count > 0 ? _segments.Keys.First() : 1, 0);
        // Segments before the cursor were delivered (a crash came between the cursor and their removal).
        foreach (long seg in _segments.Keys.Where(s => s < _cursor.Segment).ToList())
        {
            File.Delete(SegmentPath(seg));
            _segments.Remove(seg);
        }

        // Check every record from the cursor on; cut a segment at its first bad record (a torn tail is the
        // usual case, after a crash in the middle of an append).
        foreach (long seg in _segments.Keys.ToList())
        {
            long start = seg == _cursor.Segment ? _cursor.Offset : 0;
            long valid = ValidLength(SegmentPath(seg), start);
            if (valid < _segments[seg])
            {
                RepairedBytes += _segments[seg] - valid;
                using (var f = new FileStream(SegmentPath(seg), FileMode.Open, FileAccess.Write))
                {
                    f.SetLength(valid);
                    f.Flush(flushToDisk: true);
                }

                _segments[seg] = valid;
            }

            _bytes += _segments[seg] - start;
        }

        if (_segments.Count == 0)
        {
            _segments[_cursor.Segment] = 0;
            File.WriteAllBytes(SegmentPath(_cursor.Segment), []);
            FileSystem.SyncDirectory(_folder);
        }

        _tailSegment = _segments.Keys.Last();
        _tail = new FileStream(SegmentPath(_tailSegment), FileMode.Append, FileAccess.Write, FileShare.Read);
    }

    private static long ValidLength(string path, long start)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        long pos = start;
        Span<byte> header = stackalloc byte[HeaderBytes];
        byte[] payload = [];
        while (true)
        {
            f.Position = pos;
            if (f.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false) < HeaderBytes)
            {
                return pos;
            }

            int length = BinaryPrimitives.ReadInt32LittleEndian(header);
            if (length < 0 || pos + HeaderBytes + length > f.Length)
            {
                return pos;
            }

            if (payload.Length < length)
            {
                payload = new byte[length];
            }

            f.ReadExactly(payload.AsSpan(0, length));
            if (Checksum(header[8..], payload.AsSpan(0, length)) != BinaryPrimitives.ReadUInt32LittleEndian(header[4..]))
            {
                return pos;
            }

            pos += HeaderBytes + length;
        }
    }

    private static uint Checksum(ReadOnlySpan<byte> time, ReadOnlySpan<byte> payload)
    {
        var crc = new Crc32();
        crc.Append(time);
        crc.Append(payload);
        return crc.GetCurrentHashAsUInt32();
    }

    private QueuePosition? ReadCursor()
    {
        string path = Path.Combine(_folder, CursorFile);
        if (!File.Exists(path))
        {
            return null;
        }

        byte[] b = File.ReadAllBytes(path);
        if (b.Length != 20 || Crc32.HashToUInt32(b.AsSpan(0, 16)) != BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(16)))
        {
            throw new IOException($"the replication queue's cursor file {path} is damaged; delete the queue folder to start the stream afresh (its undelivered records are lost)");
        }

        return new QueuePosition(BinaryPrimitives.ReadInt64LittleEndian(b), BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(8)));
    }

    /// <summary>
    /// Appends one record durably. Returns false, appending nothing, when the queue would grow past
    /// <paramref name="maxBytes"/> (0: no limit).
    /// </summary>
    public bool Append(ReadOnlySpan<byte> payload, long enqueuedUnixMs, long maxBytes)
    {
        int size = HeaderBytes + payload.Length;
        byte[] record = new byte[size];
        BinaryPrimitives.WriteInt32LittleEndian(record, payload.Length);
        BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(8), enqueuedUnixMs);
        payload.CopyTo(record.AsSpan(HeaderBytes));
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), Checksum(record.AsSpan(8, 8), payload));
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (maxBytes > 0 && _bytes + size > maxBytes)
            {
                return false;
            }

            if (_segments[_tailSegment] > 0 && _segments[_tailSegment] + size > _segmentMaxBytes)
            {
                Roll();
            }

            _tail!.Write(record);
            _tail.Flush(flushToDisk: true);
            _segments[_tailSegment] += size;
            _bytes += size;
            return true;
        }
    }

    private void Roll()
    {
        _tail!.Dispose();
        _tailSegment++;
        _tail = new FileStream(SegmentPath(_tailSegment), FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        FileSystem.SyncDirectory(_folder);
        _segments[_tailSegment] = 0;
    }

    /// <summary>
    /// Reads records from <paramref name="from"/> (or the cursor) until about <paramref name="maxBytes"/> of
    /// payload (at least one record when there is one). Returns the position after the last one read.
    /// </summary>
    public (List<QueueRecord> Records, QueuePosition Next) Read(int maxBytes, QueuePosition? from = null)
    {
        QueuePosition pos;
        Dictionary<long, long> sizes;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            pos = from ?? _cursor;
            sizes = new Dictionary<long, long>(_segments);
        }

        var records = new List<QueueRecord>();
        long total = 0;
        Span<byte> header = stackalloc byte[HeaderBytes];
        while (sizes.TryGetValue(pos.Segment, out long size))
        {
            if (pos.Offset >= size)
            {
                if (!sizes.ContainsKey(pos.Segment + 1))
                {
                    break;
                }

                pos = new QueuePosition(pos.Segment + 1, 0);
                continue;
            }

            using var f = new FileStream(SegmentPath(pos.Segment), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            f.Position = pos.Offset;
            while (pos.Offset < size && (records.Count == 0 || total < maxBytes))
            {
                f.ReadExactly(header);
                int length = BinaryPrimitives.ReadInt32LittleEndian(header);
                byte[] payload = new byte[length];
                f.ReadExactly(payload);
                if (Checksum(header[8..], payload) != BinaryPrimitives.ReadUInt32LittleEndian(header[4..]))
                {
                    throw new Storage.CorruptionException(SegmentPath(pos.Segment), pos.Offset, "replication queue record fails its checksum");
                }

                records.Add(new QueueRecord(BinaryPrimitives.ReadInt64LittleEndian(header[8..]), payload));
                total += length;
                pos = pos with { Offset = pos.Offset + HeaderBytes + length };
            }

            if (records.Count > 0 && total >= maxBytes)
            {
                break;
            }
        }

        return (records, pos);
    }

    /// <summary>Marks everything before <paramref name="next"/> delivered (durably) and removes finished segments.</summary>
    public void Acknowledge(QueuePosition next)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (next.CompareTo(_cursor) <= 0)
            {
                return;
            }

            byte[] b = new byte[20];
            BinaryPrimitives.WriteInt64LittleEndian(b, next.Segment);
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(8), next.Offset);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), Crc32.HashToUInt32(b.AsSpan(0, 16)));
            FileSystem.WriteAllBytesDurably(Path.Combine(_folder, CursorFile), b);

            long delivered = 0;
            for (QueuePosition p = _cursor; p.Segment <= next.Segment; p = new QueuePosition(p.Segment + 1, 0))
            {
                long size = _segments.GetValueOrDefault(p.Segment);
                delivered += (p.Segment == next.Segment ? next.Offset : size) - p.Offset;
                if (p.Segment < next.Segment && p.Segment != _tailSegment && _segments.Remove(p.Segment))
                {
                    File.Delete(SegmentPath(p.Segment));
                }
            }

            _bytes -= delivered;
            _cursor = next;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                _disposed = true;
                _tail?.Dispose();
            }
        }
    }
}
