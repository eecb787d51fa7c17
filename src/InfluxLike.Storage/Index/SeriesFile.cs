using System.Buffers.Binary;
using System.IO.Hashing;
using InfluxLike.Storage.IO;
using InfluxLike.Storage.Tsm.Encoding;

namespace InfluxLike.Storage.Index;

/// <summary>
/// Canonical series key ↔ dense 64-bit series id, for one bucket. Ids count up from 1 in the order series
/// first appear, so postings built by appending ids stay sorted.
/// </summary>
/// <remarks>
/// <para>
/// <b>Log</b> (<c>series.log</c>, append-only, the source of truth): header (magic "ILSF" u32, version u8,
/// 3 zero bytes), then records <c>[kind u8][payload length varint][payload][crc32 of what precedes it in
/// the record]</c>; kind 1 adds a series (payload: the key; its id is one more than the last), kind 2
/// deletes one (payload: id u64). A torn tail (a crash mid-append) is cut off at start-up and reported.
/// </para>
/// <para>
/// <b>Index</b> (<c>series.idx</c>, immutable, rewritten by <see cref="Checkpoint"/>): for the first N
/// series, id → (log offset, key length) and an open-addressing hash table of (32 hash bits, 32-bit id)
/// slots, plus the deleted ids; both memory-mapped with the log, so after a restart the keys stay on disk
/// and the managed heap holds nothing per series. Series added since the last checkpoint (the tail) live
/// in memory: key bytes in 4 MiB chunks, about key length + 24 bytes each. Start-up maps the index and
/// replays only the log past it.
/// </para>
/// <para>
/// Lookups take no lock: state is swapped as a whole, and writers (serialised by a lock) publish key bytes
/// and locations before the slot that makes an id findable.
/// </para>
/// </remarks>
public sealed class SeriesFile : IDisposable
{
    public const string FileName = "series.log";
    public const string IndexFileName = "series.idx";

    /// <summary>Series kept in memory before a checkpoint moves them to the mapped index.</summary>
    public const int DefaultCheckpointEvery = 1 << 17;

    private const uint Magic = 0x46534C49;      // "ILSF"
    private const uint IndexMagic = 0x58534C49; // "ILSX"
    private const int HeaderLength = 8;
    private const int IndexHeaderLength = 40;
    private const byte AddRecord = 1;
    private const byte DeleteRecord = 2;
    private const int ChunkBits = 22;
    private const int ChunkSize = 1 << ChunkBits;

    private readonly object _writeLock = new();
    private readonly string _directory;
    private readonly FileStream _log;
    private readonly ByteWriter _pending = new();
    private readonly List<IDisposable> _retired = [];
    private readonly int _checkpointEvery;
    private long _logWritten;
    private long _deletedCount;
    private volatile State _state;
    private volatile HashSet<ulong> _deleted = [];

    private SeriesFile(string directory, FileStream log, int checkpointEvery)
    {
        _directory = directory;
        FilePath = Path.Combine(directory, FileName);
        _log = log;
        _checkpointEvery = checkpointEvery;
        _state = new State(null, new Tail(0));
    }

    public string FilePath { get; }

    /// <summary>Series ever added (deleted ones included): the largest id.</summary>
    public ulong MaxId => _state.MaxId;

    /// <summary>Series that exist now.</summary>
    public long Count => (long)MaxId - Interlocked.Read(ref _deletedCount);

    /// <summary>Bytes cut off a torn log tail when the file was opened (0 normally).</summary>
    public long RecoveredTornBytes { get; private set; }

    /// <summary>Where the cut was made, when <see cref="RecoveredTornBytes"/> is not 0.</summary>
    public long RecoveredAtOffset { get; private set; }

    /// <summary>What was repaired at open (a damaged derived index rebuilt from the log), for the operator.</summary>
    public List<string> Repairs { get; } = [];

    /// <summary>Series found in the mapped index at start-up (the rest were replayed from the log).</summary>
    public ulong IndexedAtOpen { get; private set; }

