using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace InfluxLike.Storage;

/// <summary>
/// The storage engine's instruments (System.Diagnostics.Metrics, so the library names no exporter; the
/// server publishes them on /metrics). Counters and histograms are recorded where the work happens; sizes
/// that are states rather than events (cache bytes, files, series) are read by the server when scraped.
/// </summary>
public static class StorageMetrics
{
    public const string MeterName = "InfluxLike.Storage";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Field values stored.</summary>
    public static readonly Counter<long> ValuesWritten = Meter.CreateCounter<long>("values_written", "{value}", "Field values stored");

    /// <summary>Line-protocol bytes parsed.</summary>
    public static readonly Counter<long> BytesWritten = Meter.CreateCounter<long>("write_bytes", "By", "Line-protocol bytes parsed by the engine");

    /// <summary>Rejected lines and values, by kind: parse, type_conflict, series_limit, busy.</summary>
    public static readonly Counter<long> WriteErrors = Meter.CreateCounter<long>("write_errors", "{error}", "Lines or values refused, by kind");

    public static readonly Counter<long> WalBytes = Meter.CreateCounter<long>("wal_write_bytes", "By", "Bytes appended to write-ahead logs");

    public static readonly Histogram<double> WalFsyncSeconds = Meter.CreateHistogram<double>("wal_fsync_duration", "s", "Time taken by one write-ahead log fsync");

    public static readonly Histogram<double> SnapshotSeconds = Meter.CreateHistogram<double>("snapshot_duration", "s", "Time taken to write one cache snapshot to a TSM file");

    public static readonly Counter<long> SnapshotBytes = Meter.CreateCounter<long>("snapshot_bytes", "By", "Bytes of TSM files written by snapshots");

    /// <summary>Compactions finished, by level reached ("full" for a cold shard's whole compaction).</summary>
    public static readonly Counter<long> Compactions = Meter.CreateCounter<long>("compactions", "{compaction}", "Compactions finished, by level reached");

    public static readonly Counter<long> CompactionBytes = Meter.CreateCounter<long>("compaction_bytes", "By", "Bytes of TSM files written by compactions");

    public static readonly Counter<long> CompactionErrors = Meter.CreateCounter<long>("compaction_errors", "{error}", "Compactions that failed (retried later)");

    public static readonly Histogram<double> CompactionSeconds = Meter.CreateHistogram<double>("compaction_duration", "s", "Time taken by one compaction");

    public static readonly Counter<long> RetentionDroppedShards = Meter.CreateCounter<long>("retention_dropped_shards", "{shard}", "Shards dropped for being older than their bucket's retention");

    /// <summary>Records the seconds since <paramref name="startTimestamp"/> (a <see cref="Stopwatch.GetTimestamp"/>).</summary>
    public static void RecordSince(Histogram<double> histogram, long startTimestamp) =>
        histogram.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);
}
