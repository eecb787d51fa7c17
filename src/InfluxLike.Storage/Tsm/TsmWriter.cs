using System.Buffers.Binary;
using System.IO.Hashing;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.IO;
using InfluxLike.Storage.Tsm.Encoding;

namespace InfluxLike.Storage.Tsm;

/// <summary>
/// Writes one immutable TSM file, streaming: keys arrive in ascending (series key, field) order, each key's
/// points in ascending time, and blocks go to disk as they fill. Memory stays bounded: one block buffer
/// plus the index, which spills to a side file past <see cref="IndexSpillBytes"/>.
/// </summary>
/// <remarks>
/// The file is written as <c>name.tsm.tmp</c>; <see cref="Finish"/> appends the index and footer, fsyncs,
/// renames it into place and fsyncs the directory, so a crash leaves either no file or a whole one.
/// Disposing without <see cref="Finish"/> deletes the temporary file.
/// </remarks>
public sealed class TsmWriter : IDisposable
{
    internal const int IndexSpillBytes = 8 << 20;

    private readonly string _path;
    private readonly string _tempPath;
    private readonly int _maxPointsPerBlock;
    private readonly FileStream _file;
    private readonly ByteWriter _block = new();
    private readonly ByteWriter _index = new();
    private readonly ByteWriter _keyEntries = new();
    private readonly Crc32 _indexCrc = new();
    private FileStream? _indexSpill;
    private long _indexLength;

    private byte[] _series = new byte[256];
    private byte[] _field = new byte[64];
    private int _seriesLength = -1;
    private int _fieldLength;
    private FieldType _type;
    private int _keyBlocks;
    private long _keyMaxTime;
    private long _offset;
    private bool _finished;

