using System.Globalization;
using InfluxLike.Server.Security;
using InfluxLike.Storage.Engine;
using InfluxLike.Storage.Shards;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace InfluxLike.Server.Http;

/// <summary>
/// <c>GET /api/v2/storage</c>: what the storage engine is doing (files per level and shard, caches, running
/// and due compactions, deletes whose index clean-up runs, free disk space), for the buckets the token may
/// read. <c>POST /api/v2/storage/compact</c>: writes every cache to disk and compacts every shard whole,
/// answering once done (before a backup, or to settle after a bulk load); operator tokens only.
/// </summary>
internal static class StorageEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v2/storage", Status).WithName("GetStorage").WithTags("Storage")
            .WithSummary("Storage state: shards, files per level, caches, compactions, deletes in progress, free disk.");
        app.MapPost("/api/v2/storage/compact", CompactAsync).WithName("PostStorageCompact").WithTags("Storage")
            .WithSummary("Writes every cache to disk and compacts every shard into one file; answers when done.");
    }

    private static IResult Status(HttpContext ctx, StorageEngine engine, Authenticator authenticator, LiveOptions options)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out IResult? failure))
        {
            return failure!;
        }

        TimeSpan? cold = options.Current.CompactFullWriteColdDuration > TimeSpan.Zero ? options.Current.CompactFullWriteColdDuration : null;
        var buckets = engine.StorageStatus(cold).Where(b => auth.Allows(Permission.Read, "buckets", b.Bucket.OrgId, b.Bucket.Id)).ToList();
        var readable = buckets.Select(b => b.Bucket.Id).ToHashSet(StringComparer.Ordinal);
        long free = engine.FreeDiskBytes();
        var body = new StorageStatusDto(
            buckets.Sum(b => b.Shards.Count(s => s.CompactionDue && s.Compacting is null)),
            buckets.Sum(b => b.Shards.Count(s => s.Compacting is not null)),
            engine.LastCompactionError,
            free,
            engine.MinFreeDiskBytes,
            engine.MinFreeDiskBytes > 0 && free < engine.MinFreeDiskBytes,
            [.. engine.RecentDeletes.Where(d => readable.Contains(d.BucketId)).Select(d => new DeleteProgressDto(d.BucketId, d.Started, d.Series, d.Checked, d.Removed, d.Done, d.Error))],
            [.. buckets.Select(b => new StorageBucketDto(b.Bucket.Id, b.Bucket.Name, [.. b.Shards.Select(ToDto)]))]);
        return Api.Json(body, ServerJsonContext.Default.StorageStatusDto);
    }

    private static async Task<IResult> CompactAsync(HttpContext ctx, StorageEngine engine, Authenticator authenticator)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out IResult? failure))
        {
            return failure!;
        }

        // Only a token that may write every bucket of every organisation (the operator's).
        if (!auth.Allows(Permission.Write, "buckets", null, null))
        {
            return Api.Forbidden("compact storage (an operator token is needed)");
        }

        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        IReadOnlyList<CompactionResult> results = await engine.CompactAsync(full: true, cancel: ctx.RequestAborted).ConfigureAwait(false);
        if (engine.LastCompactionError is { } error && results.Count == 0 && engine.FreeDiskBytes() < engine.MinFreeDiskBytes)
        {
            return Api.Error(507, "unavailable", error);
        }

        return Api.Json(
            new CompactResponseDto(results.Count, results.Sum(r => r.InputBytes), results.Sum(r => r.OutputBytes), System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds),
            ServerJsonContext.Default.CompactResponseDto);
    }

    private static ShardStatusDto ToDto(ShardStatus s) => new(
        Rfc3339(s.Start),
        Rfc3339(s.End),
        s.Files,
        s.FileBytes,
        s.CacheBytes,
        s.FilesPerLevel.ToDictionary(l => l.Key.ToString(CultureInfo.InvariantCulture), l => l.Value),
        s.FilesWithDeletes,
        s.CompactionDue,
        s.Compacting is { } c ? new CompactionProgressDto(c.Plan.Level, c.Plan.Reason, c.InputFiles, c.InputBytes, c.BytesWritten, c.Started) : null);

    private static string Rfc3339(long ns) =>
        DateTimeOffset.UnixEpoch.AddTicks(ns / 100).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
