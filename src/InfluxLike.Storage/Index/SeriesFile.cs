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
/// On disk: <c>series.log</c>, append-only: header (magic "ILSF" u32, version u8, 3 zero bytes), then
/// records <c>[kind u8][payload length varint][payload][crc32 of kind+length+payload]</c>; kind 1 adds a
/// series (payload: the key; its id is one more than the last), kind 2 deletes one (payload: id u64).
/// Start-up replays the log; a torn tail (crash mid-append) is cut off and reported.
/// </para>
/// <para>
/// In memory: keys in 4 MiB arena chunks, an id → location array, and an open-addressing table of
/// (32 hash bits, 32-bit id) slots: about key length + 16 bytes per series. Lookups take no lock: writers
/// (serialised by a lock) publish the key bytes and location before the slot, with release semantics,
/// and readers read the slot first.
/// </para>
/// </remarks>
public sealed class SeriesFile : IDisposable
{
    public const string FileName = "series.log";

    private const uint Magic = 0x46534C49; // "ILSF"
    private const int HeaderLength = 8;
    private const byte AddRecord = 1;
    private const byte DeleteRecord = 2;
    private const int ChunkBits = 22;
    private const int ChunkSize = 1 << ChunkBits;

    private readonly object _writeLock = new();
    private readonly FileStream _log;
    private readonly ByteWriter _pending = new();

    private byte[][] _chunks = [new byte[ChunkSize]];
    private int _chunkUsed;
    private long[] _locations = new long[1024]; // id → chunk << 38 | offset << 16 | key length
    private ulong[] _slots = new ulong[2048];
    private ulong _count;
    private long _deletedCount;
    private volatile HashSet<ulong> _deleted = [];

    private SeriesFile(string path, FileStream log)
    {
        FilePath = path;
        _log = log;
    }

    public string FilePath { get; }

    /// <summary>Series ever added (deleted ones included): the largest id.</summary>
    public ulong MaxId => Volatile.Read(ref _count);

    /// <summary>Series that exist now.</summary>
    public long Count => (long)MaxId - Interlocked.Read(ref _deletedCount);

    /// <summary>Bytes cut off a torn log tail when the file was opened (0 normally).</summary>
    public long RecoveredTornBytes { get; private set; }

