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
}
