using System.Text.Json.Serialization;

namespace InfluxLike.Server.Dashboards;

/// <summary>
/// A dashboard as stored and as the API shows it: cells on a 12-column grid, each a script and how to draw its
/// result; variables whose values a query lists (a cell uses one as <c>v.host</c> or <c>${host}</c>); the time
/// range and auto-refresh the dashboard opens with. The same JSON is the export format, and importing is
/// posting it back (ids and times are then new).
/// </summary>
public sealed record Dashboard
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("orgID")]
    public required string OrgId { get; init; }

    [JsonPropertyName("name")]
    public required string Name { get; init; }

    [JsonPropertyName("description")]
    public string? Description { get; init; }

    [JsonPropertyName("timeRange")]
    public required DashboardTimeRange TimeRange { get; init; }

    /// <summary>Auto-refresh interval as a duration (<c>30s</c>), or empty for none.</summary>
    [JsonPropertyName("refresh")]
    public string Refresh { get; init; } = "";

    [JsonPropertyName("variables")]
    public DashboardVariable[] Variables { get; init; } = [];

    [JsonPropertyName("cells")]
    public DashboardCell[] Cells { get; init; } = [];

    [JsonPropertyName("createdAt")]
    public DateTimeOffset CreatedAt { get; init; }

    [JsonPropertyName("updatedAt")]
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary><c>start</c> is a negative duration (<c>-1h</c>) or an RFC 3339 time; <c>stop</c> the same, or null for now.</summary>
public sealed record DashboardTimeRange(
    [property: JsonPropertyName("start")] string Start,
    [property: JsonPropertyName("stop")] string? Stop);

/// <summary>A variable: its values are the <c>_value</c> column of <see cref="Query"/>'s result; <see cref="Selected"/> is the one shown.</summary>
public sealed record DashboardVariable(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("query")] string Query,
    [property: JsonPropertyName("selected")] string? Selected);

/// <summary>One cell: position and size in grid units (12 columns; rows of a fixed height), script and visualisation.</summary>
public sealed record DashboardCell(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("x")] int X,
    [property: JsonPropertyName("y")] int Y,
    [property: JsonPropertyName("w")] int W,
    [property: JsonPropertyName("h")] int H,
    [property: JsonPropertyName("query")] string Query,
    [property: JsonPropertyName("viz")] string Viz);
