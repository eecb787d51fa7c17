using System.Text.Json;
using System.Text.Json.Serialization;
using InfluxLike.Storage.IO;

namespace InfluxLike.Server.Tasks;

/// <summary>A task: its script, status, schedule position and the token whose permissions it runs with.</summary>
public sealed record TaskInfo
{
    public required string Id { get; init; }

    public required string OrgId { get; init; }

    public required string Name { get; init; }

    public required string Flux { get; init; }

    /// <summary>active or inactive.</summary>
    public string Status { get; init; } = "active";

    public string? Description { get; init; }

    /// <summary>The authorization the task runs as (the token that created it).</summary>
    public required string AuthorizationId { get; init; }

    /// <summary>The stop of the last window done (successfully, or given up after every retry).</summary>
    public DateTimeOffset LatestCompleted { get; init; }

    /// <summary>Failed attempts at the next window, and when the next attempt is due.</summary>
    public int FailedAttempts { get; init; }

    public DateTimeOffset? RetryAt { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>One run of a task over one window.</summary>
public sealed record RunInfo
{
    public required string Id { get; init; }

    public required string TaskId { get; init; }

    /// <summary>started, success, failed or canceled (a run a restart interrupted; its window runs again).</summary>
    public required string Status { get; init; }

    public DateTimeOffset WindowStart { get; init; }

    public DateTimeOffset WindowStop { get; init; }

    /// <summary>scheduled, catch-up, retry or manual.</summary>
    public string Trigger { get; init; } = "scheduled";

    public int Attempt { get; init; } = 1;

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public string? Error { get; init; }

    public string[] Log { get; init; } = [];
}

/// <summary>
/// Tasks and their recent runs (the last 100 per task) in <c>tasks.json</c> in the data folder, replaced
/// atomically and durably on every change: a run is recorded as started before it runs and finished after,
/// so a restart knows which window to run again.
/// </summary>
public sealed class TaskStore
{
    public const string FileName = "tasks.json";
    private const int RunsKept = 100;

    private readonly string _path;
    private readonly object _lock = new();
    private TaskData _data;

    private TaskStore(string path, TaskData data)
    {
        _path = path;
        _data = data;
    }

    public static TaskStore Open(string dataDir)
    {
        string path = Path.Combine(dataDir, FileName);
        TaskData data = File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), TaskJson.Default.TaskData) ?? new TaskData() : new TaskData();

        // Runs still "started" were cut short by a stop or crash: their windows were not marked done and run again.
        var runs = data.Runs.Select(r => r.Status == "started" ? r with { Status = "canceled", Error = "interrupted by a restart; the window runs again", FinishedAt = r.StartedAt } : r).ToArray();
        var store = new TaskStore(path, data with { Runs = runs });
        if (runs.Any(r => r.Error?.StartsWith("interrupted", StringComparison.Ordinal) == true))
        {
            store.Save(store._data);
        }

        return store;
    }

    public IReadOnlyList<TaskInfo> Tasks
    {
        get
        {
            lock (_lock)
            {
                return _data.Tasks;
            }
        }
    }

    public TaskInfo? Get(string id) => Tasks.FirstOrDefault(t => t.Id == id);

    public IReadOnlyList<RunInfo> Runs(string taskId)
    {
        lock (_lock)
        {
            return [.. _data.Runs.Where(r => r.TaskId == taskId).OrderByDescending(r => r.StartedAt)];
        }
    }

    public void Put(TaskInfo task)
    {
        lock (_lock)
        {
            Save(_data with { Tasks = [.. _data.Tasks.Where(t => t.Id != task.Id), task] });
        }
    }

    public bool Delete(string id)
    {
        lock (_lock)
        {
            if (!_data.Tasks.Any(t => t.Id == id))
            {
                return false;
            }

            Save(_data with { Tasks = [.. _data.Tasks.Where(t => t.Id != id)], Runs = [.. _data.Runs.Where(r => r.TaskId != id)] });
            return true;
        }
    }

    /// <summary>Records a run (new or updated) and, when given, the task's new state, in one durable write.</summary>
    public void Record(RunInfo run, TaskInfo? task = null)
    {
        lock (_lock)
        {
            var runs = _data.Runs.Where(r => r.Id != run.Id).Append(run).ToList();
            var mine = runs.Where(r => r.TaskId == run.TaskId).OrderByDescending(r => r.StartedAt).Skip(RunsKept).Select(r => r.Id).ToHashSet();
            var tasks = task is null || !_data.Tasks.Any(t => t.Id == task.Id) ? _data.Tasks : [.. _data.Tasks.Select(t => t.Id == task.Id ? task : t)];
            Save(_data with { Tasks = tasks, Runs = [.. runs.Where(r => !mine.Contains(r.Id))] });
        }
    }

    private void Save(TaskData data)
    {
        FileSystem.WriteAllBytesDurably(_path, JsonSerializer.SerializeToUtf8Bytes(data, TaskJson.Default.TaskData));
        _data = data;
    }
}

internal sealed record TaskData
{
    public int Version { get; init; } = 1;

    public TaskInfo[] Tasks { get; init; } = [];

    public RunInfo[] Runs { get; init; } = [];
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(TaskData))]
internal sealed partial class TaskJson : JsonSerializerContext
{
}
