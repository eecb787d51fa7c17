using System.Numerics;

namespace InfluxLike.Storage.Cache;

/// <summary>
/// Arrays for cache columns, kept for reuse between snapshots. A cache holds a few thousand columns that all die
/// together when their snapshot is written: more than the shared pool keeps per size (it drops them), and fresh
/// arrays for every column of every snapshot were most of ingest's garbage. Retention is capped (twice the
/// largest snapshot threshold of the process), so idle memory stays bounded; past the cap arrays are left to
/// the collector.
/// </summary>
internal static class ColumnArrays
{
    private const int MinShift = 4;   // 16 values
    private const int MaxShift = 20;  // 1 M values (8 MiB); longer arrays are never kept
    private static readonly Stack<long[]>[] Free = [.. Enumerable.Range(0, MaxShift - MinShift + 1).Select(_ => new Stack<long[]>())]; // each locked on itself
    private static long _retainedBytes;
    private static long _capBytes = 16L << 20;

    /// <summary>Raises the retention cap to at least <paramref name="bytes"/> (a shard's snapshot threshold, twice).</summary>
    public static void AllowRetained(long bytes)
    {
        long seen;
        while ((seen = Interlocked.Read(ref _capBytes)) < bytes && Interlocked.CompareExchange(ref _capBytes, bytes, seen) != seen)
        {
        }
    }

    /// <summary>An array of at least <paramref name="minLength"/> values (a power of two); its contents are undefined.</summary>
    public static long[] Rent(int minLength)
    {
        int shift = Math.Max(MinShift, 64 - BitOperations.LeadingZeroCount((ulong)Math.Max(1, minLength - 1)));
        if (shift <= MaxShift)
        {
            Stack<long[]> free = Free[shift - MinShift];
            long[]? array;
            lock (free)
            {
                free.TryPop(out array);
            }

            if (array is not null)
            {
                Interlocked.Add(ref _retainedBytes, -8L * array.Length);
                return array;
            }
        }

        return GC.AllocateUninitializedArray<long>(1 << shift);
    }

    /// <summary>Takes an array back for reuse; the caller must hold no reference to it afterwards.</summary>
    public static void Return(long[] array)
    {
        int shift = BitOperations.Log2((uint)Math.Max(1, array.Length));
        if (array.Length != 1 << shift || shift < MinShift || shift > MaxShift)
        {
            return;
        }

        if (Interlocked.Add(ref _retainedBytes, 8L * array.Length) > Interlocked.Read(ref _capBytes))
        {
            Interlocked.Add(ref _retainedBytes, -8L * array.Length);
            return;
        }

        Stack<long[]> free = Free[shift - MinShift];
        lock (free)
        {
            free.Push(array);
        }
    }
}
