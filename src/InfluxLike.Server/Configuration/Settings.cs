using System.Globalization;
using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Serialization;

namespace InfluxLike.Server.Configuration;

/// <summary>
/// One server setting: its name (the command-line flag without dashes, the config-file key), the
/// environment variable, its default, and whether a running server can take a new value.
/// </summary>
/// <param name="KeepOnReload">Null when a running server takes a new value; else copies the running value over a reloaded one.</param>
public sealed record Setting(
    string Key, string Description, string Default, Func<ServerOptions, ServerOptions, ServerOptions>? KeepOnReload, Func<ServerOptions, object?> Get, Func<ServerOptions, string, ServerOptions> Apply)
{
    public bool Reloadable => KeepOnReload is null;

    public string Flag => "--" + Key;

    public string EnvironmentVariable => "INFLUXLIKE_" + Key.ToUpperInvariant().Replace('-', '_');
}

/// <summary>
/// Every setting, and how they combine: defaults, then the config file (TOML), then environment variables,
/// then command-line flags, each overriding the one before. A bad value is refused with a message naming the
/// setting, where it came from and what it accepts.
/// </summary>
public static class Settings
{
    public static readonly IReadOnlyList<Setting> All =
    [
        new("http-bind-address", "host:port to listen on ([v6]:port; :port for every interface)", ServerOptions.DefaultBindAddress, (n, o) => n with { HttpBindAddress = o.HttpBindAddress }, o => o.HttpBindAddress,
            (o, v) => o with { HttpBindAddress = v }),
        new("data-dir", "folder holding all persistent state", "./data", (n, o) => n with { DataDir = o.DataDir }, o => o.DataDir, (o, v) => o with { DataDir = v }),
        new("profile", "preset of the defaults: default, or edge for small boards (see README)", "default", (n, o) => n with { Profile = o.Profile }, o => o.Profile,
            (o, v) => o with { Profile = OneOf(v, "default", "edge") }),
        new("log-level", "verbose, debug, information, warning, error or fatal", "information", null, o => o.LogLevel, (o, v) => o with { LogLevel = LogLevelName(v) }),
        new("log-format", "text, or json for one structured event per line", "text", (n, o) => n with { LogFormat = o.LogFormat }, o => o.LogFormat, (o, v) => o with { LogFormat = OneOf(v, "text", "json") }),
        new("max-body-size", "largest write body in bytes, after gzip decoding", "26214400", null, o => o.MaxBodySize, (o, v) => o with { MaxBodySize = Positive(v) }),
        new("max-query-length", "longest query text in characters", "1048576", null, o => o.MaxQueryLength, (o, v) => o with { MaxQueryLength = (int)Math.Min(Positive(v), int.MaxValue) }),
        new("max-concurrent-queries", "queries running at once (more are answered 429)", "max(4, 2 x cores)", null, o => o.MaxConcurrentQueries,
            (o, v) => o with { MaxConcurrentQueries = (int)Math.Min(Positive(v), int.MaxValue) }),
        new("query-timeout", "a query running longer is cancelled (e.g. 30s, 1m, 2h)", "1m", null, o => o.QueryTimeout, (o, v) => o with { QueryTimeout = Duration(v) }),
        new("query-memory-limit", "bytes one query may hold in buffered rows", "1073741824", null, o => o.QueryMemoryLimit, (o, v) => o with { QueryMemoryLimit = Positive(v) }),
        new("auth-enabled", "whether requests need a token (true or false)", "true", null, o => o.AuthEnabled, (o, v) => o with { AuthEnabled = Bool(v) }),
        new("metrics-need-auth", "whether /metrics needs a token (true or false)", "false", null, o => o.MetricsNeedAuth, (o, v) => o with { MetricsNeedAuth = Bool(v) }),
        new("cache-max-memory-size", "hard limit of a shard's cache in bytes (then 503 with Retry-After)", "1073741824", (n, o) => n with { CacheMaxMemorySize = o.CacheMaxMemorySize }, o => o.CacheMaxMemorySize,
            (o, v) => o with { CacheMaxMemorySize = Positive(v) }),
        new("cache-snapshot-memory-size", "a shard cache past this many bytes is written to disk", "8388608", (n, o) => n with { CacheSnapshotMemorySize = o.CacheSnapshotMemorySize }, o => o.CacheSnapshotMemorySize,
            (o, v) => o with { CacheSnapshotMemorySize = Positive(v) }),
        new("cache-snapshot-write-cold-duration", "a shard cache without writes for this long is written to disk", "10m", null, o => o.CacheSnapshotWriteColdDuration,
            (o, v) => o with { CacheSnapshotWriteColdDuration = Duration(v) }),
        new("max-line-bytes", "longest accepted line in bytes (a longer one is a bad line)", "1048576", (n, o) => n with { MaxLineBytes = o.MaxLineBytes }, o => o.MaxLineBytes,
            (o, v) => o with { MaxLineBytes = (int)Math.Min(Positive(v), int.MaxValue) }),
        new("max-tags-per-point", "most tags a point may have", "256", (n, o) => n with { MaxTagsPerPoint = o.MaxTagsPerPoint }, o => o.MaxTagsPerPoint,
            (o, v) => o with { MaxTagsPerPoint = (int)Math.Min(Positive(v), int.MaxValue) }),
        new("max-fields-per-point", "most fields a line may have", "1024", (n, o) => n with { MaxFieldsPerPoint = o.MaxFieldsPerPoint }, o => o.MaxFieldsPerPoint,
            (o, v) => o with { MaxFieldsPerPoint = (int)Math.Min(Positive(v), int.MaxValue) }),
        new("max-concurrent-compactions", "compactions running at once", "max(1, cores / 2)", (n, o) => n with { MaxConcurrentCompactions = o.MaxConcurrentCompactions }, o => o.MaxConcurrentCompactions,
            (o, v) => o with { MaxConcurrentCompactions = (int)Math.Min(Positive(v), 64) }),
        new("compact-throughput", "bytes per second all compactions together may write (0: no limit)", "50331648", null, o => o.CompactThroughput,
            (o, v) => o with { CompactThroughput = NonNegative(v) }),
        new("compact-full-write-cold-duration", "a shard without writes for this long is compacted into one file", "4h", null, o => o.CompactFullWriteColdDuration,
            (o, v) => o with { CompactFullWriteColdDuration = Duration(v) }),
        new("retention-check-interval", "how often shards past retention or a bucket's size limit are dropped", "30m", null, o => o.RetentionCheckInterval,
            (o, v) => o with { RetentionCheckInterval = Duration(v) }),
        new("storage-min-free-disk", "writes are refused (507) while the data disk has fewer free bytes (0: never)", "104857600", null, o => o.StorageMinFreeDisk,
            (o, v) => o with { StorageMinFreeDisk = NonNegative(v) }),
        new("wal-segment-size", "a WAL segment is closed past this many bytes", "10485760", (n, o) => n with { WalSegmentSize = o.WalSegmentSize }, o => o.WalSegmentSize,
            (o, v) => o with { WalSegmentSize = Positive(v) }),
        new("gc-heap-limit", "hard limit of the managed heap in bytes, set at start (0: the runtime's default)", "0", (n, o) => n with { GcHeapLimit = o.GcHeapLimit }, o => o.GcHeapLimit,
            (o, v) => o with { GcHeapLimit = NonNegative(v) }),
        new("tasks-enabled", "whether scheduled tasks run (true or false)", "true", null, o => o.TasksEnabled, (o, v) => o with { TasksEnabled = Bool(v) }),
        new("init-org", "first start: create this organization (ignored once set up)", "", (n, o) => n with { InitOrg = o.InitOrg }, o => o.InitOrg, (o, v) => o with { InitOrg = v }),
        new("init-bucket", "first start: create this bucket", "", (n, o) => n with { InitBucket = o.InitBucket }, o => o.InitBucket, (o, v) => o with { InitBucket = v }),
        new("init-token", "first start: the operator token (random and logged once if not given)", "", (n, o) => n with { InitToken = o.InitToken }, o => o.InitToken, (o, v) => o with { InitToken = v }),
        new("init-username", "first start: the user name", "admin", (n, o) => n with { InitUsername = o.InitUsername }, o => o.InitUsername, (o, v) => o with { InitUsername = v }),
        new("init-retention", "first start: the bucket's retention (e.g. 30d; 0 keeps data forever)", "0", (n, o) => n with { InitRetention = o.InitRetention }, o => o.InitRetention, (o, v) => o with { InitRetention = Duration(v) }),
    ];

