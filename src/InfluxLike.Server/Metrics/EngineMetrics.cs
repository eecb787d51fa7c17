using System.Collections.Concurrent;
using InfluxLike.Storage.Engine;
using Prometheus;

namespace InfluxLike.Server.Metrics;

/// <summary>
/// Engine and API metrics on /metrics. Events (values written, WAL bytes, fsync and snapshot durations,
/// write errors) come from the storage engine's System.Diagnostics.Metrics instruments through prometheus-net's
/// meter adapter; states (cache bytes, series, shards, TSM files per bucket) are read at each scrape; query
/// and write request outcomes are counted here.
/// </summary>
internal static class EngineMetrics
{
    public static readonly Counter QueryRequests = Prometheus.Metrics.CreateCounter(
        "influxlike_query_requests_total", "Queries by outcome: ok, error (bad script or failure), timeout, rejected (too many at once), canceled (the client went away).",
        new CounterConfiguration { LabelNames = ["result"] });

    public static readonly Histogram QueryDuration = Prometheus.Metrics.CreateHistogram(
        "influxlike_query_duration_seconds", "Time from a query's start to its last byte.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 16) });

    public static readonly Counter WriteRequests = Prometheus.Metrics.CreateCounter(
        "influxlike_write_requests_total", "Write requests (v1 and v2) by HTTP status.",
        new CounterConfiguration { LabelNames = ["status"] });

    private static readonly Gauge CacheBytes = Prometheus.Metrics.CreateGauge("influxlike_storage_cache_bytes", "Bytes held in shard caches, by bucket.", "bucket");
    private static readonly Gauge Series = Prometheus.Metrics.CreateGauge("influxlike_storage_series", "Series in the bucket's index (cardinality).", "bucket");
    private static readonly Gauge Shards = Prometheus.Metrics.CreateGauge("influxlike_storage_shards", "Open shards, by bucket.", "bucket");
    private static readonly Gauge TsmFiles = Prometheus.Metrics.CreateGauge("influxlike_storage_tsm_files", "TSM files, by bucket.", "bucket");
    private static readonly Gauge FilesPerLevel = Prometheus.Metrics.CreateGauge("influxlike_storage_tsm_files_per_level", "TSM files by bucket and compaction level (1: snapshots, 4: fully compacted).", "bucket", "level");
    private static readonly Gauge CompactionQueue = Prometheus.Metrics.CreateGauge("influxlike_storage_compaction_queue", "Shards with a compaction due and not running.");
    private static readonly Gauge CompactionsActive = Prometheus.Metrics.CreateGauge("influxlike_storage_compactions_active", "Compactions running.");
    private static readonly Gauge FreeDisk = Prometheus.Metrics.CreateGauge("influxlike_storage_free_disk_bytes", "Free bytes on the data folder's disk.");

    private static readonly ConcurrentDictionary<StorageEngine, byte> Engines = new();
    private static int _registered;

    /// <summary>Publishes the engine's state at each scrape until <see cref="Unregister"/>.</summary>
    public static void Register(StorageEngine engine)
    {
        Engines[engine] = 0;
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            QueryRequests.WithLabels("ok");
            WriteRequests.WithLabels("204");
            Prometheus.Metrics.DefaultRegistry.AddBeforeCollectCallback(Collect);
        }
    }

    public static void Unregister(StorageEngine engine) => Engines.TryRemove(engine, out _);

    private static void Collect()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var levels = new HashSet<(string, string)>();
        int queue = 0, active = 0;
        foreach (StorageEngine engine in Engines.Keys)
        {
            FreeDisk.Set(engine.FreeDiskBytes());
            foreach (var (bucket, shards) in engine.StorageStatus())
            {
                queue += shards.Count(s => s.CompactionDue && s.Compacting is null);
                active += shards.Count(s => s.Compacting is not null);
                foreach (var level in shards.SelectMany(s => s.FilesPerLevel).GroupBy(l => l.Key))
                {
                    string l = level.Key.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    levels.Add((bucket.Name, l));
                    FilesPerLevel.WithLabels(bucket.Name, l).Set(level.Sum(x => x.Value));
                }
            }

            foreach (BucketStatistics b in engine.Statistics())
            {
                seen.Add(b.BucketName);
                CacheBytes.WithLabels(b.BucketName).Set(b.CacheBytes);
                Series.WithLabels(b.BucketName).Set(b.Series);
                Shards.WithLabels(b.BucketName).Set(b.Shards);
                TsmFiles.WithLabels(b.BucketName).Set(b.TsmFiles);
            }
        }

        CompactionQueue.Set(queue);
        CompactionsActive.Set(active);
        foreach (string[] labels in FilesPerLevel.GetAllLabelValues().ToList())
        {
            if (!levels.Contains((labels[0], labels[1])))
            {
                FilesPerLevel.RemoveLabelled(labels);
            }
        }

        // A deleted bucket's series disappear from the exposition.
        foreach (Gauge g in new[] { CacheBytes, Series, Shards, TsmFiles })
        {
            foreach (string[] labels in g.GetAllLabelValues().ToList())
            {
                if (!seen.Contains(labels[0]))
                {
                    g.RemoveLabelled(labels);
                }
            }
        }
    }
}
