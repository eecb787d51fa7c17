namespace InfluxLike.Server.Hosting;

/// <summary>Whether the server is ready for writes and queries (the storage engine has opened).</summary>
public sealed class Readiness
{
    private volatile bool _ready;

    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    public bool IsReady => _ready;

    public void MarkReady() => _ready = true;

    public void MarkNotReady() => _ready = false;
}
