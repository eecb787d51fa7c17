using System.Text.Json.Serialization;

namespace InfluxLike.Server.Security;

/// <summary>
/// What a token may do, in InfluxDB 2.x's shape: <c>{"action": "read", "resource": {"type": "buckets", "id": ..., "orgID": ...}}</c>.
/// A resource without an id covers every resource of its type (in its organisation, or in every
/// organisation when it has no orgID either).
/// </summary>
public sealed record Permission(
    [property: JsonPropertyName("action")] string Action,
    [property: JsonPropertyName("resource")] PermissionResource Resource)
{
    public const string Read = "read";
    public const string Write = "write";

    /// <summary>The resource types a permission may name (InfluxDB 2.x's, of which this server uses some).</summary>
    public static readonly IReadOnlySet<string> ResourceTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "authorizations", "buckets", "dashboards", "orgs", "tasks", "users", "variables", "secrets", "labels",
        "views", "documents", "dbrp", "checks", "notificationRules", "notificationEndpoints", "telegrafs",
        "sources", "scrapers", "notebooks", "annotations", "remotes", "replications",
    };

    /// <summary>Whether this permission allows <paramref name="action"/> on the given resource.</summary>
    public bool Allows(string action, string type, string? orgId, string? id) =>
        Action == action
        && Resource.Type == type
        && (Resource.Id is null || Resource.Id == id)
        && (Resource.OrgId is null || Resource.OrgId == orgId);

    /// <summary>Whether holding this permission covers everything <paramref name="other"/> allows.</summary>
    public bool Covers(Permission other) =>
        Action == other.Action
        && Resource.Type == other.Resource.Type
        && (Resource.OrgId is null || Resource.OrgId == other.Resource.OrgId)
        && (Resource.Id is null || Resource.Id == other.Resource.Id);

    /// <summary>A clear reason when the permission cannot be stored, else null.</summary>
    public string? Validate()
    {
        if (Action is not (Read or Write))
        {
            return $"invalid permission action \"{Action}\": use \"read\" or \"write\"";
        }

        if (Resource is null || !ResourceTypes.Contains(Resource.Type ?? ""))
        {
            return $"invalid permission resource type \"{Resource?.Type}\"";
        }

        return null;
    }

    /// <summary>Read and write on every resource type of every organisation: the operator token.</summary>
    public static Permission[] Operator() =>
        [.. ResourceTypes.Order(StringComparer.Ordinal).SelectMany(t => new[] { new Permission(Read, new PermissionResource(t)), new Permission(Write, new PermissionResource(t)) })];

    /// <summary>Read and write on every resource type of one organisation: an all-access token.</summary>
    public static Permission[] AllAccess(string orgId) =>
        [.. ResourceTypes.Order(StringComparer.Ordinal).SelectMany(t => new[] { new Permission(Read, new PermissionResource(t, OrgId: orgId)), new Permission(Write, new PermissionResource(t, OrgId: orgId)) })];
}

public sealed record PermissionResource(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("id")] string? Id = null,
    [property: JsonPropertyName("orgID")] string? OrgId = null,
    [property: JsonPropertyName("name")] string? Name = null,
    [property: JsonPropertyName("org")] string? Org = null);
