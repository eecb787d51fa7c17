using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using System.Text.RegularExpressions;
using InfluxLike.Storage.IO;
using InfluxLike.Storage.Tsm.Encoding;

namespace InfluxLike.Storage.Index;

/// <summary>
/// An immutable, memory-mapped inverted index of the series with ids up to <see cref="MaxId"/>:
/// measurement → tag key → tag value → postings, in sorted tables searched by binary search, so start-up
/// maps it instead of rebuilding anything and the managed heap holds nothing per series.
/// </summary>
/// <remarks>
/// <code>
/// header (8)   magic "ILTI" u32, version 1 u8, 3 zero bytes
/// body         names ([length varint][UTF-8]) and postings ([count varint][first id varint][deltas varint...]),
///              then the tables, each entry fixed-size so tables are binary-searched in place:
///              measurement entry (32): name u64, series postings u64, tag-key table u64, tag-key count u32, 0 u32
///              tag-key entry     (32): name u64, series postings u64, value table u64, value count u32, 0 u32
///              value entry       (16): name u64, postings u64
/// footer (48)  measurement table u64, measurement count u64, all-series postings u64, max id u64,
///              series count u64, crc32 of all before u32, magic u32
/// </code>
/// Offsets are from the start of the file; names sort by their UTF-8 bytes.
/// </remarks>
internal sealed class TsiFile : IIndexSource, IDisposable
{
    public const string FileName = "index.tsi";

    private const uint Magic = 0x49544C49; // "ILTI"
    private const int HeaderLength = 8;
    private const int FooterLength = 48;
    private const int MeasurementEntry = 32;
    private const int TagKeyEntry = 32;
    private const int ValueEntry = 16;

    // Postings forms, chosen per list by size (the idea of roaring's containers): sorted deltas for sparse
    // lists, a bitmap over [first, last] for dense ones, a run for consecutive ids.
    private const byte PostingsDeltas = 0;
    private const byte PostingsRun = 1;
    private const byte PostingsBitmap = 2;

    private readonly MappedFile _file;
    private readonly long _measurementTable;
    private readonly int _measurementCount;
    private readonly long _allPostings;

    private TsiFile(MappedFile file, long measurementTable, int measurementCount, long allPostings, ulong maxId, long seriesCount)
    {
        _file = file;
        _measurementTable = measurementTable;
        _measurementCount = measurementCount;
        _allPostings = allPostings;
        MaxId = maxId;
        SeriesCount = seriesCount;
    }

    /// <summary>The file covers series ids 1..MaxId (those alive when it was written).</summary>
    public ulong MaxId { get; }

    public long SeriesCount { get; }

    public long SizeBytes => _file.Length;

