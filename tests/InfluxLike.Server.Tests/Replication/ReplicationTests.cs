using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace InfluxLike.Server.Tests.Replication;

/// <summary>Replication streams between two real servers, and against a scripted remote for its error handling.</summary>
public sealed class ReplicationTests : IAsyncLifetime
{
    private readonly LiveServer _edge = LiveServer.With(o => o with { TasksEnabled = false });
    private int _centralPort;
    private readonly LiveServer _central;

    public ReplicationTests()
    {
        // The central server comes back on the same port after being stopped: the edge's remote URL stays valid.
        _central = LiveServer.With(o => o with { TasksEnabled = false, HttpBindAddress = $"127.0.0.1:{_centralPort}" });
    }

    public async Task InitializeAsync()
    {
        await _edge.InitializeAsync();
        await _central.InitializeAsync();
        _centralPort = _central.BaseAddress.Port;
    }

    public async Task DisposeAsync()
    {
        await _edge.DisposeAsync();
        await _central.DisposeAsync();
    }

    private static async Task<string> CreateStreamAsync(LiveServer edge, string remoteUrl, string remoteBucket, long maxQueue = 0, bool drop = true)
    {
        string orgId = await edge.OrgIdAsync();
        var buckets = await LiveServer.JsonAsync(await edge.Client.GetAsync("/api/v2/buckets?name=" + LiveServer.Bucket), HttpStatusCode.OK);
        string bucketId = (string)buckets["buckets"]![0]!["id"]!;
        var remote = await LiveServer.JsonAsync(await edge.Client.PostAsync("/api/v2/remotes", Json(new JsonObject
        {
            ["orgID"] = orgId, ["name"] = "central", ["remoteURL"] = remoteUrl, ["remoteAPIToken"] = LiveServer.Token, ["remoteOrgID"] = LiveServer.Org,
        })), HttpStatusCode.Created);
        Assert.Null(remote["remoteAPIToken"]); // never echoed
        var body = new JsonObject
        {
            ["orgID"] = orgId, ["name"] = "to-central", ["remoteID"] = (string)remote["id"]!, ["localBucketID"] = bucketId,
            ["remoteBucketName"] = remoteBucket, ["dropNonRetryableData"] = drop,
        };
        if (maxQueue > 0)
        {
            body["maxQueueSizeBytes"] = maxQueue;
        }

        var replication = await LiveServer.JsonAsync(await edge.Client.PostAsync("/api/v2/replications", Json(body)), HttpStatusCode.Created);
        return (string)replication["id"]!;
    }

    private static StringContent Json(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");

    private static async Task<JsonNode> StateAsync(LiveServer edge, string id) =>
        await LiveServer.JsonAsync(await edge.Client.GetAsync("/api/v2/replications/" + id), HttpStatusCode.OK);

    private static async Task WaitDrainedAsync(LiveServer edge, string id, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        JsonNode state;
        while ((long)(state = await StateAsync(edge, id))["currentQueueSizeBytes"]! > 0)
        {
            Assert.True(DateTime.UtcNow < until, "the queue did not drain: " + state.ToJsonString());
            await Task.Delay(100);
        }
    }

    private static async Task<string> AllRowsAsync(HttpClient client)
    {
        var r = await client.PostAsync("/api/v2/query?org=acme", new StringContent(
            "from(bucket: \"metrics\") |> range(start: 0) |> map(fn: (r) => ({r with _value: string(v: r._value)})) |> group() |> sort(columns: [\"_time\", \"_measurement\", \"_field\", \"host\"])"
            + " |> keep(columns: [\"_time\", \"_value\", \"_field\", \"_measurement\", \"host\"])", Encoding.UTF8, "application/vnd.flux"));
        string csv = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, csv);
        return csv;
    }

    // A stamped batch: 20 points per field. An unstamped one: the server stamps every line of a request with the
    // same time, so its 20 lines make 4 points per field (one per host, the last line winning).
    private static string Batch(int b, bool stamped) => string.Concat(Enumerable.Range(0, 20).Select(i =>
        $"cpu,host={(stamped ? "h" : "u" + b + "_")}{i % 4} usage={b}.{i},n={i}i,s=\"b{b} i{i}\"" + (stamped ? $" {1_700_000_000_000L + (b * 20) + i}" : "") + "\n"));

