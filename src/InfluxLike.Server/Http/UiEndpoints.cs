using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace InfluxLike.Server.Http;

/// <summary>
/// The web UI: <c>/</c> serves its page and <c>/ui/…</c> its script and style, all embedded in the server
/// assembly (built from <c>Ui/src</c> into <c>Ui/dist</c> by <c>scripts/ui-build.sh</c>), so the single-file and
/// NativeAOT binaries carry it and nothing is fetched from elsewhere; the Content-Security-Policy says so to the
/// browser too. Files are revalidated by ETag on every load (no stale script after an upgrade; 304s are cheap).
/// </summary>
internal static class UiEndpoints
{
    private const string ResourcePrefix = "ui/";

    // style-src needs 'unsafe-inline': the editor injects its theme as <style> elements.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'";

    private sealed record Asset(byte[] Content, string ContentType, string ETag);

    private static readonly Lazy<FrozenDictionary<string, Asset>> Assets = new(Load);

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext ctx) => Serve(ctx, "index.html")).WithName("GetUi").WithTags("UI").WithSummary("The web UI.");
        app.MapGet("/ui/{*path}", (HttpContext ctx, string path) => Serve(ctx, path)).WithName("GetUiAsset").WithTags("UI").WithSummary("The web UI's script and style.");
    }

    private static IResult Serve(HttpContext ctx, string path)
    {
        if (!Assets.Value.TryGetValue(path, out Asset? asset))
        {
            return Api.NotFound($"UI file \"{path}\"");
        }

        var headers = ctx.Response.Headers;
        headers.ETag = asset.ETag;
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers["Referrer-Policy"] = "no-referrer";
        if (ctx.Request.Headers.IfNoneMatch.Contains(asset.ETag))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(asset.Content, asset.ContentType);
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        Assembly assembly = typeof(UiEndpoints).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (string name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            using Stream stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            byte[] content = copy.ToArray();
            string etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 8)) + "\"";
            assets[name[ResourcePrefix.Length..]] = new Asset(content, ContentTypeOf(name), etag);
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".json" => "application/json",
        _ => "application/octet-stream",
    };
}
