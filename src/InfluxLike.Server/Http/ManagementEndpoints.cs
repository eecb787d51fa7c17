using InfluxLike.Server.Security;
using InfluxLike.Storage.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace InfluxLike.Server.Http;

/// <summary>
/// <c>/api/v2/setup</c>, <c>/api/v2/orgs</c>, <c>/api/v2/buckets</c> and <c>/api/v2/authorizations</c> in
/// InfluxDB 2.x's shapes. Every call but setup needs a token; lists show only what the token may read.
/// </summary>
internal static class ManagementEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v2/setup", (AuthStore auth) => Api.Json(new SetupAllowedDto(!auth.IsSetUp), ServerJsonContext.Default.SetupAllowedDto))
            .WithName("GetSetup").WithTags("Setup").WithSummary("Whether first-run setup is still allowed.");
        app.MapPost("/api/v2/setup", SetupAsync).WithName("PostSetup").WithTags("Setup")
            .WithSummary("First-run setup: user, organization, bucket and operator token (refused once done).");

        app.MapGet("/api/v2/orgs", ListOrgs).WithName("GetOrgs").WithTags("Organizations").WithSummary("Lists organizations (org, orgID filters).");
        app.MapPost("/api/v2/orgs", CreateOrgAsync).WithName("PostOrgs").WithTags("Organizations").WithSummary("Creates an organization.");
        app.MapGet("/api/v2/orgs/{id}", GetOrg).WithName("GetOrg").WithTags("Organizations").WithSummary("One organization.");
        app.MapDelete("/api/v2/orgs/{id}", DeleteOrg).WithName("DeleteOrg").WithTags("Organizations").WithSummary("Deletes an organization that has no buckets.");

        app.MapGet("/api/v2/buckets", ListBuckets).WithName("GetBuckets").WithTags("Buckets").WithSummary("Lists buckets (org, orgID, name, id, limit, offset).");
        app.MapPost("/api/v2/buckets", CreateBucketAsync).WithName("PostBuckets").WithTags("Buckets").WithSummary("Creates a bucket with a retention rule.");
        app.MapGet("/api/v2/buckets/{id}", GetBucket).WithName("GetBucket").WithTags("Buckets").WithSummary("One bucket.");
        app.MapPatch("/api/v2/buckets/{id}", UpdateBucketAsync).WithName("PatchBucket").WithTags("Buckets").WithSummary("Renames a bucket or changes its description or retention.");
        app.MapDelete("/api/v2/buckets/{id}", DeleteBucketAsync).WithName("DeleteBucket").WithTags("Buckets").WithSummary("Deletes a bucket and all its data.");

        app.MapGet("/api/v2/authorizations", ListAuthorizations).WithName("GetAuthorizations").WithTags("Authorizations").WithSummary("Lists tokens (never their secrets).");
        app.MapPost("/api/v2/authorizations", CreateAuthorizationAsync).WithName("PostAuthorizations").WithTags("Authorizations").WithSummary("Creates a token with permissions; the token is returned this once.");
        app.MapGet("/api/v2/authorizations/{id}", GetAuthorization).WithName("GetAuthorization").WithTags("Authorizations").WithSummary("One token's record.");
        app.MapPatch("/api/v2/authorizations/{id}", UpdateAuthorizationAsync).WithName("PatchAuthorization").WithTags("Authorizations").WithSummary("Activates or deactivates a token, or changes its description.");
        app.MapDelete("/api/v2/authorizations/{id}", DeleteAuthorization).WithName("DeleteAuthorization").WithTags("Authorizations").WithSummary("Deletes a token.");
    }

    private static async Task<IResult> SetupAsync(HttpContext ctx, StorageEngine engine, AuthStore auth)
    {
        if (auth.IsSetUp)
        {
            return Api.Error(422, "conflict", "onboarding has already been completed");
        }

        var (request, error) = await Api.ReadJsonAsync(ctx.Request, ServerJsonContext.Default.SetupRequest).ConfigureAwait(false);
        if (request is null)
        {
            return error!;
        }

        long seconds = request.RetentionPeriodSeconds ?? (request.RetentionPeriodHrs ?? 0) * 3600;
        try
        {
            OnboardingResult r = Onboarding.Run(engine, auth, request.Username ?? "", request.Org ?? "", request.Bucket ?? "", TimeSpan.FromSeconds(seconds), request.Token);
            var body = new SetupResponse(
                new UserDto(r.User.Id, r.User.Name, "active", new Links("/api/v2/users/" + r.User.Id)),
                Api.ToDto(r.Org),
                Api.ToDto(r.Bucket),
                Api.ToDto(r.Authorization, r.Token, engine.Catalog));
            return Api.Json(body, ServerJsonContext.Default.SetupResponse, statusCode: 201);
        }
        catch (InvalidOperationException e)
        {
            return Api.Error(422, "conflict", e.Message);
        }
        catch (ArgumentException e)
        {
            return Api.Error(400, "invalid", e.Message);
        }
    }

    // ---- organizations ------------------------------------------------------------------------

    // 401 without a valid token, then 404 when the object is missing, then 403 without the permission.
    private static IResult? Guard(HttpContext ctx, Authenticator authenticator, bool found, string what, Func<AuthorizationInfo, bool> allowed, string denied, out AuthorizationInfo auth)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out auth, out var fail))
        {
            return fail;
        }

        return !found ? Api.NotFound(what) : !allowed(auth) ? Api.Forbidden(denied) : null;
    }

    // Creating in an organisation: orgID given (400), existing (404), and the token may write there (403).
    private static bool RefusesCreate(Catalog catalog, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] string? orgId, AuthorizationInfo auth, string type, string denied, out IResult refused)
    {
        refused = orgId is null ? Api.Error(400, "invalid", "orgID is required")
            : catalog.GetOrg(orgId) is null ? Api.NotFound($"organization {orgId}")
            : !auth.Allows(Permission.Write, type, orgId) ? Api.Forbidden(denied)
            : null!;
        return refused is not null;
    }

    // A catalog refusal as the API answers it: a taken name is a conflict (422), a bad value is invalid (400).
    private static IResult Mutate(Func<IResult> action)
    {
        try
        {
            return action();
        }
        catch (CatalogConflictException e)
        {
            return Api.Error(422, "conflict", e.Message);
        }
        catch (ArgumentException e)
        {
            return Api.Error(400, "invalid", e.Message);
        }
    }

    private static bool CanSeeOrg(AuthorizationInfo a, OrgInfo o) => a.OrgId == o.Id || a.Allows(Permission.Read, "orgs", o.Id, o.Id);

    private static IResult ListOrgs(HttpContext ctx, StorageEngine engine, Authenticator authenticator, string? org, string? orgID)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out var a, out var fail))
        {
            return fail!;
        }

        var orgs = engine.Catalog.Orgs
            .Where(o => (org is null || o.Name == org) && (orgID is null || o.Id == orgID) && CanSeeOrg(a, o))
            .Select(Api.ToDto).ToArray();
        if (orgs.Length == 0 && (org is not null || orgID is not null))
        {
            return Api.NotFound($"organization \"{org ?? orgID}\"");
        }

        return Api.Json(new OrgsDto(new Links("/api/v2/orgs"), orgs), ServerJsonContext.Default.OrgsDto);
    }

    private static IResult GetOrg(HttpContext ctx, StorageEngine engine, Authenticator authenticator, string id)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out var a, out var fail))
        {
            return fail!;
        }

        OrgInfo? o = engine.Catalog.GetOrg(id);
        return o is null || !CanSeeOrg(a, o) ? Api.NotFound($"organization {id}") : Api.Json(Api.ToDto(o), ServerJsonContext.Default.OrgDto);
    }

    private static async Task<IResult> CreateOrgAsync(HttpContext ctx, StorageEngine engine, Authenticator authenticator)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out var a, out var fail))
        {
            return fail!;
        }

        if (!a.Allows(Permission.Write, "orgs", null))
        {
            return Api.Forbidden("create organizations");
        }

        var (request, error) = await Api.ReadJsonAsync(ctx.Request, ServerJsonContext.Default.PostOrgRequest).ConfigureAwait(false);
        if (request is null)
        {
            return error!;
        }

        return Mutate(() =>
        {
            OrgInfo o = engine.Catalog.CreateOrg(request.Name ?? "", request.Description);
            return Api.Json(Api.ToDto(o), ServerJsonContext.Default.OrgDto, statusCode: 201);
        });
    }

    private static IResult DeleteOrg(HttpContext ctx, StorageEngine engine, Authenticator authenticator, string id)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out var a, out var fail))
        {
            return fail!;
        }

        if (engine.Catalog.GetOrg(id) is null)
        {
            return Api.NotFound($"organization {id}");
        }

        if (!a.Allows(Permission.Write, "orgs", id, id))
        {
            return Api.Forbidden("delete this organization");
        }

        try
        {
            engine.Catalog.DeleteOrg(id);
            authenticator.Store.DeleteForOrg(id);
            return Results.NoContent();
        }
        catch (CatalogConflictException e)
        {
            return Api.Error(422, "conflict", e.Message);
        }
    }

    // ---- buckets ------------------------------------------------------------------------------

    private static IResult ListBuckets(HttpContext ctx, StorageEngine engine, Authenticator authenticator, string? org, string? orgID, string? name, string? id, int? limit, int? offset)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out var a, out var fail))
        {
            return fail!;
        }

        OrgInfo? o = null;
        if (org is not null || orgID is not null)
        {
            o = Api.FindOrg(engine.Catalog, org, orgID);
            if (o is null)
            {
                return Api.NotFound($"organization \"{org ?? orgID}\"");
            }
        }

        var buckets = engine.Catalog.Buckets
            .Where(b => (o is null || b.OrgId == o.Id) && (name is null || b.Name == name) && (id is null || b.Id == id))
            .Where(b => a.Allows(Permission.Read, "buckets", b.OrgId, b.Id))
            .OrderBy(b => b.Name, StringComparer.Ordinal)
            .Skip(Math.Max(0, offset ?? 0))
            .Take(Math.Clamp(limit ?? 20, 1, 100))
            .Select(Api.ToDto)
            .ToArray();
        return Api.Json(new BucketsDto(new Links("/api/v2/buckets"), buckets), ServerJsonContext.Default.BucketsDto);
    }

    private static IResult GetBucket(HttpContext ctx, StorageEngine engine, Authenticator authenticator, string id)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out var a, out var fail))
        {
            return fail!;
        }

        BucketInfo? b = engine.Catalog.GetBucket(id);
        if (b is null)
        {
            return Api.NotFound($"bucket {id}");
        }

        return a.Allows(Permission.Read, "buckets", b.OrgId, b.Id)
            ? Api.Json(Api.ToDto(b), ServerJsonContext.Default.BucketDto)
            : Api.Forbidden("read this bucket");
    }

    /// <summary>Retention and shard duration from InfluxDB's retentionRules (everySeconds 0: forever).</summary>
    private static (TimeSpan Retention, TimeSpan? ShardDuration, string? Error) Retention(RetentionRuleDto[]? rules)
    {
        RetentionRuleDto? rule = rules?.FirstOrDefault(r => r.Type is null or "expire");
        if (rule is null)
        {
            return (TimeSpan.Zero, null, null);
        }

        if (rule.EverySeconds < 0 || rule.ShardGroupDurationSeconds < 0)
        {
            return (TimeSpan.Zero, null, "retention rule durations must not be negative");
        }

        if (rule.EverySeconds is > 0 and < 3600)
        {
            return (TimeSpan.Zero, null, $"retention policy duration must be at least 1h (got {rule.EverySeconds}s); 0 keeps data forever");
        }

        TimeSpan? shard = rule.ShardGroupDurationSeconds is > 0 ? TimeSpan.FromSeconds(rule.ShardGroupDurationSeconds.Value) : null;
        if (shard is { } s && s < TimeSpan.FromHours(1))
        {
            return (TimeSpan.Zero, null, "the shard group duration must be at least 1h");
        }

        return (TimeSpan.FromSeconds(rule.EverySeconds), shard, null);
    }

    private static async Task<IResult> CreateBucketAsync(HttpContext ctx, StorageEngine engine, Authenticator authenticator)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out var a, out var fail))
        {
            return fail!;
        }

        var (request, error) = await Api.ReadJsonAsync(ctx.Request, ServerJsonContext.Default.PostBucketRequest).ConfigureAwait(false);
        if (request is null)
        {
            return error!;
        }

        if (RefusesCreate(engine.Catalog, request.OrgId, a, "buckets", "create buckets in this organization", out var refused))
        {
            return refused;
        }

        var (retention, shard, bad) = Retention(request.RetentionRules);
        if (bad is not null)
        {
            return Api.Error(422, "unprocessable entity", bad);
        }

        return Mutate(() =>
        {
            BucketInfo b = engine.Catalog.CreateBucket(request.OrgId, request.Name ?? "", retention, shard, request.Description, request.MaxSizeBytes ?? 0);
            return Api.Json(Api.ToDto(b), ServerJsonContext.Default.BucketDto, statusCode: 201);
        });
    }

    private static async Task<IResult> UpdateBucketAsync(HttpContext ctx, StorageEngine engine, Authenticator authenticator, string id)
    {
        BucketInfo? b = engine.Catalog.GetBucket(id);
        if (Guard(ctx, authenticator, b is not null, $"bucket {id}", caller => caller.Allows(Permission.Write, "buckets", b!.OrgId, b!.Id), "change this bucket", out _) is { } stop)
        {
            return stop;
        }

        var (request, error) = await Api.ReadJsonAsync(ctx.Request, ServerJsonContext.Default.PatchBucketRequest).ConfigureAwait(false);
        if (request is null)
        {
            return error!;
        }

        TimeSpan? retention = null;
        TimeSpan? shard = null;
        if (request.RetentionRules is not null)
        {
            var (r, s, bad) = Retention(request.RetentionRules);
            if (bad is not null)
            {
                return Api.Error(422, "unprocessable entity", bad);
            }

            (retention, shard) = (r, s);
        }

        return Mutate(() =>
        {
            BucketInfo? updated = engine.Catalog.UpdateBucket(id, request.Name, request.Description, retention, shard, request.MaxSizeBytes);
            return updated is null ? Api.NotFound($"bucket {id}") : Api.Json(Api.ToDto(updated), ServerJsonContext.Default.BucketDto);
        });
    }

    private static async Task<IResult> DeleteBucketAsync(HttpContext ctx, StorageEngine engine, Authenticator authenticator, string id)
    {
        BucketInfo? b = engine.Catalog.GetBucket(id);
        if (Guard(ctx, authenticator, b is not null, $"bucket {id}", caller => caller.Allows(Permission.Write, "buckets", b!.OrgId, b!.Id), "delete this bucket", out _) is { } stop)
        {
            return stop;
        }

        return await engine.DropBucketAsync(id).ConfigureAwait(false) ? Results.NoContent() : Api.NotFound($"bucket {id}");
    }

    // ---- authorizations -----------------------------------------------------------------------

    private static IResult ListAuthorizations(HttpContext ctx, StorageEngine engine, Authenticator authenticator, string? org, string? orgID)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out var a, out var fail))
        {
            return fail!;
        }

        OrgInfo? o = null;
        if (org is not null || orgID is not null)
        {
            o = Api.FindOrg(engine.Catalog, org, orgID);
            if (o is null)
            {
                return Api.NotFound($"organization \"{org ?? orgID}\"");
            }
        }

        var list = authenticator.Store.Authorizations
            .Where(x => (o is null || x.OrgId == o.Id) && (x.Id == a.Id || a.Allows(Permission.Read, "authorizations", x.OrgId, x.Id)))
            .Select(x => Api.ToDto(x, null, engine.Catalog))
            .ToArray();
        return Api.Json(new AuthorizationsDto(new Links("/api/v2/authorizations"), list), ServerJsonContext.Default.AuthorizationsDto);
    }

    private static IResult GetAuthorization(HttpContext ctx, StorageEngine engine, Authenticator authenticator, string id)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out var a, out var fail))
        {
            return fail!;
        }

        AuthorizationInfo? x = authenticator.Store.Get(id);
        if (x is null || (x.Id != a.Id && !a.Allows(Permission.Read, "authorizations", x.OrgId, x.Id)))
        {
            return Api.NotFound($"authorization {id}");
        }

        return Api.Json(Api.ToDto(x, null, engine.Catalog), ServerJsonContext.Default.AuthorizationDto);
    }

    private static async Task<IResult> CreateAuthorizationAsync(HttpContext ctx, StorageEngine engine, Authenticator authenticator)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out var a, out var fail))
        {
            return fail!;
        }

        var (request, error) = await Api.ReadJsonAsync(ctx.Request, ServerJsonContext.Default.PostAuthorizationRequest).ConfigureAwait(false);
        if (request is null)
        {
            return error!;
        }

        if (RefusesCreate(engine.Catalog, request.OrgId, a, "authorizations", "create tokens in this organization", out var refused))
        {
            return refused;
        }

        if (request.Permissions is not { Length: > 0 } permissions)
        {
            return Api.Error(400, "invalid", "a token needs at least one permission");
        }

        // A permission is scoped to the token's organisation, and nobody hands out more than they hold.
        permissions = [.. permissions.Select(p => p with { Resource = p.Resource with { OrgId = p.Resource?.OrgId ?? request.OrgId } })];
        foreach (Permission p in permissions)
        {
            if (p.Validate() is { } invalid)
            {
                return Api.Error(400, "invalid", invalid);
            }

            if (p.Resource.OrgId != request.OrgId)
            {
                return Api.Error(400, "invalid", "every permission must be in the token's organization");
            }

            if (!a.IsActive || !a.Permissions.Any(h => h.Covers(p)))
            {
                return Api.Forbidden($"grant {p.Action} on {p.Resource.Type}{(p.Resource.Id is null ? "" : " " + p.Resource.Id)} (the requesting token does not hold it)");
            }
        }

        try
        {
            var (created, token) = authenticator.Store.Create(request.OrgId, request.UserId, request.Description ?? "", permissions, status: request.Status ?? "active");
            return Api.Json(Api.ToDto(created, token, engine.Catalog), ServerJsonContext.Default.AuthorizationDto, statusCode: 201);
        }
        catch (ArgumentException e)
        {
            return Api.Error(400, "invalid", e.Message);
        }
    }

    private static async Task<IResult> UpdateAuthorizationAsync(HttpContext ctx, StorageEngine engine, Authenticator authenticator, string id)
    {
        AuthorizationInfo? x = authenticator.Store.Get(id);
        if (Guard(ctx, authenticator, x is not null, $"authorization {id}", caller => caller.Allows(Permission.Write, "authorizations", x!.OrgId, x!.Id), "change this token", out _) is { } stop)
        {
            return stop;
        }

        var (request, error) = await Api.ReadJsonAsync(ctx.Request, ServerJsonContext.Default.PatchAuthorizationRequest).ConfigureAwait(false);
        if (request is null)
        {
            return error!;
        }

        try
        {
            AuthorizationInfo? updated = authenticator.Store.Update(id, request.Status, request.Description);
            return updated is null ? Api.NotFound($"authorization {id}") : Api.Json(Api.ToDto(updated, null, engine.Catalog), ServerJsonContext.Default.AuthorizationDto);
        }
        catch (ArgumentException e)
        {
            return Api.Error(400, "invalid", e.Message);
        }
    }

    private static IResult DeleteAuthorization(HttpContext ctx, Authenticator authenticator, string id)
    {
        AuthorizationInfo? x = authenticator.Store.Get(id);
        if (Guard(ctx, authenticator, x is not null, $"authorization {id}", caller => caller.Allows(Permission.Write, "authorizations", x!.OrgId, x!.Id), "delete this token", out _) is { } stop)
        {
            return stop;
        }

        authenticator.Store.Delete(id);
        return Results.NoContent();
    }
}
