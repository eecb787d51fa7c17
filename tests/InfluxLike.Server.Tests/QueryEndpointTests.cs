using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using InfluxDB.Client;
using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Writes;
using InfluxLike.Query.Csv;
using InfluxLike.Storage.Engine;
using Microsoft.Extensions.DependencyInjection;

namespace InfluxLike.Server.Tests;

public sealed class QueryEndpointTests : IAsyncLifetime
{
    private readonly LiveServer _server = new();

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        var engine = _server.App.Services.GetRequiredService<StorageEngine>();
        var org = engine.Catalog.GetOrCreateOrg("acme");
        engine.Catalog.CreateBucket(org.Id, "other", TimeSpan.Zero);
    }

    public Task DisposeAsync() => _server.DisposeAsync();

    private const string Lines =
        "cpu,host=a usage=1.5 1700000000\n" +
        "cpu,host=a usage=2.5 1700000010\n" +
        "cpu,host=b usage=10 1700000000\n" +
        "mem,host=a used=7i 1700000000\n";

    private async Task<HttpResponseMessage> WriteAsync(string body, bool gzip = false)
    {
        HttpContent content;
        if (gzip)
        {
            var ms = new MemoryStream();
            await using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
            {
                gz.Write(Encoding.UTF8.GetBytes(body));
            }

            content = new ByteArrayContent(ms.ToArray());
            content.Headers.ContentEncoding.Add("gzip");
        }
        else
        {
            content = new StringContent(body);
        }

        return await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s", content);
    }

    private Task<HttpResponseMessage> FluxAsync(string script, string query = "") =>
        _server.Client.PostAsync("/api/v2/query?org=acme" + query, new StringContent(script, Encoding.UTF8, "application/vnd.flux"));

    [Fact]
    public async Task Writes_then_queries_back_as_annotated_csv()
    {
        Assert.Equal(HttpStatusCode.NoContent, (await WriteAsync(Lines, gzip: true)).StatusCode);
        var response = await FluxAsync("from(bucket: \"metrics\") |> range(start: 2023-01-01T00:00:00Z) |> filter(fn: (r) => r._measurement == \"cpu\" and r.host == \"a\")");
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.StartsWith("text/csv", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        Assert.StartsWith("#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n", body, StringComparison.Ordinal);
        Assert.Contains("#group,false,false,true,true,false,false,true,true,true\r\n", body, StringComparison.Ordinal);
        Assert.Contains(",result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n", body, StringComparison.Ordinal);
        var tables = AnnotatedCsvReader.Read(body);
        var table = Assert.Single(tables).Table;
        Assert.Equal(2, table.Rows);
        Assert.Equal([1.5, 2.5], Enumerable.Range(0, 2).Select(r => table.Column("_value")!.Get(r).AsFloat));
    }

    [Fact]
    public async Task A_field_stored_as_text_in_one_series_and_as_numbers_in_another_reads_without_error()
    {
        // Types conflict per series and shard; the index types the field by the first type it saw (string here).
        Assert.Equal(HttpStatusCode.NoContent, (await WriteAsync("mixed,host=a f=\"x\" 1700000000\nmixed,host=b f=1.5 1700000000\n")).StatusCode);
        var response = await FluxAsync("from(bucket: \"metrics\") |> range(start: 2023-01-01T00:00:00Z) |> filter(fn: (r) => r._measurement == \"mixed\")");
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.DoesNotContain("error", body, StringComparison.OrdinalIgnoreCase);
        var tables = AnnotatedCsvReader.Read(body);
        Assert.Equal(["a", "b"], tables.Select(t => t.Table.Column("host")!.Get(0).AsString).Order());
        Assert.Equal("x", tables.Single(t => t.Table.Column("host")!.Get(0).AsString == "a").Table.Column("_value")!.Get(0).AsString);
    }

    [Fact]
    public async Task Json_body_with_dialect_and_now_and_aggregate_window()
    {
        Assert.Equal(HttpStatusCode.NoContent, (await WriteAsync(Lines)).StatusCode);
        string json = JsonSerializer.Serialize(new
        {
            query = "from(bucket: \"metrics\") |> range(start: -1h) |> filter(fn: (r) => r._field == \"usage\") |> aggregateWindow(every: 1m, fn: sum)",
            now = "2023-11-14T22:30:00Z",
            dialect = new { header = true, delimiter = ",", annotations = new[] { "datatype", "group", "default" } },
        });
        var response = await _server.Client.PostAsync("/api/v2/query?org=acme", new StringContent(json, Encoding.UTF8, "application/json"));
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var tables = AnnotatedCsvReader.Read(body).Select(t => t.Table).ToList();
        Assert.Equal(2, tables.Count);
        var a = tables.Single(t => t.Key.Get("host").AsString == "a");
        // 1700000000 = 22:13:20; one minute window [22:13, 22:14) holds both points of host a.
        int row = Enumerable.Range(0, a.Rows).Single(r => !a.Column("_value")!.IsNull(r));
        Assert.Equal(4.0, a.Column("_value")!.Get(row).AsFloat);
        Assert.Equal("2023-11-14T22:14:00Z", a.Column("_time")!.Get(row).ToString());
    }

    [Fact]
    public async Task Errors_before_the_first_row_are_http_errors_with_line_and_column()
    {
        var response = await FluxAsync("from(bucket: \"metrics\")\n  |> range(start: -1h\n");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid", doc.RootElement.GetProperty("code").GetString());
        Assert.Matches(@"^error @\d+:\d+: ", doc.RootElement.GetProperty("message").GetString());

        var missing = await FluxAsync("from(bucket: \"nope\") |> range(start: -1h)");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("could not find bucket \\u0022nope\\u0022", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1 << 20)]
    [InlineData(7 << 20)]
    public async Task Queries_over_the_length_limit_are_refused_without_running(int length)
    {
        var response = await FluxAsync("// " + new string('x', length));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("limit", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_shows_what_was_pushed_into_storage()
    {
        var response = await FluxAsync("from(bucket: \"metrics\") |> range(start: -1h) |> filter(fn: (r) => r._measurement == \"cpu\" and r._value > 2.0) |> aggregateWindow(every: 1m, fn: mean)", "&explain=true");
        string plan = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("aggregateWindow(every: 1m, fn: mean", plan, StringComparison.Ordinal);
        Assert.Contains("filter(fn: r._value > 2.0)", plan, StringComparison.Ordinal);
        Assert.Contains("ReadRange(bucket: \"metrics\"", plan, StringComparison.Ordinal);
        Assert.Contains("filter: (r._measurement == \"cpu\")", plan, StringComparison.Ordinal);

        var pushed = await FluxAsync("from(bucket: \"metrics\") |> range(start: -1h) |> filter(fn: (r) => r._measurement == \"cpu\") |> aggregateWindow(every: 1m, fn: max)", "&explain=true");
        Assert.Contains("ReadWindowAggregate(", await pushed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_line_protocol_is_rejected_naming_line_and_column_and_good_lines_are_kept()
    {
        var response = await WriteAsync("cpu,host=a usage=1 1700000000\ncpu,host=a usage= 1700000001\n");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("line 2, column", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var q = await FluxAsync("from(bucket: \"metrics\") |> range(start: 2023-01-01T00:00:00Z) |> count()");
        var table = Assert.Single(AnnotatedCsvReader.Read(await q.Content.ReadAsStringAsync())).Table;
        Assert.Equal(1, table.Column("_value")!.Get(0).AsInt);
    }

    [Fact]
    public async Task Official_csharp_client_writes_and_queries_flux_tables()
    {
        using var client = new InfluxDBClient(_server.BaseAddress.ToString().TrimEnd('/'), LiveServer.Token);
        var write = client.GetWriteApiAsync();
        await write.WritePointsAsync(
        [
            PointData.Measurement("weather").Tag("city", "oslo").Field("temp", 3.5).Timestamp(1_700_000_000L, WritePrecision.S),
            PointData.Measurement("weather").Tag("city", "oslo").Field("temp", 4.5).Timestamp(1_700_000_060L, WritePrecision.S),
            PointData.Measurement("weather").Tag("city", "rome").Field("temp", 15.0).Timestamp(1_700_000_000L, WritePrecision.S),
        ], "metrics", "acme");

        var tables = await client.GetQueryApi().QueryAsync(
            "from(bucket: \"metrics\") |> range(start: 2023-11-01T00:00:00Z) |> filter(fn: (r) => r._measurement == \"weather\") |> mean()", "acme");
        Assert.Equal(2, tables.Count);
        var means = tables.ToDictionary(t => (string)t.Records[0].GetValueByKey("city"), t => (double)t.Records[0].GetValue());
        Assert.Equal(4.0, means["oslo"]);
        Assert.Equal(15.0, means["rome"]);
        Assert.Contains(tables[0].Columns, c => c.Label == "_value" && c.DataType == "double");
        Assert.Contains(tables[0].Columns, c => c.Label == "city" && c.Group);
    }

    [Fact]
    public async Task A_result_larger_than_the_response_buffer_streams_whole()
    {
        var lines = new StringBuilder();
        for (int i = 0; i < 5000; i++)
        {
            lines.Append(System.Globalization.CultureInfo.InvariantCulture, $"big,host=h{i % 2} v={i}i,w={i * 0.25} {1_700_000_000 + i}\n");
        }

        Assert.Equal(HttpStatusCode.NoContent, (await WriteAsync(lines.ToString())).StatusCode);
        var response = await FluxAsync("from(bucket: \"metrics\") |> range(start: 2023-01-01T00:00:00Z) |> filter(fn: (r) => r._measurement == \"big\")");
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(body.Length > 256 * 1024, $"{body.Length} bytes");
        var tables = AnnotatedCsvReader.Read(body);
        Assert.Equal(4, tables.Count);
        Assert.Equal(10_000, tables.Sum(t => t.Table.Rows));
    }

    private static double Counted(string metrics, string outcome)
    {
        string prefix = $"influxlike_query_requests_total{{result=\"{outcome}\"}} ";
        string? line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_client_that_leaves_mid_query_is_counted_as_canceled_not_as_a_server_error()
    {
        var lines = new StringBuilder();
        for (int i = 0; i < 100_000; i++)
        {
            lines.Append(System.Globalization.CultureInfo.InvariantCulture, $"big,host=h{i % 100} v={i} {1_700_000_000_000_000_000L + (i * 1_000_000_000L)}\n");
        }

        Assert.Equal(HttpStatusCode.NoContent, (await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics", new StringContent(lines.ToString()))).StatusCode);
        string before = await _server.Anonymous.GetStringAsync("/metrics");
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/query?org=acme")
        {
            Content = new StringContent("from(bucket: \"metrics\") |> range(start: 0) |> filter(fn: (r) => r._measurement == \"big\")", Encoding.UTF8, "application/vnd.flux"),
        })
        {
            using var response = await _server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var stream = await response.Content.ReadAsStreamAsync();
            byte[] some = new byte[4096];
            await stream.ReadAtLeastAsync(some, some.Length);
        } // the client hangs up with most of the answer unread

        double canceled = Counted(before, "canceled");
        for (int i = 0; i < 100 && Counted(await _server.Anonymous.GetStringAsync("/metrics"), "canceled") <= canceled; i++)
        {
            await Task.Delay(100);
        }

        Assert.True(Counted(await _server.Anonymous.GetStringAsync("/metrics"), "canceled") > canceled, "the abandoned query was not counted as canceled");
        Assert.Equal(HttpStatusCode.OK, (await _server.Client.PostAsync("/api/v2/query?org=acme", new StringContent("from(bucket: \"metrics\") |> range(start: 0) |> count()", Encoding.UTF8, "application/vnd.flux"))).StatusCode);
    }
}