    /// <summary>Opens or creates the series file in <paramref name="directory"/>.</summary>
    public static SeriesFile Open(string directory, int checkpointEvery = DefaultCheckpointEvery)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, FileName);
        bool created = !File.Exists(path);
        var log = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete, 1 << 16);
        var file = new SeriesFile(directory, log, checkpointEvery);
        try
        {
            if (created || log.Length == 0)
            {
                Span<byte> header = stackalloc byte[HeaderLength];
                BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
                header[4] = 1;
                header[5..].Clear();
                log.Write(header);
                log.Flush(flushToDisk: true);
                FileSystem.SyncDirectory(directory);
            }
            else
            {
                file.Load();
            }

            file._logWritten = log.Seek(0, SeekOrigin.End);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The id of <paramref name="key"/> if it exists (and is not deleted). Lock-free.</summary>
    public bool TryGetId(ReadOnlySpan<byte> key, out ulong id)
    {
        id = _state.Find(key, XxHash3.HashToUInt64(key), out _);
        return id != 0 && !_deleted.Contains(id);
    }

    /// <summary>
    /// The id of <paramref name="key"/>, adding the series when it is new (or was deleted). New series go
    /// to the log's buffer; <see cref="Flush"/> makes them durable.
    /// </summary>
    public ulong GetOrAdd(ReadOnlySpan<byte> key, out bool created)
    {
        if (TryGetId(key, out ulong id))
        {
            created = false;
            return id;
        }

        lock (_writeLock)
        {
            ulong hash = XxHash3.HashToUInt64(key);
            State state = _state;
            id = state.Find(key, hash, out int tailSlot);
            if (id != 0 && !_deleted.Contains(id))
            {
                created = false;
                return id;
            }

            long logOffset = _logWritten + _pending.Length + 1 + Varint.Size((ulong)key.Length);
            id = state.Tail.Add(key, hash, tailSlot, state.BaseCount, logOffset);
            WriteRecord(AddRecord, key);
            created = true;
            return id;
        }
    }

    /// <summary>The key of <paramref name="id"/> (also for deleted series). Lock-free.</summary>
    public ReadOnlySpan<byte> GetKey(ulong id) => _state.GetKey(id);

    public bool IsDeleted(ulong id) => _deleted.Contains(id);

    /// <summary>Marks series deleted (their ids are never reused).</summary>
    public void Delete(IEnumerable<ulong> ids)
    {
        lock (_writeLock)
        {
            var deleted = new HashSet<ulong>(_deleted);
            Span<byte> payload = stackalloc byte[8];
            ulong max = MaxId;
            foreach (ulong id in ids)
            {
                if (id == 0 || id > max || !deleted.Add(id))
                {
                    continue;
                }

                BinaryPrimitives.WriteUInt64LittleEndian(payload, id);
                WriteRecord(DeleteRecord, payload);
                _deletedCount++;
            }

            _deleted = deleted;
        }
    }

    /// <summary>Writes buffered records; with <paramref name="fsync"/>, makes them durable.</summary>
    public void Flush(bool fsync = true)
    {
        lock (_writeLock)
        {
            FlushPending();
            _log.Flush(fsync);
            if (_state.Tail.Count >= _checkpointEvery)
            {
                Checkpoint();
            }
        }
    }

    /// <summary>
    /// Moves every series into the mapped index (written beside the log, fsynced, renamed into place),
    /// emptying the in-memory tail. Runs at shutdown and whenever the tail grows past its limit.
    /// </summary>
    public void Checkpoint()
    {
        lock (_writeLock)
        {
            FlushPending();
            _log.Flush(flushToDisk: true);
            State old = _state;
            ulong n = old.MaxId;
            if (n == 0 || (old.Tail.Count == 0 && old.Base is not null && old.Base.DeletedCount == _deleted.Count))
            {
                return;
            }

            string path = Path.Combine(_directory, IndexFileName);
            string temp = path + ".tmp";
            int capacity = 16;
            while ((ulong)capacity < n * 2)
            {
                capacity *= 2;
            }

            ulong[] deleted = [.. _deleted.Order()];
            var slots = new ulong[capacity];
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                var crc = new Crc32();
                Span<byte> buffer = stackalloc byte[IndexHeaderLength];
                BinaryPrimitives.WriteUInt32LittleEndian(buffer, IndexMagic);
                buffer[4] = 1;
                buffer[5..8].Clear();
                BinaryPrimitives.WriteUInt64LittleEndian(buffer[8..], n);
                BinaryPrimitives.WriteInt64LittleEndian(buffer[16..], _logWritten);
                BinaryPrimitives.WriteUInt64LittleEndian(buffer[24..], (ulong)capacity);
                BinaryPrimitives.WriteUInt64LittleEndian(buffer[32..], (ulong)deleted.Length);
                Write(file, crc, buffer);

                // Locations, id 0 unused; the hash table is filled on the way.
                var chunk = new byte[8 * 4096];
                int used = 8; // slot for id 0
                chunk.AsSpan(0, 8).Clear();
                for (ulong id = 1; id <= n; id++)
                {
                    long location = old.GetLocation(id);
                    BinaryPrimitives.WriteInt64LittleEndian(chunk.AsSpan(used), location);
                    used += 8;
                    if (used == chunk.Length)
                    {
                        Write(file, crc, chunk);
                        used = 0;
                    }

                    ulong hash = XxHash3.HashToUInt64(old.GetKey(id));
                    int i = (int)hash & (capacity - 1);
                    while (slots[i] != 0)
                    {
                        i = (i + 1) & (capacity - 1);
                    }

                    // A key deleted and added again has two ids: the later one must win the lookup, so it
                    // replaces the earlier one's slot.
                    int probe = (int)hash & (capacity - 1);
                    bool replaced = false;
                    while (slots[probe] != 0)
                    {
                        ulong existing = slots[probe] & 0xFFFF_FFFF;
                        if ((uint)(slots[probe] >> 32) == (uint)(hash >> 32) && old.GetKey(existing).SequenceEqual(old.GetKey(id)))
                        {
                            slots[probe] = (hash & 0xFFFF_FFFF_0000_0000UL) | id;
                            replaced = true;
                            break;
                        }

                        probe = (probe + 1) & (capacity - 1);
                    }

                    if (!replaced)
                    {
                        slots[i] = (hash & 0xFFFF_FFFF_0000_0000UL) | id;
                    }
                }

                Write(file, crc, chunk.AsSpan(0, used));
                Write(file, crc, System.Runtime.InteropServices.MemoryMarshal.AsBytes(slots.AsSpan()));
                Write(file, crc, System.Runtime.InteropServices.MemoryMarshal.AsBytes(deleted.AsSpan()));
                Span<byte> footer = stackalloc byte[8];
                BinaryPrimitives.WriteUInt32LittleEndian(footer, crc.GetCurrentHashAsUInt32());
                BinaryPrimitives.WriteUInt32LittleEndian(footer[4..], IndexMagic);
                file.Write(footer);
                file.Flush(flushToDisk: true);
            }

            FileSystem.ReplaceDurably(temp, path);
            BaseIndex fresh = BaseIndex.Open(path, FilePath) ?? throw new CorruptionException(path, 0, "the index just written does not read back");
            if (old.Base is not null)
            {
                _retired.Add(old.Base); // readers may still hold spans into it
            }

            _state = new State(fresh, new Tail(fresh.Count));
        }
    }

    public void Dispose()
    {
        lock (_writeLock)
        {
            if (_log.CanWrite)
            {
                try
                {
                    Checkpoint();
                }
                finally
                {
                    _log.Dispose();
                }
            }

            _pending.Dispose();
            _state.Base?.Dispose();
            foreach (IDisposable r in _retired)
            {
                r.Dispose();
            }

            _retired.Clear();
        }
    }

    private static void Write(FileStream file, Crc32 crc, ReadOnlySpan<byte> bytes)
    {
        crc.Append(bytes);
        file.Write(bytes);
    }

    private void FlushPending()
    {
        if (_pending.Length > 0)
        {
            _log.Write(_pending.WrittenSpan);
            _logWritten += _pending.Length;
            _pending.Clear();
        }
    }

    private void WriteRecord(byte kind, ReadOnlySpan<byte> payload)
    {
        int start = _pending.Length;
        _pending.WriteByte(kind);
        _pending.WriteVarint((ulong)payload.Length);
        _pending.Write(payload);
        _pending.WriteUInt32(Crc32.HashToUInt32(_pending.WrittenSpan[start..]));
        if (_pending.Length > 1 << 20)
        {
            FlushPending();
        }
    }

    // Maps the index if there is a good one, then replays the log past it into the tail.
    private void Load()
    {
        var header = new byte[HeaderLength];
        _log.Position = 0;
        if (_log.Length < HeaderLength || _log.Read(header) != HeaderLength || BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic || header[4] != 1)
        {
            throw new CorruptionException(FilePath, 0, "not a series file (bad magic or version)");
        }

        BaseIndex? baseIndex = null;
        string indexPath = Path.Combine(_directory, IndexFileName);
        if (File.Exists(indexPath))
        {
            try
            {
                baseIndex = BaseIndex.Open(indexPath, FilePath);
            }
            catch (CorruptionException e)
            {
                baseIndex = null; // rebuilt from the log below; the log is the source of truth
                Repairs.Add($"{e.Message}; rebuilt from the series log");
            }

            if (baseIndex is not null && baseIndex.LogLength > _log.Length)
            {
                baseIndex.Dispose();
                baseIndex = null;
            }

            // The index maps key bytes straight from the log: check every record it covers first, or a flipped
            // bit would silently rename a series. A CRC pass is a few milliseconds per million series.
            if (baseIndex is not null && baseIndex.FirstDamagedRecord() is long damaged)
            {
                Repairs.Add($"{FilePath}: corrupt at offset {damaged}: a series record fails its checksum; {IndexFileName} is dropped and the log replayed up to there");
                baseIndex.Dispose();
                baseIndex = null;
            }
        }

        long from = baseIndex?.LogLength ?? HeaderLength;
        IndexedAtOpen = baseIndex?.Count ?? 0;
        var state = new State(baseIndex, new Tail(baseIndex?.Count ?? 0));
        var deleted = new HashSet<ulong>(baseIndex?.DeletedIds ?? []);
        _deletedCount = deleted.Count;

        byte[] data = new byte[_log.Length - from];
        _log.Position = from;
        _log.ReadExactly(data);
        int pos = 0;
        while (pos < data.Length)
        {
            int start = pos;
            if (!TryReadRecord(data, ref pos, out byte kind, out ReadOnlySpan<byte> payload, out int payloadAt))
            {
                // A crash mid-append leaves a partial last record: cut it off. The series it held were
                // never acknowledged (the write that named them was not durable either).
                RecoveredTornBytes = data.Length - start;
                RecoveredAtOffset = from + start;
                _log.SetLength(from + start);
                _log.Flush(flushToDisk: true);
                break;
            }

            if (kind == AddRecord)
            {
                ulong hash = XxHash3.HashToUInt64(payload);
                state.Find(payload, hash, out int slot);
                state.Tail.Add(payload, hash, slot, state.BaseCount, from + payloadAt);
            }
            else if (kind == DeleteRecord && payload.Length == 8)
            {
                ulong id = BinaryPrimitives.ReadUInt64LittleEndian(payload);
                if (id >= 1 && id <= state.MaxId && deleted.Add(id))
                {
                    _deletedCount++;
                }
            }
            else
            {
                throw new CorruptionException(FilePath, from + start, $"unknown series record kind {kind}");
            }
        }

        _deleted = deleted;
        _state = state;
    }

    private static bool TryReadRecord(ReadOnlySpan<byte> data, ref int pos, out byte kind, out ReadOnlySpan<byte> payload, out int payloadAt)
    {
        int start = pos;
        kind = 0;
        payload = default;
        payloadAt = 0;
        if (pos >= data.Length)
        {
            return false;
        }

        kind = data[pos++];
        if (!Varint.TryRead(data, ref pos, out ulong length) || length + 4 > (ulong)(data.Length - pos))
        {
            return false;
        }

        payloadAt = pos;
        payload = data.Slice(pos, (int)length);
        pos += (int)length;
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]);
        if (Crc32.HashToUInt32(data[start..pos]) != crc)
        {
            return false;
        }

        pos += 4;
        return true;
    }

    /// <summary>What readers see: the mapped index and the in-memory tail, swapped as one.</summary>
    private sealed class State(BaseIndex? baseIndex, Tail tail)
    {
        public BaseIndex? Base { get; } = baseIndex;

        public Tail Tail { get; } = tail;

        public ulong BaseCount => Base?.Count ?? 0;

        public ulong MaxId => BaseCount + (ulong)Tail.Count;

        // Newest first: a key deleted and re-added lives in the tail with its new id.
        public ulong Find(ReadOnlySpan<byte> key, ulong hash, out int tailSlot)
        {
            ulong id = Tail.Find(key, hash, out tailSlot);
            return id != 0 ? id : Base?.Find(key, hash) ?? 0;
        }

        public ReadOnlySpan<byte> GetKey(ulong id)
        {
            if (id == 0 || id > MaxId)
            {
                throw new ArgumentOutOfRangeException(nameof(id), $"no series {id}");
            }

            return id <= BaseCount ? Base!.GetKey(id) : Tail.GetKey(id - BaseCount);
        }

        public long GetLocation(ulong id) => id <= BaseCount ? Base!.GetLocation(id) : Tail.GetLocation(id - BaseCount);
    }

    /// <summary>The memory-mapped <c>series.idx</c> plus the part of the log it covers.</summary>
    private sealed class BaseIndex : IDisposable
    {
        private readonly MappedFile _index;
        private readonly MappedFile _log;
        private readonly long _slotsAt;
        private readonly int _mask;

        private BaseIndex(MappedFile index, MappedFile log, ulong count, long logLength, int capacity, ulong[] deleted)
        {
            _index = index;
            _log = log;
            Count = count;
            LogLength = logLength;
            _mask = capacity - 1;
            _slotsAt = IndexHeaderLength + ((long)(count + 1) * 8);
            DeletedIds = deleted;
        }

        public ulong Count { get; }

        public long LogLength { get; }

        public ulong[] DeletedIds { get; }

        public int DeletedCount => DeletedIds.Length;

        /// <summary>Null when the file is not a complete index (then the log is replayed instead).</summary>
        public static BaseIndex? Open(string indexPath, string logPath)
        {
            MappedFile index = MappedFile.Open(indexPath);
            MappedFile? log = null;
            try
            {
                ReadOnlySpan<byte> all = index.All;
                if (all.Length < IndexHeaderLength + 8 || BinaryPrimitives.ReadUInt32LittleEndian(all) != IndexMagic || all[4] != 1
                    || BinaryPrimitives.ReadUInt32LittleEndian(all[^4..]) != IndexMagic)
                {
                    throw new CorruptionException(indexPath, 0, "not a complete series index");
                }

                ulong count = BinaryPrimitives.ReadUInt64LittleEndian(all[8..]);
                long logLength = BinaryPrimitives.ReadInt64LittleEndian(all[16..]);
                ulong capacity = BinaryPrimitives.ReadUInt64LittleEndian(all[24..]);
                ulong deletedCount = BinaryPrimitives.ReadUInt64LittleEndian(all[32..]);
                long expected = IndexHeaderLength + ((long)(count + 1) * 8) + ((long)capacity * 8) + ((long)deletedCount * 8) + 8;
                if (expected != all.Length || capacity == 0 || (capacity & (capacity - 1)) != 0 || capacity > int.MaxValue)
                {
                    throw new CorruptionException(indexPath, 8, "series index sizes do not add up");
                }

                if (Crc32.HashToUInt32(all[..^8]) != BinaryPrimitives.ReadUInt32LittleEndian(all[^8..]))
                {
                    throw new CorruptionException(indexPath, all.Length - 8, "series index checksum mismatch");
                }

                ulong[] deleted = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(all.Slice(all.Length - 8 - ((int)deletedCount * 8), (int)deletedCount * 8)).ToArray();
                log = MappedFile.Open(logPath, logLength);
                return new BaseIndex(index, log, count, logLength, (int)capacity, deleted);
            }
            catch
            {
                index.Dispose();
                log?.Dispose();
                throw;
            }
        }

        public long GetLocation(ulong id) => BinaryPrimitives.ReadInt64LittleEndian(_index.Span(IndexHeaderLength + ((long)id * 8), 8));

        /// <summary>The offset of the first record of the covered log that fails its checksum, or null.</summary>
        public long? FirstDamagedRecord()
        {
            if (LogLength > int.MaxValue)
            {
                return null; // a 2 GiB series log (tens of millions of series) is not mapped as one span: unchecked
            }

            ReadOnlySpan<byte> covered = _log.Span(HeaderLength, (int)(LogLength - HeaderLength));
            int pos = 0;
            while (pos < covered.Length)
            {
                int start = pos;
                if (!TryReadRecord(covered, ref pos, out _, out _, out _))
                {
                    return HeaderLength + start;
                }
            }

            return null;
        }

        public ReadOnlySpan<byte> GetKey(ulong id)
        {
            long location = GetLocation(id);
            return _log.Span(location >> 16, (int)(location & 0xFFFF));
        }

        public ulong Find(ReadOnlySpan<byte> key, ulong hash)
        {
            uint tag = (uint)(hash >> 32);
            int i = (int)hash & _mask;
            while (true)
            {
                ulong slot = BinaryPrimitives.ReadUInt64LittleEndian(_index.Span(_slotsAt + ((long)i * 8), 8));
                if (slot == 0)
                {
                    return 0;
                }

                if ((uint)(slot >> 32) == tag && GetKey(slot & 0xFFFF_FFFF).SequenceEqual(key))
                {
                    return slot & 0xFFFF_FFFF;
                }

                i = (i + 1) & _mask;
            }
        }

        public void Dispose()
        {
            _index.Dispose();
            _log.Dispose();
        }
    }

    /// <summary>Series added since the last checkpoint, in memory. Appends happen under the file's write lock.</summary>
    private sealed class Tail(ulong firstIdMinusOne)
    {
        private readonly ulong _base = firstIdMinusOne;
        private byte[][] _chunks = [new byte[1 << 16]];
        private int _chunkUsed;
        private long[] _locations = new long[256];  // tail index → chunk << 38 | offset << 16 | length
        private long[] _logOffsets = new long[256]; // tail index → key's offset in the log << 16 | length
        private ulong[] _slots = new ulong[512];
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public ulong Find(ReadOnlySpan<byte> key, ulong hash, out int slotIndex)
        {
            ulong[] slots = Volatile.Read(ref _slots);
            int mask = slots.Length - 1;
            uint tag = (uint)(hash >> 32);
            int i = (int)hash & mask;
            while (true)
            {
                ulong slot = Volatile.Read(ref slots[i]);
                if (slot == 0)
                {
                    slotIndex = i;
                    return 0;
                }

                if ((uint)(slot >> 32) == tag && GetKey((slot & 0xFFFF_FFFF) - _base).SequenceEqual(key))
                {
                    slotIndex = i;
                    return slot & 0xFFFF_FFFF;
                }

                i = (i + 1) & mask;
            }
        }

        public ReadOnlySpan<byte> GetKey(ulong index)
        {
            long location = Volatile.Read(ref _locations)[index];
            return Volatile.Read(ref _chunks)[(int)(location >> (ChunkBits + 16))].AsSpan((int)((location >> 16) & (ChunkSize - 1)), (int)(location & 0xFFFF));
        }

        public long GetLocation(ulong index) => Volatile.Read(ref _logOffsets)[index];

        // Under the write lock. Stores the key and its locations, publishes the count, then the slot.
        public ulong Add(ReadOnlySpan<byte> key, ulong hash, int slotIndex, ulong baseCount, long logOffset)
        {
            if (key.Length == 0 || key.Length > ushort.MaxValue)
            {
                throw new ArgumentException($"Series keys are 1 to {ushort.MaxValue} bytes; this one has {key.Length}.", nameof(key));
            }

            if (baseCount + (ulong)_count >= uint.MaxValue)
            {
                throw new InvalidOperationException("Too many series in one bucket (over 4 billion).");
            }

            byte[] current = _chunks[^1];
            if (_chunkUsed + key.Length > current.Length)
            {
                int size = Math.Min(ChunkSize, Math.Max(key.Length, current.Length * 2));
                Volatile.Write(ref _chunks, [.. _chunks, new byte[size]]);
                current = _chunks[^1];
                _chunkUsed = 0;
            }

            key.CopyTo(current.AsSpan(_chunkUsed));
            long location = ((long)(_chunks.Length - 1) << (ChunkBits + 16)) | ((long)_chunkUsed << 16) | (uint)key.Length;
            _chunkUsed += key.Length;

            int index = _count + 1;
            if (index >= _locations.Length)
            {
                long[] grown = new long[_locations.Length * 2];
                _locations.CopyTo(grown, 0);
                Volatile.Write(ref _locations, grown);
                long[] grownLog = new long[_logOffsets.Length * 2];
                _logOffsets.CopyTo(grownLog, 0);
                Volatile.Write(ref _logOffsets, grownLog);
            }

            _locations[index] = location;
            _logOffsets[index] = (logOffset << 16) | (uint)key.Length;
            ulong id = baseCount + (ulong)index;
            Volatile.Write(ref _count, index); // before the slot: a reader that finds the id may read its key

            if (_slots[slotIndex] != 0)
            {
                // A deleted tail key comes back with a new id in its old slot.
                Volatile.Write(ref _slots[slotIndex], (hash & 0xFFFF_FFFF_0000_0000UL) | id);
                return id;
            }

            if ((long)index * 2 > _slots.Length)
            {
                Rehash();
                Find(key, hash, out slotIndex);
            }

            Volatile.Write(ref _slots[slotIndex], (hash & 0xFFFF_FFFF_0000_0000UL) | id);
            return id;
        }

        private void Rehash()
        {
            ulong[] old = _slots;
            var grown = new ulong[old.Length * 2];
            int mask = grown.Length - 1;
            foreach (ulong slot in old)
            {
                if (slot == 0)
                {
                    continue;
                }

                int i = (int)XxHash3.HashToUInt64(GetKey((slot & 0xFFFF_FFFF) - _base)) & mask;
                while (grown[i] != 0)
                {
                    i = (i + 1) & mask;
                }

                grown[i] = slot;
            }

            Volatile.Write(ref _slots, grown);
        }
    }
}
