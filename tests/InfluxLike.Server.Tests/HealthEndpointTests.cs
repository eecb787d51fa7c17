using System.Net;
using System.Text.Json;
using InfluxLike.Server.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace InfluxLike.Server.Tests;

public class HealthEndpointTests : IClassFixture<LiveServer>
{
    private readonly LiveServer _server;

    public HealthEndpointTests(LiveServer server) => _server = server;

    [Fact]
    public async Task Ping_answers_204_with_version_headers()
    {
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Head })
        {
            using var response = await _server.Client.SendAsync(new HttpRequestMessage(method, "/ping"));
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            Assert.Equal("2.7.0", Assert.Single(response.Headers.GetValues("X-Influxdb-Version")));
            Assert.Equal("OSS", Assert.Single(response.Headers.GetValues("X-Influxdb-Build")));
        }
    }

    [Fact]
    public async Task Verbose_ping_answers_the_version_as_json()
    {
        using var doc = JsonDocument.Parse(await _server.Client.GetStringAsync("/ping?verbose=true"));
        Assert.Equal("2.7.0", doc.RootElement.GetProperty("version").GetString());
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/healthz")]
    public async Task Health_has_influxdb_2_shape(string path)
    {
        using var response = await _server.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        JsonElement root = doc.RootElement;
        Assert.Equal("pass", root.GetProperty("status").GetString());
        Assert.Equal("ready for queries and writes", root.GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Array, root.GetProperty("checks").ValueKind);
        Assert.False(string.IsNullOrEmpty(root.GetProperty("version").GetString()));
    }

    [Theory]
    [InlineData("/ready")]
    [InlineData("/readyz")]
    public async Task Ready_reports_ready_and_uptime(string path)
    {
        using var response = await _server.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("ready", doc.RootElement.GetProperty("status").GetString());
        Assert.EndsWith("s", doc.RootElement.GetProperty("up").GetString(), StringComparison.Ordinal);
        Assert.True(DateTimeOffset.TryParse(doc.RootElement.GetProperty("started").GetString(), out _));
    }

    [Fact]
    public async Task Not_ready_answers_503()
    {
        var readiness = _server.App.Services.GetRequiredService<Readiness>();
        readiness.MarkNotReady();
        try
        {
            using var ready = await _server.Client.GetAsync("/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            using var health = await _server.Client.GetAsync("/health");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        }
        finally
        {
            readiness.MarkReady();
        }
    }

    [Fact]
    public async Task Metrics_expose_runtime_metrics()
    {
        // Make sure there is something to count.
        try
        {
            throw new InvalidOperationException("counted by the runtime");
        }
        catch (InvalidOperationException)
        {
        }

        GC.Collect();
        string text = await _server.Client.GetStringAsync("/metrics");
        foreach (string name in new[]
        {
            "dotnet_collection_count_total",                      // GC collections per generation
            "system_runtime_dotnet_gc_last_collection_heap_size",  // heap size
            "system_runtime_dotnet_gc_heap_total_allocated",       // allocation (rate = its derivative)
            "system_runtime_dotnet_thread_pool_thread_count",      // ≈ go_goroutines
            "system_runtime_dotnet_thread_pool_queue_length",
            "dotnet_exceptions_total{type=\"System.InvalidOperationException\"}",
            "process_cpu_seconds_total",
            "http_requests_received_total",
        })
        {
            Assert.Contains("\n" + name, "\n" + text, StringComparison.Ordinal);
        }

        // ASP.NET Core's per-request meters stay out: they cost every request and repeat http_request_*.
        for (int i = 0; i < 3; i++)
        {
            using var ping = await _server.Client.GetAsync("/ping");
        }

        text = await _server.Client.GetStringAsync("/metrics");
        Assert.Contains("\nhttp_request_duration_seconds_count{", "\n" + text, StringComparison.Ordinal);
        Assert.DoesNotContain("aspnetcore_memory_pool", text, StringComparison.Ordinal);
        Assert.DoesNotContain("http_server_request_duration", text, StringComparison.Ordinal);
        Assert.DoesNotContain("aspnetcore_routing", text, StringComparison.Ordinal);

        // No exemplars (trace ids beside samples) in the OpenMetrics form either: recording them cost every request.
        using var openMetrics = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        openMetrics.Headers.Accept.ParseAdd("application/openmetrics-text; version=1.0.0");
        using var response = await _server.Client.SendAsync(openMetrics);
        text = await response.Content.ReadAsStringAsync();
        Assert.Contains("\nhttp_request_duration_seconds_count{", "\n" + text, StringComparison.Ordinal);
        Assert.DoesNotContain("trace_id", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/health", null)]
    [InlineData("GET", "/ready", null)]
    [InlineData("GET", "/ping?verbose=true", null)]
    [InlineData("GET", "/api/v2/orgs", null)]
    [InlineData("GET", "/api/v2/buckets", null)]
    [InlineData("GET", "/no/such/path", null)]
    [InlineData("POST", "/api/v2/query?org=acme", "from(bucket: \"metrics\") |>")]
    [InlineData("POST", "/api/v2/query?org=acme&explain=true", "from(bucket: \"metrics\") |> range(start: -1h)")]
    public async Task Answers_known_whole_carry_their_length_rather_than_chunks(string method, string path, string? flux)
    {
        // With a length, headers and body leave in one send; chunked, the chunked end followed in a second one.
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (flux is not null)
        {
            request.Content = new StringContent(flux, System.Text.Encoding.UTF8, "application/vnd.flux");
        }

        using var response = await _server.Client.SendAsync(request);
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        Assert.NotEmpty(body);
        Assert.NotEqual(true, response.Headers.TransferEncodingChunked);
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task Unknown_path_gives_a_json_404()
    {
        using var response = await _server.Client.GetAsync("/no/such/path");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("/no/such/path", doc.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApi_document_lists_every_route()
    {
        using var doc = JsonDocument.Parse(await _server.Client.GetStringAsync("/openapi/v1.json"));
        JsonElement paths = doc.RootElement.GetProperty("paths");
        var routes = _server.App.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .Where(p => p is not "/metrics" && !p.StartsWith("/openapi", StringComparison.Ordinal) && !p.Contains("{*", StringComparison.Ordinal))
            .Distinct()
            .ToList();
        Assert.NotEmpty(routes);
        foreach (string route in routes)
        {
            Assert.True(paths.TryGetProperty(route, out _), $"{route} is not in the OpenAPI document");
        }
    }
}
