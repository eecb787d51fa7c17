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
}
