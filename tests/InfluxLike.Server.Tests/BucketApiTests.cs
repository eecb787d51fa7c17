using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace InfluxLike.Server.Tests;

public sealed class BucketApiTests : IAsyncLifetime
{
    private readonly LiveServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task Create_list_update_retention_and_delete()
    {
        string org = await _server.OrgIdAsync();
        var created = await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/buckets", JsonNode.Parse($$"""
            {"orgID": "{{org}}", "name": "week", "description": "seven days", "retentionRules": [{"type": "expire", "everySeconds": 604800}]}
            """)), HttpStatusCode.Created);
        string id = (string)created["id"]!;
        Assert.Equal(604800, (long)created["retentionRules"]![0]!["everySeconds"]!);
        Assert.Equal(86400, (long)created["retentionRules"]![0]!["shardGroupDurationSeconds"]!); // InfluxDB's default for 7 d
        Assert.Equal(org, (string)created["orgID"]!);

        var dup = await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/buckets", new { orgID = org, name = "week" }), HttpStatusCode.UnprocessableEntity);
        Assert.Contains("already exists", (string)dup["message"]!, StringComparison.Ordinal);
        var shortRetention = await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/buckets", JsonNode.Parse($$"""
            {"orgID": "{{org}}", "name": "tiny", "retentionRules": [{"type": "expire", "everySeconds": 60}]}
            """)), HttpStatusCode.UnprocessableEntity);
        Assert.Contains("at least 1h", (string)shortRetention["message"]!, StringComparison.Ordinal);
        await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/buckets", new { orgID = "0123456789abcdef", name = "x" }), HttpStatusCode.NotFound);
        await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/buckets", new { orgID = org, name = "_system" }), HttpStatusCode.BadRequest);

        var list = await LiveServer.JsonAsync(await _server.Client.GetAsync("/api/v2/buckets?org=acme"), HttpStatusCode.OK);
        Assert.Equal(["metrics", "week"], list["buckets"]!.AsArray().Select(b => (string)b!["name"]!).Order());
        var byName = await LiveServer.JsonAsync(await _server.Client.GetAsync("/api/v2/buckets?name=week"), HttpStatusCode.OK);
        Assert.Equal(id, (string)byName["buckets"]![0]!["id"]!);

        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/v2/buckets/{id}")
        {
            Content = JsonContent.Create(JsonNode.Parse("""{"name": "month", "retentionRules": [{"type": "expire", "everySeconds": 2592000}]}""")),
        };
        var updated = await LiveServer.JsonAsync(await _server.Client.SendAsync(patch), HttpStatusCode.OK);
        Assert.Equal("month", (string)updated["name"]!);
        Assert.Equal(2592000, (long)updated["retentionRules"]![0]!["everySeconds"]!);
        Assert.Equal("seven days", (string)updated["description"]!);
        var fetched = await LiveServer.JsonAsync(await _server.Client.GetAsync($"/api/v2/buckets/{id}"), HttpStatusCode.OK);
        Assert.Equal("month", (string)fetched["name"]!);

        // Data goes with the bucket; a new bucket of the same name starts empty.
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=month&precision=s", new StringContent($"m f=1 {DateTimeOffset.UtcNow.ToUnixTimeSeconds()}"))).StatusCode); // within the 30-day retention
        Assert.True(Directory.Exists(Path.Combine(_server.DataDir, "engine", "buckets", id)));
        await LiveServer.JsonAsync(await _server.Client.DeleteAsync($"/api/v2/buckets/{id}"), HttpStatusCode.NoContent);
        Assert.False(Directory.Exists(Path.Combine(_server.DataDir, "engine", "buckets", id)));
        await LiveServer.JsonAsync(await _server.Client.GetAsync($"/api/v2/buckets/{id}"), HttpStatusCode.NotFound);
        await LiveServer.JsonAsync(await _server.Client.DeleteAsync($"/api/v2/buckets/{id}"), HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=month", new StringContent("m f=1 1"))).StatusCode);
        await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/buckets", new { orgID = org, name = "month" }), HttpStatusCode.Created);
        var q = await _server.Client.PostAsync("/api/v2/query?org=acme", new StringContent("from(bucket: \"month\") |> range(start: 0)", Encoding.UTF8, "application/vnd.flux"));
        Assert.Equal(HttpStatusCode.OK, q.StatusCode);
        Assert.DoesNotContain("_result", await q.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Organizations_can_be_created_listed_and_deleted_when_empty()
    {
        var created = await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/orgs", new { name = "second", description = "another" }), HttpStatusCode.Created);
        string id = (string)created["id"]!;
        await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/orgs", new { name = "second" }), HttpStatusCode.UnprocessableEntity);
        var orgs = await LiveServer.JsonAsync(await _server.Client.GetAsync("/api/v2/orgs"), HttpStatusCode.OK);
        Assert.Equal(["acme", "second"], orgs["orgs"]!.AsArray().Select(o => (string)o!["name"]!).Order());
        await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/buckets", new { orgID = id, name = "b" }), HttpStatusCode.Created);
        var busy = await LiveServer.JsonAsync(await _server.Client.DeleteAsync($"/api/v2/orgs/{id}"), HttpStatusCode.UnprocessableEntity);
        Assert.Contains("still has buckets", (string)busy["message"]!, StringComparison.Ordinal);
        string bucket = (string)(await LiveServer.JsonAsync(await _server.Client.GetAsync($"/api/v2/buckets?orgID={id}"), HttpStatusCode.OK))["buckets"]![0]!["id"]!;
        await LiveServer.JsonAsync(await _server.Client.DeleteAsync($"/api/v2/buckets/{bucket}"), HttpStatusCode.NoContent);
        await LiveServer.JsonAsync(await _server.Client.DeleteAsync($"/api/v2/orgs/{id}"), HttpStatusCode.NoContent);
        await LiveServer.JsonAsync(await _server.Client.GetAsync($"/api/v2/orgs/{id}"), HttpStatusCode.NotFound);
    }
}
