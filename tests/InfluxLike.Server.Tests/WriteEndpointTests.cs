using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using InfluxLike.Query.Csv;

namespace InfluxLike.Server.Tests;

/// <summary>/api/v2/write: streaming bodies, pieces, partial writes and limits.</summary>
public sealed class WriteEndpointTests : IAsyncLifetime
{
    private readonly LiveServer _server = LiveServer.With(o => o with { MaxBodySize = 32L << 20 });

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    private async Task<long> CountAsync(string filter = "true")
    {
        var r = await _server.Client.PostAsync("/api/v2/query?org=acme", new StringContent(
            $"from(bucket: \"metrics\") |> range(start: 0) |> filter(fn: (r) => {filter}) |> count() |> group() |> sum()", Encoding.UTF8, "application/vnd.flux"));
        string body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, body);
        var tables = AnnotatedCsvReader.Read(body);
        return tables.Count == 0 ? 0 : tables[0].Table.Column("_value")!.Get(0).AsInt;
    }

    /// <summary>A body without Content-Length, as the JS client sends gzip.</summary>
    private sealed class UnknownLengthContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }

    private static byte[] Gzip(byte[] data)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(data);
        }

        return ms.ToArray();
    }

    private static string ManyLines(int count, int from = 0)
    {
        var sb = new StringBuilder();
        for (int i = from; i < from + count; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"big,host=h{i % 50} value={i}i,text=\"padding padding padding padding\" {1_700_000_000_000_000_000L + (i * 1_000_000_000L)}\n");
        }

        return sb.ToString();
    }

    [Fact]
    public async Task A_body_larger_than_a_piece_streams_through_gzip_without_content_length()
    {
        string body = ManyLines(150_000); // ~14 MB: several 4 MiB pieces
        Assert.True(body.Length > 3 * (4 << 20));
        var content = new UnknownLengthContent(Gzip(Encoding.UTF8.GetBytes(body)));
        content.Headers.ContentEncoding.Add("gzip");
        var r = await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics", content);
        Assert.True(r.StatusCode == HttpStatusCode.NoContent, await r.Content.ReadAsStringAsync());
        Assert.Equal(300_000, await CountAsync());
    }

    [Fact]
    public async Task Entries_cut_by_a_piece_boundary_are_whole_and_line_numbers_count_across_pieces()
    {
        // A string value holding a newline straddles the first 4 MiB boundary, then a bad line follows it.
        const int piece = 4 << 20;
        var sb = new StringBuilder();
        int lines = 0;
        string prefix = "edge,host=x text=\"";
        while (sb.Length < piece - 200)
        {
            sb.Append(CultureInfo.InvariantCulture, $"fill,host=f v={lines}i {1_700_000_000_000_000_000L + lines}\n");
            lines++;
        }

        sb.Append(prefix).Append(new string('a', piece - sb.Length - prefix.Length - 3)).Append("\nsecond half of the same value\" 1700000000000000000\n");
        int edgeLine = lines + 1;
        sb.Append("bad line without fields\n");
        sb.Append("edge,host=y text=\"after\" 1700000000000000000\n");
        var r = await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics", new ByteArrayContent(Encoding.UTF8.GetBytes(sb.ToString())));
        string message = (string)JsonNode.Parse(await r.Content.ReadAsStringAsync())!["message"]!;
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains($"line {edgeLine + 2}, column", message, StringComparison.Ordinal); // the edge entry spans two lines
        Assert.Equal(2, await CountAsync("r._measurement == \"edge\""));
        Assert.Equal(lines, await CountAsync("r._measurement == \"fill\""));

        var q = await _server.Client.PostAsync("/api/v2/query?org=acme", new StringContent(
            "from(bucket: \"metrics\") |> range(start: 0) |> filter(fn: (r) => r._measurement == \"edge\" and r.host == \"x\")", Encoding.UTF8, "application/vnd.flux"));
        var table = AnnotatedCsvReader.Read(await q.Content.ReadAsStringAsync())[0].Table;
        Assert.EndsWith("aaa\nsecond half of the same value", table.Column("_value")!.Get(0).AsString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Accept_partial_false_writes_nothing_when_a_line_is_bad()
    {
        var r = await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s&accept_partial=false", new StringContent("m f=1 1700000000\nm f=oops 1700000001\n"));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("nothing was written", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync());
        r = await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s", new StringContent("m f=1 1700000000\nm f=oops 1700000001\n"));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal(1, await CountAsync());
    }

    [Fact]
    public async Task Limits_and_bad_parameters_answer_clear_errors()
    {
        var tooBig = await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics", new ByteArrayContent(new byte[(32 << 20) + 1]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Contains("--max-body-size", await tooBig.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var gzBomb = new ByteArrayContent(Gzip(new byte[(32 << 20) + 10]));
        gzBomb.Headers.ContentEncoding.Add("gzip");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics", gzBomb)).StatusCode);

        var identity = new StringContent("m f=1 1700000000");
        identity.Headers.ContentEncoding.Add("identity");
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s", identity)).StatusCode);

        var brotli = new StringContent("m f=1 1");
        brotli.Headers.ContentEncoding.Add("br");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics", brotli)).StatusCode);

        var notGzip = new StringContent("m f=1 1");
        notGzip.Headers.ContentEncoding.Add("gzip");
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics", notGzip)).StatusCode);

        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=h", new StringContent("m f=1 1"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Client.PostAsync("/api/v2/write?org=acme", new StringContent("m f=1 1"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Client.PostAsync("/api/v2/write?org=nope&bucket=metrics", new StringContent("m f=1 1"))).StatusCode);
    }

    [Fact]
    public async Task Lines_over_the_tag_field_or_length_limits_are_bad_lines_naming_the_limit()
    {
        string manyTags = "m," + string.Join(",", Enumerable.Range(0, 300).Select(i => $"t{i:D3}=v")) + " f=1 1700000000";
        string manyFields = "m " + string.Join(",", Enumerable.Range(0, 1100).Select(i => $"f{i}=1")) + " 1700000000";
        string longLine = "m s=\"" + new string('x', (1 << 20) + 10) + "\" 1700000000";
        var r = await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s", new StringContent($"ok f=1 1700000000\n{manyTags}\n{manyFields}\n{longLine}\n"));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        string message = (string)JsonNode.Parse(await r.Content.ReadAsStringAsync())!["message"]!;
        Assert.Contains("line 2, column 1: the point has 300 tags; the limit is 256", message, StringComparison.Ordinal);
        Assert.Contains("line 3, column 1: the line has 1100 fields; the limit is 1024", message, StringComparison.Ordinal);
        Assert.Contains($"line 4, column 1: the line is {Encoding.UTF8.GetByteCount(longLine)} bytes long; the limit is 1048576", message, StringComparison.Ordinal);
        Assert.Equal(1, await CountAsync());
    }
}

/// <summary>The engine's and the API's figures on /metrics.</summary>
public sealed class EngineMetricsTests : IAsyncLifetime
{
    private readonly LiveServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    private static double Value(string text, string series)
    {
        string? line = text.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        Assert.True(line is not null, $"{series} is not in /metrics");
        return double.Parse(line![(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Writes_queries_and_storage_state_are_counted()
    {
        // Counters are per process and other tests write meanwhile: check growth, and per-bucket gauges of a
        // bucket only this test uses.
        string bucket = "probe" + Guid.NewGuid().ToString("N")[..8];
        var orgs = JsonNode.Parse(await _server.Client.GetStringAsync("/api/v2/orgs"))!;
        var created = await _server.Client.PostAsync("/api/v2/buckets", new StringContent(
            $"{{\"orgID\": \"{orgs["orgs"]![0]!["id"]}\", \"name\": \"{bucket}\"}}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        string before = await _server.Client.GetStringAsync("/metrics");
        double valuesBefore = Value(before, "influxlike_storage_values_written_total");
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Client.PostAsync($"/api/v2/write?org=acme&bucket={bucket}&precision=s", new StringContent("m,host=a f=1,g=2 1700000000\nm,host=b f=3 1700000000\n"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Client.PostAsync($"/api/v2/write?org=acme&bucket={bucket}&precision=s", new StringContent("m f= 1\n"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _server.Client.PostAsync("/api/v2/query?org=acme", new StringContent($"from(bucket: \"{bucket}\") |> range(start: 0)", Encoding.UTF8, "application/vnd.flux"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Client.PostAsync("/api/v2/query?org=acme", new StringContent("nosuch()", Encoding.UTF8, "application/vnd.flux"))).StatusCode);

        string text = await _server.Client.GetStringAsync("/metrics");
        Assert.True(Value(text, "influxlike_storage_values_written_total") - valuesBefore >= 3);
        Assert.True(Value(text, "influxlike_storage_write_errors_total{kind=\"parse\"}") >= 1);
        Assert.True(Value(text, "influxlike_storage_wal_write_bytes_total") > 0);
        Assert.True(Value(text, "influxlike_storage_wal_fsync_duration_seconds_count") >= 1);
        Assert.Equal(2, Value(text, $"influxlike_storage_series{{bucket=\"{bucket}\"}}"));
        Assert.True(Value(text, $"influxlike_storage_cache_bytes{{bucket=\"{bucket}\"}}") > 0);
        Assert.Equal(1, Value(text, $"influxlike_storage_shards{{bucket=\"{bucket}\"}}"));
        Assert.True(Value(text, "influxlike_query_requests_total{result=\"ok\"}") >= 1);
        Assert.True(Value(text, "influxlike_query_requests_total{result=\"error\"}") >= 1);
        Assert.True(Value(text, "influxlike_query_duration_seconds_count") >= 2);
        Assert.True(Value(text, "influxlike_write_requests_total{status=\"400\"}") >= 1);
    }
}