    [Fact]
    public async Task The_remote_ends_with_exactly_the_edges_points_across_a_lost_link_and_an_edge_restart()
    {
        string id = await CreateStreamAsync(_edge, _central.BaseAddress.ToString(), LiveServer.Bucket);
        async Task WriteAsync(int from, int to)
        {
            for (int b = from; b < to; b++)
            {
                // Even batches carry millisecond timestamps, odd ones none: the edge stamps those, the remote must agree.
                string url = "/api/v2/write?org=acme&bucket=metrics" + (b % 2 == 0 ? "&precision=ms" : "");
                var r = await _edge.Client.PostAsync(url, new StringContent(Batch(b, stamped: b % 2 == 0)));
                Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
            }
        }

        await WriteAsync(0, 20);
        await WaitDrainedAsync(_edge, id, TimeSpan.FromSeconds(30));

        await _central.StopAsync(); // the link is cut
        await WriteAsync(20, 40);
        var state = await StateAsync(_edge, id);
        await _edge.StopAsync(); // the edge restarts with undelivered data in its queue
        await _edge.StartAsync();
        await WriteAsync(40, 60);
        await Task.Delay(1500);
        state = await StateAsync(_edge, id);
        Assert.True((long)state["currentQueueSizeBytes"]! > 0, state.ToJsonString());
        Assert.NotNull(state["latestErrorMessage"]); // "cannot reach ..."

        await _central.StartAsync(); // the link comes back
        await WaitDrainedAsync(_edge, id, TimeSpan.FromSeconds(90));
        string edgeRows = await AllRowsAsync(_edge.Client);
        string centralRows = await AllRowsAsync(_central.Client);
        Assert.Equal((((30 * 20) + (30 * 4)) * 3) + 4, edgeRows.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length); // 3 fields a line, 3 annotation rows and a header
        Assert.Equal(edgeRows, centralRows);

        state = await StateAsync(_edge, id);
        Assert.Equal(0, (long)state["droppedPoints"]!);
        Assert.Equal(204, (int)state["latestResponseCode"]!);

        string metrics = await _edge.Anonymous.GetStringAsync("/metrics");
        Assert.Contains($"influxlike_replication_queue_bytes{{replication=\"{id}\"}} 0", metrics, StringComparison.Ordinal);
        Assert.Contains("influxlike_replication_failures_total{replication=\"" + id + "\",kind=\"network\"}", metrics, StringComparison.Ordinal);
    }

    /// <summary>A remote answering from a script of statuses, recording what it received.</summary>
    private sealed class ScriptedRemote : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<(int Status, string? RetryAfter)> _script;

        public ScriptedRemote(params (int Status, string? RetryAfter)[] script)
        {
            _script = new(script);
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            _app = builder.Build();
            _app.MapPost("/api/v2/write", async (HttpContext ctx) =>
            {
                using var gz = new GZipStream(ctx.Request.Body, CompressionMode.Decompress);
                using var reader = new StreamReader(gz);
                string body = await reader.ReadToEndAsync();
                Requests.Add((DateTime.UtcNow, ctx.Request.QueryString.Value!, ctx.Request.Headers.Authorization.ToString(), body));
                var (status, retryAfter) = _script.TryDequeue(out var next) ? next : (204, null);
                if (retryAfter is not null)
                {
                    ctx.Response.Headers.RetryAfter = retryAfter;
                }

                ctx.Response.StatusCode = status;
                if (status >= 400)
                {
                    await ctx.Response.WriteAsync($"{{\"code\":\"invalid\",\"message\":\"scripted {status}\"}}");
                }
            });
        }

        public ConcurrentBag<(DateTime At, string Query, string Auth, string Body)> Requests { get; } = [];

        public string Url => InfluxLikeServer.ListeningAddresses(_app)[0];

