using InfluxLike.Server.Configuration;
using Serilog.Core;
using Serilog.Events;

namespace InfluxLike.Server.Tests;

public sealed class SettingsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("influxlike-settings-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly Dictionary<string, string> None = [];

    private string WriteConfig(string text)
    {
        string path = Path.Combine(_dir, "influxlike.toml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Defaults_then_file_then_environment_then_flags()
    {
        var defaults = Settings.Build(None, _ => null, None);
        Assert.Equal(new ServerOptions().MaxBodySize, defaults.MaxBodySize);
        Assert.True(defaults.AuthEnabled);

        string path = WriteConfig("""
            # a comment
            max-body-size = 1000
            log-level = "debug"
            query-timeout = "90s"
            auth-enabled = false
            """);
        var file = Settings.ReadFile(path);
        var fromFile = Settings.Build(file, _ => null, None, path);
        Assert.Equal(1000, fromFile.MaxBodySize);
        Assert.Equal("debug", fromFile.LogLevel);
        Assert.Equal(TimeSpan.FromSeconds(90), fromFile.QueryTimeout);
        Assert.False(fromFile.AuthEnabled);

        var env = new Dictionary<string, string> { ["INFLUXLIKE_MAX_BODY_SIZE"] = "2000", ["INFLUXLIKE_LOG_LEVEL"] = "warning" };
        var fromEnv = Settings.Build(file, n => env.GetValueOrDefault(n), None, path);
        Assert.Equal(2000, fromEnv.MaxBodySize);
        Assert.Equal("warning", fromEnv.LogLevel);

        var fromFlags = Settings.Build(file, n => env.GetValueOrDefault(n), new Dictionary<string, string> { ["max-body-size"] = "3000" }, path);
        Assert.Equal(3000, fromFlags.MaxBodySize);
        Assert.Equal("warning", fromFlags.LogLevel);
        Assert.Equal(TimeSpan.FromSeconds(90), fromFlags.QueryTimeout);
    }

    [Fact]
    public void The_readme_documents_every_setting_with_its_environment_variable()
    {
        string readme = File.ReadAllText(Path.Combine(InfluxLike.Testing.RepoPaths.Root, "README.md"));
        foreach (Setting s in Settings.All.Where(s => !s.Key.StartsWith("init-", StringComparison.Ordinal)))
        {
            Assert.Contains($"| `{s.Flag}` | `{s.EnvironmentVariable}` |", readme, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_edge_profile_sets_small_memory_defaults_that_single_settings_still_override()
    {
        var env = new Dictionary<string, string> { ["INFLUXLIKE_PROFILE"] = "edge" };
        var edge = Settings.Build(None, n => env.GetValueOrDefault(n), new Dictionary<string, string> { ["cache-max-memory-size"] = "50000000" });
        Assert.Equal("edge", edge.Profile);
        Assert.Equal(50_000_000, edge.CacheMaxMemorySize);                       // the flag wins over the preset
        Assert.Equal(ServerOptions.Edge.CacheSnapshotMemorySize, edge.CacheSnapshotMemorySize);
        Assert.True(edge.CacheSnapshotMemorySize < new ServerOptions().CacheSnapshotMemorySize);
        Assert.Equal(1, edge.MaxConcurrentCompactions);
        Assert.True(edge.GcHeapLimit > 0);
        Assert.True(edge.WalSegmentSize < new ServerOptions().WalSegmentSize);

        string path = WriteConfig("profile = \"edge\"\nquery-memory-limit = 1000\n");
        var fromFile = Settings.Build(Settings.ReadFile(path), _ => null, None, path);
        Assert.Equal(ServerOptions.Edge.GcHeapLimit, fromFile.GcHeapLimit);
        Assert.Equal(1000, fromFile.QueryMemoryLimit);

        var e = Assert.Throws<ServerConfigurationException>(() => Settings.Build(None, _ => null, new Dictionary<string, string> { ["profile"] = "tiny" }));
        Assert.Contains("profile (from flag --profile)", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("max-body-size = \"lots\"", "max-body-size (from ", "is not a positive whole number")]
    [InlineData("no-such-setting = 1", "unknown setting \"no-such-setting\"", "known: http-bind-address")]
    [InlineData("log-level = [1, 2]", "setting \"log-level\" must be a string", "")]
    [InlineData("max-body-size = ", "influxlike.toml:1:", "")]
    [InlineData("query-timeout = \"5 minutes\"", "query-timeout (from ", "is not a duration")]
    public void Bad_files_are_refused_naming_the_setting_or_position(string text, string expected, string alsoExpected)
    {
        string path = WriteConfig(text);
        var e = Assert.Throws<ServerConfigurationException>(() => Settings.Build(Settings.ReadFile(path), _ => null, None, path));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains(alsoExpected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("90s", 90)]
    [InlineData("1h30m", 5400)]
    [InlineData("7d", 604800)]
    [InlineData("2w", 1209600)]
    public void Durations(string text, long seconds) => Assert.Equal(TimeSpan.FromSeconds(seconds), Settings.Duration(text));

    [Fact]
    public void Every_setting_has_a_distinct_flag_and_environment_variable_and_a_valid_default()
    {
        Assert.Equal(Settings.All.Count, Settings.All.Select(s => s.Key).Distinct().Count());
        foreach (Setting s in Settings.All)
        {
            Assert.StartsWith("INFLUXLIKE_", s.EnvironmentVariable, StringComparison.Ordinal);
            if (s.Default.Length > 0 && !s.Default.Contains(' ', StringComparison.Ordinal))
            {
                // The documented default is accepted and is what the server uses.
                var applied = s.Apply(new ServerOptions(), s.Default);
                Assert.Equal(s.Get(new ServerOptions()), s.Get(applied));
            }
        }
    }

    [Fact]
    public void Reload_applies_reloadable_settings_keeps_the_rest_and_refuses_a_bad_file()
    {
        string path = WriteConfig("max-body-size = 1000\nlog-level = \"information\"\nhttp-bind-address = \"127.0.0.1:9999\"\n");
        ServerOptions Load() => Settings.Build(Settings.ReadFile(path), _ => null, None, path) with { Reload = Load };
        var live = new LiveOptions(Load());
        var level = new LoggingLevelSwitch();
        var events = new List<LogEvent>();
        var logger = new Serilog.LoggerConfiguration().WriteTo.Sink(new ListSink(events)).CreateLogger();
        using var reloader = new ConfigReloader(live, logger, level);

        File.WriteAllText(path, "max-body-size = 5000\nlog-level = \"error\"\nhttp-bind-address = \"127.0.0.1:7777\"\n");
        Assert.True(reloader.Reload("test"));
        Assert.Equal(5000, live.Current.MaxBodySize);
        Assert.Equal(LogEventLevel.Error, level.MinimumLevel);
        Assert.Equal("127.0.0.1:9999", live.Current.HttpBindAddress); // needs a restart
        Assert.Contains(events, e => e.Level == LogEventLevel.Warning && e.RenderMessage().Contains("http-bind-address", StringComparison.Ordinal));

        File.WriteAllText(path, "max-body-size = -1\n");
        Assert.False(reloader.Reload("test"));
        Assert.Equal(5000, live.Current.MaxBodySize);
        Assert.Contains(events, e => e.Level == LogEventLevel.Error && e.RenderMessage().Contains("refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_changed_file_is_picked_up_by_the_watcher()
    {
        string path = WriteConfig("max-body-size = 1000\n");
        ServerOptions Load() => Settings.Build(Settings.ReadFile(path), _ => null, None, path) with { Reload = Load };
        var live = new LiveOptions(Load());
        var changed = new TaskCompletionSource<ServerOptions>(TaskCreationOptions.RunContinuationsAsynchronously);
        live.Changed += (_, next) => changed.TrySetResult(next);
        using var reloader = new ConfigReloader(live, Serilog.Core.Logger.None, new LoggingLevelSwitch());
        File.WriteAllText(path, "max-body-size = 4242\n");
        var next = await changed.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(4242, next.MaxBodySize);
    }

    private sealed class ListSink(List<LogEvent> events) : Serilog.Core.ILogEventSink
    {
        public void Emit(LogEvent logEvent)
        {
            lock (events)
            {
                events.Add(logEvent);
            }
        }
    }
}
