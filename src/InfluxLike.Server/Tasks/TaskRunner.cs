using System.Diagnostics;
using InfluxLike.Query;
using InfluxLike.Query.Runtime;
using InfluxLike.Query.Storage;
using InfluxLike.Server.Security;
using InfluxLike.Storage.Engine;
using Prometheus;

namespace InfluxLike.Server.Tasks;

/// <summary>
/// Runs tasks at their window boundaries. <see cref="RunDueAsync"/> takes the time as an argument (the
/// hosted loop passes the clock; tests pass any time, so nothing sleeps): every active task whose next window
/// stop plus offset has passed runs that window, and the next, in order, up to <see cref="MaxCatchUp"/>
/// windows behind (older ones are skipped and the skip recorded). A window is marked done only after its run
/// succeeded, and a run is recorded as started before it runs: a crash mid-run leaves the window to run
/// again, and since a window's points have fixed times and series, running it again rewrites the same points
/// (no duplicates). Runs of one task never overlap; a failed window is retried with back-off (10 s, doubling,
/// up to 5 attempts), then given up and recorded as failed.
/// </summary>
public sealed class TaskRunner(TaskStore store, StorageEngine engine, AuthStore auth, Serilog.ILogger logger, ScriptCache scripts)
{
    public const int MaxAttempts = 5;

    private static readonly Counter Runs = Prometheus.Metrics.CreateCounter("influxlike_task_runs_total", "Task runs by status.", new CounterConfiguration { LabelNames = ["status"] });
    private static readonly Histogram RunDuration = Prometheus.Metrics.CreateHistogram("influxlike_task_run_duration_seconds", "Time taken by one task run.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 16) });
    private static readonly Gauge Lag = Prometheus.Metrics.CreateGauge("influxlike_task_lag_seconds", "How far the most behind active task is from its schedule.");

    private readonly SemaphoreSlim _tick = new(1, 1);
    private readonly Dictionary<string, SemaphoreSlim> _running = [];

    /// <summary>Most missed windows a task catches up on after downtime.</summary>
    public int MaxCatchUp { get; init; } = 1000;

    /// <summary>Runs every window that is due at <paramref name="now"/>; returns the runs made.</summary>
    public async Task<IReadOnlyList<RunInfo>> RunDueAsync(DateTimeOffset now, CancellationToken cancel = default)
    {
        var done = new List<RunInfo>();
        if (!await _tick.WaitAsync(0, cancel).ConfigureAwait(false))
        {
            return done; // the previous tick is still running: runs never overlap
        }

        try
        {
            double lag = 0;
            foreach (TaskInfo listed in store.Tasks.Where(t => t.Status == "active"))
            {
                TaskInfo task = listed;
                TaskDefinition def;
                try
                {
                    def = TaskDefinition.Parse(task.Flux);
                }
                catch (ArgumentException)
                {
                    continue; // refused at creation; a task edited into a bad state waits for a fix
                }

                int windows = 0;
                while (!cancel.IsCancellationRequested)
                {
                    task = store.Get(task.Id) ?? task;
                    if (task.Status != "active")
                    {
                        break;
                    }

                    DateTimeOffset stop = def.NextStop(task.LatestCompleted);
                    if (stop + def.Offset > now || (task.RetryAt is { } retry && retry > now))
                    {
                        break;
                    }

                    lag = Math.Max(lag, (now - (stop + def.Offset)).TotalSeconds);
                    if (windows == 0 && task.FailedAttempts == 0)
                    {
                        // Far behind: skip to the last MaxCatchUp windows, and say so.
                        DateTimeOffset latest = def.LastStopAtOrBefore(now - def.Offset);
                        DateTimeOffset earliest = latest;
                        for (int i = 1; i < MaxCatchUp && def.StartOf(earliest) > task.LatestCompleted; i++)
                        {
                            earliest = def.StartOf(earliest);
                        }

                        if (def.StartOf(earliest) > task.LatestCompleted)
                        {
                            var skipped = new RunInfo
                            {
                                Id = NewId(), TaskId = task.Id, Status = "canceled", Trigger = "catch-up", WindowStart = task.LatestCompleted, WindowStop = def.StartOf(earliest),
                                StartedAt = now, FinishedAt = now, Error = $"more than {MaxCatchUp} windows behind: windows before {def.StartOf(earliest):O} skipped",
                            };
                            task = task with { LatestCompleted = def.StartOf(earliest) };
                            store.Record(skipped, task);
                            stop = def.NextStop(task.LatestCompleted);
                        }
                    }

                    string trigger = task.FailedAttempts > 0 ? "retry" : stop + def.Offset + TimeSpan.FromSeconds(1) < now && windows > 0 ? "catch-up" : "scheduled";
                    RunInfo run = await RunWindowAsync(task, def, def.StartOf(stop), stop, trigger, now, cancel).ConfigureAwait(false);
                    done.Add(run);
                    windows++;
                    if (run.Status != "success" && store.Get(task.Id) is { FailedAttempts: > 0 })
                    {
                        break; // retried later, with back-off
                    }
                }
            }

            Lag.Set(lag);
        }
        finally
        {
            _tick.Release();
        }

        return done;
    }

    /// <summary>Runs a task now, over the window that ends at the last boundary before <paramref name="now"/> (the API's "run now").</summary>
    public async Task<RunInfo> RunNowAsync(TaskInfo task, DateTimeOffset now, CancellationToken cancel = default)
    {
        TaskDefinition def = TaskDefinition.Parse(task.Flux);
        DateTimeOffset stop = def.LastStopAtOrBefore(now);
        return await RunWindowAsync(task, def, def.StartOf(stop), stop, "manual", now, cancel).ConfigureAwait(false);
    }

    private async Task<RunInfo> RunWindowAsync(TaskInfo task, TaskDefinition def, DateTimeOffset start, DateTimeOffset stop, string trigger, DateTimeOffset now, CancellationToken cancel)
    {
        SemaphoreSlim gate;
        lock (_running)
        {
            if (!_running.TryGetValue(task.Id, out gate!))
            {
                _running[task.Id] = gate = new SemaphoreSlim(1, 1);
            }
        }

        await gate.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            var run = new RunInfo
            {
                Id = NewId(), TaskId = task.Id, Status = "started", WindowStart = start, WindowStop = stop, Trigger = trigger,
                Attempt = task.FailedAttempts + 1, StartedAt = now,
            };
            store.Record(run);
            var log = new List<string>();
            long clock = Stopwatch.GetTimestamp();
            string? error = null;
            try
            {
                await Task.Run(() => Execute(task, start, stop, log, cancel), cancel).ConfigureAwait(false);
            }
            catch (Exception e) when (e is QueryException or InvalidOperationException or IOException or StorageFullException or BucketNotFoundException)
            {
                error = e.Message;
            }

            TimeSpan took = Stopwatch.GetElapsedTime(clock);
            RunDuration.Observe(took.TotalSeconds);
            bool manual = trigger == "manual";
            TaskInfo current = store.Get(task.Id) ?? task;
            TaskInfo? updated = manual ? null
                : error is null ? current with { LatestCompleted = stop, FailedAttempts = 0, RetryAt = null }
                : current.FailedAttempts + 1 >= MaxAttempts ? current with { LatestCompleted = stop, FailedAttempts = 0, RetryAt = null }
                : current with { FailedAttempts = current.FailedAttempts + 1, RetryAt = now + TimeSpan.FromSeconds(10 * Math.Pow(2, current.FailedAttempts)) };
            log.Add(error is null ? $"done in {took.TotalMilliseconds:0.0} ms" : $"failed: {error}");
            if (error is not null && !manual)
            {
                log.Add(updated!.FailedAttempts == 0 ? $"given up after {MaxAttempts} attempts" : $"retried at {updated.RetryAt:O}");
            }

            run = run with { Status = error is null ? "success" : "failed", Error = error, FinishedAt = now + took, Log = [.. log] };
            store.Record(run, updated);
            Runs.WithLabels(run.Status).Inc();
            if (error is not null)
            {
                logger.Warning("Task {Task} ({TaskId}) failed on window {Start:O} to {Stop:O}: {Error}", task.Name, task.Id, start, stop, error);
            }

            return run;
        }
        finally
        {
            gate.Release();
        }
    }

