using System.Text.Json;
using System.Text.Json.Serialization;
using InfluxLike.Storage.IO;

namespace InfluxLike.Server.Dashboards;

/// <summary>
/// Dashboards in <c>dashboards.json</c> in the data folder, replaced atomically and durably on every change
/// (as <c>Tasks/TaskStore</c> keeps tasks): a crash leaves the old or the new file, never a torn one.
/// Dashboards are few and small (a hundred cells of scripts at most), so the whole file is rewritten.
/// </summary>
public sealed class DashboardStore
{
    public const string FileName = "dashboards.json";

    private readonly string _path;
    private readonly object _lock = new();
    private Dashboard[] _dashboards;

    private DashboardStore(string path, Dashboard[] dashboards)
    {
        _path = path;
        _dashboards = dashboards;
    }

    public static DashboardStore Open(string dataDir)
    {
        string path = Path.Combine(dataDir, FileName);
        DashboardData? data = File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), DashboardJson.Default.DashboardData) : null;
        return new DashboardStore(path, data?.Dashboards ?? []);
    }

    /// <summary>A snapshot: later changes do not show in it.</summary>
    public IReadOnlyList<Dashboard> All
    {
        get
        {
            lock (_lock)
            {
                return _dashboards;
            }
        }
    }

    public Dashboard? Get(string id) => All.FirstOrDefault(d => d.Id == id);

    /// <summary>Adds <paramref name="dashboard"/> or replaces the one with its id.</summary>
    public void Put(Dashboard dashboard)
    {
        lock (_lock)
        {
            Save([.. _dashboards.Where(d => d.Id != dashboard.Id), dashboard]);
        }
    }

    public bool Delete(string id)
    {
        lock (_lock)
        {
            if (!_dashboards.Any(d => d.Id == id))
            {
                return false;
            }

            Save([.. _dashboards.Where(d => d.Id != id)]);
            return true;
        }
    }

    private void Save(Dashboard[] dashboards)
    {
        FileSystem.WriteAllBytesDurably(_path, JsonSerializer.SerializeToUtf8Bytes(new DashboardData { Dashboards = dashboards }, DashboardJson.Default.DashboardData));
        _dashboards = dashboards;
    }
}

internal sealed record DashboardData
{
    public int Version { get; init; } = 1;

    public Dashboard[] Dashboards { get; init; } = [];
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(DashboardData))]
internal sealed partial class DashboardJson : JsonSerializerContext
{
}
