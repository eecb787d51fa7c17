using System.Globalization;
using System.Text.Json.Serialization;
using InfluxLike.Server.Configuration;

namespace InfluxLike.Server.Dashboards;

/// <summary>
/// A dashboard as a client sends it (create, replace, import): every field optional in the JSON, so that
/// <see cref="Validate"/> can name the one that is missing or wrong instead of a deserializer's message.
/// </summary>
public sealed record DashboardRequest(
    [property: JsonPropertyName("orgID")] string? OrgId,
    [property: JsonPropertyName("org")] string? Org,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("timeRange")] DashboardTimeRange? TimeRange,
    [property: JsonPropertyName("refresh")] string? Refresh,
    [property: JsonPropertyName("variables")] DashboardVariableRequest?[]? Variables,
    [property: JsonPropertyName("cells")] DashboardCellRequest?[]? Cells)
{
    /// <summary>Grid width in columns; a cell's x + w stays within it.</summary>
    public const int GridColumns = 12;
    public const int MaxCells = 100;
    public const int MaxVariables = 20;
    public const int MaxNameLength = 200;
    public const int MaxScriptLength = 64 * 1024;

    /// <summary>The visualisations the UI draws.</summary>
    public static readonly string[] Visualisations = ["line", "area", "scatter", "stat", "gauge", "table", "csv"];

    /// <summary>
    /// Checks every field; on success <paramref name="cells"/> and the others hold the cleaned values (cells
    /// without an id get one). On failure returns the message, which starts with the path of the bad field
    /// (<c>cells[2].viz: …</c>).
    /// </summary>
    public string? Validate(out DashboardTimeRange timeRange, out string refresh, out DashboardVariable[] variables, out DashboardCell[] cells)
    {
        timeRange = new DashboardTimeRange("-1h", null);
        refresh = "";
        variables = [];
        cells = [];
        if (string.IsNullOrWhiteSpace(Name))
        {
            return "name: is required";
        }

        if (Name.Length > MaxNameLength)
        {
            return $"name: is longer than {MaxNameLength} characters";
        }

        if (TimeRange is not null)
        {
            if (TimeCheck(TimeRange.Start, allowEmpty: false) is { } e)
            {
                return "timeRange.start: " + e;
            }

            if (TimeCheck(TimeRange.Stop, allowEmpty: true) is { } f)
            {
                return "timeRange.stop: " + f;
            }

            timeRange = new DashboardTimeRange(TimeRange.Start, string.IsNullOrEmpty(TimeRange.Stop) ? null : TimeRange.Stop);
        }

        if (!string.IsNullOrEmpty(Refresh))
        {
            try
            {
                if (Settings.Duration(Refresh) < TimeSpan.FromSeconds(1))
                {
                    return $"refresh: \"{Refresh}\" is shorter than 1s";
                }
            }
            catch (FormatException e)
            {
                return "refresh: " + e.Message;
            }

            refresh = Refresh;
        }

        if (ValidateVariables(out variables) is { } variableError)
        {
            return variableError;
        }

        return ValidateCells(out cells);
    }

    private string? ValidateVariables(out DashboardVariable[] variables)
    {
        variables = [];
        DashboardVariableRequest?[] given = Variables ?? [];
        if (given.Length > MaxVariables)
        {
            return $"variables: more than {MaxVariables}";
        }

        var result = new List<DashboardVariable>();
        for (int i = 0; i < given.Length; i++)
        {
            string at = $"variables[{i}]";
            if (given[i] is not { } v)
            {
                return at + ": must be an object";
            }

            if (string.IsNullOrEmpty(v.Name) || !IsIdentifier(v.Name))
            {
                return $"{at}.name: \"{v.Name}\" is not an identifier (letters, digits and _, not starting with a digit)";
            }

            if (result.Any(r => r.Name == v.Name))
            {
                return $"{at}.name: \"{v.Name}\" is used twice";
            }

            if (string.IsNullOrWhiteSpace(v.Query))
            {
                return at + ".query: is required (a script whose _value column lists the choices)";
            }

            if (v.Query.Length > MaxScriptLength)
            {
                return $"{at}.query: is longer than {MaxScriptLength} characters";
            }

            result.Add(new DashboardVariable(v.Name, v.Query, v.Selected));
        }

        variables = [.. result];
        return null;
    }

    private string? ValidateCells(out DashboardCell[] cells)
    {
        cells = [];
        DashboardCellRequest?[] given = Cells ?? [];
        if (given.Length > MaxCells)
        {
            return $"cells: more than {MaxCells}";
        }

        var result = new List<DashboardCell>();
        for (int i = 0; i < given.Length; i++)
        {
            string at = $"cells[{i}]";
            if (given[i] is not { } c)
            {
                return at + ": must be an object";
            }

            if (string.IsNullOrWhiteSpace(c.Query))
            {
                return at + ".query: is required";
            }

            if (c.Query.Length > MaxScriptLength)
            {
                return $"{at}.query: is longer than {MaxScriptLength} characters";
            }

            string viz = c.Viz ?? "line";
            if (!Visualisations.Contains(viz))
            {
                return $"{at}.viz: \"{viz}\" is not one of {string.Join(", ", Visualisations)}";
            }

            int w = c.W ?? 6, h = c.H ?? 4, x = c.X ?? 0, y = c.Y ?? 0;
            if (w is < 1 or > GridColumns)
            {
                return $"{at}.w: {w} is not between 1 and {GridColumns}";
            }

            if (h is < 1 or > 24)
            {
                return $"{at}.h: {h} is not between 1 and 24";
            }

            if (x < 0 || x + w > GridColumns)
            {
                return $"{at}.x: {x} puts the cell outside the {GridColumns} columns (x + w must be at most {GridColumns})";
            }

            if (y is < 0 or > 10_000)
            {
                return $"{at}.y: {y} is not between 0 and 10000";
            }

            string name = c.Name ?? "";
            if (name.Length > MaxNameLength)
            {
                return $"{at}.name: is longer than {MaxNameLength} characters";
            }

            string id = string.IsNullOrEmpty(c.Id) ? Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6)) : c.Id;
            if (result.Any(r => r.Id == id))
            {
                return $"{at}.id: \"{id}\" is used twice";
            }

            result.Add(new DashboardCell(id, name, x, y, w, h, c.Query, viz));
        }

        cells = [.. result];
        return null;
    }

    // A relative time (-5m, -1h30m) or an RFC 3339 one; "now" and empty (when allowed) for the present.
    private static string? TimeCheck(string? value, bool allowEmpty)
    {
        if (string.IsNullOrEmpty(value) || value == "now")
        {
            return allowEmpty ? null : "is required: a relative time like -1h or an RFC 3339 time";
        }

        if (value[0] == '-')
        {
            try
            {
                return Settings.Duration(value[1..]) > TimeSpan.Zero ? null : $"\"{value}\" is not a negative duration";
            }
            catch (FormatException e)
            {
                return e.Message;
            }
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _)
            ? null
            : $"\"{value}\" is neither a relative time like -1h nor an RFC 3339 time";
    }

    private static bool IsIdentifier(string s) =>
        !char.IsAsciiDigit(s[0]) && s.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_');
}

public sealed record DashboardVariableRequest(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("query")] string? Query,
    [property: JsonPropertyName("selected")] string? Selected);

public sealed record DashboardCellRequest(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("x")] int? X,
    [property: JsonPropertyName("y")] int? Y,
    [property: JsonPropertyName("w")] int? W,
    [property: JsonPropertyName("h")] int? H,
    [property: JsonPropertyName("query")] string? Query,
    [property: JsonPropertyName("viz")] string? Viz);
