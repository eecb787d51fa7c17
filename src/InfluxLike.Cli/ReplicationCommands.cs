using System.CommandLine;
using System.Text.Json.Nodes;

namespace InfluxLike.Cli;

/// <summary>
/// <c>influxlike remote list | create | delete</c> and <c>influxlike replication list | create | delete</c>:
/// edge replication from a terminal, the same flags as InfluxDB's <c>influx remote</c> and <c>influx replication</c>
/// where they overlap. The server and token come from --host and --token (or INFLUXLIKE_HOST, INFLUXLIKE_TOKEN).
/// Exit codes: 0 done, 1 the server refused (its message printed), 2 bad usage or unreachable server.
/// </summary>
internal static class ReplicationCommands
{
    public static Command Remote()
    {
        var remote = new Command("remote", "Manage remote servers that replication streams write to");
        ApiClient.AddOptions(remote);

        var list = new Command("list", "List remotes");
        list.SetAction((r, ct) => ApiClient.CallAsync(r, HttpMethod.Get, "/api/v2/remotes", null, body =>
        {
            foreach (JsonNode? x in body["remotes"]!.AsArray())
            {
                Console.WriteLine($"{x!["id"]}\t{x["name"]}\t{x["remoteURL"]}\t{x["remoteOrgID"]}");
            }
        }, ct));

        var name = new Option<string>("--name", "-n") { Description = "the remote's name", Required = true };
        var url = new Option<string>("--remote-url") { Description = "the remote server, e.g. http://central:8086", Required = true };
        var token = new Option<string>("--remote-api-token") { Description = "a token the remote accepts for writes", Required = true };
        var org = new Option<string>("--remote-org-id") { Description = "the organization on the remote (id or name)", Required = true };
        var create = new Command("create", "Register a remote server") { name, url, token, org };
        create.SetAction(async (r, ct) =>
        {
            if (await ClientCommands.OrgIdAsync(r, ct).ConfigureAwait(false) is not { } orgId)
            {
                return await ApiClient.UsageAsync("--org (or INFLUXLIKE_ORG) must name an organization").ConfigureAwait(false);
            }

            var body = new JsonObject
            {
                ["orgID"] = orgId, ["name"] = r.GetValue(name), ["remoteURL"] = r.GetValue(url), ["remoteAPIToken"] = r.GetValue(token), ["remoteOrgID"] = r.GetValue(org),
            };
            return await ApiClient.CallAsync(r, HttpMethod.Post, "/api/v2/remotes", body, b => Console.WriteLine($"{b["id"]}\t{b["name"]}"), ct).ConfigureAwait(false);
        });

        remote.Subcommands.Add(list);
        remote.Subcommands.Add(create);
        remote.Subcommands.Add(Delete("remote", "/api/v2/remotes/"));
        return remote;
    }

    public static Command Replication()
    {
        var replication = new Command("replication", "Manage replication streams: every write to a local bucket forwarded to a remote bucket");
        ApiClient.AddOptions(replication);

        var list = new Command("list", "List replication streams with their queue, lag and latest error");
        list.SetAction((r, ct) => ApiClient.CallAsync(r, HttpMethod.Get, "/api/v2/replications", null, body =>
        {
            Console.WriteLine("id\tname\tqueue bytes\tlag s\tsent\tdropped\tlatest");
            foreach (JsonNode? x in body["replications"]!.AsArray())
            {
                Console.WriteLine($"{x!["id"]}\t{x["name"]}\t{x["currentQueueSizeBytes"]}\t{x["lagSeconds"]}\t{x["sentPoints"]}\t{x["droppedPoints"]}\t{x["latestResponseCode"]} {x["latestErrorMessage"]}");
            }
        }, ct));

        var name = new Option<string>("--name", "-n") { Description = "the stream's name", Required = true };
        var remoteId = new Option<string>("--remote-id") { Description = "the remote to write to (influxlike remote list)", Required = true };
        var bucket = new Option<string>("--local-bucket") { Description = "the local bucket (name) whose writes are replicated", Required = true };
        var remoteBucket = new Option<string>("--remote-bucket") { Description = "the bucket on the remote (name)", Required = true };
        var maxQueue = new Option<long?>("--max-queue-bytes") { Description = "the on-disk queue's limit (default 67108860); beyond it new writes are not replicated" };
        var maxAge = new Option<long?>("--max-age") { Description = "seconds queued data is kept before being dropped (default 604800; 0: forever)" };
        var noDrop = new Option<bool>("--no-drop-non-retryable-data") { Description = "retry batches the remote refuses (400/422) instead of dropping them" };
        var create = new Command("create", "Create a replication stream") { name, remoteId, bucket, remoteBucket, maxQueue, maxAge, noDrop };
        create.SetAction(async (r, ct) =>
        {
            if (await ClientCommands.OrgIdAsync(r, ct).ConfigureAwait(false) is not { } orgId)
            {
                return await ApiClient.UsageAsync("--org (or INFLUXLIKE_ORG) must name an organization").ConfigureAwait(false);
            }

            string? bucketId = null;
            int found = await ApiClient.CallAsync(r, HttpMethod.Get, $"/api/v2/buckets?orgID={orgId}&name={Uri.EscapeDataString(r.GetValue(bucket)!)}", null,
                b => bucketId = b["buckets"]?.AsArray().FirstOrDefault()?["id"]?.ToString(), ct).ConfigureAwait(false);
            if (found != 0 || bucketId is null)
            {
                return found != 0 ? found : await ApiClient.UsageAsync($"bucket \"{r.GetValue(bucket)}\" not found").ConfigureAwait(false);
            }

            var body = new JsonObject
            {
                ["orgID"] = orgId, ["name"] = r.GetValue(name), ["remoteID"] = r.GetValue(remoteId), ["localBucketID"] = bucketId,
                ["remoteBucketName"] = r.GetValue(remoteBucket), ["dropNonRetryableData"] = !r.GetValue(noDrop),
            };
            if (r.GetValue(maxQueue) is { } q)
            {
                body["maxQueueSizeBytes"] = q;
            }

            if (r.GetValue(maxAge) is { } a)
            {
                body["maxAgeSeconds"] = a;
            }

            return await ApiClient.CallAsync(r, HttpMethod.Post, "/api/v2/replications", body, b => Console.WriteLine($"{b["id"]}\t{b["name"]}"), ct).ConfigureAwait(false);
        });

        replication.Subcommands.Add(list);
        replication.Subcommands.Add(create);
        replication.Subcommands.Add(Delete("replication", "/api/v2/replications/"));
        return replication;
    }

    private static Command Delete(string what, string path)
    {
        var id = new Argument<string>("id") { Description = $"the {what}'s id" };
        var delete = new Command("delete", $"Delete a {what}") { id };
        delete.SetAction((r, ct) => ApiClient.CallAsync(r, HttpMethod.Delete, path + Uri.EscapeDataString(r.GetValue(id)!), null, _ => { }, ct));
        return delete;
    }
}
