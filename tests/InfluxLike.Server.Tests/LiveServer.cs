using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using InfluxLike.Server;
using Microsoft.AspNetCore.Builder;

namespace InfluxLike.Server.Tests;

/// <summary>
/// A real server on 127.0.0.1 with an OS-chosen port and a temporary data folder, set up with organization
/// <c>acme</c>, bucket <c>metrics</c> and the operator token <see cref="Token"/> (which <see cref="Client"/> sends).
/// </summary>
public sealed class LiveServer : IAsyncLifetime
{
    public const string Org = "acme";
    public const string Bucket = "metrics";
    public const string Token = "operator-token-for-tests-0123456789";

    private readonly Func<ServerOptions, ServerOptions> _configure;
    private WebApplication? _app;

    public LiveServer()
    {
        _configure = o => o;
    }

    private LiveServer(Func<ServerOptions, ServerOptions> configure)
    {
        _configure = configure;
    }

    /// <summary>A server whose options are changed by <paramref name="configure"/>.</summary>
    public static LiveServer With(Func<ServerOptions, ServerOptions> configure) => new(configure);

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "influxlike-test-" + Guid.NewGuid().ToString("N"));

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Sends the operator token.</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>Sends no token.</summary>
    public HttpClient Anonymous { get; private set; } = null!;

    public WebApplication App => _app!;

    public async Task InitializeAsync()
    {
        await StartAsync();
    }

    /// <summary>Starts (or starts again, on the same data) the server.</summary>
    public async Task StartAsync()
    {
        _app = InfluxLikeServer.Build(_configure(new ServerOptions
        {
            HttpBindAddress = "127.0.0.1:0",
            DataDir = DataDir,
            LogLevel = "warning",
            InitOrg = Org,
            InitBucket = Bucket,
            InitToken = Token,
        }));
        await _app.StartAsync();
        BaseAddress = new Uri(InfluxLikeServer.ListeningAddresses(_app).First());
        Client = WithToken(Token);
        Anonymous = new HttpClient { BaseAddress = BaseAddress };
    }

    /// <summary>The response's JSON body, after checking its status (the body is in the failure message).</summary>
    public static async Task<JsonNode> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {body}");
        return body.Length == 0 ? new JsonObject() : JsonNode.Parse(body)!;
    }

    /// <summary>The id of organization <see cref="Org"/>.</summary>
    public async Task<string> OrgIdAsync() =>
        (string)(await JsonAsync(await Client.GetAsync("/api/v2/orgs?org=" + Org), HttpStatusCode.OK))["orgs"]![0]!["id"]!;

    public HttpClient WithToken(string token)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Token", token);
        return client;
    }

    public async Task StopAsync()
    {
        Client.Dispose();
        Anonymous.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        if (Directory.Exists(DataDir))
        {
            Directory.Delete(DataDir, recursive: true);
        }
    }
}
