using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using InfluxLike.Query.Csv;
using InfluxLike.Server.Tasks;
using Microsoft.Extensions.DependencyInjection;

namespace InfluxLike.Server.Tests;

/// <summary>
/// Tasks: the scheduler is driven with explicit times (the wall-clock loop is off), so downtime, catch-up,
/// retries and restarts are simulated without sleeping.
/// </summary>
public sealed class TaskTests : IAsyncLifetime
{
    // Two days back from today's midnight: inside every bucket's retention whatever the date the tests run on.
    private static readonly DateTimeOffset T0 = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-2);
    private readonly LiveServer _server = LiveServer.With(o => o with { TasksEnabled = false });

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    private TaskRunner Runner => _server.App.Services.GetRequiredService<TaskRunner>();

    private TaskStore Store => _server.App.Services.GetRequiredService<TaskStore>();

    // cpu usage of two hosts every 10 s over [from, to) minutes after T0: value = minute·10 + second/10 (+100 for h1).
    private static double Usage(int host, long second) => (host * 100) + (second / 60 * 10) + (second % 60 / 10);

    private async Task WriteAsync(int fromMinute, int toMinute)
    {
        var lines = new StringBuilder();
        for (long s = fromMinute * 60L; s < toMinute * 60L; s += 10)
        {
            for (int h = 0; h < 2; h++)
            {
                lines.Append(CultureInfo.InvariantCulture, $"cpu,host=h{h} usage={Usage(h, s)} {T0.ToUnixTimeSeconds() + s}\n");
            }
        }

        var r = await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s", new StringContent(lines.ToString()));
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
    }

    private async Task<List<(string Host, string Field, DateTimeOffset Time, double Value)>> ReadAsync(string bucket)
    {
        var r = await _server.Client.PostAsync("/api/v2/query?org=acme", new StringContent(
            $"from(bucket: \"{bucket}\") |> range(start: {T0.AddDays(-1):yyyy-MM-ddTHH:mm:ssZ}, stop: {T0.AddDays(1):yyyy-MM-ddTHH:mm:ssZ})", Encoding.UTF8, "application/vnd.flux"));
        string csv = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, csv);
        var rows = new List<(string, string, DateTimeOffset, double)>();
        foreach (var (_, t) in AnnotatedCsvReader.Read(csv))
        {
            for (int i = 0; i < t.Rows; i++)
            {
                var v = t.Column("_value")!.Get(i);
                rows.Add((t.Column("host")?.Get(i).AsString ?? "", t.Column("_field")!.Get(i).AsString,
                    DateTimeOffset.UnixEpoch.AddTicks(t.Column("_time")!.Get(i).AsTime / 100), v.Kind == Query.Values.Kind.Float ? v.AsFloat : double.NaN));
            }
        }

        return rows;
    }

    private void StartAt(string taskId, DateTimeOffset latestCompleted) => Store.Put(Store.Get(taskId)! with { LatestCompleted = latestCompleted });

    [Fact]
    public async Task A_rollup_over_data_written_before_and_during_downtime_gives_exactly_the_expected_points()
    {
        string org = await _server.OrgIdAsync();
        JsonNode rollup = await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/rollups", new JsonObject
        {
            ["orgID"] = org, ["bucket"] = "metrics", ["measurement"] = "cpu", ["retention"] = "0",
            ["levels"] = new JsonArray(
                new JsonObject { ["every"] = "1m", ["functions"] = new JsonArray("mean", "max"), ["bucket"] = "cpu_1m", ["retention"] = "90d" },
                new JsonObject { ["every"] = "1h", ["functions"] = new JsonArray("mean"), ["bucket"] = "cpu_1h" }),
        }), HttpStatusCode.Created);
        Assert.Equal(["metrics", "cpu_1m", "cpu_1h"], rollup["buckets"]!.AsArray().Select(b => (string)b!["name"]!));
        Assert.Equal(90 * 86400, (long)rollup["buckets"]![1]!["retentionRules"]![0]!["everySeconds"]!);
        string[] tasks = [.. rollup["tasks"]!.AsArray().Select(t => (string)t!["id"]!)];
        Assert.Equal(["1m", "1h"], rollup["tasks"]!.AsArray().Select(t => (string)t!["every"]!));
        foreach (string t in tasks)
        {
            StartAt(t, T0);
        }

        // The first half hour, ticking as it goes: each minute's window runs once it is 30 s old.
        await WriteAsync(0, 30);
        for (int minute = 1; minute <= 30; minute++)
        {
            await Runner.RunDueAsync(T0.AddMinutes(minute).AddSeconds(31));
        }

        // Down from minute 30 to minute 122 while data keeps arriving (written straight to storage), then one
        // tick catches up every missed window in order, the hourly level after the minutes it reads.
        await WriteAsync(30, 120);
        var caughtUp = await Runner.RunDueAsync(T0.AddMinutes(122));
        Assert.All(caughtUp, r => Assert.Equal("success", r.Status));
        Assert.Equal(91 + 2, caughtUp.Count); // minutes 31..121 and hours 1 and 2

        var minutes = await ReadAsync("cpu_1m");
        foreach (int h in new[] { 0, 1 })
        {
            for (int m = 1; m <= 120; m++)
            {
                // Window [m−1, m) minutes: six points (m−1)·10 + 0..5 (+100 for h1).
                double mean = (h * 100) + ((m - 1) * 10) + 2.5, max = (h * 100) + ((m - 1) * 10) + 5;
                Assert.Equal(mean, minutes.Single(p => p.Host == $"h{h}" && p.Field == "usage_mean" && p.Time == T0.AddMinutes(m)).Value, 9);
                Assert.Equal(max, minutes.Single(p => p.Host == $"h{h}" && p.Field == "usage_max" && p.Time == T0.AddMinutes(m)).Value, 9);
            }
        }

        Assert.Equal(2 * 2 * 120, minutes.Count); // no duplicate, no window missing
        var hours = await ReadAsync("cpu_1h");
        Assert.Equal(4, hours.Count);
        // The hour [0h, 1h) holds the minute points stamped 0:01 .. 0:59 (a window's point carries its stop time, so
        // 1:00 belongs to the next hour, as with aggregateWindow in Flux): the mean of windows 0..58's means.
        Assert.Equal((29 * 10) + 2.5, hours.Single(p => p.Host == "h0" && p.Time == T0.AddHours(1)).Value, 9);
        Assert.All(await ReadRunsAsync(tasks[0]), r => Assert.Equal("success", (string)r!["status"]!));
    }

    private async Task<JsonArray> ReadRunsAsync(string taskId) =>
        (await LiveServer.JsonAsync(await _server.Client.GetAsync($"/api/v2/tasks/{taskId}/runs"), HttpStatusCode.OK))["runs"]!.AsArray();

    private async Task<string> CreateAsync(string flux, HttpStatusCode expected = HttpStatusCode.Created)
    {
        JsonNode task = await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/tasks", new JsonObject { ["org"] = "acme", ["flux"] = flux }), expected);
        return (string?)task["id"] ?? (string)task["message"]!;
    }

    private async Task<long> CreateBucketAsync(string name)
    {
        string org = await _server.OrgIdAsync();
        await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/buckets", new JsonObject { ["orgID"] = org, ["name"] = name }), HttpStatusCode.Created);
        return 0;
    }

    private const string CopyTask = """
        option task = {name: "copy", every: 1m, offset: 10s}

        from(bucket: "metrics")
            |> range(start: -task.every)
            |> filter(fn: (r) => r._measurement == "cpu" and r.host == "h0")
            |> to(bucket: "copy")
        """;

    [Fact]
    public async Task A_run_killed_before_it_was_recorded_done_runs_again_after_a_restart_with_no_gap_and_no_duplicate()
    {
        await CreateBucketAsync("copy");
        await WriteAsync(0, 5);
        string id = await CreateAsync(CopyTask);
        StartAt(id, T0);
        Assert.Equal(3, (await Runner.RunDueAsync(T0.AddMinutes(3).AddSeconds(11))).Count);

        // As if the process died during the run of minute 4: the run recorded as started, its points written,
        // the window not yet recorded as done.
        Store.Record(new RunInfo { Id = "crashed", TaskId = id, Status = "started", WindowStart = T0.AddMinutes(3), WindowStop = T0.AddMinutes(4), StartedAt = T0.AddMinutes(4) });
        await WriteAsync(3, 4); // what the interrupted run had copied is rewritten by the new run either way
        await _server.StopAsync();
        await _server.StartAsync();

        Assert.Equal("canceled", (string)(await ReadRunsAsync(id)).Single(r => (string)r!["id"]! == "crashed")!["status"]!);
        var runs = await Runner.RunDueAsync(T0.AddMinutes(5).AddSeconds(11));
        Assert.Equal([T0.AddMinutes(4), T0.AddMinutes(5)], runs.Select(r => r.WindowStop));
        var copied = await ReadAsync("copy");
        Assert.Equal(5 * 6, copied.Count); // five minutes of six points: none missing, none twice
        Assert.Equal(copied.Count, copied.Select(p => p.Time).Distinct().Count());
    }

    [Fact]
    public async Task Overlapping_triggers_run_a_window_once()
    {
        await CreateBucketAsync("copy");
        await WriteAsync(0, 2);
        string id = await CreateAsync(CopyTask);
        StartAt(id, T0);
        var both = await Task.WhenAll(Runner.RunDueAsync(T0.AddMinutes(1).AddSeconds(11)), Runner.RunDueAsync(T0.AddMinutes(1).AddSeconds(11)));
        Assert.Equal(1, both.Sum(r => r.Count));
        Assert.Empty(await Runner.RunDueAsync(T0.AddMinutes(1).AddSeconds(50)));
        Assert.Single(await ReadRunsAsync(id));
    }

    [Fact]
    public async Task A_threshold_task_writes_an_alert_exactly_when_usage_crosses_the_threshold()
    {
        await CreateBucketAsync("alerts");
        await WriteAsync(0, 12); // h0's usage passes 90 in minute 9 (90..95) and stays above; h1 is always above 100
        string id = await CreateAsync("""
            option task = {name: "high cpu", every: 1m}

            from(bucket: "metrics")
                |> range(start: -task.every)
                |> filter(fn: (r) => r._measurement == "cpu" and r._field == "usage" and r.host == "h0")
                |> filter(fn: (r) => r._value >= 90.0)
                |> map(fn: (r) => ({r with _measurement: "alert", _field: "level", _value: 2.0}))
                |> to(bucket: "alerts")
            """);
        StartAt(id, T0);
        await Runner.RunDueAsync(T0.AddMinutes(12));
        var alerts = await ReadAsync("alerts");
        Assert.Equal(Enumerable.Range(0, 18).Select(i => T0.AddMinutes(9).AddSeconds(i * 10)), alerts.Select(a => a.Time).Order());
    }

    [Fact]
    public async Task The_api_creates_lists_disables_runs_retries_and_deletes_tasks()
    {
        string bad = await CreateAsync("option task = {name: \"x\", every: 1m}\nfrom(bucket: \"metrics\") |> range(start: -1m) |> nosuch()", HttpStatusCode.BadRequest);
        Assert.Contains("nosuch", bad, StringComparison.Ordinal);
        Assert.Contains("@2:49", bad, StringComparison.Ordinal);
        Assert.Contains("exactly one of every and cron", await CreateAsync("option task = {name: \"x\"}\n1", HttpStatusCode.BadRequest), StringComparison.Ordinal);

        // A task writing to a bucket that does not exist fails, and is retried with back-off.
        string id = await CreateAsync(CopyTask);
        Assert.Single((await LiveServer.JsonAsync(await _server.Client.GetAsync("/api/v2/tasks?name=copy"), HttpStatusCode.OK))["tasks"]!.AsArray());
        await WriteAsync(0, 3);
        StartAt(id, T0);
        RunInfo failed = Assert.Single(await Runner.RunDueAsync(T0.AddMinutes(1).AddSeconds(11)));
        Assert.Equal("failed", failed.Status);
        Assert.Contains("bucket \"copy\" not found", failed.Error, StringComparison.Ordinal);
        Assert.Empty(await Runner.RunDueAsync(T0.AddMinutes(1).AddSeconds(15))); // back-off: 10 s
        await CreateBucketAsync("copy");
        RunInfo retried = Assert.Single(await Runner.RunDueAsync(T0.AddMinutes(1).AddSeconds(25)));
        Assert.Equal(("success", 2, "retry"), (retried.Status, retried.Attempt, retried.Trigger));

        // Disabled: no run; run now works anyway; the history shows every run with its log.
        await LiveServer.JsonAsync(await _server.Client.PatchAsJsonAsync($"/api/v2/tasks/{id}", new JsonObject { ["status"] = "inactive" }), HttpStatusCode.OK);
        Assert.Empty(await Runner.RunDueAsync(T0.AddMinutes(3).AddSeconds(11)));
        JsonNode now = await LiveServer.JsonAsync(await _server.Client.PostAsync($"/api/v2/tasks/{id}/runs", null), HttpStatusCode.Created);
        Assert.Equal("manual", (string)now["trigger"]!);
        JsonArray runs = await ReadRunsAsync(id);
        Assert.Equal(3, runs.Count);
        Assert.Contains(runs, r => r!["log"]!.AsArray().Any(l => ((string)l!["message"]!).Contains("retried at", StringComparison.Ordinal)));
        string metrics = await _server.Anonymous.GetStringAsync("/metrics");
        Assert.Contains("influxlike_task_runs_total{status=\"failed\"}", metrics, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await _server.Client.DeleteAsync($"/api/v2/tasks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Client.GetAsync($"/api/v2/tasks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Anonymous.GetAsync("/api/v2/tasks")).StatusCode);
    }
}

