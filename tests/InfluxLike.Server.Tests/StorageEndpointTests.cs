using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace InfluxLike.Server.Tests;

/// <summary>The storage status view, the compaction trigger, bucket size limits and the full-disk refusal, over HTTP.</summary>
public sealed class StorageEndpointTests : IAsyncLifetime
{
    private readonly LiveServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    private async Task WriteAsync(int from, int to)
    {
        var lines = new StringBuilder();
        for (int i = from; i < to; i++)
        {
            lines.Append($"cpu,host=h{i % 10} usage={i} {1_700_000_000 + i}\n");
        }

        var r = await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s", new StringContent(lines.ToString()));
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
    }

    private async Task<JsonNode> BucketStatusAsync(HttpClient? client = null)
    {
        JsonNode status = await LiveServer.JsonAsync(await (client ?? _server.Client).GetAsync("/api/v2/storage"), HttpStatusCode.OK);
        return status["buckets"]!.AsArray().Single(b => (string)b!["name"]! == LiveServer.Bucket)!;
    }

    private static double Metric(string exposition, string name) =>
        exposition.Split('\n').Where(l => l.StartsWith(name, StringComparison.Ordinal)).Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Sum();

    [Fact]
    public async Task Compact_writes_caches_to_disk_and_leaves_one_fully_compacted_file_the_status_shows()
    {
        string before = await _server.Anonymous.GetStringAsync("/metrics");
        await WriteAsync(0, 500);
        JsonNode compacted = await LiveServer.JsonAsync(await _server.Client.PostAsync("/api/v2/storage/compact", null), HttpStatusCode.OK);
        Assert.Equal(0, (int)compacted["compactions"]!); // one snapshot file: nothing to merge
        JsonNode shard = (await BucketStatusAsync())["shards"]!.AsArray().Single()!;
        Assert.Equal(1, (int)shard["files"]!);
        Assert.Equal(0, (long)shard["cacheBytes"]!);
        Assert.Equal(1, (int)shard["filesPerLevel"]!["1"]!);

        await WriteAsync(500, 1000);
        compacted = await LiveServer.JsonAsync(await _server.Client.PostAsync("/api/v2/storage/compact", null), HttpStatusCode.OK);
        Assert.Equal(1, (int)compacted["compactions"]!);
        Assert.True((long)compacted["outputBytes"]! > 0);
        shard = (await BucketStatusAsync())["shards"]!.AsArray().Single()!;
        Assert.Equal(1, (int)shard["files"]!);
        Assert.Equal(1, (int)shard["filesPerLevel"]!["4"]!);
        Assert.False((bool)shard["compactionDue"]!);
        Assert.Equal("2023-11-14T00:00:00Z".Length, ((string)shard["start"]!).Length);

        string after = await _server.Anonymous.GetStringAsync("/metrics");
        Assert.Equal(1, Metric(after, "influxlike_storage_compactions_total{level=\"full\"}") - Metric(before, "influxlike_storage_compactions_total{level=\"full\"}"));
        Assert.Contains("influxlike_storage_tsm_files_per_level{bucket=\"metrics\",level=\"4\"} 1", after, StringComparison.Ordinal);
        Assert.Contains("influxlike_storage_compaction_queue ", after, StringComparison.Ordinal);

        // Every point is still there, read from the one compacted file.
        var q = await _server.Client.PostAsync("/api/v2/query?org=acme", new StringContent(
            "from(bucket: \"metrics\") |> range(start: 2023-11-01T00:00:00Z) |> group() |> count()", Encoding.UTF8, "application/vnd.flux"));
        Assert.Contains(",1000\r\n", await q.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_operators_compact_and_status_shows_only_readable_buckets()
    {
        await WriteAsync(0, 10);
        string org = await _server.OrgIdAsync();
        string other = (string)(await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/buckets", new JsonObject { ["orgID"] = org, ["name"] = "other" }), HttpStatusCode.Created))["id"]!;
        await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=other", new StringContent("m v=1 1"));
        string metricsId = (string)(await LiveServer.JsonAsync(await _server.Client.GetAsync("/api/v2/buckets?name=metrics"), HttpStatusCode.OK))["buckets"]![0]!["id"]!;
        var perms = new JsonArray(new JsonObject { ["action"] = "read", ["resource"] = new JsonObject { ["type"] = "buckets", ["orgID"] = org, ["id"] = metricsId } });
        string token = (string)(await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/authorizations", new JsonObject { ["orgID"] = org, ["permissions"] = perms }), HttpStatusCode.Created))["token"]!;
        using HttpClient reader = _server.WithToken(token);

        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync("/api/v2/storage/compact", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Anonymous.GetAsync("/api/v2/storage")).StatusCode);
        JsonNode status = await LiveServer.JsonAsync(await reader.GetAsync("/api/v2/storage"), HttpStatusCode.OK);
        Assert.Equal(["metrics"], status["buckets"]!.AsArray().Select(b => (string)b!["name"]!));
        JsonNode all = await LiveServer.JsonAsync(await _server.Client.GetAsync("/api/v2/storage"), HttpStatusCode.OK);
        Assert.Contains(all["buckets"]!.AsArray(), b => (string)b!["id"]! == other);
    }

    [Fact]
    public async Task A_delete_shows_its_index_clean_up_in_the_status()
    {
        await WriteAsync(0, 100);
        var r = await _server.Client.PostAsJsonAsync("/api/v2/delete?org=acme&bucket=metrics", new { start = "2023-01-01T00:00:00Z", stop = "2024-01-01T00:00:00Z", predicate = "host=\"h3\"" });
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        JsonNode? delete = null;
        for (int i = 0; i < 100 && delete?["done"]?.GetValue<bool>() != true; i++)
        {
            JsonNode status = await LiveServer.JsonAsync(await _server.Client.GetAsync("/api/v2/storage"), HttpStatusCode.OK);
            delete = status["deletes"]!.AsArray().LastOrDefault();
            await Task.Delay(20);
        }

        Assert.NotNull(delete);
        Assert.True((bool)delete["done"]!);
        Assert.Equal(1, (long)delete["series"]!);
        Assert.Equal(1, (long)delete["removedFromIndex"]!);
    }

    [Fact]
    public async Task Bucket_size_limits_go_through_the_bucket_api()
    {
        string org = await _server.OrgIdAsync();
        JsonNode created = await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/buckets", new JsonObject { ["orgID"] = org, ["name"] = "capped", ["maxSizeBytes"] = 1_000_000 }), HttpStatusCode.Created);
        Assert.Equal(1_000_000, (long)created["maxSizeBytes"]!);
        string id = (string)created["id"]!;
        JsonNode patched = await LiveServer.JsonAsync(await _server.Client.PatchAsJsonAsync("/api/v2/buckets/" + id, new JsonObject { ["maxSizeBytes"] = 0 }), HttpStatusCode.OK);
        Assert.Equal(0, (long)patched["maxSizeBytes"]!);
        var bad = await _server.Client.PatchAsJsonAsync("/api/v2/buckets/" + id, new JsonObject { ["maxSizeBytes"] = -5 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("maxSizeBytes", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

/// <summary>A disk (nearly) full: writes answer 507 with a clear message, queries and deletes still work.</summary>
public sealed class FullDiskTests : IAsyncLifetime
{
    // A reserve larger than any disk: the server always sees its disk as too full to write.
    private readonly LiveServer _server = LiveServer.With(o => o with { StorageMinFreeDisk = long.MaxValue / 2 });

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task Writes_get_507_with_the_reason_and_reads_still_answer()
    {
        var r = await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics", new StringContent("cpu v=1 1"));
        Assert.Equal((HttpStatusCode)507, r.StatusCode);
        Assert.True(r.Headers.RetryAfter is not null);
        string message = (string)JsonNode.Parse(await r.Content.ReadAsStringAsync())!["message"]!;
        Assert.Contains("storage-min-free-disk", message, StringComparison.Ordinal);

        var q = await _server.Client.PostAsync("/api/v2/query?org=acme", new StringContent("from(bucket: \"metrics\") |> range(start: 0)", Encoding.UTF8, "application/vnd.flux"));
        Assert.Equal(HttpStatusCode.OK, q.StatusCode);
        var d = await _server.Client.PostAsJsonAsync("/api/v2/delete?org=acme&bucket=metrics", new { start = "1970-01-01T00:00:00Z", stop = "2030-01-01T00:00:00Z" });
        Assert.Equal(HttpStatusCode.NoContent, d.StatusCode);
        JsonNode status = await LiveServer.JsonAsync(await _server.Client.GetAsync("/api/v2/storage"), HttpStatusCode.OK);
        Assert.True((bool)status["writesRefused"]!);
    }
}