    /// <summary>Opens or creates <c>series.log</c> in <paramref name="directory"/> and replays it.</summary>
    public static SeriesFile Open(string directory)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, FileName);
        bool created = !File.Exists(path);
        var log = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        var file = new SeriesFile(path, log);
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
                file.Replay();
            }

            log.Seek(0, SeekOrigin.End);
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
        ulong hash = XxHash3.HashToUInt64(key);
        id = Find(key, hash, out _);
        return id != 0 && !_deleted.Contains(id);
    }

    /// <summary>
    /// The id of <paramref name="key"/>, adding the series when it is new (or was deleted). New series are
    /// appended to the log's buffer; <see cref="Flush"/> makes them durable.
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
            id = Find(key, hash, out int slot);
            if (id != 0 && !_deleted.Contains(id))
            {
                created = false;
                return id;
            }

            id = Add(key, hash, slot, replacing: id != 0);
            WriteRecord(AddRecord, key);
            created = true;
            return id;
        }
    }

    /// <summary>The key of <paramref name="id"/> (also for deleted series, until compaction). Lock-free.</summary>
    public ReadOnlySpan<byte> GetKey(ulong id)
    {
        if (id == 0 || id > MaxId)
        {
            throw new ArgumentOutOfRangeException(nameof(id), $"no series {id}");
        }

        long location = Volatile.Read(ref _locations)[id];
        return Volatile.Read(ref _chunks)[(int)(location >> (ChunkBits + 16))].AsSpan((int)((location >> 16) & (ChunkSize - 1)), (int)(location & 0xFFFF));
    }

    public bool IsDeleted(ulong id) => _deleted.Contains(id);

    /// <summary>Marks series deleted (their ids are never reused).</summary>
    public void Delete(IEnumerable<ulong> ids)
    {
        lock (_writeLock)
        {
            var deleted = new HashSet<ulong>(_deleted);
            Span<byte> payload = stackalloc byte[8];
            foreach (ulong id in ids)
            {
                if (id == 0 || id > _count || !deleted.Add(id))
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
            if (_pending.Length > 0)
            {
                _log.Write(_pending.WrittenSpan);
                _pending.Clear();
            }

            _log.Flush(fsync);
        }
    }

    public void Dispose()
    {
        lock (_writeLock)
        {
            if (_log.CanWrite && _pending.Length > 0)
            {
                _log.Write(_pending.WrittenSpan);
                _pending.Clear();
                _log.Flush(flushToDisk: true);
            }

            _log.Dispose();
            _pending.Dispose();
        }
    }

    // Finds the slot of key: returns its id (0 when absent) and the slot index where it is or would go.
    private ulong Find(ReadOnlySpan<byte> key, ulong hash, out int slotIndex)
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

            if ((uint)(slot >> 32) == tag)
            {
                ulong id = slot & 0xFFFF_FFFF;
                if (GetKey(id).SequenceEqual(key))
                {
                    slotIndex = i;
                    return id;
                }
            }

            i = (i + 1) & mask;
        }
    }

    // Under _writeLock. Stores the key, its location, then publishes the slot.
    private ulong Add(ReadOnlySpan<byte> key, ulong hash, int slotIndex, bool replacing)
    {
        if (key.Length == 0 || key.Length > ushort.MaxValue)
        {
            throw new ArgumentException($"Series keys are 1 to {ushort.MaxValue} bytes; this one has {key.Length}.", nameof(key));
        }

        if (_count >= uint.MaxValue)
        {
            throw new InvalidOperationException("Too many series in one bucket (over 4 billion).");
        }

        if (_chunkUsed + key.Length > ChunkSize)
        {
            byte[][] grown = [.. _chunks, new byte[ChunkSize]];
            Volatile.Write(ref _chunks, grown);
            _chunkUsed = 0;
        }

        int chunk = _chunks.Length - 1;
        key.CopyTo(_chunks[chunk].AsSpan(_chunkUsed));
        long location = ((long)chunk << (ChunkBits + 16)) | ((long)_chunkUsed << 16) | (uint)key.Length;
        _chunkUsed += key.Length;

        ulong id = _count + 1;
        if ((long)id >= _locations.Length)
        {
            long[] grown = new long[_locations.Length * 2];
            _locations.CopyTo(grown, 0);
            Volatile.Write(ref _locations, grown);
        }

        _locations[id] = location;
        Volatile.Write(ref _count, id); // before the slot: a reader that finds the id may read its key
        ulong slot = (hash & 0xFFFF_FFFF_0000_0000UL) | id;
        if (replacing)
        {
            // A deleted key comes back with a new id in its old slot.
            Volatile.Write(ref _slots[slotIndex], slot);
        }
        else
        {
            if ((long)(_count + 1) * 2 > _slots.Length)
            {
                Rehash();
                Find(key, hash, out slotIndex);
            }

            Volatile.Write(ref _slots[slotIndex], slot);
        }

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

            ulong hash = XxHash3.HashToUInt64(GetKey(slot & 0xFFFF_FFFF));
            int i = (int)hash & mask;
            while (grown[i] != 0)
            {
                i = (i + 1) & mask;
            }

            grown[i] = slot;
        }

        Volatile.Write(ref _slots, grown);
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
            _log.Write(_pending.WrittenSpan);
            _pending.Clear();
        }
    }

    private void Replay()
    {
        byte[] data = new byte[_log.Length];
        _log.Position = 0;
        _log.ReadExactly(data);
        if (data.Length < HeaderLength || BinaryPrimitives.ReadUInt32LittleEndian(data) != Magic || data[4] != 1)
        {
            throw new CorruptionException(FilePath, 0, "not a series file (bad magic or version)");
        }

        int pos = HeaderLength;
        var deleted = new HashSet<ulong>();
        while (pos < data.Length)
        {
            int start = pos;
            if (!TryReadRecord(data, ref pos, out byte kind, out ReadOnlySpan<byte> payload))
            {
                // A crash mid-append leaves a partial last record: cut it off. The series it held were
                // never acknowledged (the WAL entry that named them was not durable either).
                RecoveredTornBytes = data.Length - start;
                _log.SetLength(start);
                _log.Flush(flushToDisk: true);
                break;
            }

            if (kind == AddRecord)
            {
                ulong hash = XxHash3.HashToUInt64(payload);
                ulong existing = Find(payload, hash, out int slot);
                Add(payload, hash, slot, replacing: existing != 0);
            }
            else if (kind == DeleteRecord && payload.Length == 8)
            {
                ulong id = BinaryPrimitives.ReadUInt64LittleEndian(payload);
                if (id >= 1 && id <= _count && deleted.Add(id))
                {
                    _deletedCount++;
                }
            }
            else
            {
                throw new CorruptionException(FilePath, start, $"unknown series record kind {kind}");
            }
        }

        _deleted = deleted;
    }

    private static bool TryReadRecord(ReadOnlySpan<byte> data, ref int pos, out byte kind, out ReadOnlySpan<byte> payload)
    {
        int start = pos;
        kind = 0;
        payload = default;
        if (pos >= data.Length)
        {
            return false;
        }

        kind = data[pos++];
        if (!Varint.TryRead(data, ref pos, out ulong length) || length + 4 > (ulong)(data.Length - pos))
        {
            return false;
        }

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
}
