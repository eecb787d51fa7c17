using System.CommandLine;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using InfluxLike.Query.Csv;
using Kind = InfluxLike.Query.Values.Kind;

namespace InfluxLike.Cli;

/// <summary>
/// The client commands beside <c>serve</c>: <c>write</c> (line protocol from files or standard input, in batches,
/// gzip, retries on 429/503 after Retry-After), <c>query</c> (Flux from an argument, a file or standard input; a
/// table on a terminal, annotated CSV or JSON for pipes), <c>bucket</c> (list, create, delete) and <c>token</c>
/// (list, create). They speak the HTTP API, so they work against InfluxDB 2.x too.
/// </summary>
internal static class ClientCommands
{
    public static IEnumerable<Command> Build()
    {
        yield return Write();
        yield return Query();
        yield return Bucket();
        yield return Token();
        yield return Export();
        yield return Backup();
        yield return Restore();
    }

    private static Command Backup()
    {
        var bucket = new Option<string?>("--bucket", "-b") { Description = "bucket to back up" };
        var output = new Option<string?>("--output", "-o") { Description = "archive file to write (a tar)" };
        var command = new Command("backup", "Back up a bucket, online, into a tar archive") { bucket, output };
        ApiClient.AddOptions(command);
        command.SetAction(async (r, ct) =>
        {
            if (r.GetValue(bucket) is not { } b || ApiClient.OrgName(r) is not { } org || r.GetValue(output) is not { } path)
            {
                return await ApiClient.UsageAsync("--bucket, --output and --org (or INFLUXLIKE_ORG) are required").ConfigureAwait(false);
            }

            using HttpClient http = ApiClient.Http(r);
            try
            {
                using var response = await http.GetAsync($"/api/v2/backup?org={Uri.EscapeDataString(org)}&bucket={Uri.EscapeDataString(b)}", HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    await Console.Error.WriteLineAsync($"error: {(int)response.StatusCode} {ApiClient.ErrorMessage(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false))}").ConfigureAwait(false);
                    return 1;
                }

                await using (var file = File.Create(path + ".part"))
                {
                    await response.Content.CopyToAsync(file, ct).ConfigureAwait(false);
                }

                File.Move(path + ".part", path, overwrite: true);
                await Console.Error.WriteLineAsync($"backed up bucket \"{b}\" to {path} ({new FileInfo(path).Length:N0} bytes)").ConfigureAwait(false);
                return 0;
            }
            catch (HttpRequestException e)
            {
                return await ApiClient.UsageAsync($"cannot reach {http.BaseAddress}: {e.Message}").ConfigureAwait(false);
            }
        });
        return command;
    }