    public static TsiFile Open(string path)
    {
        MappedFile file = MappedFile.Open(path);
        try
        {
            ReadOnlySpan<byte> all = file.All;
            if (all.Length < HeaderLength + FooterLength || BinaryPrimitives.ReadUInt32LittleEndian(all) != Magic || all[4] != 1
                || BinaryPrimitives.ReadUInt32LittleEndian(all[^4..]) != Magic)
            {
                throw new CorruptionException(path, 0, "not a complete index file");
            }

            ReadOnlySpan<byte> footer = all[^FooterLength..];
            if (Crc32.HashToUInt32(all[..^8]) != BinaryPrimitives.ReadUInt32LittleEndian(footer[40..]))
            {
                throw new CorruptionException(path, all.Length - 8, "index file checksum mismatch");
            }

            long table = BinaryPrimitives.ReadInt64LittleEndian(footer);
            long count = BinaryPrimitives.ReadInt64LittleEndian(footer[8..]);
            if (table < HeaderLength || count < 0 || table + (count * MeasurementEntry) > all.Length - FooterLength)
            {
                throw new CorruptionException(path, all.Length - FooterLength, "index file footer points outside the file");
            }

            return new TsiFile(file, table, (int)count, BinaryPrimitives.ReadInt64LittleEndian(footer[16..]),
                BinaryPrimitives.ReadUInt64LittleEndian(footer[24..]), BinaryPrimitives.ReadInt64LittleEndian(footer[32..]));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public ulong[] All() => ReadPostings(_allPostings);

    public IEnumerable<string> MeasurementNames()
    {
        for (int i = 0; i < _measurementCount; i++)
        {
            yield return ReadName(U64(_measurementTable + ((long)i * MeasurementEntry)));
        }
    }

    public ulong[] MeasurementSeries(string measurement) =>
        FindMeasurement(measurement) is long e and >= 0 ? ReadPostings(U64(e + 8)) : [];

    public IEnumerable<string> TagKeys(string measurement)
    {
        long e = FindMeasurement(measurement);
        if (e < 0)
        {
            yield break;
        }

        long table = U64(e + 16);
        int count = (int)U32(e + 24);
        for (int i = 0; i < count; i++)
        {
            yield return ReadName(U64(table + ((long)i * TagKeyEntry)));
        }
    }

    public ulong[] TagKeySeries(string measurement, string key) =>
        FindTagKey(measurement, key) is long e and >= 0 ? ReadPostings(U64(e + 8)) : [];

    public IEnumerable<string> TagValues(string measurement, string key) => TagValueEntries(measurement, key).Select(v => v.Value);

    public IEnumerable<ulong[]> ValuesMatching(string measurement, string key, Regex pattern)
    {
        long e = FindTagKey(measurement, key);
        if (e < 0)
        {
            yield break;
        }

        long table = U64(e + 16);
        int count = (int)U32(e + 24);
        int from = 0, to = count;

        // An anchored literal prefix (/^host_12/) narrows the scan to the values sharing it: values are
        // sorted, so two binary searches bound the range.
        if (RegexPrefix.Literal(pattern) is { Length: > 0 } prefix)
        {
            byte[] p = Encoding.UTF8.GetBytes(prefix);
            from = LowerBound(table, count, ValueEntry, p);
            to = from;
            while (to < count && NameAt(U64(table + ((long)to * ValueEntry))).StartsWith(p))
            {
                to++;
            }
        }

        char[] chars = new char[256];
        for (int i = from; i < to; i++)
        {
            long v = table + ((long)i * ValueEntry);
            ulong[]? hit = null;
            {
                ReadOnlySpan<byte> name = NameAt(U64(v));
                if (chars.Length < name.Length)
                {
                    chars = new char[name.Length * 2];
                }

                int n = Encoding.UTF8.GetChars(name, chars);
                if (pattern.IsMatch(chars.AsSpan(0, n)))
                {
                    hit = ReadPostings(U64(v + 8));
                }
            }

            if (hit is not null)
            {
                yield return hit;
            }
        }
    }

    private IEnumerable<(string Value, long Postings)> TagValueEntries(string measurement, string key)
    {
        long e = FindTagKey(measurement, key);
        if (e < 0)
        {
            yield break;
        }

        long table = U64(e + 16);
        int count = (int)U32(e + 24);
        for (int i = 0; i < count; i++)
        {
            long v = table + ((long)i * ValueEntry);
            yield return (ReadName(U64(v)), U64(v + 8));
        }
    }

    public ulong[] ValueSeries(string measurement, string key, string value)
    {
        long e = FindTagKey(measurement, key);
        if (e < 0)
        {
            return [];
        }

        long v = BinarySearch(U64(e + 16), (int)U32(e + 24), ValueEntry, Encoding.UTF8.GetBytes(value));
        return v >= 0 ? ReadPostings(U64(v + 8)) : [];
    }

    public ulong[] ReadPostings(long offset)
    {
        ReadOnlySpan<byte> span = _file.Span(offset, (int)Math.Min(_file.Length - offset, int.MaxValue));
        byte form = span[0];
        int pos = 1;
        Varint.TryRead(span, ref pos, out ulong count);
        Varint.TryRead(span, ref pos, out ulong first);
        var ids = new ulong[count];
        switch (form)
        {
            case PostingsRun:
                for (ulong i = 0; i < count; i++)
                {
                    ids[i] = first + i;
                }

                break;

            case PostingsBitmap:
                Varint.TryRead(span, ref pos, out ulong range);
                ReadOnlySpan<byte> bits = span.Slice(pos, (int)((range + 7) / 8));
                int n = 0;
                for (int b = 0; b < bits.Length && n < ids.Length; b++)
                {
                    uint word = bits[b];
                    while (word != 0)
                    {
                        int bit = System.Numerics.BitOperations.TrailingZeroCount(word);
                        ids[n++] = first + (ulong)(b * 8) + (ulong)bit;
                        word &= word - 1;
                    }
                }

                break;

            default:
                ulong id = first;
                if (count > 0)
                {
                    ids[0] = id;
                }

                for (ulong i = 1; i < count; i++)
                {
                    Varint.TryRead(span, ref pos, out ulong delta);
                    id += delta;
                    ids[i] = id;
                }

                break;
        }

        return ids;
    }

    public void Dispose() => _file.Dispose();

    /// <summary>Writes an index file atomically (temporary file, fsync, rename, directory fsync).</summary>
    public static void Write(string path, ulong maxId, IIndexSource source)
    {
        string temp = path + ".tmp";
        using (var output = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            var w = new TsiWriter(output);
            w.WriteHeader();
            var measurements = new List<(long Name, long Series, long Table, int Count)>();
            foreach (string m in source.MeasurementNames().Order(Utf8Comparer.Instance))
            {
                long mName = w.WriteName(m);
                long mSeries = w.WritePostings(source.MeasurementSeries(m));
                var keys = new List<(long Name, long Series, long Table, int Count)>();
                foreach (string key in source.TagKeys(m).Order(Utf8Comparer.Instance))
                {
                    long kName = w.WriteName(key);
                    long kSeries = w.WritePostings(source.TagKeySeries(m, key));
                    var values = new List<(long Name, long Postings)>();
                    foreach (string value in source.TagValues(m, key).Order(Utf8Comparer.Instance))
                    {
                        ulong[] ids = source.ValueSeries(m, key, value);
                        if (ids.Length > 0)
                        {
                            values.Add((w.WriteName(value), w.WritePostings(ids)));
                        }
                    }

                    long valueTable = w.Position;
                    foreach (var (name, postings) in values)
                    {
                        w.WriteU64((ulong)name);
                        w.WriteU64((ulong)postings);
                    }

                    keys.Add((kName, kSeries, valueTable, values.Count));
                }

                long keyTable = w.Position;
                foreach (var k in keys)
                {
                    w.WriteEntry(k.Name, k.Series, k.Table, k.Count);
                }

                measurements.Add((mName, mSeries, keyTable, keys.Count));
            }

            ulong[] all = source.All();
            long allPostings = w.WritePostings(all);
            long table = w.Position;
            foreach (var m in measurements)
            {
                w.WriteEntry(m.Name, m.Series, m.Table, m.Count);
            }

            w.WriteFooter(table, measurements.Count, allPostings, maxId, all.Length, Magic);
            output.Flush(flushToDisk: true);
        }

        FileSystem.ReplaceDurably(temp, path);
    }

    private long FindMeasurement(string measurement) =>
        BinarySearch(_measurementTable, _measurementCount, MeasurementEntry, Encoding.UTF8.GetBytes(measurement));

    private long FindTagKey(string measurement, string key)
    {
        long e = FindMeasurement(measurement);
        return e < 0 ? -1 : BinarySearch(U64(e + 16), (int)U32(e + 24), TagKeyEntry, Encoding.UTF8.GetBytes(key));
    }

    // The index of the first entry whose name is not less than `name`.
    private int LowerBound(long table, int count, int entrySize, ReadOnlySpan<byte> name)
    {
        int lo = 0, hi = count;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (NameAt(U64(table + ((long)mid * entrySize))).SequenceCompareTo(name) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    // Returns the offset of the entry whose name equals `name`, or -1.
    private long BinarySearch(long table, int count, int entrySize, ReadOnlySpan<byte> name)
    {
        int lo = 0, hi = count - 1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            long entry = table + ((long)mid * entrySize);
            int c = NameAt(U64(entry)).SequenceCompareTo(name);
            if (c == 0)
            {
                return entry;
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

        return -1;
    }

    private ReadOnlySpan<byte> NameAt(long offset)
    {
        ReadOnlySpan<byte> head = _file.Span(offset, (int)Math.Min(10, _file.Length - offset));
        int pos = 0;
        Varint.TryRead(head, ref pos, out ulong length);
        return _file.Span(offset + pos, (int)length);
    }

    private string ReadName(long offset) => Encoding.UTF8.GetString(NameAt(offset));

    private long U64(long offset) => BinaryPrimitives.ReadInt64LittleEndian(_file.Span(offset, 8));

    private uint U32(long offset) => BinaryPrimitives.ReadUInt32LittleEndian(_file.Span(offset, 4));

    /// <summary>Sequential writer with a running checksum.</summary>
    private sealed class TsiWriter(FileStream output)
    {
        private readonly Crc32 _crc = new();
        private readonly byte[] _scratch = new byte[64];

        public long Position { get; private set; }

        public void WriteHeader()
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_scratch, Magic);
            _scratch[4] = 1;
            _scratch.AsSpan(5, 3).Clear();
            Write(_scratch.AsSpan(0, HeaderLength));
        }

        public long WriteName(string name)
        {
            long at = Position;
            byte[] bytes = Encoding.UTF8.GetBytes(name);
            Write(_scratch.AsSpan(0, Varint.Write(_scratch, (ulong)bytes.Length)));
            Write(bytes);
            return at;
        }

        public long WritePostings(ulong[] ids)
        {
            long at = Position;
            using var buffer = new ByteWriter(16 + (ids.Length * 2));
            ulong first = ids.Length > 0 ? ids[0] : 0;
            ulong range = ids.Length > 0 ? ids[^1] - first + 1 : 0;
            long deltaBytes = 0;
            for (int i = 1; i < ids.Length; i++)
            {
                deltaBytes += Varint.Size(ids[i] - ids[i - 1]);
            }

            long bitmapBytes = (long)((range + 7) / 8) + Varint.Size(range);
            byte form = ids.Length > 0 && range == (ulong)ids.Length ? PostingsRun : bitmapBytes < deltaBytes ? PostingsBitmap : PostingsDeltas;
            buffer.WriteByte(form);
            buffer.WriteVarint((ulong)ids.Length);
            buffer.WriteVarint(first);
            switch (form)
            {
                case PostingsRun:
                    break;
                case PostingsBitmap:
                    buffer.WriteVarint(range);
                    Span<byte> bits = buffer.GetSpan((int)((range + 7) / 8))[..(int)((range + 7) / 8)];
                    bits.Clear();
                    foreach (ulong id in ids)
                    {
                        ulong i = id - first;
                        bits[(int)(i >> 3)] |= (byte)(1 << (int)(i & 7));
                    }

                    buffer.Advance(bits.Length);
                    break;
                default:
                    for (int i = 1; i < ids.Length; i++)
                    {
                        buffer.WriteVarint(ids[i] - ids[i - 1]);
                    }

                    break;
            }

            Write(buffer.WrittenSpan);
            return at;
        }

        public void WriteU64(ulong value)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_scratch, value);
            Write(_scratch.AsSpan(0, 8));
        }

        public void WriteEntry(long name, long series, long table, int count)
        {
            WriteU64((ulong)name);
            WriteU64((ulong)series);
            WriteU64((ulong)table);
            BinaryPrimitives.WriteUInt32LittleEndian(_scratch, (uint)count);
            BinaryPrimitives.WriteUInt32LittleEndian(_scratch.AsSpan(4), 0);
            Write(_scratch.AsSpan(0, 8));
        }

        public void WriteFooter(long table, int count, long allPostings, ulong maxId, long seriesCount, uint magic)
        {
            WriteU64((ulong)table);
            WriteU64((ulong)count);
            WriteU64((ulong)allPostings);
            WriteU64(maxId);
            WriteU64((ulong)seriesCount);
            BinaryPrimitives.WriteUInt32LittleEndian(_scratch, _crc.GetCurrentHashAsUInt32());
            BinaryPrimitives.WriteUInt32LittleEndian(_scratch.AsSpan(4), magic);
            output.Write(_scratch.AsSpan(0, 8));
        }

        private void Write(ReadOnlySpan<byte> bytes)
        {
            _crc.Append(bytes);
            output.Write(bytes);
            Position += bytes.Length;
        }
    }
}

/// <summary>What the index is made of, in memory or on disk (the parts a query evaluates and unions).</summary>
internal interface IIndexSource
{
    ulong[] All();

    IEnumerable<string> MeasurementNames();

    ulong[] MeasurementSeries(string measurement);

    IEnumerable<string> TagKeys(string measurement);

    ulong[] TagKeySeries(string measurement, string key);

    IEnumerable<string> TagValues(string measurement, string key);

    ulong[] ValueSeries(string measurement, string key, string value);

    /// <summary>Postings of every value of a tag key that <paramref name="pattern"/> matches.</summary>
    IEnumerable<ulong[]> ValuesMatching(string measurement, string key, Regex pattern);
}

/// <summary>Orders strings by their UTF-8 bytes (the order of the index's tables).</summary>
internal sealed class Utf8Comparer : IComparer<string>
{
    public static readonly Utf8Comparer Instance = new();

    public int Compare(string? x, string? y) => InfluxLike.LineProtocol.Utf8Order.Compare(x, y);
}
