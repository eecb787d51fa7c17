using System.Reflection;

namespace InfluxLike.Server;

/// <summary>Versions the server reports.</summary>
internal static class ServerVersion
{
    /// <summary>
    /// The InfluxDB API level we speak, sent as X-Influxdb-Version: clients and tools parse it to choose
    /// features, so it stays an InfluxDB version. Our own version goes in X-Influxlike-Version.
    /// </summary>
    public const string Compatible = "2.7.0";

    public static string Product { get; } =
        typeof(ServerVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static string Commit { get; } =
        typeof(ServerVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+') is [_, var c] ? c : "unknown";
}
