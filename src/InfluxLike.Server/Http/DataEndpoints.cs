using System.IO.Compression;
using System.Text;
using System.Text.Json;
using InfluxLike.LineProtocol;
using InfluxLike.Query;
using InfluxLike.Query.Csv;
using InfluxLike.Query.Runtime;
using InfluxLike.Query.Storage;
using InfluxLike.Storage.Engine;
using InfluxLike.Storage.Shards;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace InfluxLike.Server.Http;

/// <summary>
/// <c>POST /api/v2/write</c> and <c>POST /api/v2/query</c> in InfluxDB 2.x's shapes. Token checks arrive with the
/// HTTP API issue: both handlers resolve the organisation and bucket first, where the permission check slots in.
/// </summary>
internal static class DataEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v2/write", WriteAsync).WithName("PostWrite").WithTags("Write")
            .WithSummary("Writes line protocol to a bucket (org, bucket, precision; gzip bodies accepted).");
        app.MapPost("/api/v2/query", QueryAsync).WithName("PostQuery").WithTags("Query")
            .WithSummary("Runs a Flux-like script; answers annotated CSV, or the plan with explain=true.");
    }

    private static IResult Error(int status, string code, string message) =>
        Results.Json(new ErrorResponse(code, message), ServerJsonContext.Default.ErrorResponse, statusCode: status);

    private static OrgInfo? FindOrg(StorageEngine engine, string? org, string? orgId) =>
        orgId is not null ? engine.Catalog.Orgs.FirstOrDefault(o => o.Id == orgId)
        : org is not null ? engine.Catalog.Orgs.FirstOrDefault(o => o.Name == org || o.Id == org)
        : engine.Catalog.Orgs.Count == 1 ? engine.Catalog.Orgs[0] : null;

    private static async Task<IResult> WriteAsync(HttpContext ctx, StorageEngine engine, ServerOptions options)
    {
        var q = ctx.Request.Query;
        string? bucketName = q["bucket"];
        string? bucketId = q["bucketID"];
        var org = FindOrg(engine, q["org"], q["orgID"]);
        if (org is null)
        {
            return Error(404, "not found", $"organization not found: \"{(string?)q["org"] ?? (string?)q["orgID"] ?? ""}\"");
        }

        var bucket = bucketId is not null ? engine.Catalog.GetBucket(bucketId) : bucketName is not null ? engine.Catalog.FindBucket(org.Id, bucketName) : null;
        if (bucket is null || bucket.OrgId != org.Id)
        {
            return Error(404, "not found", $"bucket \"{bucketName ?? bucketId}\" not found");
        }

        var precision = Precision.Nanoseconds;
        if (q["precision"] is { Count: > 0 } p && !PrecisionExtensions.TryParse(p.ToString(), out precision))
        {
            return Error(400, "invalid", $"invalid precision \"{p}\": use ns, us, ms or s");
        }

        byte[] body;
        try
        {
            body = await ReadBodyAsync(ctx.Request, options.MaxBodySize, ctx.RequestAborted).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            return Error(400, "invalid", "the body is not valid gzip: " + e.Message);
        }
        catch (BodyTooLargeException)
        {
            return Error(413, "request too large", $"the request body is larger than the limit of {options.MaxBodySize} bytes");
        }

        WriteResult result;
        try
        {
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
            result = await engine.WriteLineProtocolAsync(bucket, body, precision, now).ConfigureAwait(false);
        }
        catch (ShardBusyException e)
        {
            ctx.Response.Headers.RetryAfter = "1";
            return Error(503, "unavailable", e.Message);
        }

        if (result.LineErrors.Count > 0)
        {
            var message = new StringBuilder("unable to parse the line protocol: ");
            message.AppendJoin("; ", result.LineErrors.Take(100).Select(e => e.ToString()));
            if (result.LineErrors.Count > 100)
            {
                message.Append($"; and {result.LineErrors.Count - 100} more");
            }

            return Error(400, "invalid", message.ToString());
        }

        if (result.Rejected.Count > 0)
        {
            return Error(422, "unprocessable entity", $"partial write: {string.Join("; ", result.Rejected.Take(20))} dropped={result.Rejected.Count}");
        }

        return Results.NoContent();
    }

    private sealed class BodyTooLargeException : Exception;

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        Stream stream = request.Body;
        string encoding = request.Headers.ContentEncoding.ToString();
        if (encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase))
        {
            stream = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + n > limit)
            {
                throw new BodyTooLargeException();
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }

    private static async Task QueryAsync(HttpContext ctx, StorageEngine engine, ServerOptions options, QueryGate gate)
    {
        var request = ctx.Request;
        string text;
        try
        {
            // JSON escapes can at most sextuple a character: a body beyond that cannot hold an allowed query.
            byte[] body = await ReadBodyAsync(request, (long)options.MaxQueryLength * 6, ctx.RequestAborted).ConfigureAwait(false);
            text = Encoding.UTF8.GetString(body);
        }
        catch (Exception bad) when (bad is BodyTooLargeException or InvalidDataException)
        {
            bool tooLarge = bad is BodyTooLargeException;
            await WriteErrorAsync(ctx, tooLarge ? 413 : 400, tooLarge ? "request too large" : "invalid",
                tooLarge ? $"the query request is larger than the limit of {options.MaxQueryLength} characters" : "the body is not valid gzip").ConfigureAwait(false);
            return;
        }

        string contentType = request.ContentType ?? "application/json";
        string script;
        var dialect = CsvDialect.Default;
        long? now = null;
        bool explain = request.Query["explain"] is { Count: > 0 } e && e.ToString() is "true" or "1";
        if (contentType.StartsWith("application/vnd.flux", StringComparison.OrdinalIgnoreCase) || contentType.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase))
        {
            script = text;
        }
        else
        {
            try
            {
                (script, dialect, now, bool ex) = ParseJson(text);
                explain |= ex;
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
            {
                await WriteErrorAsync(ctx, 400, "invalid", "the request body is not a valid query: " + ex.Message).ConfigureAwait(false);
                return;
            }
        }

        if (script.Length > options.MaxQueryLength)
        {
            await WriteErrorAsync(ctx, 413, "request too large", $"the query is {script.Length} characters long; the limit is {options.MaxQueryLength}").ConfigureAwait(false);
            return;
        }

        var org = FindOrg(engine, request.Query["org"], request.Query["orgID"]);
        if (org is null && (request.Query["org"].Count > 0 || request.Query["orgID"].Count > 0))
        {
            await WriteErrorAsync(ctx, 404, "not found", $"organization not found: \"{request.Query["org"]}{request.Query["orgID"]}\"").ConfigureAwait(false);
            return;
        }

        if (!gate.TryEnter())
        {
            ctx.Response.Headers.RetryAfter = "1";
            await WriteErrorAsync(ctx, 429, "too many requests", $"more than {options.MaxConcurrentQueries} queries are running; retry shortly").ConfigureAwait(false);
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        timeout.CancelAfter(options.QueryTimeout);
        try
        {
            var context = new QueryContext
            {
                Now = now ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000,
                Storage = new EngineStorage(engine),
                OrgId = org?.Id,
                CancellationToken = timeout.Token,
                Memory = new MemoryTracker(options.QueryMemoryLimit),
            };

            PreparedQuery prepared;
            try
            {
                prepared = QueryEngine.Prepare(script, context);
            }
            catch (QueryException qe)
            {
                await WriteErrorAsync(ctx, qe.Kind == QueryErrorKind.NotFound ? 404 : 400, qe.Kind == QueryErrorKind.NotFound ? "not found" : "invalid", qe.Describe()).ConfigureAwait(false);
                return;
            }

            if (explain)
            {
                ctx.Response.ContentType = "text/plain; charset=utf-8";
                await ctx.Response.WriteAsync(prepared.Explain(), ctx.RequestAborted).ConfigureAwait(false);
                return;
            }

            await StreamCsvAsync(ctx, prepared, dialect, timeout.Token).ConfigureAwait(false);
        }
        finally
        {
            gate.Exit();
        }
    }

    // Tables are pulled and written one at a time; an error before the first byte becomes an HTTP error,
    // a later one an in-band error table (the response has started).
    private static async Task StreamCsvAsync(HttpContext ctx, PreparedQuery prepared, CsvDialect dialect, CancellationToken cancellationToken)
    {
        using var enumerator = prepared.Execute().GetEnumerator();
        bool hasFirst;
        try
        {
            hasFirst = enumerator.MoveNext();
        }
        catch (QueryException qe)
        {
            await WriteErrorAsync(ctx, qe.Kind switch { QueryErrorKind.NotFound => 404, QueryErrorKind.ResourceExhausted => 413, _ => 400 }, "invalid", qe.Describe()).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (!ctx.RequestAborted.IsCancellationRequested)
        {
            await WriteErrorAsync(ctx, 504, "timeout", "the query took longer than the query timeout").ConfigureAwait(false);
            return;
        }

        ctx.Response.ContentType = "text/csv; charset=utf-8";
        var writer = new StreamWriter(ctx.Response.Body, new UTF8Encoding(false), 65536);
        await using (writer.ConfigureAwait(false))
        {
            var csv = new AnnotatedCsvWriter(writer, dialect);
            try
            {
                if (hasFirst)
                {
                    do
                    {
                        var (result, table) = enumerator.Current;
                        csv.WriteTable(result, table);
                        if (writer.BaseStream.CanWrite)
                        {
                            await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                        }
                    }
                    while (enumerator.MoveNext());
                }
            }
            catch (QueryException qe)
            {
                csv.WriteError(qe.Describe());
            }
            catch (OperationCanceledException) when (!ctx.RequestAborted.IsCancellationRequested)
            {
                csv.WriteError("the query took longer than the query timeout");
            }

            csv.Finish();
            await writer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static Task WriteErrorAsync(HttpContext ctx, int status, string code, string message)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        return ctx.Response.WriteAsync(JsonSerializer.Serialize(new ErrorResponse(code, message), ServerJsonContext.Default.ErrorResponse));
    }

    /// <summary><c>{"query": ..., "dialect": {...}, "now": ..., "type": "flux"}</c>, as the official clients send it.</summary>
    private static (string Query, CsvDialect Dialect, long? Now, bool Explain) ParseJson(string text)
    {
        using var doc = JsonDocument.Parse(text);
        var root = doc.RootElement;
        string query = root.GetProperty("query").GetString() ?? throw new FormatException("\"query\" must be a string");
        if (root.TryGetProperty("type", out var type) && type.GetString() is { } t && t != "flux")
        {
            throw new FormatException($"query type \"{t}\" is not supported (only \"flux\")");
        }

        var dialect = CsvDialect.Default;
        if (root.TryGetProperty("dialect", out var d) && d.ValueKind == JsonValueKind.Object)
        {
            if (d.TryGetProperty("header", out var h))
            {
                dialect = dialect with { Header = h.GetBoolean() };
            }

            if (d.TryGetProperty("delimiter", out var del) && del.GetString() is { Length: 1 } ds)
            {
                dialect = dialect with { Delimiter = ds[0] };
            }

            if (d.TryGetProperty("annotations", out var ann) && ann.ValueKind == JsonValueKind.Array)
            {
                var set = ann.EnumerateArray().Select(a => a.GetString()).ToHashSet();
                dialect = dialect with { DataType = set.Contains("datatype"), Group = set.Contains("group"), DefaultRow = set.Contains("default") };
            }
        }

        long? now = null;
        if (root.TryGetProperty("now", out var n) && n.ValueKind == JsonValueKind.String)
        {
            now = AnnotatedCsvReader.ParseTime(n.GetString()!);
        }

        bool explain = root.TryGetProperty("explain", out var x) && x.ValueKind == JsonValueKind.True;
        return (query, dialect, now, explain);
    }
}

/// <summary>Bounds the number of queries running at once.</summary>
internal sealed class QueryGate(ServerOptions options)
{
    private int _running;

    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _running) > options.MaxConcurrentQueries)
        {
            Interlocked.Decrement(ref _running);
            return false;
        }

        return true;
    }

    public void Exit() => Interlocked.Decrement(ref _running);
}
