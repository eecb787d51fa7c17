using System.CommandLine;
using InfluxLike.Server;

namespace InfluxLike.Cli;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        RootCommand root = Commands.Build();
        ParseResult parsed = root.Parse(args);

        // Let ASP.NET Core's host own SIGTERM/Ctrl+C so shutdown is graceful (flush, close files).
        var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null };
        return await parsed.InvokeAsync(invocation).ConfigureAwait(false);
    }
}

internal static class Commands
{
    public static RootCommand Build()
    {
        var bind = new Option<string>("--http-bind-address")
        {
            Description = "host:port to listen on (env INFLUXLIKE_HTTP_BIND_ADDRESS)",
            DefaultValueFactory = _ => Env("INFLUXLIKE_HTTP_BIND_ADDRESS") ?? ServerOptions.DefaultBindAddress,
        };
        var dataDir = new Option<string>("--data-dir")
        {
            Description = "folder for all persistent state (env INFLUXLIKE_DATA_DIR)",
            DefaultValueFactory = _ => Env("INFLUXLIKE_DATA_DIR") ?? "./data",
        };
        var logLevel = new Option<string>("--log-level")
        {
            Description = "verbose, debug, information, warning, error or fatal (env INFLUXLIKE_LOG_LEVEL)",
            DefaultValueFactory = _ => Env("INFLUXLIKE_LOG_LEVEL") ?? "information",
        };
        var logFormat = new Option<string>("--log-format")
        {
            Description = "text or json (env INFLUXLIKE_LOG_FORMAT)",
            DefaultValueFactory = _ => Env("INFLUXLIKE_LOG_FORMAT") ?? "text",
        };
        Option[] serveOptions = [bind, dataDir, logLevel, logFormat];

        async Task<int> Serve(ParseResult r, CancellationToken ct)
        {
            var options = new ServerOptions
            {
                HttpBindAddress = r.GetValue(bind)!,
                DataDir = r.GetValue(dataDir)!,
                LogLevel = r.GetValue(logLevel)!,
                LogFormat = r.GetValue(logFormat)!,
            };
            try
            {
                return await InfluxLikeServer.RunAsync(options, ct).ConfigureAwait(false);
            }
            catch (ServerConfigurationException e)
            {
                await Console.Error.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
                return 2;
            }
        }

        var serve = new Command("serve", "Run the server (the default when no command is given)");
        foreach (Option o in serveOptions)
        {
            serve.Options.Add(o);
        }

        serve.SetAction(Serve);

        var root = new RootCommand("InfluxLike: a time-series database that speaks InfluxDB's APIs");
        foreach (Option o in serveOptions)
        {
            root.Options.Add(o);
        }

        root.Subcommands.Add(serve);
        root.SetAction(Serve);
        return root;
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}