    private static Command Restore()
    {
        var archive = new Argument<string>("archive") { Description = "a tar archive made by backup" };
        var bucket = new Option<string?>("--bucket", "-b") { Description = "name of the new bucket to restore into" };
        var command = new Command("restore", "Restore a backup archive as a new bucket") { archive, bucket };
        ApiClient.AddOptions(command);
        command.SetAction(async (r, ct) =>
        {
            if (r.GetValue(bucket) is not { } b || ApiClient.OrgName(r) is not { } org)
            {
                return await ApiClient.UsageAsync("--bucket and --org (or INFLUXLIKE_ORG) are required").ConfigureAwait(false);
            }

            using HttpClient http = ApiClient.Http(r);
            try
            {
                await using var file = File.OpenRead(r.GetValue(archive)!);
                using var response = await http.PostAsync($"/api/v2/restore?org={Uri.EscapeDataString(org)}&bucket={Uri.EscapeDataString(b)}", new StreamContent(file), ct).ConfigureAwait(false);
                string text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    await Console.Error.WriteLineAsync($"error: {(int)response.StatusCode} {ApiClient.ErrorMessage(text)}").ConfigureAwait(false);
                    return 1;
                }

                Console.WriteLine($"{JsonNode.Parse(text)!["id"]}\t{b}");
                return 0;
            }
            catch (HttpRequestException e)
            {
                return await ApiClient.UsageAsync($"cannot reach {http.BaseAddress}: {e.Message}").ConfigureAwait(false);
            }
            catch (FileNotFoundException e)
            {
                return await ApiClient.UsageAsync(e.Message).ConfigureAwait(false);
            }
        });
        return command;
    }

    /// <summary>export: a bucket's points (a time range, optionally filtered) as line protocol, through the query API.</summary>
    private static Command Export()
    {
        var bucket = new Option<string?>("--bucket", "-b") { Description = "bucket to export" };
        var start = new Option<string>("--start") { Description = "RFC 3339 time or relative duration (default: all)", DefaultValueFactory = _ => "0" };
        var stop = new Option<string?>("--stop") { Description = "RFC 3339 time or relative duration (default: now)" };
        var filter = new Option<string?>("--filter") { Description = "a Flux predicate on r, e.g. r._measurement == \"cpu\"" };
        var output = new Option<string?>("--output", "-o") { Description = "file to write (default: standard output)" };
        var command = new Command("export", "Export a bucket's points as line protocol") { bucket, start, stop, filter, output };
        ApiClient.AddOptions(command);
        command.SetAction(async (r, ct) =>
        {
            if (r.GetValue(bucket) is not { } b || ApiClient.OrgName(r) is not { } org)
            {
                return await ApiClient.UsageAsync("--bucket and --org (or INFLUXLIKE_ORG) are required").ConfigureAwait(false);
            }

            string script = $"from(bucket: \"{b.Replace("\"", "\\\"", StringComparison.Ordinal)}\") |> range(start: {r.GetValue(start)}{(r.GetValue(stop) is { } s ? ", stop: " + s : "")})"
                + (r.GetValue(filter) is { } f ? $" |> filter(fn: (r) => {f})" : "");
            var (code, csv) = await QueryAsync(r, org, script, ct).ConfigureAwait(false);
            if (csv is null)
            {
                return code;
            }

            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            var writer = new LineProtocol.LineProtocolWriter(buffer);
            long points = 0;
            foreach (var (_, table) in AnnotatedCsvReader.Read(csv))
            {
                var tags = table.Key.Columns.Where(c => c.Type == Kind.String && c.Name is not ("_measurement" or "_field")).Select(c => c.Name).Order(StringComparer.Ordinal).ToArray();
                var m = table.Column("_measurement");
                var fieldName = table.Column("_field");
                var value = table.Column("_value");
                var time = table.Column("_time");
                if (m is null || fieldName is null || value is null || time is null)
                {
                    continue;
                }

                for (int i = 0; i < table.Rows; i++)
                {
                    var v = value.Get(i);
                    if (v.Kind == Kind.Null)
                    {
                        continue;
                    }

                    writer.StartLine(m.Get(i).AsString);
                    foreach (string tag in tags)
                    {
                        if (table.Key.Get(tag) is { Kind: Kind.String } t && t.AsString.Length > 0)
                        {
                            writer.AddTag(tag, t.AsString);
                        }
                    }

                    string field = fieldName.Get(i).AsString;
                    switch (v.Kind)
                    {
                        case Kind.Float: writer.AddField(field, v.AsFloat); break;
                        case Kind.Int: writer.AddField(field, v.AsInt); break;
                        case Kind.UInt: writer.AddField(field, v.AsUInt); break;
                        case Kind.Bool: writer.AddField(field, v.AsBool); break;
                        default: writer.AddField(field, v.ToString()); break;
                    }

                    writer.EndLine(time.Get(i).AsTime);
                    points++;
                }
            }

            if (r.GetValue(output) is { } path)
            {
                await File.WriteAllBytesAsync(path, buffer.WrittenMemory.ToArray(), ct).ConfigureAwait(false);
            }
            else
            {
                await using Stream stdout = Console.OpenStandardOutput();
                await stdout.WriteAsync(buffer.WrittenMemory, ct).ConfigureAwait(false);
            }

            await Console.Error.WriteLineAsync($"exported {points:N0} points").ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static Command Write()
    {
        var files = new Argument<string[]>("files") { Description = "line-protocol files (none or -: standard input)", Arity = ArgumentArity.ZeroOrMore };
        var bucket = new Option<string?>("--bucket", "-b") { Description = "bucket to write to" };
        var precision = new Option<string>("--precision", "-p") { Description = "timestamp precision: ns, us, ms or s", DefaultValueFactory = _ => "ns" };
        var batch = new Option<int>("--batch-size") { Description = "lines per request", DefaultValueFactory = _ => 5000 };
        var gzip = new Option<bool>("--gzip") { Description = "send gzip bodies", DefaultValueFactory = _ => true };
        var command = new Command("write", "Write line protocol from files or standard input") { files, bucket, precision, batch, gzip };
        ApiClient.AddOptions(command);
        command.SetAction(async (r, ct) =>
        {
            if (r.GetValue(bucket) is not { } b || ApiClient.OrgName(r) is not { } org)
            {
                return await ApiClient.UsageAsync("--bucket and --org (or INFLUXLIKE_ORG) are required").ConfigureAwait(false);
            }

            if (r.GetValue(precision) is not ("ns" or "us" or "ms" or "s"))
            {
                return await ApiClient.UsageAsync("--precision must be ns, us, ms or s").ConfigureAwait(false);
            }

            string path = $"/api/v2/write?org={Uri.EscapeDataString(org)}&bucket={Uri.EscapeDataString(b)}&precision={r.GetValue(precision)}";
            using HttpClient http = ApiClient.Http(r);
            var clock = Stopwatch.StartNew();
            long lines = 0;
            var pending = new StringBuilder();
            int inBatch = 0;
            string[] sources = r.GetValue(files) is { Length: > 0 } f ? f : ["-"];
            foreach (string source in sources)
            {
                using TextReader reader = source == "-" ? Console.In : new StreamReader(source);
                while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
                {
                    if (line.Length == 0 || line[0] == '#')
                    {
                        continue;
                    }

                    pending.Append(line).Append('\n');
                    if (++inBatch == r.GetValue(batch))
                    {
                        int code = await SendAsync(http, path, pending.ToString(), r.GetValue(gzip), ct).ConfigureAwait(false);
                        if (code != 0)
                        {
                            return code;
                        }

                        lines += inBatch;
                        pending.Clear();
                        inBatch = 0;
                        if (!Console.IsErrorRedirected)
                        {
                            Console.Error.Write($"\r{lines:N0} lines, {lines / clock.Elapsed.TotalSeconds:N0} lines/s   ");
                        }
                    }
                }
            }

            if (inBatch > 0)
            {
                int code = await SendAsync(http, path, pending.ToString(), r.GetValue(gzip), ct).ConfigureAwait(false);
                if (code != 0)
                {
                    return code;
                }

                lines += inBatch;
            }

            await Console.Error.WriteLineAsync($"\rwrote {lines:N0} lines in {clock.Elapsed.TotalSeconds:0.0} s").ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    // One batch, retried on 429/503 after the server's Retry-After (10 tries at most).
    private static async Task<int> SendAsync(HttpClient http, string path, string body, bool gzip, CancellationToken ct)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        if (gzip)
        {
            using var buffer = new MemoryStream();
            using (var z = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
            {
                z.Write(bytes);
            }

            bytes = buffer.ToArray();
        }

        for (int attempt = 1; ; attempt++)
        {
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
            if (gzip)
            {
                content.Headers.ContentEncoding.Add("gzip");
            }

            HttpResponseMessage response;
            try
            {
                response = await http.PostAsync(path, content, ct).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                return await ApiClient.UsageAsync($"cannot reach {http.BaseAddress}: {e.Message}").ConfigureAwait(false);
            }

            using (response)
            {
                if (response.IsSuccessStatusCode)
                {
                    return 0;
                }

                string text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                if (ApiClient.Transient(response.StatusCode) && attempt < 10)
                {
                    TimeSpan wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(Math.Min(30, attempt * 2));
                    await Console.Error.WriteLineAsync($"server busy ({(int)response.StatusCode}); retrying in {wait.TotalSeconds:0} s").ConfigureAwait(false);
                    await Task.Delay(wait, ct).ConfigureAwait(false);
                    continue;
                }

                await Console.Error.WriteLineAsync($"error: {(int)response.StatusCode} {ApiClient.ErrorMessage(text)}").ConfigureAwait(false);
                return 1;
            }
        }
    }

    // Runs a script through /api/v2/query: the annotated CSV, or the exit code with the error printed.
    private static async Task<(int Code, string? Csv)> QueryAsync(ParseResult r, string org, string script, CancellationToken ct)
    {
        using HttpClient http = ApiClient.Http(r);
        try
        {
            using var response = await http.PostAsync($"/api/v2/query?org={Uri.EscapeDataString(org)}", new StringContent(script, Encoding.UTF8, "application/vnd.flux"), ct).ConfigureAwait(false);
            string text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return (0, text);
            }

            await Console.Error.WriteLineAsync($"error: {(int)response.StatusCode} {ApiClient.ErrorMessage(text)}").ConfigureAwait(false);
            return (1, null);
        }
        catch (HttpRequestException e)
        {
            return (await ApiClient.UsageAsync($"cannot reach {http.BaseAddress}: {e.Message}").ConfigureAwait(false), null);
        }
    }

    private static Command Query()
    {
        var script = new Argument<string?>("script") { Description = "the Flux script (or --file, or standard input)", Arity = ArgumentArity.ZeroOrOne };
        var file = new Option<string?>("--file", "-f") { Description = "read the script from a file" };
        var format = new Option<string?>("--format") { Description = "table, csv or json (default: table on a terminal, csv otherwise)" };
        var command = new Command("query", "Run a Flux query") { script, file, format };
        ApiClient.AddOptions(command);
        command.SetAction(async (r, ct) =>
        {
            if (ApiClient.OrgName(r) is not { } org)
            {
                return await ApiClient.UsageAsync("--org (or INFLUXLIKE_ORG) is required").ConfigureAwait(false);
            }

            string? text = r.GetValue(script) ?? (r.GetValue(file) is { } f ? await File.ReadAllTextAsync(f, ct).ConfigureAwait(false) : null);
            text ??= Console.IsInputRedirected ? await Console.In.ReadToEndAsync(ct).ConfigureAwait(false) : null;
            if (string.IsNullOrWhiteSpace(text))
            {
                return await ApiClient.UsageAsync("give the script as an argument, with --file, or on standard input").ConfigureAwait(false);
            }

            string mode = r.GetValue(format) ?? (Console.IsOutputRedirected ? "csv" : "table");
            if (mode is not ("table" or "csv" or "json"))
            {
                return await ApiClient.UsageAsync("--format must be table, csv or json").ConfigureAwait(false);
            }

            var (code, csv) = await QueryAsync(r, org, text, ct).ConfigureAwait(false);
            if (csv is null)
            {
                return code;
            }

            if (mode == "csv")
            {
                Console.Write(csv);
                return 0;
            }

            var rows = new JsonArray();
            foreach (var (result, table) in AnnotatedCsvReader.Read(csv))
            {
                if (mode == "table")
                {
                    Console.WriteLine($"Result: {result}  Table: {table.Key}");
                    Console.WriteLine(string.Join("  ", table.Columns.Select(c => c.Name)));
                }

                for (int i = 0; i < table.Rows; i++)
                {
                    if (mode == "table")
                    {
                        Console.WriteLine(string.Join("  ", table.Data.Select(d => d.Get(i).ToString())));
                        continue;
                    }

                    var row = new JsonObject { ["result"] = result };
                    for (int c = 0; c < table.Columns.Length; c++)
                    {
                        var v = table.Data[c].Get(i);
                        row[table.Columns[c].Name] = v.Kind switch
                        {
                            Kind.Null => null,
                            Kind.Float => JsonValue.Create(v.AsFloat),
                            Kind.Int => JsonValue.Create(v.AsInt),
                            Kind.UInt => JsonValue.Create(v.AsUInt),
                            Kind.Bool => JsonValue.Create(v.AsBool),
                            _ => JsonValue.Create(v.ToString()),
                        };
                    }

                    rows.Add((JsonNode)row);
                }
            }

            if (mode == "json")
            {
                Console.WriteLine(rows.ToJsonString());
            }

            return 0;
        });
        return command;
    }

    // The id of the organization named by --org.
    internal static async Task<string?> OrgIdAsync(ParseResult r, CancellationToken ct)
    {
        if (ApiClient.OrgName(r) is not { } name)
        {
            return null;
        }

        using HttpClient http = ApiClient.Http(r);
        using var response = await http.GetAsync($"/api/v2/orgs?org={Uri.EscapeDataString(name)}", ct).ConfigureAwait(false);
        return response.IsSuccessStatusCode && JsonNode.Parse(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false))?["orgs"]?.AsArray().FirstOrDefault()?["id"]?.ToString() is { } id ? id : null;
    }

    private static Command Bucket()
    {
        var name = new Argument<string>("name") { Description = "the bucket's name" };
        var retention = new Option<string?>("--retention", "-r") { Description = "how long points are kept, e.g. 30d (0: forever)" };
        var bucket = new Command("bucket", "List, create and delete buckets");
        ApiClient.AddOptions(bucket);

        var list = new Command("list", "List buckets");
        list.SetAction((r, ct) => ApiClient.CallAsync(r, HttpMethod.Get, "/api/v2/buckets" + (ApiClient.OrgName(r) is { } o ? "?org=" + Uri.EscapeDataString(o) : ""), null, body =>
        {
            foreach (JsonNode? b in body["buckets"]!.AsArray())
            {
                long seconds = (long?)b!["retentionRules"]?[0]?["everySeconds"] ?? 0;
                Console.WriteLine($"{b["id"]}\t{b["name"]}\t{(seconds == 0 ? "forever" : TimeSpan.FromSeconds(seconds).ToString())}");
            }
        }, ct));

        var create = new Command("create", "Create a bucket") { name, retention };
        create.SetAction(async (r, ct) =>
        {
            if (await OrgIdAsync(r, ct).ConfigureAwait(false) is not { } orgId)
            {
                return await ApiClient.UsageAsync("--org (or INFLUXLIKE_ORG) must name an organization").ConfigureAwait(false);
            }

            long seconds;
            try
            {
                seconds = r.GetValue(retention) is { } text ? (long)Server.Configuration.Settings.Duration(text).TotalSeconds : 0;
            }
            catch (FormatException e)
            {
                return await ApiClient.UsageAsync("--retention: " + e.Message).ConfigureAwait(false);
            }

            var body = new JsonObject { ["orgID"] = orgId, ["name"] = r.GetValue(name), ["retentionRules"] = new JsonArray(new JsonObject { ["type"] = "expire", ["everySeconds"] = seconds }) };
            return await ApiClient.CallAsync(r, HttpMethod.Post, "/api/v2/buckets", body, b => Console.WriteLine($"{b["id"]}\t{b["name"]}"), ct).ConfigureAwait(false);
        });

        var delete = new Command("delete", "Delete a bucket and all its data") { name };
        delete.SetAction(async (r, ct) =>
        {
            string? id = null;
            int found = await ApiClient.CallAsync(r, HttpMethod.Get, $"/api/v2/buckets?name={Uri.EscapeDataString(r.GetValue(name)!)}" + (ApiClient.OrgName(r) is { } o ? "&org=" + Uri.EscapeDataString(o) : ""), null,
                body => id = body["buckets"]?.AsArray().FirstOrDefault()?["id"]?.ToString(), ct).ConfigureAwait(false);
            if (found != 0)
            {
                return found;
            }

            if (id is null)
            {
                await Console.Error.WriteLineAsync($"error: bucket \"{r.GetValue(name)}\" not found").ConfigureAwait(false);
                return 1;
            }

            return await ApiClient.CallAsync(r, HttpMethod.Delete, "/api/v2/buckets/" + id, null, _ => { }, ct).ConfigureAwait(false);
        });

        bucket.Subcommands.Add(list);
        bucket.Subcommands.Add(create);
        bucket.Subcommands.Add(delete);
        return bucket;
    }

    private static Command Token()
    {
        var token = new Command("token", "List and create API tokens");
        ApiClient.AddOptions(token);
        var list = new Command("list", "List tokens (never their secrets)");
        list.SetAction((r, ct) => ApiClient.CallAsync(r, HttpMethod.Get, "/api/v2/authorizations", null, body =>
        {
            foreach (JsonNode? a in body["authorizations"]!.AsArray())
            {
                string perms = string.Join(",", a!["permissions"]!.AsArray().Select(p => $"{p!["action"]}:{p["resource"]!["type"]}"));
                Console.WriteLine($"{a["id"]}\t{a["status"]}\t{a["description"]}\t{perms}");
            }
        }, ct));

        var read = new Option<bool>("--read-buckets") { Description = "may read every bucket of the organization" };
        var write = new Option<bool>("--write-buckets") { Description = "may write every bucket of the organization" };
        var description = new Option<string?>("--description", "-d") { Description = "what the token is for" };
        var create = new Command("create", "Create a token (shown once)") { read, write, description };
        create.SetAction(async (r, ct) =>
        {
            if (await OrgIdAsync(r, ct).ConfigureAwait(false) is not { } orgId)
            {
                return await ApiClient.UsageAsync("--org (or INFLUXLIKE_ORG) must name an organization").ConfigureAwait(false);
            }

            var permissions = new JsonArray();
            foreach (var (action, wanted) in new[] { ("read", r.GetValue(read)), ("write", r.GetValue(write)) })
            {
                if (wanted)
                {
                    permissions.Add((JsonNode)new JsonObject { ["action"] = action, ["resource"] = new JsonObject { ["type"] = "buckets", ["orgID"] = orgId } });
                }
            }

            if (permissions.Count == 0)
            {
                return await ApiClient.UsageAsync("give --read-buckets, --write-buckets or both").ConfigureAwait(false);
            }

            var body = new JsonObject { ["orgID"] = orgId, ["description"] = r.GetValue(description) ?? "", ["permissions"] = permissions };
            return await ApiClient.CallAsync(r, HttpMethod.Post, "/api/v2/authorizations", body, a => Console.WriteLine($"{a["id"]}\t{a["token"]}"), ct).ConfigureAwait(false);
        });

        token.Subcommands.Add(list);
        token.Subcommands.Add(create);
        return token;
    }
}
