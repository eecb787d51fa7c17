using Microsoft.Extensions.Hosting;

namespace InfluxLike.Server.Tasks;

/// <summary>Ticks the task scheduler once a second with the wall clock (off with --tasks-enabled false).</summary>
internal sealed class TaskService(TaskRunner scheduler, LiveOptions options, TimeProvider clock, Serilog.ILogger logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), clock);
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false))
        {
            if (!options.Current.TasksEnabled)
            {
                continue;
            }

            try
            {
                await scheduler.RunDueAsync(clock.GetUtcNow(), stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (IOException e)
            {
                logger.Error(e, "Recording task runs failed; retrying");
            }
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stop)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