        public Task StartAsync() => _app.StartAsync();

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Busy_answers_are_retried_after_their_Retry_After_and_refused_batches_are_dropped_and_counted()
    {
        await using var remote = new ScriptedRemote((503, "1"), (429, "1"), (204, null), (400, null));
        await remote.StartAsync();
        string id = await CreateStreamAsync(_edge, remote.Url, "central-bucket");

        Assert.Equal(HttpStatusCode.NoContent, (await _edge.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics", new StringContent("m,host=a v=1 1700000000000000000\n"))).StatusCode);
        await WaitDrainedAsync(_edge, id, TimeSpan.FromSeconds(20));
        var attempts = remote.Requests.OrderBy(r => r.At).ToList();
        Assert.Equal(3, attempts.Count);
        Assert.True(attempts[1].At - attempts[0].At >= TimeSpan.FromSeconds(0.9), "Retry-After: 1 was not honoured");
        Assert.True(attempts[2].At - attempts[1].At >= TimeSpan.FromSeconds(0.9), "Retry-After: 1 was not honoured");
        Assert.All(attempts, a => Assert.Equal("m,host=a v=1 1700000000000000000\n", a.Body));
        Assert.Equal("?org=acme&bucket=central-bucket&precision=ns", attempts[0].Query);
        Assert.Equal("Token " + LiveServer.Token, attempts[0].Auth);

        // The next batch is refused for good (400): dropped, counted, and the stream goes on.
        Assert.Equal(HttpStatusCode.NoContent, (await _edge.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics", new StringContent("m,host=a v=2,w=3 1700000001000000000\n"))).StatusCode);
        await WaitDrainedAsync(_edge, id, TimeSpan.FromSeconds(20));
        var state = await StateAsync(_edge, id);
        Assert.Equal(2, (long)state["droppedPoints"]!);
        Assert.Equal(400, (int)state["latestResponseCode"]!);
        Assert.Equal(HttpStatusCode.NoContent, (await _edge.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics", new StringContent("m,host=a v=3 1700000002000000000\n"))).StatusCode);
        await WaitDrainedAsync(_edge, id, TimeSpan.FromSeconds(20));
        Assert.Equal(5, remote.Requests.Count);
        Assert.Equal(2, (long)(await StateAsync(_edge, id))["sentPoints"]!); // 1 delivered before the 400, 1 after
    }

    [Fact]
    public async Task Without_dropping_a_refused_batch_blocks_the_stream_and_nothing_is_lost()
    {
        await using var remote = new ScriptedRemote((422, null), (422, null));
        await remote.StartAsync();
        string id = await CreateStreamAsync(_edge, remote.Url, "b", drop: false);
        Assert.Equal(HttpStatusCode.NoContent, (await _edge.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics", new StringContent("m v=1 1\n"))).StatusCode);
        await WaitDrainedAsync(_edge, id, TimeSpan.FromSeconds(20)); // third attempt (after back-off) succeeds
        var state = await StateAsync(_edge, id);
        Assert.Equal(0, (long)state["droppedPoints"]!);
        Assert.Equal(1, (long)state["sentPoints"]!);
        Assert.Equal(3, remote.Requests.Count);
    }

    [Fact]
    public async Task A_full_queue_drops_new_data_from_the_stream_only_and_counts_it()
    {
        // No remote listens: everything stays queued. The smallest queue allowed is 64 KiB.
        string id = await CreateStreamAsync(_edge, "http://127.0.0.1:9/", "b", maxQueue: 64 << 10);
        string line = "m,host=h v=1 ";
        int written = 0;
        for (int b = 0; b < 40; b++)
        {
            string body = string.Concat(Enumerable.Range(0, 100).Select(i => line + (1_700_000_000_000_000_000L + (b * 1000L) + i) + "\n"));
            Assert.Equal(HttpStatusCode.NoContent, (await _edge.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics", new StringContent(body))).StatusCode);
            written += 100;
        }

        var state = await StateAsync(_edge, id);
        long queued = (long)state["currentQueueSizeBytes"]!;
        Assert.InRange(queued, 32 << 10, 64 << 10);
        Assert.True((long)state["droppedPoints"]! > 0);
        // Every point is still stored locally.
        string csv = await AllRowsAsync(_edge.Client);
        Assert.Equal(written + 4, csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Bad_definitions_get_clear_errors_and_a_used_remote_cannot_be_deleted()
    {
        string orgId = await _edge.OrgIdAsync();
        var bad = await _edge.Client.PostAsync("/api/v2/remotes", Json(new JsonObject
        {
            ["orgID"] = orgId, ["name"] = "x", ["remoteURL"] = "ftp://central", ["remoteAPIToken"] = "t", ["remoteOrgID"] = "o",
        }));
        Assert.Contains("remoteURL", (string)(await LiveServer.JsonAsync(bad, HttpStatusCode.BadRequest))["message"]!, StringComparison.Ordinal);

        string id = await CreateStreamAsync(_edge, "http://127.0.0.1:9/", "b");
        string remoteId = (string)(await StateAsync(_edge, id))["remoteID"]!;
        var refused = await _edge.Client.DeleteAsync("/api/v2/remotes/" + remoteId);
        Assert.Contains(id, (string)(await LiveServer.JsonAsync(refused, HttpStatusCode.Conflict))["message"]!, StringComparison.Ordinal);

        var noBucket = await _edge.Client.PostAsync("/api/v2/replications", Json(new JsonObject
        {
            ["orgID"] = orgId, ["name"] = "r", ["remoteID"] = remoteId, ["localBucketID"] = "0000000000000000", ["remoteBucketName"] = "b",
        }));
        Assert.Contains("localBucketID", (string)(await LiveServer.JsonAsync(noBucket, HttpStatusCode.BadRequest))["message"]!, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Unauthorized, (await _edge.Anonymous.GetAsync("/api/v2/replications")).StatusCode);
        var list = await LiveServer.JsonAsync(await _edge.Client.GetAsync("/api/v2/remotes"), HttpStatusCode.OK);
        Assert.DoesNotContain(LiveServer.Token, list.ToJsonString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await _edge.Client.DeleteAsync("/api/v2/replications/" + id)).StatusCode);
        Assert.False(Directory.Exists(Path.Combine(_edge.DataDir, "replications", id)));
        Assert.Equal(HttpStatusCode.NoContent, (await _edge.Client.DeleteAsync("/api/v2/remotes/" + remoteId)).StatusCode);
    }
}
