using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace InfluxLike.Server.Tests;

/// <summary>Setup, tokens and permissions: every denial answers the right status and nothing leaks.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    private readonly LiveServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    private async Task<string> CreateBucketAsync(string name)
    {
        var body = new JsonObject { ["orgID"] = await _server.OrgIdAsync(), ["name"] = name, ["retentionRules"] = new JsonArray(new JsonObject { ["type"] = "expire", ["everySeconds"] = 0 }) };
        return (string)(await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/buckets", body), HttpStatusCode.Created))["id"]!;
    }

    private async Task<(string Id, string Token)> CreateTokenAsync(params (string Action, string Type, string? Id)[] permissions)
    {
        string org = await _server.OrgIdAsync();
        var perms = new JsonArray();
        foreach (var (action, type, id) in permissions)
        {
            var resource = new JsonObject { ["type"] = type, ["orgID"] = org };
            if (id is not null)
            {
                resource["id"] = id;
            }

            perms.Add(new JsonObject { ["action"] = action, ["resource"] = resource });
        }

        var node = await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/authorizations", new JsonObject { ["orgID"] = org, ["description"] = "test", ["permissions"] = perms }), HttpStatusCode.Created);
        return ((string)node["id"]!, (string)node["token"]!);
    }

    private static StringContent Lines(string text) => new(text, Encoding.UTF8, "text/plain");

    private static StringContent Flux(string script) => new(script, Encoding.UTF8, "application/vnd.flux");

    [Fact]
    public async Task Requests_without_a_valid_token_are_refused_but_health_is_open()
    {
        foreach (var client in new[] { _server.Anonymous, _server.WithToken("wrong-token") })
        {
            var write = await client.PostAsync("/api/v2/write?org=acme&bucket=metrics", Lines("m f=1 1"));
            var node = await LiveServer.JsonAsync(write, HttpStatusCode.Unauthorized);
            Assert.Equal("unauthorized", (string)node["code"]!);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("/api/v2/query?org=acme", Flux("buckets()"))).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v2/buckets")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v2/authorizations")).StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync("/ping")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/metrics")).StatusCode);
        }
    }

    [Fact]
    public async Task Setup_is_refused_once_done_and_tokens_are_stored_hashed()
    {
        var allowed = await LiveServer.JsonAsync(await _server.Anonymous.GetAsync("/api/v2/setup"), HttpStatusCode.OK);
        Assert.False((bool)allowed["allowed"]!);
        var again = await _server.Anonymous.PostAsJsonAsync("/api/v2/setup", new { username = "x", password = "password1", org = "o2", bucket = "b2" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, again.StatusCode);

        var (_, token) = await CreateTokenAsync(("read", "buckets", null));
        Assert.True(token.Length >= 43, "256 random bits");
        string stored = await File.ReadAllTextAsync(Path.Combine(_server.DataDir, "auth.json"));
        Assert.DoesNotContain(token, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(LiveServer.Token, stored, StringComparison.Ordinal);

        // The list never shows secrets.
        string list = await (await _server.Client.GetAsync("/api/v2/authorizations")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(token, list, StringComparison.Ordinal);
        Assert.DoesNotContain("\"token\"", list, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_token_cannot_write_and_bucket_token_cannot_touch_another_bucket()
    {
        string a = await CreateBucketAsync("a");
        string b = await CreateBucketAsync("b");
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=b&precision=s", Lines("m f=2 1700000000"))).StatusCode);

        var (_, readAll) = await CreateTokenAsync(("read", "buckets", null));
        using var reader = _server.WithToken(readAll);
        var denied = await LiveServer.JsonAsync(await reader.PostAsync("/api/v2/write?org=acme&bucket=a", Lines("m f=1 1")), HttpStatusCode.Forbidden);
        Assert.Contains("write to bucket \"a\"", (string)denied["message"]!, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await reader.PostAsync("/api/v2/query?org=acme", Flux("from(bucket: \"b\") |> range(start: 0)"))).StatusCode);

        var (_, onlyA) = await CreateTokenAsync(("read", "buckets", a), ("write", "buckets", a));
        using var writerA = _server.WithToken(onlyA);
        Assert.Equal(HttpStatusCode.NoContent, (await writerA.PostAsync("/api/v2/write?org=acme&bucket=a&precision=s", Lines("m f=1 1700000000"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await writerA.PostAsync("/api/v2/write?org=acme&bucket=b", Lines("m f=1 1"))).StatusCode);

        // Reading bucket b with a token for a: the bucket is invisible, as if it did not exist.
        var q = await writerA.PostAsync("/api/v2/query?org=acme", Flux("from(bucket: \"b\") |> range(start: 0)"));
        var node = await LiveServer.JsonAsync(q, HttpStatusCode.NotFound);
        Assert.Contains("could not find bucket \"b\"", (string)node["message"]!, StringComparison.Ordinal);
        string bucketsCsv = await (await writerA.PostAsync("/api/v2/query?org=acme", Flux("buckets()"))).Content.ReadAsStringAsync();
        Assert.Contains(",a,", bucketsCsv, StringComparison.Ordinal);
        Assert.DoesNotContain(",b,", bucketsCsv, StringComparison.Ordinal);

        // Bucket management follows the same permissions.
        Assert.Equal(HttpStatusCode.Forbidden, (await writerA.DeleteAsync($"/api/v2/buckets/{b}")).StatusCode);
        var listed = await LiveServer.JsonAsync(await writerA.GetAsync("/api/v2/buckets"), HttpStatusCode.OK);
        Assert.Equal(["a"], listed["buckets"]!.AsArray().Select(x => (string)x!["name"]!));
        Assert.Equal(HttpStatusCode.Forbidden, (await writerA.PostAsJsonAsync("/api/v2/buckets", new { orgID = await _server.OrgIdAsync(), name = "c" })).StatusCode);
    }

    [Fact]
    public async Task A_token_cannot_grant_more_than_it_holds_and_inactive_or_deleted_tokens_stop_working()
    {
        string a = await CreateBucketAsync("a");
        var (id, limited) = await CreateTokenAsync(("read", "buckets", a), ("write", "authorizations", null), ("read", "authorizations", null));
        using var client = _server.WithToken(limited);
        string org = await _server.OrgIdAsync();
        var escalate = await client.PostAsJsonAsync("/api/v2/authorizations", JsonNode.Parse($$$"""
            {"orgID": "{{{org}}}", "permissions": [{"action": "write", "resource": {"type": "buckets", "orgID": "{{{org}}}"}}]}
            """));
        Assert.Equal(HttpStatusCode.Forbidden, escalate.StatusCode);
        var same = await client.PostAsJsonAsync("/api/v2/authorizations", JsonNode.Parse($$$"""
            {"orgID": "{{{org}}}", "permissions": [{"action": "read", "resource": {"type": "buckets", "id": "{{{a}}}", "orgID": "{{{org}}}"}}]}
            """));
        Assert.Equal(HttpStatusCode.Created, same.StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v2/buckets")).StatusCode);
        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/v2/authorizations/{id}") { Content = JsonContent.Create(new { status = "inactive" }) };
        Assert.Equal(HttpStatusCode.OK, (await _server.Client.SendAsync(patch)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v2/buckets")).StatusCode);
        patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/v2/authorizations/{id}") { Content = JsonContent.Create(new { status = "active" }) };
        Assert.Equal(HttpStatusCode.OK, (await _server.Client.SendAsync(patch)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v2/buckets")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Client.DeleteAsync($"/api/v2/authorizations/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v2/buckets")).StatusCode);
    }

    [Fact]
    public async Task A_token_may_act_on_the_authorizations_it_is_given_and_no_other()
    {
        var (otherId, _) = await CreateTokenAsync(("read", "buckets", null));
        var (victimId, _) = await CreateTokenAsync(("read", "buckets", null));
        var (_, limited) = await CreateTokenAsync(("write", "authorizations", victimId), ("read", "authorizations", victimId));
        using var client = _server.WithToken(limited);
        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/v2/authorizations/{otherId}") { Content = JsonContent.Create(new { status = "inactive" }) };
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(patch)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.DeleteAsync($"/api/v2/authorizations/{otherId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v2/authorizations/{victimId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Client.GetAsync($"/api/v2/authorizations/{victimId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _server.Client.GetAsync($"/api/v2/authorizations/{otherId}")).StatusCode);
    }

    [Fact]
    public async Task Bad_permissions_are_refused_with_a_clear_message()
    {
        string org = await _server.OrgIdAsync();
        var response = await _server.Client.PostAsJsonAsync("/api/v2/authorizations", JsonNode.Parse($$$"""
            {"orgID": "{{{org}}}", "permissions": [{"action": "delete", "resource": {"type": "buckets"}}]}
            """));
        var node = await LiveServer.JsonAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("invalid permission action \"delete\"", (string)node["message"]!, StringComparison.Ordinal);
        response = await _server.Client.PostAsJsonAsync("/api/v2/authorizations", JsonNode.Parse($$$"""
            {"orgID": "{{{org}}}", "permissions": [{"action": "read", "resource": {"type": "galaxies"}}]}
            """));
        node = await LiveServer.JsonAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("invalid permission resource type \"galaxies\"", (string)node["message"]!, StringComparison.Ordinal);
        response = await _server.Client.PostAsync("/api/v2/authorizations", new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task The_operator_token_survives_a_restart_and_init_options_are_then_ignored()
    {
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s", Lines("m f=1 1700000000"))).StatusCode);
        await _server.StopAsync();
        await _server.StartAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s", Lines("m f=2 1700000001"))).StatusCode);
        var orgs = await LiveServer.JsonAsync(await _server.Client.GetAsync("/api/v2/orgs"), HttpStatusCode.OK);
        Assert.Single(orgs["orgs"]!.AsArray());
    }
}

/// <summary>First-run setup over HTTP on a fresh data folder (no --init-* options).</summary>
public sealed class SetupTests : IAsyncLifetime
{
    private readonly LiveServer _server = LiveServer.With(o => o with { InitOrg = null, InitBucket = null, InitToken = null });

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task Setup_creates_org_bucket_and_an_operator_token_once()
    {
        var allowed = JsonNode.Parse(await _server.Anonymous.GetStringAsync("/api/v2/setup"))!;
        Assert.True((bool)allowed["allowed"]!);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Anonymous.GetAsync("/api/v2/buckets")).StatusCode);

        var bad = await _server.Anonymous.PostAsJsonAsync("/api/v2/setup", new { username = "me", org = "", bucket = "b" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        var response = await _server.Anonymous.PostAsJsonAsync("/api/v2/setup", new { username = "me", password = "secret-password", org = "home", bucket = "sensors", retentionPeriodSeconds = 7 * 86400 });
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        var node = JsonNode.Parse(body)!;
        string token = (string)node["auth"]!["token"]!;
        Assert.Equal("sensors", (string)node["bucket"]!["name"]!);
        Assert.Equal(7 * 86400, (long)node["bucket"]!["retentionRules"]![0]!["everySeconds"]!);
        Assert.DoesNotContain("secret-password", await File.ReadAllTextAsync(Path.Combine(_server.DataDir, "auth.json")), StringComparison.Ordinal);

        using var client = _server.WithToken(token);
        var write = await client.PostAsync("/api/v2/write?org=home&bucket=sensors&precision=s", new StringContent($"t v=1 {DateTimeOffset.UtcNow.ToUnixTimeSeconds()}")); // within the 7-day retention
        Assert.Equal(HttpStatusCode.NoContent, write.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _server.Anonymous.PostAsJsonAsync("/api/v2/setup", new { username = "x", org = "o", bucket = "b" })).StatusCode);
        Assert.False((bool)JsonNode.Parse(await _server.Anonymous.GetStringAsync("/api/v2/setup"))!["allowed"]!);
    }
}

/// <summary>With authentication turned off, requests need no token.</summary>
public sealed class AuthDisabledTests : IAsyncLifetime
{
    private readonly LiveServer _server = LiveServer.With(o => o with { AuthEnabled = false });

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task Anonymous_requests_work()
    {
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Anonymous.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s", new StringContent("m f=1 1700000000"))).StatusCode);
        var q = await _server.Anonymous.PostAsync("/api/v2/query?org=acme", new StringContent("from(bucket: \"metrics\") |> range(start: 0) |> count()", Encoding.UTF8, "application/vnd.flux"));
        Assert.Equal(HttpStatusCode.OK, q.StatusCode);
        var table = Assert.Single(InfluxLike.Query.Csv.AnnotatedCsvReader.Read(await q.Content.ReadAsStringAsync())).Table;
        Assert.Equal(1, table.Column("_value")!.Get(0).AsInt);
        using var doc = JsonDocument.Parse(await _server.Anonymous.GetStringAsync("/api/v2/buckets"));
        Assert.Equal("metrics", doc.RootElement.GetProperty("buckets")[0].GetProperty("name").GetString());
    }
}