    public static Setting? Find(string key) => All.FirstOrDefault(s => s.Key == key);

    /// <summary>Builds the settings from a config file's values, the environment and flags (in rising precedence).</summary>
    /// <exception cref="ServerConfigurationException">A value is invalid or a config-file key is unknown.</exception>
    public static ServerOptions Build(IReadOnlyDictionary<string, string> file, Func<string, string?> environment, IReadOnlyDictionary<string, string> flags, string? configPath = null)
    {
        foreach (var key in file.Keys)
        {
            if (Find(key) is null)
            {
                throw new ServerConfigurationException($"{configPath}: unknown setting \"{key}\" (known: {string.Join(", ", All.Select(s => s.Key))})");
            }
        }

        // The profile chooses the defaults the other settings override, so it is read first.
        Setting profile = Find("profile")!;
        ServerOptions chosen = Apply(new ServerOptions(), profile, file, configPath ?? "config file");
        if (environment(profile.EnvironmentVariable) is { Length: > 0 } profileEnv)
        {
            chosen = Apply(chosen, profile, profileEnv, "environment variable " + profile.EnvironmentVariable);
        }

        chosen = Apply(chosen, profile, flags, "flag " + profile.Flag);
        var options = (chosen.Profile == "edge" ? ServerOptions.Edge : new ServerOptions()) with { ConfigFile = configPath };

        foreach (Setting s in All)
        {
            options = Apply(options, s, file, configPath is null ? "config file" : configPath);
            if (environment(s.EnvironmentVariable) is { Length: > 0 } env)
            {
                options = Apply(options, s, env, "environment variable " + s.EnvironmentVariable);
            }

            options = Apply(options, s, flags, "flag " + s.Flag);
        }

        return options;
    }

