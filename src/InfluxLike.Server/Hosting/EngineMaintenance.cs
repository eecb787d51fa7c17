using InfluxLike.Storage.Engine;
using InfluxLike.Storage.Shards;
using Microsoft.Extensions.Hosting;

namespace InfluxLike.Server.Hosting;

/// <summary>
/// Background upkeep of the storage engine, three loops:
/// <list type="bullet">
/// <item>caches of shards quiet for cache-snapshot-write-cold-duration are written to disk, so a quiet
/// shard's WAL does not wait for the size threshold;</item>
/// <item>compactions the planner finds due run every second (level merges, whole compaction of shards
/// quiet for compact-full-write-cold-duration, purges of deletes), paced by compact-throughput;</item>
/// <item>shards past their bucket's retention or size limit are dropped every retention-check-interval
/// (and once at start-up).</item>
/// </list>
/// Settings are read at each turn, so a reloaded config file takes effect without a restart.
/// </summary>
internal sealed class EngineMaintenance(StorageEngine engine, LiveOptions options, Serilog.ILogger logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(SnapshotsAsync(stoppingToken), CompactionsAsync(stoppingToken), RetentionAsync(stoppingToken));

    private async Task SnapshotsAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            TimeSpan cold = options.Current.CacheSnapshotWriteColdDuration;
            TimeSpan period = cold <= TimeSpan.Zero ? TimeSpan.FromMinutes(1) : TimeSpan.FromTicks(Math.Clamp(cold.Ticks / 4, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
            if (!await DelayAsync(period, stop).ConfigureAwait(false))
            {
                return;
            }

            if (cold <= TimeSpan.Zero)
            {
                continue;
            }

            try
            {
                int n = await engine.SnapshotIdleShardsAsync(cold).ConfigureAwait(false);
                if (n > 0)
                {
                    logger.Debug("Wrote the caches of {Shards} idle shards to disk", n);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.Error(e, "Writing idle shard caches to disk failed; retrying in {Period}", period);
            }
        }
    }

    private async Task CompactionsAsync(CancellationToken stop)
    {
        string? lastError = null;
        while (await DelayAsync(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false))
        {
            ServerOptions o = options.Current;
            engine.CompactionBudget.BytesPerSecond = o.CompactThroughput;
            engine.MinFreeDiskBytes = o.StorageMinFreeDisk;
            try
            {
                TimeSpan? cold = o.CompactFullWriteColdDuration > TimeSpan.Zero ? o.CompactFullWriteColdDuration : null;
                foreach (CompactionResult r in await engine.CompactAsync(fullColdAfter: cold, cancel: stop).ConfigureAwait(false))
                {
                    logger.Debug("Compacted {Files} files ({InputBytes} bytes) into {OutputBytes} bytes at level {Level} ({Reason}) in {Seconds:0.000} s",
                        r.InputFiles, r.InputBytes, r.OutputBytes, r.Plan.Level, r.Plan.Reason, r.Duration.TotalSeconds);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }

            if (engine.LastCompactionError is { } error && error != lastError)
            {
                logger.Error("Compaction failed: {Error}; its files are left as they were and it is retried", error);
                lastError = error;
            }
        }
    }

    private async Task RetentionAsync(CancellationToken stop)
    {
        TimeSpan wait = TimeSpan.FromSeconds(1); // once soon after start-up, then every interval
        while (await DelayAsync(wait, stop).ConfigureAwait(false))
        {
            TimeSpan interval = options.Current.RetentionCheckInterval;
            wait = interval > TimeSpan.Zero ? interval : TimeSpan.FromMinutes(30);
            try
            {
                int dropped = await engine.EnforceRetentionAsync().ConfigureAwait(false);
                if (dropped > 0)
                {
                    logger.Information("Dropped {Shards} shards past their bucket's retention or size limit", dropped);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.Error(e, "Dropping shards past retention failed; retrying in {Period}", wait);
            }
        }
    }

    private static async Task<bool> DelayAsync(TimeSpan period, CancellationToken stop)
    {
        try
        {
            await Task.Delay(period, stop).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
