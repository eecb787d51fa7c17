using System.Formats.Tar;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using InfluxLike.Server.Security;
using InfluxLike.Storage.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace InfluxLike.Server.Http;

/// <summary>
/// <c>GET /api/v2/backup?org=&amp;bucket=</c>: an online backup of one bucket as a tar archive (a manifest, then
/// each shard's TSM and tombstone files, taken from a consistent file set after the caches are written to disk).
/// <c>POST /api/v2/restore?org=&amp;bucket=NAME</c>: restores such an archive as a new bucket of that name (the
/// series index is rebuilt from the files).
/// </summary>
internal static class BackupEndpoints
{
    private const string Manifest = "manifest.json";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v2/backup", BackupAsync).WithName("GetBackup").WithTags("Backup").WithSummary("An online backup of one bucket, as a tar archive.");
        app.MapPost("/api/v2/restore", RestoreAsync).WithName("PostRestore").WithTags("Backup").WithSummary("Restores a backup archive as a new bucket.");
    }

    private static async Task<IResult> BackupAsync(HttpContext ctx, StorageEngine engine, Authenticator authenticator)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out IResult? failure))
        {
            return failure!;
        }

        if (!Api.TryFindBucket(engine.Catalog, ctx.Request.Query, out BucketInfo? bucket, out IResult? missing))
        {
            return missing;
        }

        if (!auth.Allows(Permission.Read, "buckets", bucket.OrgId, bucket.Id))
        {
            return Api.NotFound($"bucket \"{bucket.Name}\"");
        }

        ctx.Response.ContentType = "application/x-tar";
        ctx.Response.Headers.ContentDisposition = ContentDisposition(bucket.Name + ".tar");
        await using var tar = new TarWriter(ctx.Response.Body, TarEntryFormat.Pax, leaveOpen: true);
        var manifest = new JsonObject
        {
            ["version"] = 1, ["bucket"] = bucket.Name,
            ["retentionSeconds"] = (long)bucket.Retention.TotalSeconds, ["shardGroupDurationSeconds"] = (long)bucket.ShardGroupDuration.TotalSeconds,
            ["createdAt"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        };
        var entry = new PaxTarEntry(TarEntryType.RegularFile, Manifest) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(manifest.ToJsonString())) };
        await tar.WriteEntryAsync(entry, ctx.RequestAborted).ConfigureAwait(false);
        await engine.BackupAsync(bucket, async (shard, name, path) =>
            await tar.WriteEntryAsync(path, $"shards/{shard}/{name}", ctx.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false);
        return Results.Empty;
    }

    private static async Task<IResult> RestoreAsync(HttpContext ctx, StorageEngine engine, Authenticator authenticator, string? org, string? orgID, string? bucket)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out IResult? failure))
        {
            return failure!;
        }

        OrgInfo? target = Api.FindOrg(engine.Catalog, org, orgID);
        if (target is null)
        {
            return org is null && orgID is null ? Api.Error(400, "invalid", "org or orgID is required") : Api.NotFound("organization");
        }

        if (string.IsNullOrWhiteSpace(bucket))
        {
            return Api.Error(400, "invalid", "bucket is required: the name of the bucket to restore into (it must not exist)");
        }

        if (!auth.Allows(Permission.Write, "buckets", target.Id))
        {
            return Api.Forbidden("create buckets in this organization");
        }

        // The archive is staged in a temporary folder first: the manifest may come anywhere, and a bad archive
        // must leave nothing behind.
        string staging = Path.Combine(Path.GetTempPath(), "influxlike-restore-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(staging);
            JsonNode? manifest = null;
            var files = new List<(string Shard, string Name, string Path)>();
            await using (var reader = new TarReader(ctx.Request.Body, leaveOpen: true))
            {
                while (await reader.GetNextEntryAsync(copyData: false, ctx.RequestAborted).ConfigureAwait(false) is { } entry)
                {
                    if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null)
                    {
                        continue;
                    }

                    if (entry.Name == Manifest)
                    {
                        manifest = await JsonNode.ParseAsync(entry.DataStream, cancellationToken: ctx.RequestAborted).ConfigureAwait(false);
                        continue;
                    }

                    string[] parts = entry.Name.Split('/');
                    if (parts.Length != 3 || parts[0] != "shards" || !Storage.Shards.ShardRange.TryParseFolderName(parts[1], 1, out _))
                    {
                        return Api.Error(400, "invalid", $"not a backup archive: unexpected entry \"{entry.Name}\"");
                    }

                    string path = Path.Combine(staging, files.Count.ToString(CultureInfo.InvariantCulture));
                    await using (var output = File.Create(path))
                    {
                        await entry.DataStream.CopyToAsync(output, ctx.RequestAborted).ConfigureAwait(false);
                    }

                    files.Add((parts[1], parts[2], path));
                }
            }

            if (manifest is null)
            {
                return Api.Error(400, "invalid", "not a backup archive: manifest.json is missing");
            }

            if (!TryGetSeconds(manifest, "retentionSeconds", out TimeSpan retention) || !TryGetSeconds(manifest, "shardGroupDurationSeconds", out TimeSpan shardDuration))
            {
                return Api.Error(400, "invalid", "not a valid backup archive: manifest.json needs retentionSeconds and shardGroupDurationSeconds as whole numbers of seconds, 0 or more");
            }

            BucketInfo restored = await engine.RestoreBucketAsync(target.Id, bucket, retention, shardDuration, Open(files)).ConfigureAwait(false);
            return Api.Json(Api.ToDto(restored), ServerJsonContext.Default.BucketDto, statusCode: 201);
        }
        catch (CatalogConflictException e)
        {
            return Api.Error(422, "conflict", e.Message);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentException or FormatException or Storage.CorruptionException or System.Text.Json.JsonException)
        {
            return Api.Error(400, "invalid", "not a valid backup archive: " + e.Message);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private static bool TryGetSeconds(JsonNode manifest, string name, out TimeSpan value)
    {
        value = default;
        if (manifest is JsonObject o && o[name] is JsonValue v && v.TryGetValue(out long seconds) && seconds >= 0 && seconds <= (long)TimeSpan.MaxValue.TotalSeconds)
        {
            value = TimeSpan.FromSeconds(seconds);
            return true;
        }

        return false;
    }

    /// <summary>
    /// <c>attachment</c> with the file name twice: plain ASCII (anything else becomes <c>_</c>) for old clients,
    /// and RFC 5987 <c>filename*</c> with the exact name. A bucket name may hold quotes, semicolons, CR/LF or
    /// non-ASCII text; pasted into the header as it was, it broke the response (Kestrel refuses such header
    /// values: a 500) or could add parameters.
    /// </summary>
    internal static string ContentDisposition(string fileName)
    {
        var ascii = new StringBuilder(fileName.Length);
        foreach (char c in fileName)
        {
            ascii.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        }

        var header = new Microsoft.Net.Http.Headers.ContentDispositionHeaderValue("attachment") { FileName = ascii.ToString(), FileNameStar = fileName };
        return header.ToString();
    }

    private static async IAsyncEnumerable<(string, string, Stream)> Open(List<(string Shard, string Name, string Path)> files)
    {
        foreach (var (shard, name, path) in files)
        {
            await using var stream = File.OpenRead(path);
            yield return (shard, name, stream);
        }
    }
}
