using System.Globalization;
using System.Text.RegularExpressions;
using InfluxLike.LineProtocol;
using InfluxLike.Server.Security;
using InfluxLike.Storage.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace InfluxLike.Server.Http;

/// <summary>
/// InfluxDB 1.x compatibility for Telegraf's <c>outputs.influxdb</c> and v1 scripts: <c>POST /write</c>
/// (db, rp, precision) and <c>/query</c> answering <c>CREATE DATABASE</c>, <c>SHOW DATABASES</c> and
/// <c>DROP DATABASE</c>. A database (and retention policy) maps to a bucket: <c>db/rp</c> when such a bucket
/// exists, else <c>db</c>. Errors are InfluxDB 1.x's <c>{"error": "..."}</c>, which Telegraf reads.
/// </summary>
internal static partial class V1Endpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/write", WriteAsync).WithName("PostWriteV1").WithTags("Compatibility")
            .WithSummary("InfluxDB 1.x write: line protocol to database db (and retention policy rp).");
        app.MapMethods("/query", ["GET", "POST"], QueryAsync).WithName("QueryV1").WithTags("Compatibility")
            .WithSummary("InfluxDB 1.x query: CREATE DATABASE, SHOW DATABASES and DROP DATABASE (q in the query string or a form body).");
    }

    private static IResult Error(int status, string message) =>
        Api.Json(new V1Error(message), ServerJsonContext.Default.V1Error, statusCode: status);

    /// <summary>The organisation v1 requests work in: the token's, else the only one.</summary>
    private static OrgInfo? DefaultOrg(Catalog catalog, AuthorizationInfo auth) =>
        catalog.GetOrg(auth.OrgId) ?? (catalog.Orgs.Count == 1 ? catalog.Orgs[0] : null);

    internal static BucketInfo? MapBucket(Catalog catalog, OrgInfo org, string db, string? rp)
    {
        if (!string.IsNullOrEmpty(rp) && catalog.FindBucket(org.Id, db + "/" + rp) is { } exact)
        {
            return exact;
        }

        return string.IsNullOrEmpty(rp) || rp == "autogen" ? catalog.FindBucket(org.Id, db) ?? catalog.FindBucket(org.Id, db + "/autogen") : null;
    }

    private static async Task<IResult> WriteAsync(HttpContext ctx, StorageEngine engine, LiveOptions live, Authenticator authenticator, Replication.ReplicationService replication)
    {
        AuthorizationInfo? auth = authenticator.Authenticate(ctx.Request, allowV1Credentials: true);
        if (auth is null)
        {
            return Error(401, "authorization failed");
        }

        var q = ctx.Request.Query;
        string db = q["db"].ToString();
        if (db.Length == 0)
        {
            return Error(400, "database is required");
        }

        var precision = Precision.Nanoseconds;
        if (q["precision"] is { Count: > 0 } p && !PrecisionExtensions.TryParse(p.ToString(), out precision))
        {
            return Error(400, $"invalid precision \"{p}\": use n, u, ms, s, m or h");
        }

        OrgInfo? org = DefaultOrg(engine.Catalog, auth);
        BucketInfo? bucket = org is null ? null : MapBucket(engine.Catalog, org, db, q["rp"]);
        if (bucket is null)
        {
            string rp = q["rp"].ToString();
            return Error(404, rp.Length > 0 && rp != "autogen" ? $"retention policy not found: \"{rp}\"" : $"database not found: \"{db}\"");
        }

        if (!auth.Allows(Permission.Write, "buckets", bucket.OrgId, bucket.Id))
        {
            return Error(403, $"insufficient permissions to write to database \"{db}\"");
        }

        IngestOutcome outcome = await LineProtocolIngest.WriteAsync(ctx.Request, engine, bucket, precision, live.Current.MaxBodySize, acceptPartial: true, replication).ConfigureAwait(false);
        Metrics.EngineMetrics.WriteRequests.WithLabels(outcome.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        if (outcome.RetryAfterSeconds > 0)
        {
            ctx.Response.Headers.RetryAfter = outcome.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }

        return outcome.Status == 204 ? Results.NoContent() : Error(outcome.Status, outcome.Message);
    }

    private static async Task<IResult> QueryAsync(HttpContext ctx, StorageEngine engine, Authenticator authenticator)
    {
        AuthorizationInfo? auth = authenticator.Authenticate(ctx.Request, allowV1Credentials: true);
        if (auth is null)
        {
            return Error(401, "authorization failed");
        }

        string? text = ctx.Request.Query["q"];
        if (text is null && ctx.Request.HasFormContentType)
        {
            var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted).ConfigureAwait(false);
            text = form["q"];
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            return Error(400, "missing required parameter \"q\"");
        }

        var results = new List<string>();
        int id = 0;
        foreach (string statement in SplitStatements(text))
        {
            results.Add(await RunAsync(statement, id++, engine, auth).ConfigureAwait(false));
        }

        return Results.Text("{\"results\":[" + string.Join(",", results) + "]}", "application/json", statusCode: 200);
    }

    private static async Task<string> RunAsync(string statement, int id, StorageEngine engine, AuthorizationInfo auth)
    {
        string Result(string? body = null) => $"{{\"statement_id\":{id}{(body is null ? "" : "," + body)}}}";
        string Fail(string message) => Result("\"error\":" + System.Text.Json.JsonSerializer.Serialize(message, ServerJsonContext.Default.String));

        Catalog catalog = engine.Catalog;
        Match m;
        if ((m = CreateDatabase().Match(statement)).Success)
        {
            string name = Unquote(m.Groups["name"].Value);
            TimeSpan retention = TimeSpan.Zero;
            if (m.Groups["duration"].Success && !TryParseDuration(m.Groups["duration"].Value, out retention))
            {
                return Fail($"invalid duration \"{m.Groups["duration"].Value}\"");
            }

            // With authentication off and nothing set up, the first database also creates the organisation.
            OrgInfo? org = DefaultOrg(catalog, auth)
                ?? (catalog.Orgs.Count == 0 && ReferenceEquals(auth, Authenticator.Unauthenticated) ? catalog.GetOrCreateOrg("default") : null);
            if (org is null)
            {
                return Fail("cannot tell which organization to create the database in: use a token of that organization");
            }

            if (!auth.Allows(Permission.Write, "buckets", org.Id))
            {
                return Fail("insufficient permissions to create databases");
            }

            if (MapBucket(catalog, org, name, null) is null)
            {
                try
                {
                    catalog.CreateBucket(org.Id, name, retention);
                }
                catch (CatalogConflictException)
                {
                    // created meanwhile: CREATE DATABASE is idempotent in InfluxDB 1.x
                }
                catch (ArgumentException e)
                {
                    return Fail(e.Message);
                }
            }

            return Result();
        }

        if (ShowDatabases().IsMatch(statement))
        {
            var names = catalog.Buckets
                .Where(b => (DefaultOrg(catalog, auth) is not { } org || b.OrgId == org.Id) && auth.Allows(Permission.Read, "buckets", b.OrgId, b.Id))
                .Select(b => b.Name.EndsWith("/autogen", StringComparison.Ordinal) ? b.Name[..^8] : b.Name)
                .Where(n => !n.Contains('/', StringComparison.Ordinal))
                .Distinct()
                .Order(StringComparer.Ordinal)
                .Select(n => "[" + System.Text.Json.JsonSerializer.Serialize(n, ServerJsonContext.Default.String) + "]");
            return Result("\"series\":[{\"name\":\"databases\",\"columns\":[\"name\"],\"values\":[" + string.Join(",", names) + "]}]");
        }

        if ((m = DropDatabase().Match(statement)).Success)
        {
            string name = Unquote(m.Groups["name"].Value);
            OrgInfo? org = DefaultOrg(catalog, auth);
            BucketInfo? bucket = org is null ? null : MapBucket(catalog, org, name, null);
            if (bucket is null)
            {
                return Result(); // InfluxDB 1.x: dropping a missing database is not an error
            }

            if (!auth.Allows(Permission.Write, "buckets", bucket.OrgId, bucket.Id))
            {
                return Fail("insufficient permissions to drop database " + name);
            }

            await engine.DropBucketAsync(bucket.Id).ConfigureAwait(false);
            return Result();
        }

        return Fail($"InfluxQL statement not supported: \"{(statement.Length > 80 ? statement[..80] + "…" : statement)}\"; this server answers CREATE DATABASE, SHOW DATABASES and DROP DATABASE, and queries through POST /api/v2/query (Flux)");
    }

    private static IEnumerable<string> SplitStatements(string text)
    {
        int start = 0;
        char quote = '\0';
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quote != '\0')
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == quote)
                {
                    quote = '\0';
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == ';')
            {
                if (text[start..i].Trim() is { Length: > 0 } s)
                {
                    yield return s;
                }

                start = i + 1;
            }
        }

        if (text[start..].Trim() is { Length: > 0 } last)
        {
            yield return last;
        }
    }

    private static string Unquote(string name) =>
        name.Length >= 2 && name[0] == '"' && name[^1] == '"' ? name[1..^1].Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal) : name;

    /// <summary>An InfluxQL duration literal (<c>INF</c>, <c>90d</c>, <c>1w</c>, <c>12h</c>, <c>30m</c>...).</summary>
    internal static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (text.Equals("INF", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (Match part in DurationPart().Matches(text))
        {
            long n = long.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            duration += part.Groups[2].Value switch
            {
                "ns" => TimeSpan.FromTicks(n / 100),
                "u" or "µ" => TimeSpan.FromMicroseconds(n),
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n),
                "d" => TimeSpan.FromDays(n),
                _ => TimeSpan.FromDays(7 * n),
            };
        }

        return DurationWhole().IsMatch(text);
    }

    [GeneratedRegex("""^\s*CREATE\s+DATABASE\s+(?<name>"(?:[^"\\]|\\.)*"|[A-Za-z_][\w.-]*)(?:\s+WITH(?:\s+DURATION\s+(?<duration>\w+))?(?:\s+\w+\s+\S+)*)?\s*$""", RegexOptions.IgnoreCase)]
    private static partial Regex CreateDatabase();

    [GeneratedRegex("""^\s*DROP\s+DATABASE\s+(?<name>"(?:[^"\\]|\\.)*"|[A-Za-z_][\w.-]*)\s*$""", RegexOptions.IgnoreCase)]
    private static partial Regex DropDatabase();

    [GeneratedRegex("""^\s*SHOW\s+DATABASES\s*$""", RegexOptions.IgnoreCase)]
    private static partial Regex ShowDatabases();

    [GeneratedRegex("(\\d+)(ns|u|µ|ms|s|m|h|d|w)")]
    private static partial Regex DurationPart();

    [GeneratedRegex("^(\\d+(ns|u|µ|ms|s|m|h|d|w))+$")]
    private static partial Regex DurationWhole();
}