    // Runs the script as the task's token, with now = the window's stop and v.timeRange = the window.
    private void Execute(TaskInfo task, DateTimeOffset start, DateTimeOffset stop, List<string> log, CancellationToken cancel)
    {
        AuthorizationInfo who = (task.AuthorizationId == Authenticator.Unauthenticated.Id ? Authenticator.Unauthenticated : null)
            ?? auth.Authorizations.FirstOrDefault(a => a.Id == task.AuthorizationId && a.IsActive)
            ?? throw new InvalidOperationException("the task's token was deleted or deactivated; give the task a new one");
        long startNs = (start - DateTimeOffset.UnixEpoch).Ticks * 100;
        long stopNs = (stop - DateTimeOffset.UnixEpoch).Ticks * 100;
        var context = new QueryContext
        {
            Now = stopNs,
            TimeRange = (startNs, stopNs),
            OrgId = task.OrgId,
            CancellationToken = cancel,
            Storage = new EngineStorage(engine, b => who.Allows(Permission.Read, "buckets", b.OrgId, b.Id), b => who.Allows(Permission.Write, "buckets", b.OrgId, b.Id)),
            Scripts = scripts,
        };
        var query = QueryEngine.Prepare(task.Flux, context);
        long rows = 0, tables = 0;
        foreach (var (_, table) in query.Execute())
        {
            tables++;
            rows += table.Rows;
        }

        log.Add($"window {start:O} to {stop:O}: {tables} tables, {rows} rows");
    }

    public static string NewId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
}
