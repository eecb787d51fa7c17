namespace InfluxLike.Server;

/// <summary>A setting is not valid; the message says which and what is allowed. Start-up stops with it.</summary>
public sealed class ServerConfigurationException : Exception
{
    public ServerConfigurationException(string message)
        : base(message)
    {
    }
}
