namespace InfluxLike.Server;

/// <summary>
/// The server's current settings. Settings that can change safely at run time (log level, limits, auth)
/// are read through <see cref="Current"/> on each use, so a configuration reload takes effect at once.
/// </summary>
public sealed class LiveOptions(ServerOptions initial)
{
    private volatile ServerOptions _current = initial;

    public ServerOptions Current => _current;

    /// <summary>Raised after <see cref="Update"/> with the old and the new settings.</summary>
    public event Action<ServerOptions, ServerOptions>? Changed;

    public void Update(ServerOptions next)
    {
        ServerOptions old = _current;
        _current = next;
        Changed?.Invoke(old, next);
    }
}
