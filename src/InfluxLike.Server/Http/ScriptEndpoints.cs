using InfluxLike.Query.Diagnostics;
using InfluxLike.Query.Formatting;
using InfluxLike.Query.Semantics;
using InfluxLike.Query.Syntax;
using InfluxLike.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace InfluxLike.Server.Http;

/// <summary>
/// The editor's helpers: <c>POST /api/v2/query/format</c> (its Format button) and <c>GET /api/v2/query/suggestions</c>
/// (completion of function names and arguments). Neither reads a bucket, so any valid token may use them.
/// </summary>
internal static class ScriptEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v2/query/format", FormatAsync).WithName("PostQueryFormat").WithTags("Query")
            .WithSummary("Formats a script canonically; a syntax error answers 400 with error @line:column.");
        app.MapGet("/api/v2/query/suggestions", Suggestions).WithName("GetQuerySuggestions").WithTags("Query")
            .WithSummary("The functions scripts may call, by package, with their parameters.");
    }

    private static IResult Suggestions(HttpContext ctx, Authenticator authenticator)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out _, out IResult? failure))
        {
            return failure!;
        }

        var funcs = FunctionCatalog.All.Select(f => new SuggestionDto(f.Name, f.Package, [.. f.Parameters.Select(p => new SuggestionParameterDto(p.Name, p.Type, p.Required))]));
        return Api.Json(new SuggestionsDto([.. funcs]), ServerJsonContext.Default.SuggestionsDto);
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

        return Api.Json(new FormatResponse(Formatter.Format(parsed.Ast)), ServerJsonContext.Default.FormatResponse);
    }
}
