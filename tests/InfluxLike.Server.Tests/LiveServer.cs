using InfluxLike.Server;
using Microsoft.AspNetCore.Builder;

namespace InfluxLike.Server.Tests;

/// <summary>A real server on 127.0.0.1 with an OS-chosen port and a temporary data folder.</summary>
public sealed class LiveServer : IAsyncLifetime
{
    private WebApplication? _app;

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "influxlike-test-" + Guid.NewGuid().ToString("N"));

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public WebApplication App => _app!;

    public async Task InitializeAsync()
    {
        _app = InfluxLikeServer.Build(new ServerOptions { HttpBindAddress = "127.0.0.1:0", DataDir = DataDir, LogLevel = "warning" });
        await _app.StartAsync();
        BaseAddress = new Uri(InfluxLikeServer.ListeningAddresses(_app).First());
        Client = new HttpClient { BaseAddress = BaseAddress };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (Directory.Exists(DataDir))
        {
            Directory.Delete(DataDir, recursive: true);
        }
    }
}
