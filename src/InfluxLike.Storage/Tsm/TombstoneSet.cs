using System.Buffers.Binary;
using System.IO.Hashing;
using InfluxLike.Storage.IO;
using InfluxLike.Storage.Tsm.Encoding;

namespace InfluxLike.Storage.Tsm;

/// <summary>A deleted time range of one key (inclusive bounds).</summary>
public readonly record struct Tombstone(long MinTime, long MaxTime)
{
    public bool Contains(long time) => time >= MinTime && time <= MaxTime;
}

/// <summary>
/// The deletes recorded beside an immutable TSM file (<c>name.tsm.tombstone</c>): which time ranges of
/// which keys no longer exist. Readers apply them on the fly; compaction removes the points for good.
/// </summary>
/// <remarks>
/// File: magic "ILTB" and version (8 bytes), then records appended one by one:
/// <c>[series length varint][series][field length varint][field][min i64][max i64][crc32 of the record]</c>.
/// A torn last record (a crash mid-append) is ignored on load: the delete it held was not acknowledged.
/// A damaged record before the end is corruption.
/// </remarks>
public sealed class TombstoneSet
{
    private const uint Magic = 0x42544C49; // "ILTB"
    private const int HeaderLength = 8;

    private readonly Dictionary<string, List<Tombstone>> _byKey;
    private readonly object _appendLock = new();

    private TombstoneSet(string path, Dictionary<string, List<Tombstone>> byKey)
    {
        FilePath = path;
        _byKey = byKey;
    }

    public string FilePath { get; }

    public bool IsEmpty
    {
        get
        {
            lock (_appendLock)
            {
                return _byKey.Count == 0;
            }
        }
    }

    public static TombstoneSet Load(string path)
    {
        var byKey = new Dictionary<string, List<Tombstone>>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return new TombstoneSet(path, byKey);
        }

        byte[] data = File.ReadAllBytes(path);
        if (data.Length < HeaderLength)
        {
            // Created but killed before its first append reached the file: it held no acknowledged delete.
            File.Delete(path);
            return new TombstoneSet(path, byKey);
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(data) != Magic || data[4] != 1)
        {
            throw new CorruptionException(path, 0, "not a tombstone file (bad magic or version)");
        }

        int pos = HeaderLength;
        while (pos < data.Length)
        {
            int start = pos;
            if (!TryParseRecord(data, ref pos, out string? key, out Tombstone t))
            {
                if (IsTornTail(data, start))
                {
                    break;
                }

                throw new CorruptionException(path, start, "damaged tombstone record");
            }

            Add(byKey, key!, t);
        }

