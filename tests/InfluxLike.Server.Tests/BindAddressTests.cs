using System.Net;
using InfluxLike.Server.Hosting;

namespace InfluxLike.Server.Tests;

public class BindAddressTests
{
    [Theory]
    [InlineData("127.0.0.1:8086", "127.0.0.1", 8086)]
    [InlineData(":8086", "0.0.0.0", 8086)]
    [InlineData("localhost:9999", "127.0.0.1", 9999)]
    [InlineData("[::1]:8086", "::1", 8086)]
    [InlineData("127.0.0.1:0", "127.0.0.1", 0)]
    public void Parses_influxdb_bind_addresses(string text, string address, int port)
    {
        IPEndPoint ep = BindAddress.Parse(text);
        Assert.Equal(IPAddress.Parse(address), ep.Address);
        Assert.Equal(port, ep.Port);
    }

    [Theory]
    [InlineData("8086", "has no port")]
    [InlineData("127.0.0.1:http", "invalid port")]
    [InlineData("127.0.0.1:70000", "invalid port")]
    [InlineData("example.org:8086", "not an IP address")]
    public void Rejects_bad_addresses_clearly(string text, string message)
    {
        Assert.False(BindAddress.TryParse(text, out _, out string? error));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }
}
