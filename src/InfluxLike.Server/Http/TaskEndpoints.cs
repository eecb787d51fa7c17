using System.Text;
using InfluxLike.Query.Values;
using InfluxLike.Server.Configuration;
using InfluxLike.Server.Security;
using InfluxLike.Server.Tasks;
using InfluxLike.Storage.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace InfluxLike.Server.Http;

/// <summary>
/// <c>/api/v2/tasks</c> (list, create, get, patch status/script/description, delete), its runs (history, run
/// now, a run's log) in InfluxDB 2.x's shapes, and <c>POST /api/v2/rollups</c>, which turns "keep cpu in raw for
/// 7 d, 1-minute mean/min/max in cpu_1m for 90 d, 1-hour in cpu_1h forever" into the buckets and tasks.
/// A task runs with the permissions of the token that created it.
/// </summary>
internal static class TaskEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v2/tasks", List).WithName("GetTasks").WithTags("Tasks").WithSummary("Lists tasks (orgID, name filters).");
        app.MapPost("/api/v2/tasks", CreateAsync).WithName("PostTasks").WithTags("Tasks").WithSummary("Creates a task from a script with option task = {name, every | cron, offset}.");
        app.MapGet("/api/v2/tasks/{id}", Get).WithName("GetTask").WithTags("Tasks").WithSummary("One task.");
        app.MapPatch("/api/v2/tasks/{id}", UpdateAsync).WithName("PatchTask").WithTags("Tasks").WithSummary("Enables or disables a task, or changes its script or description.");
        app.MapDelete("/api/v2/tasks/{id}", Delete).WithName("DeleteTask").WithTags("Tasks").WithSummary("Deletes a task and its run history.");
        app.MapGet("/api/v2/tasks/{id}/runs", ListRuns).WithName("GetTaskRuns").WithTags("Tasks").WithSummary("The task's recent runs: status, window, timings, error, log.");
        app.MapPost("/api/v2/tasks/{id}/runs", RunNowAsync).WithName("PostTaskRun").WithTags("Tasks").WithSummary("Runs the task now over its latest window.");
        app.MapGet("/api/v2/tasks/{id}/runs/{runId}/logs", RunLogs).WithName("GetTaskRunLogs").WithTags("Tasks").WithSummary("One run's log lines.");
        app.MapPost("/api/v2/rollups", RollupAsync).WithName("PostRollups").WithTags("Tasks").WithSummary("Creates the buckets and downsampling tasks of a rollup chain.");
    }

    private static TaskDto ToDto(TaskInfo t, TaskStore store)
    {
        TaskDefinition? def = null;
        try
        {
            def = TaskDefinition.Parse(t.Flux);
        }
        catch (ArgumentException)
        {
        }

        RunInfo? last = store.Runs(t.Id).FirstOrDefault(r => r.Status != "started");
        return new TaskDto(t.Id, t.OrgId, t.Name, t.Status, t.Flux, def?.Every is { } e ? Duration(e) : null, def?.Cron, Duration(def?.Offset ?? TimeSpan.Zero),
            t.Description, t.LatestCompleted, last?.Status, last?.Error, t.CreatedAt, t.UpdatedAt, new Links("/api/v2/tasks/" + t.Id));
    }

    private static string Duration(TimeSpan d) => Formats.Duration(FluxDuration.FromNanoseconds(d.Ticks * 100));

    private static RunDto ToDto(RunInfo r) => new(r.Id, r.TaskId, r.Status, r.WindowStop, r.WindowStart, r.WindowStop, r.Trigger, r.Attempt, r.StartedAt, r.FinishedAt, r.Error,
        [.. r.Log.Select(m => new RunLogDto(r.Id, r.FinishedAt ?? r.StartedAt, m))]);

    private static IResult List(HttpContext ctx, TaskStore store, Authenticator authenticator, string? orgID, string? name)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out IResult? failure))
        {
            return failure!;
        }

        var tasks = store.Tasks.Where(t => auth.Allows(Permission.Read, "tasks", t.OrgId) && (orgID is null || t.OrgId == orgID) && (name is null || t.Name == name))
            .OrderBy(t => t.CreatedAt).Select(t => ToDto(t, store));
        return Api.Json(new TasksDto([.. tasks]), ServerJsonContext.Default.TasksDto);
    }

    private static async Task<IResult> CreateAsync(HttpContext ctx, TaskStore store, StorageEngine engine, Authenticator authenticator, TimeProvider clock)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out IResult? failure))
        {
            return failure!;
        }

        var (request, error) = await Api.ReadJsonAsync(ctx.Request, ServerJsonContext.Default.PostTaskRequest).ConfigureAwait(false);
        if (request is null)
        {
            return error!;
        }

        OrgInfo? org = Api.FindOrg(engine.Catalog, request.Org, request.OrgId);
        if (org is null)
        {
            return request.OrgId is null && request.Org is null ? Api.Error(400, "invalid", "orgID or org is required") : Api.NotFound("organization");
        }

        if (!auth.Allows(Permission.Write, "tasks", org.Id))
        {
            return Api.Forbidden("create tasks in this organization");
        }

        return Create(store, auth, org.Id, request.Flux, request.Status, request.Description, clock.GetUtcNow(), out TaskInfo? task) is { } refused
            ? refused
            : Api.Json(ToDto(task!, store), ServerJsonContext.Default.TaskDto, statusCode: 201);
    }

    private static IResult? Create(TaskStore store, AuthorizationInfo auth, string orgId, string? flux, string? status, string? description, DateTimeOffset now, out TaskInfo? task)
    {
        task = null;
        if (string.IsNullOrWhiteSpace(flux))
        {
            return Api.Error(400, "invalid", "flux is required: the task's script");
        }

        if (status is not (null or "active" or "inactive"))
        {
            return Api.Error(400, "invalid", "status must be \"active\" or \"inactive\"");
        }

        TaskDefinition def;
        try
        {
            def = TaskDefinition.Parse(flux);
        }
        catch (ArgumentException e)
        {
            return Api.Error(400, "invalid", "invalid task script: " + e.Message);
        }

        task = new TaskInfo
        {
            Id = TaskRunner.NewId(), OrgId = orgId, Name = def.Name, Flux = flux, Status = status ?? "active", Description = description,
            AuthorizationId = auth.Id, LatestCompleted = def.LastStopAtOrBefore(now), CreatedAt = now, UpdatedAt = now,
        };
        store.Put(task);
        return null;
    }

    private static IResult? Find(HttpContext ctx, TaskStore store, Authenticator authenticator, string id, string action, out TaskInfo task)
    {
        task = null!;
        if (!Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out IResult? failure))
        {
            return failure!;
        }

        TaskInfo? found = store.Get(id);
        if (found is null || !auth.Allows(Permission.Read, "tasks", found.OrgId))
        {
            return Api.NotFound($"task {id}");
        }

        task = found;
        return action == Permission.Write && !auth.Allows(Permission.Write, "tasks", found.OrgId) ? Api.Forbidden("change this task") : null;
    }

    private static IResult Get(HttpContext ctx, TaskStore store, Authenticator authenticator, string id) =>
        Find(ctx, store, authenticator, id, Permission.Read, out TaskInfo task) ?? Api.Json(ToDto(task, store), ServerJsonContext.Default.TaskDto);

    private static async Task<IResult> UpdateAsync(HttpContext ctx, TaskStore store, Authenticator authenticator, TimeProvider clock, string id)
    {
        if (Find(ctx, store, authenticator, id, Permission.Write, out TaskInfo task) is { } stop)
        {
            return stop;
        }

        var (request, error) = await Api.ReadJsonAsync(ctx.Request, ServerJsonContext.Default.PatchTaskRequest).ConfigureAwait(false);
        if (request is null)
        {
            return error!;
        }

        if (request.Status is not (null or "active" or "inactive"))
        {
            return Api.Error(400, "invalid", "status must be \"active\" or \"inactive\"");
        }

        string name = task.Name;
        if (request.Flux is not null)
        {
            try
            {
                name = TaskDefinition.Parse(request.Flux).Name;
            }
            catch (ArgumentException e)
            {
                return Api.Error(400, "invalid", "invalid task script: " + e.Message);
            }
        }

        var updated = task with
        {
            Flux = request.Flux ?? task.Flux, Name = name, Status = request.Status ?? task.Status, Description = request.Description ?? task.Description, UpdatedAt = clock.GetUtcNow(),
        };
        store.Put(updated);
        return Api.Json(ToDto(updated, store), ServerJsonContext.Default.TaskDto);
    }

    private static IResult Delete(HttpContext ctx, TaskStore store, Authenticator authenticator, string id)
    {
        if (Find(ctx, store, authenticator, id, Permission.Write, out TaskInfo task) is { } stop)
        {
            return stop;
        }

        store.Delete(task.Id);
        return Results.NoContent();
    }

    private static IResult ListRuns(HttpContext ctx, TaskStore store, Authenticator authenticator, string id) =>
        Find(ctx, store, authenticator, id, Permission.Read, out TaskInfo task)
            ?? Api.Json(new RunsDto([.. store.Runs(task.Id).Select(ToDto)]), ServerJsonContext.Default.RunsDto);

    private static async Task<IResult> RunNowAsync(HttpContext ctx, TaskStore store, TaskRunner scheduler, Authenticator authenticator, TimeProvider clock, string id)
    {
        if (Find(ctx, store, authenticator, id, Permission.Write, out TaskInfo task) is { } stop)
        {
            return stop;
        }

        RunInfo run = await scheduler.RunNowAsync(task, clock.GetUtcNow(), ctx.RequestAborted).ConfigureAwait(false);
        return Api.Json(ToDto(run), ServerJsonContext.Default.RunDto, statusCode: 201);
    }

    private static IResult RunLogs(HttpContext ctx, TaskStore store, Authenticator authenticator, string id, string runId)
    {
        if (Find(ctx, store, authenticator, id, Permission.Read, out TaskInfo task) is { } stop)
        {
            return stop;
        }

        RunInfo? run = store.Runs(task.Id).FirstOrDefault(r => r.Id == runId);
        return run is null ? Api.NotFound($"run {runId}") : Api.Json(new RunsDto([ToDto(run)]), ServerJsonContext.Default.RunsDto);
    }

    private static async Task<IResult> RollupAsync(HttpContext ctx, TaskStore store, StorageEngine engine, Authenticator authenticator, TimeProvider clock)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out IResult? failure))
        {
            return failure!;
        }

        var (request, error) = await Api.ReadJsonAsync(ctx.Request, ServerJsonContext.Default.RollupRequest).ConfigureAwait(false);
        if (request is null)
        {
            return error!;
        }

        if (request.OrgId is null || engine.Catalog.GetOrg(request.OrgId) is null)
        {
            return request.OrgId is null ? Api.Error(400, "invalid", "orgID is required") : Api.NotFound($"organization {request.OrgId}");
        }

        if (!auth.Allows(Permission.Write, "tasks", request.OrgId) || !auth.Allows(Permission.Write, "buckets", request.OrgId))
        {
            return Api.Forbidden("create rollups (write permission on the organization's tasks and buckets is needed)");
        }

        if (string.IsNullOrEmpty(request.Bucket) || string.IsNullOrEmpty(request.Measurement) || request.Levels is not { Length: > 0 })
        {
            return Api.Error(400, "invalid", "bucket, measurement and at least one level are required");
        }

        BucketInfo? source = engine.Catalog.FindBucket(request.OrgId, request.Bucket);
        if (source is null)
        {
            return Api.NotFound($"bucket \"{request.Bucket}\"");
        }

        try
        {
            var buckets = new List<BucketInfo>();
            if (request.Retention is not null)
            {
                source = engine.Catalog.UpdateBucket(source.Id, retention: Settings.Duration(request.Retention))!;
            }

            buckets.Add(source);
            var tasks = new List<TaskInfo>();
            string from = source.Name;
            for (int level = 0; level < request.Levels.Length; level++)
            {
                RollupLevelRequest l = request.Levels[level];
                if (string.IsNullOrEmpty(l.Bucket) || string.IsNullOrEmpty(l.Every))
                {
                    return Api.Error(400, "invalid", $"level {level + 1}: bucket and every are required");
                }

                string[] functions = l.Functions is { Length: > 0 } f ? f : ["mean"];
                if (functions.FirstOrDefault(fn => fn is not ("mean" or "min" or "max" or "sum" or "count" or "first" or "last" or "median")) is { } bad)
                {
                    return Api.Error(400, "invalid", $"level {level + 1}: function \"{bad}\" is not one of mean, min, max, sum, count, first, last, median");
                }

                TimeSpan retention = l.Retention is null ? TimeSpan.Zero : Settings.Duration(l.Retention);
                BucketInfo target = engine.Catalog.FindBucket(request.OrgId, l.Bucket) is { } existing
                    ? engine.Catalog.UpdateBucket(existing.Id, retention: retention)!
                    : engine.Catalog.CreateBucket(request.OrgId, l.Bucket, retention);
                buckets.Add(target);
                string flux = RollupScript(request.Measurement, from, target.Name, l.Every, functions, firstLevel: level == 0, offsetSeconds: 30 * (level + 1));
                if (Create(store, auth, request.OrgId, flux, "active", $"rollup of {request.Measurement} from {from}", clock.GetUtcNow(), out TaskInfo? task) is { } refused)
                {
                    return refused;
                }

                tasks.Add(task!);
                from = target.Name;
            }

            return Api.Json(new RollupResponse([.. buckets.Select(Api.ToDto)], [.. tasks.Select(t => ToDto(t, store))]), ServerJsonContext.Default.RollupResponse, statusCode: 201);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or CatalogConflictException)
        {
            return Api.Error(400, "invalid", e.Message);
        }
    }

    /// <summary>
    /// A rollup level's script: each window of the source (one task period) aggregated per series with each
    /// function; the first level names the results field_function, later levels aggregate each such field with
    /// its own function. The points land at the window's stop, so running a window again rewrites them.
    /// </summary>
    internal static string RollupScript(string measurement, string from, string to, string every, string[] functions, bool firstLevel, int offsetSeconds)
    {
        string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        var flux = new StringBuilder();
        flux.Append("import \"strings\"\n\n");
        flux.Append("option task = {name: ").Append(Quote($"rollup {measurement} {from} to {to}")).Append(", every: ").Append(every).Append(", offset: ").Append(offsetSeconds).Append("s}\n\n");
        flux.Append("data = from(bucket: ").Append(Quote(from)).Append(")\n    |> range(start: -task.every)\n    |> filter(fn: (r) => r._measurement == ").Append(Quote(measurement)).Append(")\n\n");
        foreach (string fn in functions)
        {
            flux.Append("data\n");
            if (!firstLevel)
            {
                flux.Append("    |> filter(fn: (r) => strings.hasSuffix(v: r._field, suffix: ").Append(Quote("_" + fn)).Append("))\n");
            }

            flux.Append("    |> aggregateWindow(every: task.every, fn: ").Append(fn).Append(", createEmpty: false)\n");
            if (firstLevel)
            {
                flux.Append("    |> map(fn: (r) => ({r with _field: r._field + ").Append(Quote("_" + fn)).Append("}))\n");
            }

            flux.Append("    |> to(bucket: ").Append(Quote(to)).Append(")\n    |> yield(name: ").Append(Quote(fn)).Append(")\n\n");
        }

        return flux.ToString();
    }
}
