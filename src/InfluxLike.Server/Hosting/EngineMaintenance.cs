using InfluxLike.Storage.Engine;
using Microsoft.Extensions.Hosting;

namespace InfluxLike.Server.Hosting;

/// <summary>
/// Background upkeep of the storage engine: writes the cache of every shard that has been quiet for
/// cache-snapshot-write-cold-duration to a TSM file, so a quiet shard's WAL does not wait for the size threshold.
/// </summary>
internal sealed class EngineMaintenance(StorageEngine engine, LiveOptions options, Serilog.ILogger logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan cold = options.Current.CacheSnapshotWriteColdDuration;
            TimeSpan period = cold <= TimeSpan.Zero ? TimeSpan.FromMinutes(1) : TimeSpan.FromTicks(Math.Clamp(cold.Ticks / 4, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
            try
            {
                await Task.Delay(period, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
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
}
