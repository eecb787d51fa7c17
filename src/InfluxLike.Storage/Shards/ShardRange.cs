using System.Globalization;

namespace InfluxLike.Storage.Shards;

/// <summary>
/// The times a shard holds, [<see cref="Start"/>, <see cref="Last"/>] inclusive (inclusive so a shard can hold the
/// largest time). A shard's range is fixed when it is created and named by its folder, <c>{start}_{last}</c>:
/// changing a bucket's shard duration shapes only the shards created after it, and a new shard is cut short where
/// an older one already holds the times, so a bucket's shards never overlap.
/// </summary>
public readonly record struct ShardRange(long Start, long Last)
{
    private const char Separator = '_';

    /// <summary>The exclusive end, for display (the largest time's shard ends at <see cref="long.MaxValue"/>).</summary>
    public long End => Last == long.MaxValue ? long.MaxValue : Last + 1;

    public bool Contains(long time) => time >= Start && time <= Last;

    public bool Overlaps(long min, long max) => Last >= min && Start <= max;

    /// <summary>The folder name: <c>{start}_{last}</c>.</summary>
    public string FolderName => string.Create(CultureInfo.InvariantCulture, $"{Start}{Separator}{Last}");

    /// <summary>
    /// The window of <paramref name="duration"/> nanoseconds that holds <paramref name="time"/>, aligned to multiples
    /// of the duration from the epoch (as InfluxDB aligns shard groups), clamped at the ends of the time line.
    /// </summary>
    public static ShardRange Window(long time, long duration)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(duration);
        long q = Math.DivRem(time, duration, out long rem);
        if (rem < 0)
        {
            q--; // floor for times before the epoch
        }

        Int128 start = (Int128)q * duration; // the aligned window, then clamped: neighbours stay aligned
        Int128 last = start + duration - 1;
        return new ShardRange((long)Int128.Max(start, long.MinValue), (long)Int128.Min(last, long.MaxValue));
    }

    /// <summary>
    /// Reads a shard folder's name: <c>{start}_{last}</c>, or a bare <c>{start}</c> as folders were named before
    /// shards recorded their range; such a shard spans <paramref name="legacyDuration"/> from its start.
    /// </summary>
    public static bool TryParseFolderName(string name, long legacyDuration, out ShardRange range)
    {
        range = default;
        int separator = name.IndexOf(Separator, StringComparison.Ordinal);
        if (separator < 0)
        {
            if (!long.TryParse(name, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long start))
            {
                return false;
            }

            range = new ShardRange(start, start > long.MaxValue - (legacyDuration - 1) ? long.MaxValue : start + (legacyDuration - 1));
            return true;
        }

        if (!long.TryParse(name.AsSpan(0, separator), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long first)
            || !long.TryParse(name.AsSpan(separator + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long last)
            || last < first)
        {
            return false;
        }

        range = new ShardRange(first, last);
        return true;
    }
}
