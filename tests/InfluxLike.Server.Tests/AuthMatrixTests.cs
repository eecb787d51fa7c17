using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using InfluxLike.Server.Security;

namespace InfluxLike.Server.Tests;

/// <summary>
/// Every endpoint × every kind of token (none, wrong, revoked, deleted, read-only, a token for another bucket,
/// the operator's) → the status it must answer. One server for the whole table: no row is allowed to change
/// anything, so the order does not matter. Failures list every wrong cell at once.
/// </summary>
public sealed class AuthMatrixTests : IAsyncLifetime
{
    private readonly LiveServer _server = new();
    private readonly Dictionary<string, string> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<TokenKind, HttpClient> _clients = [];

    public enum TokenKind
    {
        None,
        Wrong,
        Revoked,
        Deleted,
        ReadOnly,
        OtherBucket,
        Operator,
    }

    // Columns: none, wrong, revoked, deleted share one expectation (Anonymous); then read-only, other bucket, operator.
    // {bucket}, {org}, {auth}, {task} stand for the ids of bucket metrics, org acme, the operator's
    // authorization and a task reading metrics. Operator rows that would change something use ids or names that
    // do not exist (the 404 shows the request got past authorization) or bodies the handler rejects (400).
    public static TheoryData<string, string, string?, int, int, int, int> Endpoints => new()
    {
        // Open to everyone.
        { "GET", "/ping", null, 204, 204, 204, 204 },
        { "GET", "/health", null, 200, 200, 200, 200 },
        { "GET", "/ready", null, 200, 200, 200, 200 },
        { "GET", "/metrics", null, 200, 200, 200, 200 },
        { "GET", "/api/v2/setup", null, 200, 200, 200, 200 },
        { "POST", "/api/v2/setup", """{"username":"u","password":"password1","org":"o","bucket":"b"}""", 422, 422, 422, 422 },

        // Data.
        { "POST", "/api/v2/write?org=acme&bucket=metrics", "m f=1 1", 401, 403, 403, 204 },
        { "POST", "/api/v2/query?org=acme", """{"query":"from(bucket: \"metrics\") |> range(start: 0)"}""", 401, 200, 404, 200 },
        { "POST", "/api/v2/delete?org=acme&bucket=metrics", """{"start":"2000-01-01T00:00:00Z","stop":"2000-01-02T00:00:00Z","predicate":"_measurement=\"none\""}""", 401, 403, 403, 204 },
        { "GET", "/api/v2/backup?org=acme&bucket=metrics", null, 401, 200, 404, 200 },
        { "POST", "/api/v2/restore?org=acme&bucket=restored", "", 401, 403, 403, 400 },
        { "POST", "/write?db=metrics", "m f=1 1", 401, 403, 403, 204 },
        { "GET", "/query?db=metrics&q=SHOW%20DATABASES", null, 401, 200, 200, 200 },

        // Buckets.
        { "GET", "/api/v2/buckets", null, 401, 200, 200, 200 },
        { "POST", "/api/v2/buckets", """{"orgID":"{org}","name":"created","retentionRules":[]}""", 401, 403, 403, 201 },
        { "GET", "/api/v2/buckets/{bucket}", null, 401, 200, 403, 200 },
        { "PATCH", "/api/v2/buckets/{bucket}", """{"description":"changed"}""", 401, 403, 403, 200 },
        { "DELETE", "/api/v2/buckets/0000000000000000", null, 401, 404, 404, 404 },
        { "DELETE", "/api/v2/buckets/{bucket}", null, 401, 403, 403, -1 },

        // Organisations.
        { "GET", "/api/v2/orgs", null, 401, 200, 200, 200 },
        { "POST", "/api/v2/orgs", """{"name":"other-org"}""", 401, 403, 403, 201 },
        { "GET", "/api/v2/orgs/{org}", null, 401, 200, 200, 200 },
        { "DELETE", "/api/v2/orgs/{org}", null, 401, 403, 403, -1 },

        // Authorizations.
        { "GET", "/api/v2/authorizations", null, 401, 200, 200, 200 },
        { "POST", "/api/v2/authorizations", """{"orgID":"{org}","permissions":[{"action":"read","resource":{"type":"buckets","orgID":"{org}"}}]}""", 401, 403, 403, 201 },
        { "GET", "/api/v2/authorizations/{auth}", null, 401, 200, 404, 200 },
        { "PATCH", "/api/v2/authorizations/{auth}", """{"description":"changed"}""", 401, 403, 403, 200 },
        { "DELETE", "/api/v2/authorizations/{auth}", null, 401, 403, 403, -1 },

        // Tasks.
        { "GET", "/api/v2/tasks", null, 401, 200, 200, 200 },
        { "POST", "/api/v2/tasks", """{"org":"acme","flux":"option task = {name: \"t2\", every: 1h}\nfrom(bucket: \"metrics\") |> range(start: -1h)"}""", 401, 403, 403, 201 },
        { "GET", "/api/v2/tasks/{task}", null, 401, 200, 404, 200 },
        { "PATCH", "/api/v2/tasks/{task}", """{"status":"inactive"}""", 401, 403, 404, 200 },
        { "DELETE", "/api/v2/tasks/{task}", null, 401, 403, 404, -1 },
        { "GET", "/api/v2/tasks/{task}/runs", null, 401, 200, 404, 200 },
        { "POST", "/api/v2/tasks/{task}/runs", null, 401, 403, 404, -1 },
        { "GET", "/api/v2/tasks/{task}/runs/0000000000000000/logs", null, 401, 404, 404, 404 },
        { "POST", "/api/v2/rollups", """{"orgID":"{org}","bucket":"metrics","measurement":"m","levels":[]}""", 401, 403, 403, 400 },

        // Replication: remotes and streams ({remote} is a remote of acme; no stream exists).
        { "GET", "/api/v2/remotes", null, 401, 200, 200, 200 },
        { "POST", "/api/v2/remotes", """{"orgID":"{org}","name":"r2","remoteURL":"http://127.0.0.1:9","remoteAPIToken":"t","remoteOrgID":"o"}""", 401, 403, 403, 201 },
        { "GET", "/api/v2/remotes/{remote}", null, 401, 200, 404, 200 },
        { "PATCH", "/api/v2/remotes/{remote}", """{"description":"changed"}""", 401, 403, 404, 200 },
        { "DELETE", "/api/v2/remotes/0000000000000000", null, 401, 404, 404, 404 },
        { "GET", "/api/v2/replications", null, 401, 200, 200, 200 },
        { "POST", "/api/v2/replications", """{"orgID":"{org}","name":"s","remoteID":"0000000000000000","localBucketID":"{bucket}","remoteBucketName":"b"}""", 401, 403, 403, 400 },
        { "GET", "/api/v2/replications/0000000000000000", null, 401, 404, 404, 404 },
        { "PATCH", "/api/v2/replications/0000000000000000", "{}", 401, 404, 404, 404 },
        { "DELETE", "/api/v2/replications/0000000000000000", null, 401, 404, 404, 404 },

        // Storage administration: the status lists only the buckets the token may read.
        { "GET", "/api/v2/storage", null, 401, 200, 200, 200 },
        { "POST", "/api/v2/storage/compact?bucket=metrics", null, 401, 403, 403, 200 },
    };

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        string org = await _server.OrgIdAsync();
        _ids["org"] = org;
        JsonNode buckets = await LiveServer.JsonAsync(await _server.Client.GetAsync("/api/v2/buckets?name=metrics"), HttpStatusCode.OK);
        _ids["bucket"] = (string)buckets["buckets"]![0]!["id"]!;
        string other = (string)(await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/buckets", new JsonObject { ["orgID"] = org, ["name"] = "other", ["retentionRules"] = new JsonArray() }), HttpStatusCode.Created))["id"]!;
        JsonNode auths = await LiveServer.JsonAsync(await _server.Client.GetAsync("/api/v2/authorizations"), HttpStatusCode.OK);
        _ids["auth"] = (string)auths["authorizations"]![0]!["id"]!;
        JsonNode task = await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/tasks", new JsonObject
        {
            ["org"] = "acme",
            ["flux"] = "option task = {name: \"t\", every: 1h}\nfrom(bucket: \"metrics\") |> range(start: -1h)",
        }), HttpStatusCode.Created);
        _ids["task"] = (string)task["id"]!;
        JsonNode remote = await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/remotes", new JsonObject
        {
            ["orgID"] = org, ["name"] = "central", ["remoteURL"] = "http://127.0.0.1:9", ["remoteAPIToken"] = "t", ["remoteOrgID"] = "o",
        }), HttpStatusCode.Created);
        _ids["remote"] = (string)remote["id"]!;

        var readAll = new JsonArray();
        foreach (string type in Permission.ResourceTypes)
        {
            readAll.Add(new JsonObject { ["action"] = "read", ["resource"] = new JsonObject { ["type"] = type, ["orgID"] = org } });
        }

        var onlyOther = new JsonArray(
            new JsonObject { ["action"] = "read", ["resource"] = new JsonObject { ["type"] = "buckets", ["orgID"] = org, ["id"] = other } },
            new JsonObject { ["action"] = "write", ["resource"] = new JsonObject { ["type"] = "buckets", ["orgID"] = org, ["id"] = other } });
        var (revokedId, revoked) = await CreateTokenAsync(org, readAll.DeepClone().AsArray());
        var (deletedId, deleted) = await CreateTokenAsync(org, readAll.DeepClone().AsArray());
        var (_, readOnly) = await CreateTokenAsync(org, readAll);
        var (_, otherBucket) = await CreateTokenAsync(org, onlyOther);
        var patch = new HttpRequestMessage(HttpMethod.Patch, "/api/v2/authorizations/" + revokedId) { Content = JsonContent.Create(new { status = "inactive" }) };
        await LiveServer.JsonAsync(await _server.Client.SendAsync(patch), HttpStatusCode.OK);
        await LiveServer.JsonAsync(await _server.Client.DeleteAsync("/api/v2/authorizations/" + deletedId), HttpStatusCode.NoContent);

        _clients[TokenKind.None] = _server.Anonymous;
        _clients[TokenKind.Wrong] = _server.WithToken(LiveServer.Token + "x"); // one character off a real token
        _clients[TokenKind.Revoked] = _server.WithToken(revoked);
        _clients[TokenKind.Deleted] = _server.WithToken(deleted);
        _clients[TokenKind.ReadOnly] = _server.WithToken(readOnly);
        _clients[TokenKind.OtherBucket] = _server.WithToken(otherBucket);
        _clients[TokenKind.Operator] = _server.Client;
    }

    public Task DisposeAsync() => _server.DisposeAsync();

    private async Task<(string Id, string Token)> CreateTokenAsync(string org, JsonArray permissions)
    {
        JsonNode node = await LiveServer.JsonAsync(
            await _server.Client.PostAsJsonAsync("/api/v2/authorizations", new JsonObject { ["orgID"] = org, ["description"] = "matrix", ["permissions"] = permissions }),
            HttpStatusCode.Created);
        return ((string)node["id"]!, (string)node["token"]!);
    }

    private string Fill(string text)
    {
        foreach (var (name, id) in _ids)
        {
            text = text.Replace("{" + name + "}", id, StringComparison.Ordinal);
        }

        return text;
    }

    private async Task<int> SendAsync(TokenKind kind, string method, string path, string? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), Fill(path));
        if (body is not null)
        {
            string mediaType = body.StartsWith('{') ? "application/json" : path.Contains("restore", StringComparison.Ordinal) ? "application/x-tar" : "text/plain";
            request.Content = new StringContent(Fill(body), Encoding.UTF8, mediaType);
        }

        using HttpResponseMessage response = await _clients[kind].SendAsync(request);
        return (int)response.StatusCode;
    }

    [Fact]
    public async Task Every_endpoint_answers_every_kind_of_token_with_the_right_status()
    {
        var wrong = new List<string>();
        int cells = 0;
        foreach (object[] row in Endpoints)
        {
            var (method, path, body) = ((string)row[0], (string)row[1], (string?)row[2]);
            var expected = new Dictionary<TokenKind, int>
            {
                [TokenKind.None] = (int)row[3],
                [TokenKind.Wrong] = (int)row[3],
                [TokenKind.Revoked] = (int)row[3],
                [TokenKind.Deleted] = (int)row[3],
                [TokenKind.ReadOnly] = (int)row[4],
                [TokenKind.OtherBucket] = (int)row[5],
                [TokenKind.Operator] = (int)row[6],
            };
            foreach (var (kind, status) in expected)
            {
                if (status < 0)
                {
                    continue; // the operator would change what later rows rely on
                }

                cells++;
                int actual = await SendAsync(kind, method, path, body);
                if (actual != status)
                {
                    wrong.Add($"{method} {path} with {kind}: {actual}, expected {status}");
                }
            }
        }

        Assert.True(wrong.Count == 0, $"{wrong.Count} of {cells} cells wrong:\n" + string.Join('\n', wrong));
        Assert.True(cells > 250, "the table covers every endpoint");
    }
}
