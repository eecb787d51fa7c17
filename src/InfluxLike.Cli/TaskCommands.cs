using System.CommandLine;
using System.Text.Json.Nodes;

namespace InfluxLike.Cli;

/// <summary>
/// <c>influxlike task list | create | runs | run | enable | disable | delete</c>: the task API from a
/// terminal. The server and token come from --host and --token, or INFLUXLIKE_HOST and INFLUXLIKE_TOKEN.
/// Exit codes: 0 done, 1 the server refused (its message printed), 2 bad usage or unreachable server.
/// </summary>
internal static class TaskCommands
{
    public static Command Build()
    {
        var id = new Argument<string>("id") { Description = "the task's id" };
        var file = new Option<string?>("--file", "-f") { Description = "the task's script (a file; - for standard input)" };

        var task = new Command("task", "Manage scheduled tasks (scripts with option task = {name, every | cron, offset})");
        ApiClient.AddOptions(task);

        var list = new Command("list", "List tasks");
        list.SetAction((r, ct) => ApiClient.CallAsync(r, HttpMethod.Get, "/api/v2/tasks", null, body =>
        {
            foreach (JsonNode? t in body["tasks"]!.AsArray())
            {
                Console.WriteLine($"{t!["id"]}\t{t["status"]}\t{t["every"] ?? t["cron"]}\t{t["name"]}\t{t["lastRunStatus"] ?? "-"}");
            }
        }, ct));

        var create = new Command("create", "Create a task from a script");
        create.Options.Add(file);
        create.SetAction(async (r, ct) =>
        {
            string? path = r.GetValue(file);
            if (path is null)
            {
                return await ApiClient.UsageAsync("--file is required (the task's script; - reads standard input)").ConfigureAwait(false);
            }

            string flux = path == "-" ? await Console.In.ReadToEndAsync(ct).ConfigureAwait(false) : await File.ReadAllTextAsync(path, ct).ConfigureAwait(false);
            string? orgName = ApiClient.OrgName(r);
            if (orgName is null)
            {
                return await ApiClient.UsageAsync("--org is required (or INFLUXLIKE_ORG)").ConfigureAwait(false);
            }

            var request = new JsonObject { ["org"] = orgName, ["flux"] = flux };
            return await ApiClient.CallAsync(r, HttpMethod.Post, "/api/v2/tasks", request, body => Console.WriteLine($"{body["id"]}\t{body["name"]}"), ct).ConfigureAwait(false);
        });

        Command WithId(string name, string description, Func<string, (HttpMethod Method, string Path, JsonObject? Body)> request, Action<JsonNode> print)
        {
            var c = new Command(name, description);
            c.Arguments.Add(id);
            c.SetAction((r, ct) =>
            {
                var (method, path, body) = request(r.GetValue(id)!);
                return ApiClient.CallAsync(r, method, path, body, print, ct);
            });
            return c;
        }

        void PrintRun(JsonNode run) => Console.WriteLine($"{run["id"]}\t{run["status"]}\t{run["windowStart"]} .. {run["windowStop"]}\t{run["trigger"]}\t{run["error"] ?? ""}");

        task.Subcommands.Add(list);
        task.Subcommands.Add(create);
        task.Subcommands.Add(WithId("runs", "Show a task's recent runs", i => (HttpMethod.Get, $"/api/v2/tasks/{i}/runs", null), body =>
        {
            foreach (JsonNode? run in body["runs"]!.AsArray())
            {
                PrintRun(run!);
            }
        }));
        task.Subcommands.Add(WithId("run", "Run a task now over its latest window", i => (HttpMethod.Post, $"/api/v2/tasks/{i}/runs", null), PrintRun));
        task.Subcommands.Add(WithId("enable", "Enable a task", i => (HttpMethod.Patch, $"/api/v2/tasks/{i}", new JsonObject { ["status"] = "active" }), b => Console.WriteLine($"{b["id"]}\t{b["status"]}")));
        task.Subcommands.Add(WithId("disable", "Disable a task", i => (HttpMethod.Patch, $"/api/v2/tasks/{i}", new JsonObject { ["status"] = "inactive" }), b => Console.WriteLine($"{b["id"]}\t{b["status"]}")));
        task.Subcommands.Add(WithId("delete", "Delete a task and its history", i => (HttpMethod.Delete, $"/api/v2/tasks/{i}", null), _ => { }));
        return task;
    }
}
