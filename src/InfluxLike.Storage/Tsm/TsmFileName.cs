using System.Globalization;

namespace InfluxLike.Storage.Tsm;

/// <summary>
/// What a TSM file's name says: the range of generations it holds (a snapshot is one generation; a
/// compaction's output spans its inputs'), its compaction level, and a rewrite sequence for a file rewritten
/// over the same range (a purge of tombstones). Files of a shard ordered by <see cref="First"/> are ordered
/// oldest to newest, which is the order in which a timestamp held twice is resolved (newest wins).
/// </summary>
/// <remarks>
/// Format: <c>{first:D9}-{last:D9}-{level}-{sequence}.tsm</c>; the bare <c>{generation:D9}.tsm</c> of early
/// snapshots reads as level 1. Moving a compaction's output into place is its commit: a file whose range
/// another file <see cref="Supersedes">supersedes</see> is a leftover input and is removed at start-up, so a
/// crash leaves either the old set or the new one.
/// </remarks>
public readonly record struct TsmFileName(long First, long Last, int Level, int Sequence)
{
    /// <summary>Snapshots of the cache.</summary>
    public const int SnapshotLevel = 1;

    /// <summary>Suffix of a file that failed to open, moved aside for inspection.</summary>
    public const string QuarantineSuffix = ".bad";

    /// <summary>Fully compacted files (a cold shard's single file).</summary>
    public const int FullLevel = 4;

    public static TsmFileName Snapshot(long generation) => new(generation, generation, SnapshotLevel, 0);

    public string FileName =>
        string.Create(CultureInfo.InvariantCulture, $"{First:D9}-{Last:D9}-{Level}-{Sequence}{TsmFormat.Extension}");

    /// <summary>Whether this file holds everything <paramref name="other"/> holds, and more recently.</summary>
    public bool Supersedes(TsmFileName other) =>
        First <= other.First && Last >= other.Last && (First < other.First || Last > other.Last || Sequence > other.Sequence);

    public static bool TryParse(string path, out TsmFileName name)
    {
        name = default;
        string file = Path.GetFileName(path);
        if (!file.EndsWith(TsmFormat.Extension, StringComparison.Ordinal))
        {
            return false;
        }

        string[] parts = file[..^TsmFormat.Extension.Length].Split('-');
        if (parts.Length == 1 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long g))
        {
            name = Snapshot(g);
            return true;
        }

        if (parts.Length == 4
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long first)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long last)
            && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int level)
            && int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out int sequence)
            && first <= last && level >= 1)
        {
            name = new TsmFileName(first, last, level, sequence);
            return true;
        }

        return false;
    }

    /// <summary>The name of the file merging <paramref name="inputs"/> (consecutive, oldest first) at <paramref name="level"/>.</summary>
    public static TsmFileName Merge(IReadOnlyList<TsmFileName> inputs, int level)
    {
        long first = inputs.Min(i => i.First);
        long last = inputs.Max(i => i.Last);
        int sequence = inputs.Where(i => i.First == first && i.Last == last).Select(i => i.Sequence + 1).DefaultIfEmpty(0).Max();
        return new TsmFileName(first, last, level, sequence);
    }
}
