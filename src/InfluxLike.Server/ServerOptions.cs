namespace InfluxLike.Server;

/// <summary>Settings of one server process. Defaults are the embedded single-node setup.</summary>
public sealed record ServerOptions
{
    public const string DefaultBindAddress = "127.0.0.1:8086";

    /// <summary><c>host:port</c> to listen on (<c>:8086</c> means every interface, as in InfluxDB).</summary>
    public string HttpBindAddress { get; init; } = DefaultBindAddress;

    /// <summary>Folder holding all persistent state.</summary>
    public string DataDir { get; init; } = "./data";

    /// <summary>Minimum log level: verbose, debug, information, warning, error, fatal.</summary>
    public string LogLevel { get; init; } = "information";

    /// <summary>Log format: <c>text</c> (human) or <c>json</c> (one structured event per line).</summary>
    public string LogFormat { get; init; } = "text";

    /// <summary>Largest accepted write body in bytes, after gzip decoding (InfluxDB 1.x's max-body-size; 25 MiB).</summary>
    public long MaxBodySize { get; init; } = 25L * 1024 * 1024;

    /// <summary>Longest accepted query text, in characters.</summary>
    public int MaxQueryLength { get; init; } = 1 << 20;

    /// <summary>Queries allowed to run at once; more are answered 429 with Retry-After.</summary>
    public int MaxConcurrentQueries { get; init; } = Math.Max(4, Environment.ProcessorCount * 2);

    /// <summary>A query running longer is cancelled (504, or an in-band error once rows were sent).</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Memory one query may hold in buffered tables before it is ended with an error.</summary>
    public long QueryMemoryLimit { get; init; } = 1L << 30;

    /// <summary>Whether requests need a token (health, ping, ready and, unless <see cref="MetricsNeedAuth"/>, metrics never do).</summary>
    public bool AuthEnabled { get; init; } = true;

    /// <summary>Whether <c>/metrics</c> needs a token with read permission on orgs.</summary>
    public bool MetricsNeedAuth { get; init; }

    /// <summary>First-start onboarding (ignored once the data folder is set up): organisation name.</summary>
    public string? InitOrg { get; init; }

    /// <summary>First-start onboarding: bucket name.</summary>
    public string? InitBucket { get; init; }

    /// <summary>First-start onboarding: the operator token (a random one is made and logged when not given).</summary>
    public string? InitToken { get; init; }

    /// <summary>First-start onboarding: the user name (default <c>admin</c>).</summary>
    public string InitUsername { get; init; } = "admin";

    /// <summary>First-start onboarding: the bucket's retention (zero: forever).</summary>
    public TimeSpan InitRetention { get; init; }

    /// <summary>The TOML config file the settings came from, if any (watched for changes).</summary>
    public string? ConfigFile { get; init; }

    /// <summary>Rebuilds the settings from the same sources (file, environment, flags), for a reload; null when there is nothing to reload.</summary>
    public Func<ServerOptions>? Reload { get; init; }

    /// <summary>Hard limit of a shard's cache in bytes; past it writes answer 503 with Retry-After until a snapshot frees room (InfluxDB's cache-max-memory-size).</summary>
    public long CacheMaxMemorySize { get; init; } = 1L << 30;

    /// <summary>
    /// A shard cache past this many bytes is written to a TSM file (InfluxDB's cache-snapshot-memory-size, whose
    /// default is 25 MiB). 8 MiB here: compaction merges the smaller files, and the measured peak memory of a
    /// bulk load drops by a fifth at the same throughput (perf/RESULTS.md).
    /// </summary>
    public long CacheSnapshotMemorySize { get; init; } = 8L << 20;

    /// <summary>A shard cache with no write for this long is written to a TSM file (InfluxDB's cache-snapshot-write-cold-duration).</summary>
    public TimeSpan CacheSnapshotWriteColdDuration { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Longest accepted line-protocol line in bytes.</summary>
    public int MaxLineBytes { get; init; } = 1 << 20;

    /// <summary>Most tags a point may have.</summary>
    public int MaxTagsPerPoint { get; init; } = 256;

    /// <summary>Most fields a line may have.</summary>
    public int MaxFieldsPerPoint { get; init; } = 1024;

    /// <summary>Compactions running at once (InfluxDB's max-concurrent-compactions).</summary>
    public int MaxConcurrentCompactions { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>Bytes per second all compactions together may write; 0 for no limit (InfluxDB's compact-throughput).</summary>
    public long CompactThroughput { get; init; } = 48L << 20;

    /// <summary>A shard with no write for this long is compacted into one file (InfluxDB's compact-full-write-cold-duration).</summary>
    public TimeSpan CompactFullWriteColdDuration { get; init; } = TimeSpan.FromHours(4);

    /// <summary>How often shards past their bucket's retention (or size limit) are dropped (InfluxDB's retention check-interval).</summary>
    public TimeSpan RetentionCheckInterval { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Whether the task scheduler runs due tasks.</summary>
    public bool TasksEnabled { get; init; } = true;

    /// <summary>Writes are refused while the data folder's disk has fewer free bytes than this; 0 never refuses.</summary>
    public long StorageMinFreeDisk { get; init; } = 100L << 20;

    /// <summary>The preset the other defaults come from: <c>default</c>, or <c>edge</c> (<see cref="Edge"/>).</summary>
    public string Profile { get; init; } = "default";

    /// <summary>A shard's WAL segment is closed and a new one started past this size.</summary>
    public long WalSegmentSize { get; init; } = 10L << 20;

    /// <summary>Hard limit of the managed heap in bytes, set at start-up (0: the runtime's own, 75 % of memory or of the container's limit).</summary>
    public long GcHeapLimit { get; init; }

    /// <summary>
    /// The small-memory preset for edge boards: small caches flushed early, small WAL segments, one compaction
    /// at a time at a gentle pace, little query memory, a capped managed heap and non-concurrent collections.
    /// Every value can still be set on its own. Measured in perf/RESULTS.md (idle and ingest RSS, natively and
    /// under qemu for arm64).
    /// </summary>
    public static ServerOptions Edge { get; } = new()
    {
        Profile = "edge",
        CacheMaxMemorySize = 32L << 20,
        CacheSnapshotMemorySize = 1L << 20,
        CacheSnapshotWriteColdDuration = TimeSpan.FromMinutes(1),
        WalSegmentSize = 2L << 20,
        MaxConcurrentCompactions = 1,
        CompactThroughput = 8L << 20,
        MaxConcurrentQueries = 2,
        QueryMemoryLimit = 64L << 20,
        MaxBodySize = 8L << 20,
        GcHeapLimit = 96L << 20,
        StorageMinFreeDisk = 32L << 20,
    };

    /// <summary>Changes the storage engine's options before it opens (a seam for tests: injected disk faults).</summary>
    internal Func<Storage.Engine.EngineOptions, Storage.Engine.EngineOptions>? ConfigureEngine { get; init; }
}
