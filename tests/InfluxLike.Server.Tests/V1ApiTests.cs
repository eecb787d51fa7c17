using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using InfluxLike.Query.Csv;

namespace InfluxLike.Server.Tests;

/// <summary>InfluxDB 1.x compatibility: what Telegraf's outputs.influxdb and v1 scripts send.</summary>
public sealed class V1ApiTests : IAsyncLifetime
{
    private readonly LiveServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    private static FormUrlEncodedContent Q(string q) => new([new KeyValuePair<string, string>("q", q)]);

    private async Task<long> CountAsync(string bucket)
    {
        var r = await _server.Client.PostAsync("/api/v2/query?org=acme", new StringContent($"from(bucket: \"{bucket}\") |> range(start: 0) |> group() |> count()", Encoding.UTF8, "application/vnd.flux"));
        var tables = AnnotatedCsvReader.Read(await r.Content.ReadAsStringAsync());
        return tables.Count == 0 ? 0 : tables[0].Table.Column("_value")!.Get(0).AsInt;
    }

    [Fact]
    public async Task Unknown_database_is_404_in_v1_shape_then_create_database_write_and_show()
    {
        var write = await _server.Client.PostAsync("/write?db=telegraf", new StringContent("cpu usage=1 1700000000000000000"));
        Assert.Equal(HttpStatusCode.NotFound, write.StatusCode);
        Assert.Equal("database not found: \"telegraf\"", (string)JsonNode.Parse(await write.Content.ReadAsStringAsync())!["error"]!);

        var create = await _server.Client.PostAsync("/query", Q("CREATE DATABASE \"telegraf\""));
        Assert.Equal(HttpStatusCode.OK, create.StatusCode);
        Assert.Equal("""{"results":[{"statement_id":0}]}""", await create.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await _server.Client.PostAsync("/query", Q("CREATE DATABASE telegraf"))).StatusCode); // idempotent

        write = await _server.Client.PostAsync("/write?db=telegraf&precision=s", new StringContent("cpu,host=a usage=1 1700000000\ncpu,host=a usage=2 1700000010\n"));
        Assert.Equal(HttpStatusCode.NoContent, write.StatusCode);
        Assert.Equal(2, await CountAsync("telegraf"));

        var show = await _server.Client.GetAsync("/query?q=" + Uri.EscapeDataString("SHOW DATABASES"));
        var series = JsonNode.Parse(await show.Content.ReadAsStringAsync())!["results"]![0]!["series"]![0]!;
        Assert.Equal("databases", (string)series["name"]!);
        Assert.Equal(["metrics", "telegraf"], series["values"]!.AsArray().Select(v => (string)v![0]!));

        var two = await _server.Client.GetAsync("/query?q=" + Uri.EscapeDataString("CREATE DATABASE x WITH DURATION 7d; SELECT * FROM cpu"));
        var results = JsonNode.Parse(await two.Content.ReadAsStringAsync())!["results"]!.AsArray();
        Assert.Equal(2, results.Count);
        Assert.Null(results[0]!["error"]);
        Assert.Contains("not supported", (string)results[1]!["error"]!, StringComparison.Ordinal);
        var buckets = JsonNode.Parse(await _server.Client.GetStringAsync("/api/v2/buckets?name=x"))!;
        Assert.Equal(7 * 86400, (long)buckets["buckets"]![0]!["retentionRules"]![0]!["everySeconds"]!);
    }

    [Fact]
    public async Task V1_credentials_basic_auth_and_u_p_parameters_carry_the_token()
    {
        using var anonymous = _server.Anonymous;
        var denied = await anonymous.PostAsync("/write?db=metrics", new StringContent("m f=1 1"));
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        Assert.Equal("authorization failed", (string)JsonNode.Parse(await denied.Content.ReadAsStringAsync())!["error"]!);

        var basic = new HttpRequestMessage(HttpMethod.Post, "/write?db=metrics&precision=ms") { Content = new StringContent("m f=1 1700000000000") };
        basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("telegraf:" + LiveServer.Token)));
        Assert.Equal(HttpStatusCode.NoContent, (await anonymous.SendAsync(basic)).StatusCode);

        var up = await anonymous.PostAsync($"/write?db=metrics&rp=autogen&u=telegraf&p={Uri.EscapeDataString(LiveServer.Token)}&precision=ms", new StringContent("m f=2 1700000001000"));
        Assert.Equal(HttpStatusCode.NoContent, up.StatusCode);
        Assert.Equal(2, await CountAsync("metrics"));

        var badRp = await _server.Client.PostAsync("/write?db=metrics&rp=weekly", new StringContent("m f=1 1"));
        Assert.Equal(HttpStatusCode.NotFound, badRp.StatusCode);
        Assert.Contains("retention policy not found", await badRp.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task V1_bad_lines_answer_400_with_the_error_field()
    {
        var r = await _server.Client.PostAsync("/write?db=metrics", new StringContent("m f=1 1\nm f= 2\n"));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        string error = (string)JsonNode.Parse(await r.Content.ReadAsStringAsync())!["error"]!;
        Assert.Contains("line 2, column", error, StringComparison.Ordinal);
        Assert.Equal(1, await CountAsync("metrics"));
    }
}
