using System.CommandLine;
using InfluxLike.Server;
using InfluxLike.Server.Configuration;

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
        var config = new Option<string?>("--config")
        {
            Description = "TOML config file; keys are the flag names without dashes (env INFLUXLIKE_CONFIG). Reloaded on change or SIGHUP",
        };
        var settingOptions = Settings.All.ToDictionary(
            s => s,
            s => new Option<string?>(s.Flag) { Description = $"{s.Description} (env {s.EnvironmentVariable}; default {s.Default}{(s.Reloadable ? "; reloadable" : "")})" });
        Option[] serveOptions = [config, .. settingOptions.Values];

        async Task<int> Serve(ParseResult r, CancellationToken ct)
        {
            var flags = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (setting, option) in settingOptions)
            {
                if (r.GetValue(option) is { } value)
                {
                    flags[setting.Key] = value;
                }
            }

            string? path = r.GetValue(config) ?? Env("INFLUXLIKE_CONFIG");
            ServerOptions Load() =>
                Settings.Build(path is null ? new Dictionary<string, string>() : Settings.ReadFile(path), Env, flags, path) with { Reload = Load };

            try
            {
                return await InfluxLikeServer.RunAsync(Load(), ct).ConfigureAwait(false);
            }
            catch (ServerConfigurationException e)
            {
                await Console.Error.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
                return 2;
            }
            catch (Storage.Engine.DataFolderInUseException e)
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
        root.Subcommands.Add(TaskCommands.Build());
        root.Subcommands.Add(InspectCommand.Build());
        root.Subcommands.Add(ReplicationCommands.Remote());
        root.Subcommands.Add(ReplicationCommands.Replication());
        foreach (Command client in ClientCommands.Build())
        {
            root.Subcommands.Add(client);
        }
        root.SetAction(Serve);
        return root;
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}
