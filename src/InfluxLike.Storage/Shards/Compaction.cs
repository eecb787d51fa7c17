using InfluxLike.LineProtocol;
using InfluxLike.Storage.Tsm;

namespace InfluxLike.Storage.Shards;

/// <summary>What the planner knows of one file of a shard.</summary>
public readonly record struct CompactionCandidate(TsmFileName Name, long Size, bool HasTombstones);

/// <summary>A compaction to run: consecutive files of a shard (by index in its file order) merged into one file at a level.</summary>
public sealed record CompactionPlan(int FirstIndex, int Count, int Level, string Reason);

/// <summary>
/// Chooses the next compaction of a shard, InfluxDB-style: runs of <see cref="FilesPerLevel"/> or more
/// consecutive files of one level merge into the next level (snapshots are level 1; level 4 is the top);
/// a cold shard (no writes for the full-compaction cold duration) with more than one file, or with deletes
/// not yet purged, is compacted whole into one file; a hot shard's file with tombstones is rewritten alone
/// to purge them. Only consecutive files are ever merged, so the output takes their place in the order that
/// resolves timestamps held twice.
/// </summary>
public static class CompactionPlanner
{
    /// <summary>Files of one level that trigger a merge into the next.</summary>
    public const int FilesPerLevel = 4;

    /// <summary>Most files one level compaction merges.</summary>
    public const int MaxFilesPerCompaction = 8;

    public static CompactionPlan? Plan(IReadOnlyList<CompactionCandidate> files, bool cold)
    {
        if (files.Count == 0)
        {
            return null;
        }

        if (cold && (files.Count > 1 || files[0].HasTombstones))
        {
            return new CompactionPlan(0, files.Count, TsmFileName.FullLevel, files.Count > 1 ? "full: cold shard" : "full: purge deletes of a cold shard");
        }

        for (int level = 1; level < TsmFileName.FullLevel; level++)
        {
            int run = 0;
            for (int i = 0; i <= files.Count; i++)
            {
                if (i < files.Count && files[i].Name.Level == level)
                {
                    run++;
                    continue;
                }

                if (run >= FilesPerLevel)
                {
                    int first = i - run;
                    return new CompactionPlan(first, Math.Min(run, MaxFilesPerCompaction), level + 1, $"level {level} to {level + 1}");
                }

                run = 0;
            }
        }

        for (int i = 0; i < files.Count; i++)
        {
            if (files[i].HasTombstones)
            {
                return new CompactionPlan(i, 1, files[i].Name.Level, "purge deletes");
            }
        }

        return null;
    }
}

/// <summary>
/// Merges TSM files into one: keys in order across the inputs; a key held by one input without deletes has
/// its blocks copied as they are (checksums checked, nothing decoded); otherwise the inputs' points are
/// decoded, tombstones applied, merged with the newest input winning a timestamp held twice, and written in
/// full blocks. A key with no point left is dropped.
/// </summary>
internal static class Compactor
{
    /// <summary>Writes the merge of <paramref name="inputs"/> (oldest first) to <paramref name="writer"/>; returns the keys written.</summary>
    /// <param name="progress">Called with the bytes written so far after each key (the IO budget waits here).</param>
    public static long Merge(IReadOnlyList<TsmReader> inputs, TsmWriter writer, int maxPointsPerBlock, Action<long> progress, CancellationToken cancel)
    {
        var cursors = new int[inputs.Count];
        var holders = new List<int>(inputs.Count);
        using var decoder = new BlockDecoder(maxPointsPerBlock);
        using var strings = new StringColumn();
        var bools = Array.Empty<bool>();
        long keys = 0;
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            holders.Clear();
            int min = -1;
            for (int f = 0; f < inputs.Count; f++)
            {
                if (cursors[f] >= inputs[f].KeyCount)
                {
                    continue;
                }

                if (min < 0)
                {
                    min = f;
                    holders.Add(f);
                    continue;
                }

                TsmKey a = inputs[f].GetKey(cursors[f]);
                TsmKey b = inputs[min].GetKey(cursors[min]);
                int c = TsmFormat.CompareKeys(a.SeriesKey, a.Field, b.SeriesKey, b.Field);
                if (c < 0)
                {
                    min = f;
                    holders.Clear();
                    holders.Add(f);
                }
                else if (c == 0)
                {
                    holders.Add(f);
                }
            }

            if (min < 0)
            {
                return keys;
            }

            TsmKey key = inputs[min].GetKey(cursors[min]);
            byte[] series = key.SeriesKey.ToArray();
            byte[] field = key.Field.ToArray();
            if (holders.Count == 1 && inputs[min].Tombstones.For(series, field).Count == 0)
            {
                TsmReader file = inputs[min];
                for (int b = 0; b < key.BlockCount; b++)
                {
                    TsmIndexEntry e = file.GetEntry(key, b);
                    writer.WriteRawBlock(series, field, file.GetBlock(e), e.MinTime, e.MaxTime);
                }

                keys++;
            }
            else if (WriteMerged(inputs, holders, cursors, series, field, decoder, writer, strings, ref bools))
            {
                keys++;
            }

            foreach (int f in holders)
            {
                cursors[f]++;
            }

            progress(writer.BytesWritten);
        }
    }

    private static bool WriteMerged(
        IReadOnlyList<TsmReader> inputs, List<int> holders, int[] cursors, byte[] series, byte[] field, BlockDecoder decoder, TsmWriter writer, StringColumn strings, ref bool[] bools)
    {
        // One key has one type in a shard; should files disagree (written before types were checked), the
        // newest file's type wins and older points of another type are dropped.
        FieldType type = inputs[holders[^1]].GetKey(cursors[holders[^1]]).Type;
        Run merged = default;
        bool any = false;
        foreach (int f in holders)
        {
            if (inputs[f].GetKey(cursors[f]).Type != type)
            {
                continue;
            }

            Run run = decoder.ReadRun(inputs[f], cursors[f], long.MinValue, long.MaxValue);
            merged = any ? Run.Merge(merged, run) : run;
            any = true;
        }

        if (!any || merged.Count == 0)
        {
            return false;
        }

        ReadOnlySpan<long> times = merged.Times.AsSpan(0, merged.Count);
        ReadOnlySpan<long> bits = merged.Bits.AsSpan(0, merged.Count);
        switch (type)
        {
            case FieldType.Float:
                writer.WriteFloats(series, field, times, System.Runtime.InteropServices.MemoryMarshal.Cast<long, double>(bits));
                break;
            case FieldType.Integer:
                writer.WriteIntegers(series, field, times, bits);
                break;
            case FieldType.Unsigned:
                writer.WriteUnsigned(series, field, times, System.Runtime.InteropServices.MemoryMarshal.Cast<long, ulong>(bits));
                break;
            case FieldType.Boolean:
                if (bools.Length < merged.Count)
                {
                    bools = new bool[merged.Count];
                }

                for (int i = 0; i < merged.Count; i++)
                {
                    bools[i] = bits[i] != 0;
                }

                writer.WriteBooleans(series, field, times, bools.AsSpan(0, merged.Count));
                break;
            default:
                strings.Clear();
                for (int i = 0; i < merged.Count; i++)
                {
                    strings.Add(merged.Strings![i] ?? []);
                }

                writer.WriteStrings(series, field, times, strings);
                break;
        }

        return true;
    }
}