    private static ServerOptions Apply(ServerOptions options, Setting s, IReadOnlyDictionary<string, string> values, string source) =>
        values.TryGetValue(s.Key, out string? value) ? Apply(options, s, value, source) : options;

    private static ServerOptions Apply(ServerOptions options, Setting s, string value, string source)
    {
        try
        {
            return s.Apply(options, value.Trim());
        }
        catch (FormatException e)
        {
            throw new ServerConfigurationException($"{s.Key} (from {source}): {e.Message}");
        }
    }

    /// <summary>Reads a TOML config file into setting keys and values.</summary>
    /// <exception cref="ServerConfigurationException">The file cannot be read or is not valid TOML.</exception>
    public static Dictionary<string, string> ReadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ServerConfigurationException($"cannot read the config file {path}: {e.Message}");
        }

        TomlTable table;
        try
        {
            table = TomlSerializer.Deserialize(text, ConfigToml.Default.TomlTable) ?? new TomlTable();
        }
        catch (TomlException e)
        {
            throw new ServerConfigurationException($"{path}:{e.Line}:{e.Column}: {e.Message}");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in table)
        {
            values[key] = value switch
            {
                string s => s,
                bool b => b ? "true" : "false",
                long l => l.ToString(CultureInfo.InvariantCulture),
                double d => d.ToString("R", CultureInfo.InvariantCulture),
                _ => throw new ServerConfigurationException($"{path}: setting \"{key}\" must be a string, number or boolean"),
            };
        }

        return values;
    }

    private static string LogLevelName(string v) =>
        OneOf(v.ToLowerInvariant() switch { "trace" => "verbose", "info" => "information", "warn" => "warning", var x => x },
            "verbose", "debug", "information", "warning", "error", "fatal");

    private static string OneOf(string v, params string[] allowed) =>
        allowed.Contains(v.ToLowerInvariant()) ? v.ToLowerInvariant() : throw new FormatException($"\"{v}\" is not one of {string.Join(", ", allowed)}");

    private static bool Bool(string v) => v.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        _ => throw new FormatException($"\"{v}\" is not true or false"),
    };

    private static long Positive(string v) =>
        long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0
            ? n
            : throw new FormatException($"\"{v}\" is not a positive whole number");

    private static long NonNegative(string v) =>
        long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out long n)
            ? n
            : throw new FormatException($"\"{v}\" is not a whole number of 0 or more");

    /// <summary>A duration: <c>0</c>, or numbers with units ms, s, m, h, d, w (<c>1h30m</c>).</summary>
    public static TimeSpan Duration(string v)
    {
        if (v == "0")
        {
            return TimeSpan.Zero;
        }

        TimeSpan total = TimeSpan.Zero;
        int i = 0;
        while (i < v.Length)
        {
            int start = i;
            while (i < v.Length && char.IsAsciiDigit(v[i]))
            {
                i++;
            }

            int unitStart = i;
            while (i < v.Length && char.IsAsciiLetter(v[i]))
            {
                i++;
            }

            if (unitStart == start || !long.TryParse(v.AsSpan(start, unitStart - start), NumberStyles.None, CultureInfo.InvariantCulture, out long n))
            {
                throw new FormatException($"\"{v}\" is not a duration (like 30s, 5m, 1h30m, 7d)");
            }

            total += v[unitStart..i] switch
            {
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n),
                "d" => TimeSpan.FromDays(n),
                "w" => TimeSpan.FromDays(7 * n),
                _ => throw new FormatException($"\"{v}\" is not a duration (units: ms, s, m, h, d, w)"),
            };
        }

        return total;
    }
}

/// <summary>Source-generated TOML metadata (no reflection: NativeAOT-safe).</summary>
[TomlSerializable(typeof(TomlTable))]
internal sealed partial class ConfigToml : TomlSerializerContext
{
}
