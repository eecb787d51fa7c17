using System.CommandLine;
using System.Net.Http.Headers;
using System.Text;
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
        var host = new Option<string?>("--host") { Description = "server URL (env INFLUXLIKE_HOST; default http://127.0.0.1:8086)", Recursive = true };
        var token = new Option<string?>("--token") { Description = "API token (env INFLUXLIKE_TOKEN)", Recursive = true };
        var org = new Option<string?>("--org") { Description = "organization name (env INFLUXLIKE_ORG)", Recursive = true };
        var id = new Argument<string>("id") { Description = "the task's id" };
        var file = new Option<string?>("--file", "-f") { Description = "the task's script (a file; - for standard input)" };

        var task = new Command("task", "Manage scheduled tasks (scripts with option task = {name, every | cron, offset})");
        task.Options.Add(host);
        task.Options.Add(token);
        task.Options.Add(org);

        var list = new Command("list", "List tasks");
        list.SetAction((r, ct) => CallAsync(r, host, token, HttpMethod.Get, "/api/v2/tasks", null, body =>
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
                await Console.Error.WriteLineAsync("error: --file is required (the task's script; - reads standard input)").ConfigureAwait(false);
                return 2;
            }

            string flux = path == "-" ? await Console.In.ReadToEndAsync(ct).ConfigureAwait(false) : await File.ReadAllTextAsync(path, ct).ConfigureAwait(false);
            string? orgName = Value(r, org, "INFLUXLIKE_ORG");
            if (orgName is null)
            {
                await Console.Error.WriteLineAsync("error: --org is required (or INFLUXLIKE_ORG)").ConfigureAwait(false);
                return 2;
            }

            var request = new JsonObject { ["org"] = orgName, ["flux"] = flux };
            return await CallAsync(r, host, token, HttpMethod.Post, "/api/v2/tasks", request, body => Console.WriteLine($"{body["id"]}\t{body["name"]}"), ct).ConfigureAwait(false);
        });

        Command WithId(string name, string description, Func<string, (HttpMethod Method, string Path, JsonObject? Body)> request, Action<JsonNode> print)
        {
            var c = new Command(name, description);
            c.Arguments.Add(id);
            c.SetAction((r, ct) =>
            {
                var (method, path, body) = request(r.GetValue(id)!);
                return CallAsync(r, host, token, method, path, body, print, ct);
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

    private static string? Value(ParseResult r, Option<string?> option, string env) =>
        r.GetValue(option) ?? (Environment.GetEnvironmentVariable(env) is { Length: > 0 } v ? v : null);

    private static async Task<int> CallAsync(ParseResult r, Option<string?> host, Option<string?> token, HttpMethod method, string path, JsonObject? body, Action<JsonNode> print, CancellationToken ct)
    {
        string baseUrl = Value(r, host, "INFLUXLIKE_HOST") ?? "http://127.0.0.1:8086";
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(5) };
        using var request = new HttpRequestMessage(method, path);
        if (Value(r, token, "INFLUXLIKE_TOKEN") is { } t)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Token", t);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"error: cannot reach {baseUrl}: {e.Message}").ConfigureAwait(false);
            return 2;
        }

        using (response)
        {
            string text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                string message = text.Length > 0 && JsonNode.Parse(text) is JsonObject o && o["message"] is { } m ? m.ToString() : text;
                await Console.Error.WriteLineAsync($"error: {(int)response.StatusCode} {message}").ConfigureAwait(false);
                return 1;
            }

            if (text.Length > 0)
            {
                print(JsonNode.Parse(text)!);
            }

            return 0;
        }
    }
}