public sealed class TaskDefinitionTests
{
    [Fact]
    public void Every_and_cron_schedules_give_window_bounds()
    {
        var hourly = TaskDefinition.Parse("option task = {name: \"h\", cron: \"0 * * * *\", offset: 2m}\n1");
        var at = new DateTimeOffset(2026, 3, 1, 10, 30, 0, TimeSpan.Zero);
        Assert.Equal(at.AddMinutes(30), hourly.NextStop(at));
        Assert.Equal(at.AddMinutes(-30), hourly.StartOf(at.AddMinutes(30)));
        Assert.Equal(at.AddMinutes(-30), hourly.LastStopAtOrBefore(at));
        Assert.Equal(TimeSpan.FromMinutes(2), hourly.Offset);

        var quarter = TaskDefinition.Parse("option task = {name: \"q\", every: 15m}\n1");
        Assert.Equal(at.AddMinutes(15), quarter.NextStop(at));
        Assert.Equal(at, quarter.NextStop(at.AddMinutes(-1)));
        Assert.Equal(at, quarter.LastStopAtOrBefore(at));
    }

    [Theory]
    [InlineData("1", "no task option")]
    [InlineData("option task = {name: \"x\", cron: \"nope\"}\n1", "not a cron expression")]
    [InlineData("option task = {name: \"x\", every: 1mo}\n1", "must not use months")]
    [InlineData("option task = {every: 1h}\n1", "needs a name")]
    [InlineData("option task = {name: \"x\", every: 1h, cron: \"* * * * *\"}\n1", "exactly one of every and cron")]
    public void Bad_task_options_are_refused(string flux, string message) =>
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => TaskDefinition.Parse(flux)).Message, StringComparison.Ordinal);
}
