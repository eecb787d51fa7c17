using InfluxLike.Server.Replication;
using InfluxLike.Server.Security;
using InfluxLike.Server.Tasks;
using InfluxLike.Storage.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace InfluxLike.Server.Http;

/// <summary>
/// <c>/api/v2/remotes</c> (remote connections) and <c>/api/v2/replications</c> (streams forwarding every write
/// of a local bucket to a remote bucket) in InfluxDB 2.x's shapes, plus the stream's live state (queue, lag,
/// latest response, counts). A remote's token is write-only: no answer ever contains it.
/// </summary>
internal static class ReplicationEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v2/remotes", ListRemotes).WithName("GetRemoteConnections").WithTags("Replications").WithSummary("Lists remote connections (orgID, name filters).");
        app.MapPost("/api/v2/remotes", CreateRemoteAsync).WithName("PostRemoteConnection").WithTags("Replications").WithSummary("Registers a remote InfluxDB-compatible server.");
        app.MapGet("/api/v2/remotes/{id}", GetRemote).WithName("GetRemoteConnectionByID").WithTags("Replications").WithSummary("One remote connection.");
        app.MapPatch("/api/v2/remotes/{id}", PatchRemoteAsync).WithName("PatchRemoteConnectionByID").WithTags("Replications").WithSummary("Changes a remote connection.");
        app.MapDelete("/api/v2/remotes/{id}", DeleteRemote).WithName("DeleteRemoteConnectionByID").WithTags("Replications").WithSummary("Deletes a remote connection no replication uses.");
        app.MapGet("/api/v2/replications", ListReplications).WithName("GetReplications").WithTags("Replications").WithSummary("Lists replication streams with their state.");
        app.MapPost("/api/v2/replications", CreateReplicationAsync).WithName("PostReplication").WithTags("Replications").WithSummary("Creates a replication stream from a local bucket to a remote bucket.");
        app.MapGet("/api/v2/replications/{id}", GetReplication).WithName("GetReplicationByID").WithTags("Replications").WithSummary("One replication stream with its queue, lag and latest response.");
        app.MapPatch("/api/v2/replications/{id}", PatchReplicationAsync).WithName("PatchReplicationByID").WithTags("Replications").WithSummary("Changes a replication stream.");
        app.MapDelete("/api/v2/replications/{id}", DeleteReplication).WithName("DeleteReplicationByID").WithTags("Replications").WithSummary("Deletes a replication stream and its queue.");
    }

    private static RemoteDto ToDto(RemoteInfo r) => new(r.Id, r.OrgId, r.Name, r.Description, r.RemoteUrl, r.RemoteOrgId, r.AllowInsecureTls);

    private static ReplicationDto ToDto(ReplicationInfo r, ReplicationService service)
    {
        ReplicationState? s = service.State(r.Id);
        return new ReplicationDto(r.Id, r.OrgId, r.Name, r.Description, r.RemoteId, r.LocalBucketId, r.RemoteBucketId, r.RemoteBucketName,
            r.MaxQueueSizeBytes, r.MaxAgeSeconds, r.DropNonRetryableData, s?.QueueBytes ?? 0, s?.QueueBytes ?? 0, s?.LatestResponseCode,
            s?.LatestErrorMessage, s?.LatestSentAt, s?.SentPoints ?? 0, s?.DroppedPoints ?? 0, s?.FailedAttempts ?? 0, s?.LagSeconds ?? 0);
    }

    private static IResult ListRemotes(HttpContext ctx, ReplicationService service, Authenticator authenticator, string? orgID, string? name)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out IResult? failure))
        {
            return failure!;
        }

        var remotes = service.Store.Remotes.Where(r => auth.Allows(Permission.Read, "remotes", r.OrgId) && (orgID is null || r.OrgId == orgID) && (name is null || r.Name == name));
        return Api.Json(new RemotesDto([.. remotes.OrderBy(r => r.Name, StringComparer.Ordinal).Select(ToDto)]), ServerJsonContext.Default.RemotesDto);
    }

    private static IResult GetRemote(HttpContext ctx, ReplicationService service, Authenticator authenticator, string id) =>
        FindRemote(ctx, service, authenticator, id, Permission.Read, out RemoteInfo? remote) ?? Api.Json(ToDto(remote!), ServerJsonContext.Default.RemoteDto);

    private static IResult? FindRemote(HttpContext ctx, ReplicationService service, Authenticator authenticator, string id, string action, out RemoteInfo? remote)
    {
        remote = null;
        if (!Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out IResult? failure))
        {
            return failure!;
        }

        remote = service.Store.GetRemote(id);
        if (remote is null || !auth.Allows(Permission.Read, "remotes", remote.OrgId))
        {
            return Api.NotFound($"remote {id}");
        }

        return auth.Allows(action, "remotes", remote.OrgId) ? null : Api.Forbidden("change remotes in this organization");
    }

    private static async Task<IResult> CreateRemoteAsync(HttpContext ctx, ReplicationService service, StorageEngine engine, Authenticator authenticator)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out IResult? failure))
        {
            return failure!;
        }

        var (request, error) = await Api.ReadJsonAsync(ctx.Request, ServerJsonContext.Default.RemoteRequest).ConfigureAwait(false);
        if (request is null)
        {
            return error!;
        }

        OrgInfo? org = Api.FindOrg(engine.Catalog, null, request.OrgId);
        if (org is null)
        {
            return request.OrgId is null ? Api.Error(400, "invalid", "orgID is required") : Api.NotFound($"organization {request.OrgId}");
        }

        if (!auth.Allows(Permission.Write, "remotes", org.Id))
        {
            return Api.Forbidden("create remotes in this organization");
        }

        var remote = new RemoteInfo
        {
            Id = TaskRunner.NewId(), OrgId = org.Id, Name = request.Name ?? "", Description = request.Description, RemoteUrl = request.RemoteUrl ?? "",
            RemoteApiToken = request.RemoteApiToken ?? "", RemoteOrgId = request.RemoteOrgId ?? "", AllowInsecureTls = request.AllowInsecureTls ?? false,
        };
        if (ValidateRemote(remote) is { } invalid)
        {
            return Api.Error(400, "invalid", invalid);
        }

        service.Store.Put(remote);
        return Api.Json(ToDto(remote), ServerJsonContext.Default.RemoteDto, statusCode: 201);
    }

    private static string? ValidateRemote(RemoteInfo r)
    {
        if (string.IsNullOrWhiteSpace(r.Name))
        {
            return "name is required";
        }

        if (!Uri.TryCreate(r.RemoteUrl, UriKind.Absolute, out Uri? url) || url.Scheme is not ("http" or "https") || url.Query.Length > 0)
        {
            return $"remoteURL \"{r.RemoteUrl}\" is not an http(s) URL without a query, such as http://central:8086";
        }

        if (string.IsNullOrEmpty(r.RemoteApiToken))
        {
            return "remoteAPIToken is required: the token the remote accepts for writes";
        }

        return string.IsNullOrWhiteSpace(r.RemoteOrgId) ? "remoteOrgID is required: the organization (id or name) on the remote" : null;
    }

    private static async Task<IResult> PatchRemoteAsync(HttpContext ctx, ReplicationService service, Authenticator authenticator, string id)
    {
        if (FindRemote(ctx, service, authenticator, id, Permission.Write, out RemoteInfo? remote) is { } refused)
        {
            return refused;
        }

        var (request, error) = await Api.ReadJsonAsync(ctx.Request, ServerJsonContext.Default.RemoteRequest).ConfigureAwait(false);
        if (request is null)
        {
            return error!;
        }

        RemoteInfo changed = remote! with
        {
            Name = request.Name ?? remote!.Name, Description = request.Description ?? remote!.Description, RemoteUrl = request.RemoteUrl ?? remote!.RemoteUrl,
            RemoteApiToken = request.RemoteApiToken ?? remote!.RemoteApiToken, RemoteOrgId = request.RemoteOrgId ?? remote!.RemoteOrgId,
            AllowInsecureTls = request.AllowInsecureTls ?? remote!.AllowInsecureTls,
        };
        if (ValidateRemote(changed) is { } invalid)
        {
            return Api.Error(400, "invalid", invalid);
        }

        service.Store.Put(changed);
        return Api.Json(ToDto(changed), ServerJsonContext.Default.RemoteDto);
    }

    private static IResult DeleteRemote(HttpContext ctx, ReplicationService service, Authenticator authenticator, string id)
    {
        if (FindRemote(ctx, service, authenticator, id, Permission.Write, out _) is { } refused)
        {
            return refused;
        }

        return service.Store.DeleteRemote(id, out string? inUse) ? Results.NoContent() : Api.Error(409, "conflict", inUse ?? $"remote {id} not found");
    }

    private static IResult ListReplications(HttpContext ctx, ReplicationService service, Authenticator authenticator, string? orgID, string? name, string? remoteID, string? localBucketID)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out IResult? failure))
        {
            return failure!;
        }

        var list = service.Store.Replications.Where(r => auth.Allows(Permission.Read, "replications", r.OrgId)
            && (orgID is null || r.OrgId == orgID) && (name is null || r.Name == name) && (remoteID is null || r.RemoteId == remoteID) && (localBucketID is null || r.LocalBucketId == localBucketID));
        return Api.Json(new ReplicationsDto([.. list.OrderBy(r => r.Name, StringComparer.Ordinal).Select(r => ToDto(r, service))]), ServerJsonContext.Default.ReplicationsDto);
    }

    private static IResult GetReplication(HttpContext ctx, ReplicationService service, Authenticator authenticator, string id) =>
        FindReplication(ctx, service, authenticator, id, Permission.Read, out ReplicationInfo? r) ?? Api.Json(ToDto(r!, service), ServerJsonContext.Default.ReplicationDto);

    private static IResult? FindReplication(HttpContext ctx, ReplicationService service, Authenticator authenticator, string id, string action, out ReplicationInfo? replication)
    {
        replication = null;
        if (!Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out IResult? failure))
        {
            return failure!;
        }

        replication = service.Store.GetReplication(id);
        if (replication is null || !auth.Allows(Permission.Read, "replications", replication.OrgId))
        {
            return Api.NotFound($"replication {id}");
        }

        return auth.Allows(action, "replications", replication.OrgId) ? null : Api.Forbidden("change replications in this organization");
    }

    private static async Task<IResult> CreateReplicationAsync(HttpContext ctx, ReplicationService service, StorageEngine engine, Authenticator authenticator)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out IResult? failure))
        {
            return failure!;
        }

        var (request, error) = await Api.ReadJsonAsync(ctx.Request, ServerJsonContext.Default.ReplicationRequest).ConfigureAwait(false);
        if (request is null)
        {
            return error!;
        }

        OrgInfo? org = Api.FindOrg(engine.Catalog, null, request.OrgId);
        if (org is null)
        {
            return request.OrgId is null ? Api.Error(400, "invalid", "orgID is required") : Api.NotFound($"organization {request.OrgId}");
        }

        if (!auth.Allows(Permission.Write, "replications", org.Id))
        {
            return Api.Forbidden("create replications in this organization");
        }

        var replication = new ReplicationInfo
        {
            Id = TaskRunner.NewId(), OrgId = org.Id, Name = request.Name ?? "", Description = request.Description, RemoteId = request.RemoteId ?? "",
            LocalBucketId = request.LocalBucketId ?? "", RemoteBucketId = request.RemoteBucketId, RemoteBucketName = request.RemoteBucketName,
            MaxQueueSizeBytes = request.MaxQueueSizeBytes ?? ReplicationInfo.DefaultMaxQueueSizeBytes,
            MaxAgeSeconds = request.MaxAgeSeconds ?? ReplicationInfo.DefaultMaxAgeSeconds,
            DropNonRetryableData = request.DropNonRetryableData ?? true,
        };
        if (ValidateReplication(replication, service, engine, auth) is { } invalid)
        {
            return invalid;
        }

        service.Store.Put(replication);
        return Api.Json(ToDto(replication, service), ServerJsonContext.Default.ReplicationDto, statusCode: 201);
    }

    private static IResult? ValidateReplication(ReplicationInfo r, ReplicationService service, StorageEngine engine, AuthorizationInfo auth)
    {
        if (string.IsNullOrWhiteSpace(r.Name))
        {
            return Api.Error(400, "invalid", "name is required");
        }

        if (service.Store.GetRemote(r.RemoteId) is not { } remote || remote.OrgId != r.OrgId)
        {
            return Api.Error(400, "invalid", $"remoteID \"{r.RemoteId}\" names no remote of this organization (create one with POST /api/v2/remotes)");
        }

        if (engine.Catalog.GetBucket(r.LocalBucketId) is not { } bucket || bucket.OrgId != r.OrgId)
        {
            return Api.Error(400, "invalid", $"localBucketID \"{r.LocalBucketId}\" names no bucket of this organization");
        }

        if (!auth.Allows(Permission.Read, "buckets", bucket.OrgId, bucket.Id))
        {
            return Api.Forbidden($"read bucket {bucket.Name}");
        }

        if ((r.RemoteBucketId is null) == (r.RemoteBucketName is null))
        {
            return Api.Error(400, "invalid", "give exactly one of remoteBucketID and remoteBucketName");
        }

        if (r.MaxQueueSizeBytes < ReplicationInfo.MinQueueSizeBytes)
        {
            return Api.Error(400, "invalid", $"maxQueueSizeBytes {r.MaxQueueSizeBytes} is too small: at least {ReplicationInfo.MinQueueSizeBytes} bytes");
        }

        return r.MaxAgeSeconds < 0 ? Api.Error(400, "invalid", "maxAgeSeconds must be 0 (no limit) or more") : null;
    }

    private static async Task<IResult> PatchReplicationAsync(HttpContext ctx, ReplicationService service, StorageEngine engine, Authenticator authenticator, string id)
    {
        if (FindReplication(ctx, service, authenticator, id, Permission.Write, out ReplicationInfo? r) is { } refused)
        {
            return refused;
        }

        var (request, error) = await Api.ReadJsonAsync(ctx.Request, ServerJsonContext.Default.ReplicationRequest).ConfigureAwait(false);
        if (request is null)
        {
            return error!;
        }

        bool byId = request.RemoteBucketId is not null;
        bool byName = request.RemoteBucketName is not null;
        ReplicationInfo changed = r! with
        {
            Name = request.Name ?? r!.Name, Description = request.Description ?? r!.Description, RemoteId = request.RemoteId ?? r!.RemoteId,
            RemoteBucketId = byId ? request.RemoteBucketId : byName ? null : r!.RemoteBucketId,
            RemoteBucketName = byName ? request.RemoteBucketName : byId ? null : r!.RemoteBucketName,
            MaxQueueSizeBytes = request.MaxQueueSizeBytes ?? r!.MaxQueueSizeBytes, MaxAgeSeconds = request.MaxAgeSeconds ?? r!.MaxAgeSeconds,
            DropNonRetryableData = request.DropNonRetryableData ?? r!.DropNonRetryableData,
        };
        _ = Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out _);
        if (ValidateReplication(changed, service, engine, auth) is { } invalid)
        {
            return invalid;
        }

        service.Store.Put(changed);
        return Api.Json(ToDto(changed, service), ServerJsonContext.Default.ReplicationDto);
    }

    private static IResult DeleteReplication(HttpContext ctx, ReplicationService service, Authenticator authenticator, string id)
    {
        if (FindReplication(ctx, service, authenticator, id, Permission.Write, out _) is { } refused)
        {
            return refused;
        }

        service.Store.DeleteReplication(id);
        return Results.NoContent();
    }
}