        return new TombstoneSet(path, byKey);
    }

    /// <summary>The deleted ranges of a key (empty when none), in the order they were recorded.</summary>
    public IReadOnlyList<Tombstone> For(ReadOnlySpan<byte> seriesKey, ReadOnlySpan<byte> field)
    {
        lock (_appendLock)
        {
            if (_byKey.Count == 0)
            {
                return [];
            }

            return _byKey.TryGetValue(KeyString(seriesKey, field), out List<Tombstone>? list) ? [.. list] : [];
        }
    }

    /// <summary>Records deletes durably (appended and fsynced) before they become visible.</summary>
    public void Append(IEnumerable<(byte[] SeriesKey, byte[] Field, Tombstone Range)> deletes)
    {
        lock (_appendLock)
        {
            bool exists = File.Exists(FilePath);
            using var file = new FileStream(FilePath, FileMode.Append, FileAccess.Write, FileShare.Read);
            using var buffer = new ByteWriter();
            if (!exists || file.Length == 0)
            {
                Span<byte> header = buffer.GetSpan(HeaderLength);
                BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
                header[4] = 1;
                header[5..8].Clear();
                buffer.Advance(HeaderLength);
            }

            var added = new List<(string, Tombstone)>();
            foreach (var (series, field, range) in deletes)
            {
                int start = buffer.Length;
                buffer.WriteVarint((ulong)series.Length);
                buffer.Write(series);
                buffer.WriteVarint((ulong)field.Length);
                buffer.Write(field);
                buffer.WriteInt64(range.MinTime);
                buffer.WriteInt64(range.MaxTime);
                buffer.WriteUInt32(Crc32.HashToUInt32(buffer.WrittenSpan[start..]));
                added.Add((KeyString(series, field), range));
            }

            file.Write(buffer.WrittenSpan);
            file.Flush(flushToDisk: true);
            if (!exists)
            {
                FileSystem.SyncDirectory(Path.GetDirectoryName(FilePath)!);
            }

            foreach (var (key, range) in added)
            {
                Add(_byKey, key, range);
            }
        }
    }

    private static void Add(Dictionary<string, List<Tombstone>> byKey, string key, Tombstone t)
    {
        if (!byKey.TryGetValue(key, out List<Tombstone>? list))
        {
            byKey[key] = list = [];
        }

        list.Add(t);
    }

    // Keys as strings over their raw bytes (Latin-1 maps each byte to one char: exact and reversible).
    private static string KeyString(ReadOnlySpan<byte> series, ReadOnlySpan<byte> field) =>
        string.Concat(System.Text.Encoding.Latin1.GetString(series), "\uffff", System.Text.Encoding.Latin1.GetString(field));

    private static bool TryParseRecord(ReadOnlySpan<byte> data, ref int pos, out string? key, out Tombstone t)
    {
        key = null;
        t = default;
        int start = pos;
        if (!Varint.TryRead(data, ref pos, out ulong sl) || sl > (ulong)(data.Length - pos))
        {
            return false;
        }

        ReadOnlySpan<byte> series = data.Slice(pos, (int)sl);
        pos += (int)sl;
        if (!Varint.TryRead(data, ref pos, out ulong fl) || fl + 20 > (ulong)(data.Length - pos))
        {
            return false;
        }

        ReadOnlySpan<byte> field = data.Slice(pos, (int)fl);
        pos += (int)fl;
        long min = BinaryPrimitives.ReadInt64LittleEndian(data[pos..]);
        long max = BinaryPrimitives.ReadInt64LittleEndian(data[(pos + 8)..]);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(data[(pos + 16)..]);
        if (Crc32.HashToUInt32(data[start..(pos + 16)]) != crc)
        {
            return false;
        }

        pos += 20;
        key = KeyString(series, field);
        t = new Tombstone(min, max);
        return true;
    }

    // A record that runs past the end of the file is a torn append.
    private static bool IsTornTail(ReadOnlySpan<byte> data, int start)
    {
        int pos = start;
        if (!Varint.TryRead(data, ref pos, out ulong sl) || sl > (ulong)(data.Length - pos))
        {
            return true;
        }

        pos += (int)sl;
        return !Varint.TryRead(data, ref pos, out ulong fl) || fl + 20 > (ulong)(data.Length - pos);
    }
}

/// <summary>Removes deleted points from decoded columns in place (what readers do on the fly).</summary>
public static class TombstoneFilter
{
    /// <summary>
    /// Drops the points of <paramref name="timestamps"/>/<paramref name="values"/> that fall in any of
    /// <paramref name="deleted"/>, keeping order; returns the number of points kept.
    /// </summary>
    public static int Apply<T>(Span<long> timestamps, Span<T> values, IReadOnlyList<Tombstone> deleted)
    {
        if (deleted.Count == 0)
        {
            return timestamps.Length;
        }

        int kept = 0;
        for (int i = 0; i < timestamps.Length; i++)
        {
            long t = timestamps[i];
            bool gone = false;
            for (int d = 0; d < deleted.Count && !gone; d++)
            {
                gone = deleted[d].Contains(t);
            }

            if (!gone)
            {
                timestamps[kept] = t;
                values[kept] = values[i];
                kept++;
            }
        }

        return kept;
    }

    /// <summary>Whether a whole block [min, max] is deleted, so it need not be decoded at all.</summary>
    public static bool CoversBlock(in TsmIndexEntry entry, IReadOnlyList<Tombstone> deleted)
    {
        foreach (Tombstone t in deleted)
        {
            if (t.MinTime <= entry.MinTime && t.MaxTime >= entry.MaxTime)
            {
                return true;
            }
        }

        return false;
    }
}
