using System.Buffers.Binary;

namespace InfluxLike.Storage.Tsm;

/// <summary>Constants of the TSM file layout; the drawing is docs/format/tsm.md (a test checks the two agree).</summary>
internal static class TsmFormat
{
    /// <summary>"ILTS" read as a little-endian uint.</summary>
    public const uint Magic = 0x53544C49;

    /// <summary>Bump only deliberately: the golden-file test pins version 1.</summary>
    public const byte Version = 1;

    public const int HeaderLength = 8;     // magic u32, version u8, 3 reserved zero bytes
    public const int FooterLength = 24;    // index offset u64, index length u64, index crc32 u32, magic u32
    public const int IndexEntryLength = 32; // min time i64, max time i64, offset u64, size u32, count u32

    public const string Extension = ".tsm";
    public const string TombstoneExtension = ".tombstone";
    public const string TempSuffix = ".tmp";

    public static void WriteHeader(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        destination[4] = Version;
        destination[5..8].Clear();
    }

    /// <summary>Orders index keys: by series key, then field key, each as raw bytes.</summary>
    public static int CompareKeys(ReadOnlySpan<byte> seriesA, ReadOnlySpan<byte> fieldA, ReadOnlySpan<byte> seriesB, ReadOnlySpan<byte> fieldB)
    {
        int c = seriesA.SequenceCompareTo(seriesB);
        return c != 0 ? c : fieldA.SequenceCompareTo(fieldB);
    }
}

/// <summary>Where one block of a key lies and what it covers.</summary>
public readonly record struct TsmIndexEntry(long MinTime, long MaxTime, long Offset, int Size, int Count);
