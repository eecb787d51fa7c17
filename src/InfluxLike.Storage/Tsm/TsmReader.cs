using System.Runtime.InteropServices;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.MemoryMappedFiles;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Tsm.Encoding;

namespace InfluxLike.Storage.Tsm;

/// <summary>
/// Reads a TSM file through a memory map: the index is found by binary search over key offsets (one
/// <c>long</c> per key in memory; keys and entries stay in the map), and only the blocks overlapping a
/// time range are touched. Opening checks the header, the footer and the index checksum; each block's
/// checksum is checked when it is decoded. Thread-safe for concurrent readers.
/// </summary>
public sealed unsafe class TsmReader : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _length;
    private readonly long[] _keyOffsets; // offset of each key's index record, in key order
    private int _disposed;
    private int _refs = 1;              // the opener's reference, given up by Dispose
    private int _openerReleased;
    private volatile bool _deleteWhenUnused;

    private TsmReader(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePointer, long length, long[] keyOffsets, long minTime, long maxTime)
    {
        Path = path;
        _map = map;
        _view = view;
        _base = basePointer;
        _length = length;
        _keyOffsets = keyOffsets;
        MinTime = minTime;
        MaxTime = maxTime;
        Tombstones = TombstoneSet.Load(path + TsmFormat.TombstoneExtension);
    }

    public string Path { get; }

    public long Size => _length;

    public int KeyCount => _keyOffsets.Length;

    /// <summary>Smallest and largest timestamp of any block in the file.</summary>
    public long MinTime { get; }

    public long MaxTime { get; }

    /// <summary>Deleted ranges recorded beside the file, applied by readers on the fly.</summary>
    public TombstoneSet Tombstones { get; }

    /// <summary>Opens and checks a file. Throws <see cref="CorruptionException"/> when its structure is damaged.</summary>
    public static TsmReader Open(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        long length = new FileInfo(path).Length;
        if (length < TsmFormat.HeaderLength + TsmFormat.FooterLength)
        {
            throw new CorruptionException(path, 0, $"file of {length} bytes is too short for a TSM file");
        }

        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            p += view.PointerOffset;
            var all = new ReadOnlySpan<byte>(p, checked((int)Math.Min(length, int.MaxValue)));
            if (length > int.MaxValue)
            {
                throw new CorruptionException(path, 0, "files over 2 GiB are not supported yet");
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(all) != TsmFormat.Magic)
            {
                throw new CorruptionException(path, 0, "not a TSM file (bad magic)");
            }

            if (all[4] != TsmFormat.Version)
            {
                throw new CorruptionException(path, 4, $"unsupported TSM version {all[4]} (this build reads {TsmFormat.Version})");
            }

            ReadOnlySpan<byte> footer = all[^TsmFormat.FooterLength..];
            long footerAt = length - TsmFormat.FooterLength;
            if (BinaryPrimitives.ReadUInt32LittleEndian(footer[20..]) != TsmFormat.Magic)
            {
                throw new CorruptionException(path, footerAt + 20, "bad footer magic (truncated or damaged file)");
            }

            long indexOffset = BinaryPrimitives.ReadInt64LittleEndian(footer);
            long indexLength = BinaryPrimitives.ReadInt64LittleEndian(footer[8..]);
            if (indexOffset < TsmFormat.HeaderLength || indexLength < 0 || indexOffset + indexLength != footerAt)
            {
                throw new CorruptionException(path, footerAt, $"footer points at an index of {indexLength} bytes at {indexOffset}, outside the file");
            }

            ReadOnlySpan<byte> index = all.Slice((int)indexOffset, (int)indexLength);
            if (Crc32.HashToUInt32(index) != BinaryPrimitives.ReadUInt32LittleEndian(footer[16..]))
            {
                throw new CorruptionException(path, indexOffset, "index checksum mismatch");
            }

            var offsets = new List<long>();
            long minTime = long.MaxValue, maxTime = long.MinValue;
            int pos = 0;
            while (pos < index.Length)
            {
                offsets.Add(indexOffset + pos);
                if (!TryParseKey(index, ref pos, out _, out _, out _, out int blocks, out int entriesAt)
                    || (long)blocks * TsmFormat.IndexEntryLength > index.Length - entriesAt)
                {
                    throw new CorruptionException(path, indexOffset + pos, "malformed index record");
                }

                for (int b = 0; b < blocks; b++)
                {
                    TsmIndexEntry e = ReadEntry(index, entriesAt + (b * TsmFormat.IndexEntryLength));
                    if (e.Offset < TsmFormat.HeaderLength || e.Size <= 0 || e.Offset + e.Size > indexOffset || e.MinTime > e.MaxTime || e.Count <= 0)
                    {
                        throw new CorruptionException(path, indexOffset + entriesAt + (b * TsmFormat.IndexEntryLength), "index entry points outside the data");
                    }

                    minTime = Math.Min(minTime, e.MinTime);
                    maxTime = Math.Max(maxTime, e.MaxTime);
                }

                pos = entriesAt + (blocks * TsmFormat.IndexEntryLength);
            }

            return new TsmReader(path, map, view, p, length, [.. offsets], minTime, maxTime);
        }
        catch
        {
            view?.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>The key at <paramref name="keyIndex"/> (keys are in ascending order).</summary>
    public TsmKey GetKey(int keyIndex)
    {
        ReadOnlySpan<byte> rest = Span(_keyOffsets[keyIndex], _length - _keyOffsets[keyIndex]);
        int pos = 0;
        TryParseKey(rest, ref pos, out ReadOnlySpan<byte> series, out ReadOnlySpan<byte> field, out FieldType type, out int blocks, out int entriesAt);
        return new TsmKey(series, field, type, blocks, _keyOffsets[keyIndex] + entriesAt);
    }

    /// <summary>Finds a key by binary search; false when the file does not hold it.</summary>
    public bool TryFind(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, out int keyIndex)
    {
        int lo = 0, hi = _keyOffsets.Length - 1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            int c = CompareKeyAt(mid, seriesKey, field);
            if (c == 0)
            {
                keyIndex = mid;
                return true;
            }

            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        keyIndex = lo;
        return false;
    }

    // TsmFormat.CompareKeys of the key at keyIndex and (seriesKey, field), reading only what the comparison needs:
    // most probes of a search differ in the series key, so the field is rarely parsed. Keys were checked on open.
    private int CompareKeyAt(int keyIndex, ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field)
    {
        long at = _keyOffsets[keyIndex];
        ReadOnlySpan<byte> rest = Span(at, _length - at);
        int pos = 0;
        Varint.TryRead(rest, ref pos, out ulong seriesLength);
        int c = rest.Slice(pos, (int)seriesLength).SequenceCompareTo(seriesKey);
        if (c != 0)
        {
            return c;
        }

        pos += (int)seriesLength;
        Varint.TryRead(rest, ref pos, out ulong fieldLength);
        return rest.Slice(pos, (int)fieldLength).SequenceCompareTo(field);
    }

    public TsmIndexEntry GetEntry(in TsmKey key, int blockIndex)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)blockIndex, (uint)key.BlockCount);
        return ReadEntry(Span(key.EntriesOffset + ((long)blockIndex * TsmFormat.IndexEntryLength), TsmFormat.IndexEntryLength), 0);
    }

    /// <summary>The encoded bytes of a block (valid until the reader is disposed).</summary>
    public ReadOnlySpan<byte> GetBlock(in TsmIndexEntry entry) => Span(entry.Offset, entry.Size);

    /// <summary>Checks a block's checksum and header; throws <see cref="CorruptionException"/> naming file and offset.</summary>
    public BlockHeader ReadHeader(in TsmIndexEntry entry)
    {
        if (!TsmBlock.TryReadHeader(GetBlock(entry), out BlockHeader header, out string? error))
        {
            throw new CorruptionException(Path, entry.Offset, error!);
        }

        if (header.Count != entry.Count)
        {
            throw new CorruptionException(Path, entry.Offset, $"block holds {header.Count} points, the index says {entry.Count}");
        }

        return header;
    }

    /// <summary>
    /// Decodes a float block into the caller's buffers (at least <see cref="TsmIndexEntry.Count"/> long) and
    /// returns the number of points. Tombstoned points are not removed here: see <see cref="Tombstones"/>.
    /// </summary>
    public int ReadFloats(in TsmIndexEntry entry, Span<long> timestamps, Span<double> values) =>
        Read(entry, timestamps, values, TsmBlock.TryDecodeFloats, "floats");

    public int ReadIntegers(in TsmIndexEntry entry, Span<long> timestamps, Span<long> values) =>
        Read(entry, timestamps, values, TsmBlock.TryDecodeIntegers, "integers");

    public int ReadUnsigned(in TsmIndexEntry entry, Span<long> timestamps, Span<ulong> values) =>
        Read(entry, timestamps, values, TsmBlock.TryDecodeUnsigned, "unsigned integers");

    public int ReadBooleans(in TsmIndexEntry entry, Span<long> timestamps, Span<bool> values) =>
        Read(entry, timestamps, values, TsmBlock.TryDecodeBooleans, "booleans");

    public int ReadStrings(in TsmIndexEntry entry, Span<long> timestamps, StringColumn values)
    {
        BlockHeader h = ReadHeader(entry);
        ReadOnlySpan<byte> block = GetBlock(entry);
        if (!TsmBlock.TryDecodeTimestamps(block, h, timestamps) || !TsmBlock.TryDecodeStrings(block, h, values))
        {
            throw new CorruptionException(Path, entry.Offset, $"{h.Type} block does not decode as strings");
        }

        return h.Count;
    }

    /// <summary>
    /// Only the values of a float, integer or unsigned block, as bit patterns; returns the number of points. For callers
    /// that know the times from the index: a block's points are sorted and distinct, its first at MinTime, its last at MaxTime.
    /// </summary>
    public int ReadValues(in TsmIndexEntry entry, FieldType type, Span<long> bits)
    {
        BlockHeader h = ReadHeader(entry);
        ReadOnlySpan<byte> block = GetBlock(entry);
        bool decoded = type switch
        {
            FieldType.Float => TsmBlock.TryDecodeFloats(block, h, MemoryMarshal.Cast<long, double>(bits)),
            FieldType.Integer => TsmBlock.TryDecodeIntegers(block, h, bits),
            FieldType.Unsigned => TsmBlock.TryDecodeUnsigned(block, h, MemoryMarshal.Cast<long, ulong>(bits)),
            _ => throw new ArgumentException($"values alone are read for numbers only, not {type}", nameof(type)),
        };
        if (!decoded)
        {
            throw new CorruptionException(Path, entry.Offset, $"{h.Type} block does not decode as {type}");
        }

        return h.Count;
    }

    private delegate bool ValueDecoder<T>(ReadOnlySpan<byte> block, in BlockHeader header, Span<T> destination);

    // Checks the block, decodes timestamps and values; damage becomes a CorruptionException naming the offset.
    private int Read<T>(in TsmIndexEntry entry, Span<long> timestamps, Span<T> values, ValueDecoder<T> decode, string what)
    {
        BlockHeader h = ReadHeader(entry);
        ReadOnlySpan<byte> block = GetBlock(entry);
        if (!TsmBlock.TryDecodeTimestamps(block, h, timestamps) || !decode(block, h, values))
        {
            throw new CorruptionException(Path, entry.Offset, $"{h.Type} block does not decode as {what}");
        }

        return h.Count;
    }

    /// <summary>The blocks of a key that overlap [<paramref name="minTime"/>, <paramref name="maxTime"/>], in time order.</summary>
    public BlockEnumerator BlocksOverlapping(in TsmKey key, long minTime, long maxTime) => new(this, key, minTime, maxTime);

    /// <summary>
    /// Takes a reference: the map stays valid until every reference (the opener's, given up by
    /// <see cref="Dispose"/>, and each one taken here) is released. File sets hold references so a
    /// compaction can retire a file while queries still read it.
    /// </summary>
    public void AddRef()
    {
        while (true)
        {
            int refs = Volatile.Read(ref _refs);
            ObjectDisposedException.ThrowIf(refs == 0, this);
            if (Interlocked.CompareExchange(ref _refs, refs + 1, refs) == refs)
            {
                return;
            }
        }
    }

    /// <summary>Gives up a reference from <see cref="AddRef"/>; the last one unmaps the file.</summary>
    public void Release()
    {
        int refs = Interlocked.Decrement(ref _refs);
        if (refs == 0)
        {
            Unmap();
        }
        else if (refs < 0)
        {
            throw new InvalidOperationException($"{Path}: released more often than referenced");
        }
    }

    /// <summary>
    /// Marks the file (and its tombstones) for deletion from disk once the last reference is gone:
    /// a compaction's inputs, still read by queries that started before it finished.
    /// </summary>
    public void DeleteWhenUnused() => _deleteWhenUnused = true;

    /// <summary>Gives up the opener's reference (once; later calls do nothing).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _openerReleased, 1) == 0)
        {
            Release();
        }
    }

    private void Unmap()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _map.Dispose();
            if (_deleteWhenUnused)
            {
                File.Delete(Path);
                File.Delete(Tombstones.FilePath);
            }
        }
    }

    private ReadOnlySpan<byte> Span(long offset, long length)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return new ReadOnlySpan<byte>(_base + offset, (int)length);
    }

    private static TsmIndexEntry ReadEntry(ReadOnlySpan<byte> span, int at) => new(
        BinaryPrimitives.ReadInt64LittleEndian(span[at..]),
        BinaryPrimitives.ReadInt64LittleEndian(span[(at + 8)..]),
        BinaryPrimitives.ReadInt64LittleEndian(span[(at + 16)..]),
        BinaryPrimitives.ReadInt32LittleEndian(span[(at + 24)..]),
        BinaryPrimitives.ReadInt32LittleEndian(span[(at + 28)..]));

    private static bool TryParseKey(ReadOnlySpan<byte> index, scoped ref int pos, out ReadOnlySpan<byte> series, out ReadOnlySpan<byte> field, out FieldType type, out int blocks, out int entriesAt)
    {
        series = field = default;
        type = default;
        blocks = entriesAt = 0;
        if (!Varint.TryRead(index, ref pos, out ulong seriesLength) || seriesLength > (ulong)(index.Length - pos))
        {
            return false;
        }

        series = index.Slice(pos, (int)seriesLength);
        pos += (int)seriesLength;
        if (!Varint.TryRead(index, ref pos, out ulong fieldLength) || fieldLength + 1 > (ulong)(index.Length - pos))
        {
            return false;
        }

        field = index.Slice(pos, (int)fieldLength);
        pos += (int)fieldLength;
        type = (FieldType)index[pos++];
        if (!Varint.TryRead(index, ref pos, out ulong blockCount) || blockCount == 0 || blockCount > int.MaxValue / TsmFormat.IndexEntryLength
            || type is < FieldType.Float or > FieldType.String)
        {
            return false;
        }

        blocks = (int)blockCount;
        entriesAt = pos;
        return true;
    }

    /// <summary>Struct enumerator over the entries of a key that overlap a time range.</summary>
    public ref struct BlockEnumerator
    {
        private readonly TsmReader _reader;
        private readonly TsmKey _key;
        private readonly long _min;
        private readonly long _max;
        private int _next;

        internal BlockEnumerator(TsmReader reader, TsmKey key, long min, long max)
        {
            _reader = reader;
            _key = key;
            _min = min;
            _max = max;
            _next = 0;
            Current = default;
        }

        public TsmIndexEntry Current { get; private set; }

        public readonly BlockEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            while (_next < _key.BlockCount)
            {
                TsmIndexEntry e = _reader.GetEntry(_key, _next++);
                if (e.MinTime > _max)
                {
                    _next = _key.BlockCount; // entries are in time order: nothing later overlaps
                    return false;
                }

                if (e.MaxTime >= _min)
                {
                    Current = e;
                    return true;
                }
            }

            return false;
        }
    }
}

/// <summary>A key of a TSM file: series key, field, type and where its block entries are.</summary>
public readonly ref struct TsmKey
{
    internal TsmKey(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, FieldType type, int blockCount, long entriesOffset)
    {
        SeriesKey = seriesKey;
        Field = field;
        Type = type;
        BlockCount = blockCount;
        EntriesOffset = entriesOffset;
    }

    public ReadOnlySpan<byte> SeriesKey { get; }

    public ReadOnlySpan<byte> Field { get; }

    public FieldType Type { get; }

    public int BlockCount { get; }

    internal long EntriesOffset { get; }
}
