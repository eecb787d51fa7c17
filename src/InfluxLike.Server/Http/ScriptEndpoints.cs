using InfluxLike.Query.Diagnostics;
using InfluxLike.Query.Formatting;
using InfluxLike.Query.Syntax;
using InfluxLike.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace InfluxLike.Server.Http;

/// <summary><c>POST /api/v2/query/format</c>: the editor's Format button. Parses only (no bucket is read), so any valid token may use it.</summary>
internal static class ScriptEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v2/query/format", FormatAsync).WithName("PostQueryFormat").WithTags("Query")
            .WithSummary("Formats a script canonically; a syntax error answers 400 with error @line:column.");
    }

    private static async Task<IResult> FormatAsync(HttpContext ctx, Authenticator authenticator)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out _, out IResult? failure))
        {
            return failure!;
        }

        var (request, error) = await Api.ReadJsonAsync(ctx.Request, ServerJsonContext.Default.FormatRequest).ConfigureAwait(false);
        if (request is null)
        {
            return error!;
        }

        if (request.Query is null)
        {
            return Api.Error(400, "invalid", "query: is required");
        }

        ParseResult parsed = ScriptParser.Parse(request.Query);
        if (parsed.Ast is null)
        {
            Diagnostic first = parsed.Diagnostics.First(d => d.Severity == DiagnosticSeverity.Error);
            return Api.Error(400, "invalid", $"error @{first.Span.Line}:{first.Span.Column}: {first.Message}");
        }

        return Results.Json(new FormatResponse(Formatter.Format(parsed.Ast)), ServerJsonContext.Default.FormatResponse);
    }
}
