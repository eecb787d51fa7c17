using System.Globalization;
using System.Net;

namespace InfluxLike.Server.Hosting;

/// <summary>Parses InfluxDB's <c>--http-bind-address</c> form: <c>host:port</c>, <c>[v6]:port</c> or <c>:port</c>.</summary>
internal static class BindAddress
{
    public static IPEndPoint Parse(string text)
    {
        if (!TryParse(text, out IPEndPoint? endPoint, out string? error))
        {
            throw new FormatException(error);
        }

        return endPoint;
    }

    public static bool TryParse(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPEndPoint? endPoint, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        endPoint = null;
        int colon = text.LastIndexOf(':');
        if (colon < 0)
        {
            error = $"http bind address \"{text}\" has no port: use host:port, e.g. 127.0.0.1:8086";
            return false;
        }

        string host = text[..colon];
        if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            error = $"http bind address \"{text}\" has an invalid port \"{text[(colon + 1)..]}\" (0-65535)";
            return false;
        }

        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        IPAddress? address;
        if (host.Length == 0)
        {
            address = IPAddress.Any;
        }
        else if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(host, out address))
        {
            error = $"http bind address \"{text}\" has host \"{host}\", which is not an IP address or localhost";
            return false;
        }

        endPoint = new IPEndPoint(address, port);
        error = null;
        return true;
    }
}
