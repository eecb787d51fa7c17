using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using InfluxLike.Query.Csv;

namespace InfluxLike.Server.Tests;

public sealed class DeleteEndpointTests : IAsyncLifetime
{
    private readonly LiveServer _server = new();

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        var lines = new StringBuilder();
        for (int i = 0; i < 60; i++)
        {
            long t = 1_700_000_000 + (i * 60);
            lines.Append($"cpu,host=a,dc=x usage={i},idle={100 - i} {t}\ncpu,host=b,dc=y usage={i},idle={100 - i} {t}\nmem,host=a used={i}i {t}\n");
        }

        var r = await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s", new StringContent(lines.ToString()));
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
    }

    public Task DisposeAsync() => _server.DisposeAsync();

    private async Task<Dictionary<string, long>> CountsAsync()
    {
        var r = await _server.Client.PostAsync("/api/v2/query?org=acme", new StringContent(
            "from(bucket: \"metrics\") |> range(start: 2023-11-01T00:00:00Z) |> count()", Encoding.UTF8, "application/vnd.flux"));
        var tables = AnnotatedCsvReader.Read(await r.Content.ReadAsStringAsync());
        return tables.Select(t => t.Table).ToDictionary(
            t => $"{t.Column("_measurement")!.Get(0).AsString},{t.Column("host")!.Get(0).AsString},{t.Column("_field")!.Get(0).AsString}",
            t => t.Column("_value")!.Get(0).AsInt);
    }

    private Task<HttpResponseMessage> DeleteAsync(string start, string stop, string? predicate, HttpClient? client = null) =>
        (client ?? _server.Client).PostAsJsonAsync("/api/v2/delete?org=acme&bucket=metrics", new { start, stop, predicate });

    [Fact]
    public async Task Deletes_by_time_and_predicate_are_visible_at_once()
    {
        // 2023-11-14T22:13:20Z is the first point; minute 10 .. minute 19 inclusive.
        var r = await DeleteAsync("2023-11-14T22:23:20Z", "2023-11-14T22:32:20Z", "_measurement=\"cpu\" AND host=\"a\"");
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        var counts = await CountsAsync();
        Assert.Equal(50, counts["cpu,a,usage"]);
        Assert.Equal(50, counts["cpu,a,idle"]);
        Assert.Equal(60, counts["cpu,b,usage"]);
        Assert.Equal(60, counts["mem,a,used"]);

        // _field, OR and parentheses, which InfluxDB 2.x refuses.
        r = await DeleteAsync("2023-11-01T00:00:00Z", "2023-12-01T00:00:00Z", "(_field = \"idle\" and dc=\"y\") or _measurement = \"mem\"");
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        counts = await CountsAsync();
        Assert.False(counts.ContainsKey("cpu,b,idle"));
        Assert.False(counts.ContainsKey("mem,a,used"));
        Assert.Equal(60, counts["cpu,b,usage"]);
        Assert.Equal(50, counts["cpu,a,idle"]);

        // No predicate: everything in the range.
        r = await DeleteAsync("2023-11-01T00:00:00Z", "2023-12-01T00:00:00Z", null);
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        Assert.Empty(await CountsAsync());
    }

    [Theory]
    [InlineData("host=\"a\" AND", "column 13: expected a comparison")]
    [InlineData("host = a", "expected a quoted value")]
    [InlineData("host ~ \"a\"", "expected = or != after \"host\"")]
    [InlineData("(host=\"a\"", "expected \")\"")]
    public async Task Bad_predicates_are_refused_naming_the_column(string predicate, string expected)
    {
        var r = await DeleteAsync("2023-11-01T00:00:00Z", "2023-12-01T00:00:00Z", predicate);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        string message = (string)JsonNode.Parse(await r.Content.ReadAsStringAsync())!["message"]!;
        Assert.Contains("invalid delete predicate at column", message, StringComparison.Ordinal);
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.Equal(60, (await CountsAsync())["cpu,a,usage"]);
    }

    [Fact]
    public async Task Bad_requests_and_denials()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await DeleteAsync("yesterday", "2023-12-01T00:00:00Z", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await DeleteAsync("2023-12-01T00:00:00Z", "2023-11-01T00:00:00Z", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Client.PostAsJsonAsync("/api/v2/delete?org=acme&bucket=nope", new { start = "2023-11-01T00:00:00Z", stop = "2023-12-01T00:00:00Z" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await DeleteAsync("2023-11-01T00:00:00Z", "2023-12-01T00:00:00Z", null, _server.Anonymous)).StatusCode);

        string org = (string)JsonNode.Parse(await _server.Client.GetStringAsync("/api/v2/orgs"))!["orgs"]![0]!["id"]!;
        var created = await _server.Client.PostAsJsonAsync("/api/v2/authorizations", JsonNode.Parse($$$"""
            {"orgID": "{{{org}}}", "permissions": [{"action": "read", "resource": {"type": "buckets", "orgID": "{{{org}}}"}}]}
            """));
        using var reader = _server.WithToken((string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["token"]!);
        Assert.Equal(HttpStatusCode.Forbidden, (await DeleteAsync("2023-11-01T00:00:00Z", "2023-12-01T00:00:00Z", null, reader)).StatusCode);
        Assert.Equal(60, (await CountsAsync())["cpu,a,usage"]);
    }
}
