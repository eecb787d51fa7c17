using System.Buffers;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using InfluxLike.LineProtocol;
using InfluxLike.Query;
using InfluxLike.Query.Csv;
using InfluxLike.Query.Data;
using InfluxLike.Query.Runtime;
using InfluxLike.Query.Storage;
using InfluxLike.Server.Metrics;
using InfluxLike.Server.Security;
using InfluxLike.Storage.Engine;
using InfluxLike.Storage.Shards;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace InfluxLike.Server.Http;

/// <summary>
/// <c>POST /api/v2/write</c> and <c>POST /api/v2/query</c> in InfluxDB 2.x's shapes. A write needs write
/// permission on its bucket; a query sees only the buckets its token may read.
/// </summary>
internal static class DataEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v2/write", WriteAsync).WithName("PostWrite").WithTags("Write")
            .WithSummary("Writes line protocol to a bucket (org, bucket, precision; gzip bodies accepted).");
        app.MapPost("/api/v2/delete", DeleteAsync).WithName("PostDelete").WithTags("Delete")
            .WithSummary("Deletes the points of a time range (start, stop) matching a predicate (_measurement, _field, tags; = and !=; AND, OR, parentheses).");
        app.MapPost("/api/v2/query", QueryAsync).WithName("PostQuery").WithTags("Query")
            .WithSummary("Runs a Flux-like script; answers annotated CSV, or the plan with explain=true.");
    }

    private static async Task<IResult> WriteAsync(HttpContext ctx, StorageEngine engine, LiveOptions live, Authenticator authenticator, Replication.ReplicationService replication)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out var auth, out var fail))
        {
            return fail!;
        }

        var q = ctx.Request.Query;
        if (!Api.TryFindBucket(engine.Catalog, q, out BucketInfo? bucket, out IResult? missing))
        {
            return missing;
        }

        if (!auth.Allows(Permission.Write, "buckets", bucket.OrgId, bucket.Id))
        {
            return Api.Forbidden($"write to bucket \"{bucket.Name}\"");
        }

        var precision = Precision.Nanoseconds;
        if (q["precision"] is { Count: > 0 } p && (!PrecisionExtensions.TryParse(p.ToString(), out precision) || precision > Precision.Seconds))
        {
            return Api.Error(400, "invalid", $"invalid precision \"{p}\": use ns, us, ms or s");
        }

        bool acceptPartial = q["accept_partial"] is not { Count: > 0 } ap || !ap.ToString().Equals("false", StringComparison.OrdinalIgnoreCase);
        IngestOutcome outcome = await LineProtocolIngest.WriteAsync(ctx.Request, engine, bucket, precision, live.Current.MaxBodySize, acceptPartial, replication).ConfigureAwait(false);
        Metrics.EngineMetrics.WriteRequests.WithLabels(outcome.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        if (outcome.RetryAfterSeconds > 0)
        {
            ctx.Response.Headers.RetryAfter = outcome.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return outcome.Status == 204 ? Results.NoContent() : Api.Error(outcome.Status, outcome.Code, outcome.Message);
    }

    private static async Task<IResult> DeleteAsync(HttpContext ctx, StorageEngine engine, Authenticator authenticator)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out var auth, out var fail))
        {
            return fail!;
        }

        if (!Api.TryFindBucket(engine.Catalog, ctx.Request.Query, out BucketInfo? bucket, out IResult? missing))
        {
            return missing;
        }

        if (!auth.Allows(Permission.Write, "buckets", bucket.OrgId, bucket.Id))
        {
            return Api.Forbidden($"delete from bucket \"{bucket.Name}\"");
        }

        var (request, error) = await Api.ReadJsonAsync(ctx.Request, ServerJsonContext.Default.DeleteRequest).ConfigureAwait(false);
        if (request is null)
        {
            return error!;
        }

        long start;
        long stop;
        DeletePredicate predicate;
        try
        {
            start = AnnotatedCsvReader.ParseTime(request.Start ?? throw new FormatException("start is required (RFC3339)"));
            stop = AnnotatedCsvReader.ParseTime(request.Stop ?? throw new FormatException("stop is required (RFC3339)"));
            predicate = DeletePredicate.Parse(request.Predicate);
        }
        catch (FormatException e)
        {
            return Api.Error(400, "invalid", e.Message);
        }

        if (stop < start)
        {
            return Api.Error(400, "invalid", "stop must not be before start");
        }

        // InfluxDB's delete range is inclusive at both ends.
        try
        {
            await engine.DeleteAsync(bucket, predicate.ToIndex(), predicate.Matches, start, stop).ConfigureAwait(false);
        }
        catch (StorageFailedException e)
        {
            return Api.Error(503, "unavailable", e.Message); // no Retry-After, as for writes: only a restart helps
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

        // A query is a few hundred bytes: a pooled 16 KiB read buffer, not a fresh 80 KiB one to zero per request.
        using var buffer = new MemoryStream((int)Math.Clamp(request.ContentLength ?? 0, 0, 64 * 1024)); // a stated length is a hint, not trusted
        byte[] chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int n;
            while ((n = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + n > limit)
                {
                    throw new BodyTooLargeException();
                }

                buffer.Write(chunk, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }

    private static async Task QueryAsync(HttpContext ctx, StorageEngine engine, LiveOptions live, QueryGate gate, Authenticator authenticator, ScriptCache scripts)
    {
        var request = ctx.Request;
        ServerOptions options = live.Current;
        AuthorizationInfo? auth = authenticator.Authenticate(request, allowV1Credentials: false);
        if (auth is null)
        {
            await WriteErrorAsync(ctx, 401, "unauthorized", "unauthorized access: send a valid token as \"Authorization: Token <token>\"").ConfigureAwait(false);
            return;
        }

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
        catch (Exception gone) when (ctx.RequestAborted.IsCancellationRequested && gone is OperationCanceledException or IOException)
        {
            EngineMetrics.QueryRequests.WithLabels("canceled").Inc(); // the client left while sending the query
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

        var org = Api.FindOrg(engine.Catalog, request.Query["org"], request.Query["orgID"]);
        if (org is null && (request.Query["org"].Count > 0 || request.Query["orgID"].Count > 0))
        {
            await WriteErrorAsync(ctx, 404, "not found", $"organization not found: \"{request.Query["org"]}{request.Query["orgID"]}\"").ConfigureAwait(false);
            return;
        }

        if (org is not null && auth.OrgId != org.Id && !auth.Allows(Permission.Read, "orgs", org.Id, org.Id) && !auth.Allows(Permission.Read, "buckets", org.Id))
        {
            await WriteErrorAsync(ctx, 403, "forbidden", $"insufficient permissions to query organization \"{org.Name}\"").ConfigureAwait(false);
            return;
        }

        if (!gate.TryEnter())
        {
            EngineMetrics.QueryRequests.WithLabels("rejected").Inc();
            ctx.Response.Headers.RetryAfter = "1";
            await WriteErrorAsync(ctx, 429, "too many requests", $"more than {options.MaxConcurrentQueries} queries are running; retry shortly").ConfigureAwait(false);
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        timeout.CancelAfter(options.QueryTimeout);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        string outcome = "error";
        try
        {
            var context = new QueryContext
            {
                Now = now ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000,
                Storage = new EngineStorage(engine, b => auth.Allows(Permission.Read, "buckets", b.OrgId, b.Id), b => auth.Allows(Permission.Write, "buckets", b.OrgId, b.Id)),
                OrgId = org?.Id,
                CancellationToken = timeout.Token,
                Memory = new MemoryTracker(options.QueryMemoryLimit),
                Scripts = scripts,
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
                await Api.Text(prepared.Explain()).ExecuteAsync(ctx).ConfigureAwait(false);
                outcome = "ok";
                return;
            }

            outcome = await StreamCsvAsync(ctx, prepared, dialect, timeout).ConfigureAwait(false);
        }
        catch (Exception gone) when (gone is ClientDisconnectedException || (ctx.RequestAborted.IsCancellationRequested && gone is OperationCanceledException or IOException))
        {
            // The client went away mid-query (a closed dashboard, a cancelled request): nothing to answer and
            // nothing wrong with the server, so no 500 and no error log, only the outcome counted.
            outcome = "canceled";
        }
        finally
        {
            gate.Exit();
            EngineMetrics.QueryRequests.WithLabels(outcome).Inc();
            EngineMetrics.QueryDuration.Observe(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    // Tables are pulled and written one at a time, the next read while one is written; an error before the first
    // byte becomes an HTTP error, a later one an in-band error table (the response has started).
    private static async Task<string> StreamCsvAsync(HttpContext ctx, PreparedQuery prepared, CsvDialect dialect, CancellationTokenSource query)
    {
        CancellationToken cancellationToken = query.Token;
        IEnumerator<(string Result, Table Table)> enumerator = prepared.Execute().GetEnumerator();
        TableReadAhead? tables = null;
        try
        {
            try
            {
                if (enumerator.MoveNext())
                {
                    tables = new TableReadAhead(enumerator, prepared.Context.Memory, cancellationToken);
                }
            }
            catch (QueryException qe)
            {
                await WriteErrorAsync(ctx, qe.Kind switch { QueryErrorKind.NotFound => 404, QueryErrorKind.ResourceExhausted => 413, _ => 400 }, "invalid", qe.Describe()).ConfigureAwait(false);
                return "error";
            }
            catch (OperationCanceledException) when (!ctx.RequestAborted.IsCancellationRequested)
            {
                await WriteErrorAsync(ctx, 504, "timeout", "the query took longer than the query timeout").ConfigureAwait(false);
                return "timeout";
            }

            try
            {
                return await WriteCsvAsync(ctx, tables, dialect, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // The writing failed (the client left): the reading thread stops at its next cancellation check
                // rather than finishing the table it is reading.
                await query.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            if (tables is not null)
            {
                await tables.DisposeAsync().ConfigureAwait(false); // waits for the reading thread; disposes the enumerator
            }
            else
            {
                enumerator.Dispose();
            }
        }
    }

    private static async Task<string> WriteCsvAsync(HttpContext ctx, TableReadAhead? tables, CsvDialect dialect, CancellationToken cancellationToken)
    {
        string outcome = "ok";
        ctx.Response.ContentType = "text/csv; charset=utf-8";

        // The CSV writer writes whole tables synchronously, as UTF-8 into the response's pipe, which spills to the
        // socket every 16 KiB, so a large table streams with bounded memory.
        var writer = new SpillingPipeWriter(ctx.Response.BodyWriter);
        var csv = new AnnotatedCsvWriter(writer, dialect);
        long lastFlush = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            while (tables is not null && await tables.MoveNextAsync().ConfigureAwait(false))
            {
                var (result, table) = tables.Current;
                csv.WriteTable(result, table);

                // Tables reach the client as they come, but at most every 50 ms: a thousand one-row tables
                // are not a thousand network writes (the writer's buffer also spills when full).
                if (System.Diagnostics.Stopwatch.GetElapsedTime(lastFlush).TotalMilliseconds >= 50)
                {
                    await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                    lastFlush = System.Diagnostics.Stopwatch.GetTimestamp();
                }
            }
        }
        catch (QueryException qe)
        {
            csv.WriteError(qe.Describe());
            outcome = "error";
        }
        catch (OperationCanceledException) when (!ctx.RequestAborted.IsCancellationRequested)
        {
            csv.WriteError("the query took longer than the query timeout");
            outcome = "timeout";
        }

        csv.Finish();
        try
        {
            // Ends the response: what is pending and the chunked end leave in one send (a flush, then the end, took
            // two sends and two hand-offs to the sending thread).
            await ctx.Response.CompleteAsync().ConfigureAwait(false);
            if (ctx.RequestAborted.IsCancellationRequested && outcome == "ok")
            {
                outcome = "canceled"; // the client left before the end reached it
            }
        }
        catch (Exception gone) when (outcome != "ok" && gone is IOException or OperationCanceledException)
        {
            // A timeout mid-stream aborts the connection: the in-band error cannot arrive, the outcome stands.
        }

        return outcome;
    }

    private static Task WriteErrorAsync(HttpContext ctx, int status, string code, string message) =>
        Api.Error(status, code, message).ExecuteAsync(ctx);

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
internal sealed class QueryGate(LiveOptions options)
{
    private int _running;

    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _running) > options.Current.MaxConcurrentQueries)
        {
            Interlocked.Decrement(ref _running);
            return false;
        }

        return true;
    }

    public void Exit() => Interlocked.Decrement(ref _running);
}
