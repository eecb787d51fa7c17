using System.Globalization;
using System.Text.Json.Serialization;
using InfluxLike.Server.Hosting;
using InfluxLike.Storage.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace InfluxLike.Server.Http;

/// <summary>
/// Liveness and readiness, in InfluxDB's shapes: <c>/ping</c> (204 plus version headers), <c>/health</c>
/// and <c>/ready</c> (InfluxDB 2.x JSON), with <c>/healthz</c> and <c>/readyz</c> for orchestrator probes.
/// </summary>
internal static class HealthEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapMethods("/ping", ["GET", "HEAD"], (HttpContext ctx, string? verbose) =>
        {
            AddVersionHeaders(ctx.Response);
            // InfluxDB 1.x answers ?verbose=true with 200 and the version.
            return verbose is "true" or "1"
                ? Api.Json(new PingResponse(ServerVersion.Compatible), ServerJsonContext.Default.PingResponse)
                : Results.NoContent();
        }).WithName("Ping").WithTags("System").WithSummary("Liveness: 204 with X-Influxdb-Version and X-Influxdb-Build headers.");

        app.MapGet("/health", Health).WithName("Health").WithTags("System").WithSummary("Health in InfluxDB 2.x's JSON shape.");
        app.MapGet("/healthz", Health).WithName("Healthz").WithTags("System").WithSummary("Alias of /health for orchestrator probes.");
        app.MapGet("/ready", Ready).WithName("Ready").WithTags("System").WithSummary("Readiness: 200 once storage is open, else 503.");
        app.MapGet("/readyz", Ready).WithName("Readyz").WithTags("System").WithSummary("Alias of /ready for orchestrator probes.");
    }

    internal static void AddVersionHeaders(HttpResponse response)
    {
        response.Headers["X-Influxdb-Build"] = "OSS";
        response.Headers["X-Influxdb-Version"] = ServerVersion.Compatible;
        response.Headers["X-Influxlike-Version"] = ServerVersion.Product;
    }

    // A storage failure (a WAL fsync that failed) fails the health check: writes are refused until a restart,
    // and an orchestrator should know rather than see "pass".
    private static IResult Health(HttpContext ctx, Readiness readiness, StorageEngine engine)
    {
        AddVersionHeaders(ctx.Response);
        string? failure = engine.Failure;
        bool ok = readiness.IsReady && failure is null;
        var body = new HealthResponse(
            "influxlike",
            failure is not null ? "storage failed, writes are refused until restart: " + failure : ok ? "ready for queries and writes" : "starting",
            ok ? "pass" : "fail",
            [],
            ServerVersion.Compatible,
            ServerVersion.Commit);
        return Api.Json(body, ServerJsonContext.Default.HealthResponse, statusCode: ok ? 200 : 503);
    }

    private static IResult Ready(HttpContext ctx, Readiness readiness)
    {
        AddVersionHeaders(ctx.Response);
        TimeSpan up = DateTimeOffset.UtcNow - readiness.Started;
        var body = new ReadyResponse(
            readiness.IsReady ? "ready" : "starting",
            readiness.Started.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
            FormatGoDuration(up));
        return Api.Json(body, ServerJsonContext.Default.ReadyResponse, statusCode: readiness.IsReady ? 200 : 503);
    }

    // InfluxDB prints uptime as a Go duration ("14m45.911966424s").
    internal static string FormatGoDuration(TimeSpan t)
    {
        var s = new System.Text.StringBuilder();
        if (t.TotalHours >= 1)
        {
            s.Append(CultureInfo.InvariantCulture, $"{(long)t.TotalHours}h");
        }

        if (t.TotalMinutes >= 1)
        {
            s.Append(CultureInfo.InvariantCulture, $"{t.Minutes}m");
        }

        double seconds = t.Seconds + (t.Ticks % TimeSpan.TicksPerSecond / (double)TimeSpan.TicksPerSecond);
        s.Append(seconds.ToString("0.#########", CultureInfo.InvariantCulture)).Append('s');
        return s.ToString();
    }
}

internal sealed record PingResponse([property: JsonPropertyName("version")] string Version);

internal sealed record HealthResponse(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("checks")] string[] Checks,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("commit")] string Commit);

internal sealed record ReadyResponse(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("started")] string Started,
    [property: JsonPropertyName("up")] string Up);
