using InfluxLike.Server.Dashboards;
using InfluxLike.Server.Security;
using InfluxLike.Storage.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace InfluxLike.Server.Http;

/// <summary>
/// <c>/api/v2/dashboards</c>: the web UI's dashboards (list, create or import, get or export, replace, delete),
/// kept by <see cref="DashboardStore"/>. Access follows the token's <c>dashboards</c> permissions in the
/// dashboard's organisation. Not InfluxDB 2.x's shape (its cells and views are separate resources): one
/// document per dashboard, which is also the export format.
/// </summary>
internal static class DashboardEndpoints
{
    private const string Resource = "dashboards";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v2/dashboards", List).WithName("GetDashboards").WithTags("Dashboards").WithSummary("Lists dashboards (orgID filter).");
        app.MapPost("/api/v2/dashboards", CreateAsync).WithName("PostDashboards").WithTags("Dashboards").WithSummary("Creates a dashboard; posting an exported dashboard imports it.");
        app.MapGet("/api/v2/dashboards/{id}", Get).WithName("GetDashboard").WithTags("Dashboards").WithSummary("One dashboard: its export format.");
        app.MapPut("/api/v2/dashboards/{id}", ReplaceAsync).WithName("PutDashboard").WithTags("Dashboards").WithSummary("Replaces a dashboard's name, time range, refresh, variables and cells.");
        app.MapDelete("/api/v2/dashboards/{id}", Delete).WithName("DeleteDashboard").WithTags("Dashboards").WithSummary("Deletes a dashboard.");
    }

    private static IResult List(HttpContext ctx, DashboardStore store, Authenticator authenticator, string? orgID)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out IResult? failure))
        {
            return failure!;
        }

        Dashboard[] visible = [.. store.All.Where(d => auth.Allows(Permission.Read, Resource, d.OrgId) && (orgID is null || d.OrgId == orgID)).OrderBy(d => d.Name, StringComparer.Ordinal)];
        return Api.Json(new DashboardsDto(visible), ServerJsonContext.Default.DashboardsDto);
    }

    private static async Task<IResult> CreateAsync(HttpContext ctx, DashboardStore store, StorageEngine engine, Authenticator authenticator, TimeProvider clock)
    {
        if (!Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out IResult? failure))
        {
            return failure!;
        }

        var (request, error) = await Api.ReadJsonAsync(ctx.Request, ServerJsonContext.Default.DashboardRequest).ConfigureAwait(false);
        if (request is null)
        {
            return error!;
        }

        OrgInfo? org = Api.FindOrg(engine.Catalog, request.Org ?? ctx.Request.Query["org"], request.OrgId ?? ctx.Request.Query["orgID"]);
        if (org is null)
        {
            return request.OrgId is null && request.Org is null ? Api.Error(400, "invalid", "orgID: is required (more than one organization exists)") : Api.NotFound("organization");
        }

        if (!auth.Allows(Permission.Write, Resource, org.Id))
        {
            return Api.Forbidden("create dashboards in this organization");
        }

        if (request.Validate(out var range, out string refresh, out var variables, out var cells) is { } invalid)
        {
            return Api.Error(400, "invalid", invalid);
        }

        DateTimeOffset now = clock.GetUtcNow();
        var dashboard = new Dashboard
        {
            Id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)), OrgId = org.Id, Name = request.Name!, Description = request.Description,
            TimeRange = range, Refresh = refresh, Variables = variables, Cells = cells, CreatedAt = now, UpdatedAt = now,
        };
        store.Put(dashboard);
        return Api.Json(dashboard, ServerJsonContext.Default.Dashboard, statusCode: 201);
    }

    // 401 without a valid token, 404 when missing or not readable, 403 when readable but not writable.
    private static IResult? Find(HttpContext ctx, DashboardStore store, Authenticator authenticator, string id, string action, out Dashboard dashboard)
    {
        dashboard = null!;
        if (!Api.TryAuthenticate(ctx, authenticator, out AuthorizationInfo auth, out IResult? failure))
        {
            return failure!;
        }

        Dashboard? found = store.Get(id);
        if (found is null || !auth.Allows(Permission.Read, Resource, found.OrgId))
        {
            return Api.NotFound($"dashboard {id}");
        }

        dashboard = found;
        return action == Permission.Write && !auth.Allows(Permission.Write, Resource, found.OrgId) ? Api.Forbidden("change this dashboard") : null;
    }

    private static IResult Get(HttpContext ctx, DashboardStore store, Authenticator authenticator, string id) =>
        Find(ctx, store, authenticator, id, Permission.Read, out Dashboard dashboard) ?? Api.Json(dashboard, ServerJsonContext.Default.Dashboard);

    private static async Task<IResult> ReplaceAsync(HttpContext ctx, DashboardStore store, Authenticator authenticator, TimeProvider clock, string id)
    {
        if (Find(ctx, store, authenticator, id, Permission.Write, out Dashboard dashboard) is { } stop)
        {
            return stop;
        }

        var (request, error) = await Api.ReadJsonAsync(ctx.Request, ServerJsonContext.Default.DashboardRequest).ConfigureAwait(false);
        if (request is null)
        {
            return error!;
        }

        if (request.Validate(out var range, out string refresh, out var variables, out var cells) is { } invalid)
        {
            return Api.Error(400, "invalid", invalid);
        }

        // The organisation stays: moving a dashboard would need write permission in both.
        var updated = dashboard with
        {
            Name = request.Name!, Description = request.Description, TimeRange = range, Refresh = refresh, Variables = variables, Cells = cells, UpdatedAt = clock.GetUtcNow(),
        };
        store.Put(updated);
        return Api.Json(updated, ServerJsonContext.Default.Dashboard);
    }

    private static IResult Delete(HttpContext ctx, DashboardStore store, Authenticator authenticator, string id)
    {
        if (Find(ctx, store, authenticator, id, Permission.Write, out Dashboard dashboard) is { } stop)
        {
            return stop;
        }

        store.Delete(dashboard.Id);
        return Results.NoContent();
    }
}