    public TsmWriter(string path, int maxPointsPerBlock = TsmBlock.DefaultMaxPoints)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPointsPerBlock, 1);
        _path = System.IO.Path.GetFullPath(path);
        _tempPath = _path + TsmFormat.TempSuffix;
        _maxPointsPerBlock = maxPointsPerBlock;
        _file = new FileStream(_tempPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Span<byte> header = stackalloc byte[TsmFormat.HeaderLength];
        TsmFormat.WriteHeader(header);
        _file.Write(header);
        _offset = TsmFormat.HeaderLength;
    }

    public string Path => _path;

    /// <summary>Blocks written so far.</summary>
    public long BlockCount { get; private set; }

    /// <summary>Bytes of blocks written so far.</summary>
    public long BytesWritten => _offset;

    /// <summary>Keys (series + field) written so far.</summary>
    public long KeyCount { get; private set; }

    public void WriteFloats(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values) =>
        WriteBlocks(seriesKey, field, FieldType.Float, timestamps, values, TsmBlock.EncodeFloats);

    public void WriteIntegers(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, ReadOnlySpan<long> timestamps, ReadOnlySpan<long> values) =>
        WriteBlocks(seriesKey, field, FieldType.Integer, timestamps, values, TsmBlock.EncodeIntegers);

    public void WriteUnsigned(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, ReadOnlySpan<long> timestamps, ReadOnlySpan<ulong> values) =>
        WriteBlocks(seriesKey, field, FieldType.Unsigned, timestamps, values, TsmBlock.EncodeUnsigned);

    public void WriteBooleans(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, ReadOnlySpan<long> timestamps, ReadOnlySpan<bool> values) =>
        WriteBlocks(seriesKey, field, FieldType.Boolean, timestamps, values, TsmBlock.EncodeBooleans);

    public void WriteStrings(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, ReadOnlySpan<long> timestamps, StringColumn values)
    {
        StartKey(seriesKey, field, FieldType.String, timestamps, values.Count);
        using var chunk = new StringColumn();
        for (int i = 0; i < timestamps.Length; i += _maxPointsPerBlock)
        {
            int n = Math.Min(_maxPointsPerBlock, timestamps.Length - i);
            chunk.Clear();
            for (int j = i; j < i + n; j++)
            {
                chunk.Add(values[j]);
            }

            _block.Clear();
            TsmBlock.EncodeStrings(timestamps.Slice(i, n), chunk, _block);
            AppendBlock(timestamps.Slice(i, n));
        }
    }

    private delegate void BlockEncoder<T>(ReadOnlySpan<long> timestamps, ReadOnlySpan<T> values, ByteWriter output);

    // Cuts the points into blocks of at most _maxPointsPerBlock and appends each.
    private void WriteBlocks<T>(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, FieldType type, ReadOnlySpan<long> timestamps, ReadOnlySpan<T> values, BlockEncoder<T> encode)
    {
        StartKey(seriesKey, field, type, timestamps, values.Length);
        for (int i = 0; i < timestamps.Length; i += _maxPointsPerBlock)
        {
            int n = Math.Min(_maxPointsPerBlock, timestamps.Length - i);
            _block.Clear();
            encode(timestamps.Slice(i, n), values.Slice(i, n), _block);
            AppendBlock(timestamps.Slice(i, n));
        }
    }

    /// <summary>
    /// Copies an already encoded block (from another TSM file) unchanged: compaction moves blocks that need
    /// no merging without decoding them. The block's checksum is verified first.
    /// </summary>
    public void WriteRawBlock(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, ReadOnlySpan<byte> block, long minTime, long maxTime)
    {
        if (!TsmBlock.TryReadHeader(block, out BlockHeader h, out string? error))
        {
            throw new ArgumentException("Cannot copy a damaged block: " + error, nameof(block));
        }

        Span<long> bounds = [minTime, maxTime];
        StartKey(seriesKey, field, h.Type, minTime == maxTime ? bounds[..1] : bounds, minTime == maxTime ? 1 : 2);
        _block.Clear();
        _block.Write(block);
        AppendBlock(minTime, maxTime, h.Count);
    }

    /// <summary>
    /// Writes the index and footer, makes the file durable and moves it into place; with
    /// <paramref name="moveIntoPlace"/> false the complete file stays at <c>name.tsm.tmp</c> for the caller to
    /// commit with <see cref="MoveIntoPlace"/> (a compaction first records the deletes that raced it).
    /// </summary>
    public TsmFileInfo Finish(bool moveIntoPlace = true)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        EndKey();

        long indexOffset = _offset;
        if (_indexSpill is not null)
        {
            _indexSpill.Flush();
            _indexSpill.Position = 0;
            _indexSpill.CopyTo(_file);
        }

        _file.Write(_index.WrittenSpan);
        _indexLength += _index.Length;

        Span<byte> footer = stackalloc byte[TsmFormat.FooterLength];
        BinaryPrimitives.WriteInt64LittleEndian(footer, indexOffset);
        BinaryPrimitives.WriteInt64LittleEndian(footer[8..], _indexLength);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[16..], _indexCrc.GetCurrentHashAsUInt32());
        BinaryPrimitives.WriteUInt32LittleEndian(footer[20..], TsmFormat.Magic);
        _file.Write(footer);
        _file.Flush(flushToDisk: true);
        long size = _file.Length;
        _file.Dispose();
        DeleteSpill();

        if (moveIntoPlace)
        {
            FileSystem.ReplaceDurably(_tempPath, _path);
        }

        _finished = true;
        Dispose();
        return new TsmFileInfo(_path, size, KeyCount, BlockCount);
    }

    /// <summary>Commits a file finished with <c>Finish(moveIntoPlace: false)</c>: renamed into place, durably.</summary>
    public static void MoveIntoPlace(string path) => FileSystem.ReplaceDurably(System.IO.Path.GetFullPath(path) + TsmFormat.TempSuffix, System.IO.Path.GetFullPath(path));

    public void Dispose()
    {
        _file.Dispose();
        DeleteSpill();
        _block.Dispose();
        _index.Dispose();
        _keyEntries.Dispose();
        if (!_finished && File.Exists(_tempPath))
        {
            File.Delete(_tempPath);
        }

        _finished = true;
    }

    private void StartKey(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field, FieldType type, ReadOnlySpan<long> timestamps, int valueCount)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        if (timestamps.Length != valueCount)
        {
            throw new ArgumentException($"{timestamps.Length} timestamps but {valueCount} values.");
        }

        if (seriesKey.IsEmpty || seriesKey.Length > ushort.MaxValue || field.IsEmpty || field.Length > ushort.MaxValue)
        {
            throw new ArgumentException("Series key and field must be 1 to 65535 bytes.");
        }

        for (int i = 1; i < timestamps.Length; i++)
        {
            if (timestamps[i] <= timestamps[i - 1])
            {
                throw new ArgumentException($"Timestamps must ascend strictly: {timestamps[i]} follows {timestamps[i - 1]}.", nameof(timestamps));
            }
        }

        int cmp = _seriesLength < 0 ? 1 : TsmFormat.CompareKeys(seriesKey, field, _series.AsSpan(0, _seriesLength), _field.AsSpan(0, _fieldLength));
        if (cmp < 0)
        {
            throw new InvalidOperationException("Keys must be written in ascending (series key, field) order.");
        }

        if (cmp == 0)
        {
            // More points for the same key: they must continue its type and its time order.
            if (type != _type)
            {
                throw new InvalidOperationException($"Field type {type} differs from {_type} written before for the same key.");
            }

            if (timestamps.Length > 0 && timestamps[0] <= _keyMaxTime)
            {
                throw new InvalidOperationException($"Blocks of one key must not overlap: {timestamps[0]} is not after {_keyMaxTime}.");
            }

            return;
        }

        EndKey();
        if (_series.Length < seriesKey.Length)
        {
            _series = new byte[Math.Max(seriesKey.Length, _series.Length * 2)];
        }

        if (_field.Length < field.Length)
        {
            _field = new byte[Math.Max(field.Length, _field.Length * 2)];
        }

        seriesKey.CopyTo(_series);
        field.CopyTo(_field);
        _seriesLength = seriesKey.Length;
        _fieldLength = field.Length;
        _type = type;
        _keyBlocks = 0;
        _keyMaxTime = long.MinValue;
        KeyCount++;
    }

    private void AppendBlock(ReadOnlySpan<long> timestamps) => AppendBlock(timestamps[0], timestamps[^1], timestamps.Length);

    private void AppendBlock(long minTime, long maxTime, int count)
    {
        ReadOnlySpan<byte> block = _block.WrittenSpan;
        _file.Write(block);
        Span<byte> entry = _keyEntries.GetSpan(TsmFormat.IndexEntryLength);
        BinaryPrimitives.WriteInt64LittleEndian(entry, minTime);
        BinaryPrimitives.WriteInt64LittleEndian(entry[8..], maxTime);
        BinaryPrimitives.WriteInt64LittleEndian(entry[16..], _offset);
        BinaryPrimitives.WriteInt32LittleEndian(entry[24..], block.Length);
        BinaryPrimitives.WriteInt32LittleEndian(entry[28..], count);
        _keyEntries.Advance(TsmFormat.IndexEntryLength);
        _offset += block.Length;
        _keyBlocks++;
        _keyMaxTime = maxTime;
        BlockCount++;
    }

    // Appends the finished key's index record: key, type, block count, entries.
    private void EndKey()
    {
        if (_seriesLength < 0 || _keyBlocks == 0)
        {
            return;
        }

        int start = _index.Length;
        _index.WriteVarint((ulong)_seriesLength);
        _index.Write(_series.AsSpan(0, _seriesLength));
        _index.WriteVarint((ulong)_fieldLength);
        _index.Write(_field.AsSpan(0, _fieldLength));
        _index.WriteByte((byte)_type);
        _index.WriteVarint((ulong)_keyBlocks);
        _index.Write(_keyEntries.WrittenSpan);
        _indexCrc.Append(_index.WrittenSpan[start..]);
        _keyEntries.Clear();
        _keyBlocks = 0;

        if (_index.Length >= IndexSpillBytes)
        {
            _indexSpill ??= new FileStream(_tempPath + ".index", FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
            _indexSpill.Write(_index.WrittenSpan);
            _indexLength += _index.Length;
            _index.Clear();
        }
    }

    private void DeleteSpill()
    {
        _indexSpill?.Dispose();
        _indexSpill = null;
    }
}

/// <summary>What <see cref="TsmWriter.Finish"/> produced.</summary>
public sealed record TsmFileInfo(string Path, long Size, long KeyCount, long BlockCount);
