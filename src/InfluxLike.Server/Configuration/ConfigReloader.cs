using System.Runtime.InteropServices;
using Serilog.Core;
using Serilog.Events;

namespace InfluxLike.Server.Configuration;

/// <summary>
/// Reloads the settings when the config file changes or the process gets SIGHUP. Settings marked reloadable
/// take effect at once; a changed setting that needs a restart is logged and keeps its old value; a bad file is
/// refused with its error and every old setting stays.
/// </summary>
public sealed class ConfigReloader : IDisposable
{
    private readonly LiveOptions _live;
    private readonly Serilog.ILogger _logger;
    private readonly LoggingLevelSwitch _level;
    private readonly FileSystemWatcher? _watcher;
    private readonly PosixSignalRegistration? _sighup;
    private readonly Timer _debounce;
    private readonly object _lock = new();

    public ConfigReloader(LiveOptions live, Serilog.ILogger logger, LoggingLevelSwitch level)
    {
        _live = live;
        _logger = logger;
        _level = level;
        _debounce = new Timer(_ => Reload("the config file changed"));
        ServerOptions options = live.Current;
        if (options.Reload is null)
        {
            return;
        }

        if (options.ConfigFile is { } file)
        {
            string full = Path.GetFullPath(file);
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(full)!, Path.GetFileName(full))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.FileName | NotifyFilters.CreationTime,
            };

            // Editors write a file in several steps: wait until it has been quiet for a moment.
            FileSystemEventHandler changed = (_, _) => _debounce.Change(300, Timeout.Infinite);
            _watcher.Changed += changed;
            _watcher.Created += changed;
            _watcher.Renamed += (_, _) => _debounce.Change(300, Timeout.Infinite);
            _watcher.EnableRaisingEvents = true;
        }

        if (!OperatingSystem.IsWindows())
        {
            _sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx =>
            {
                ctx.Cancel = true; // SIGHUP reloads; it does not end the process
                ThreadPool.QueueUserWorkItem(_ => Reload("SIGHUP"));
            });
        }
    }

    /// <summary>Number of reloads applied (for tests and logs).</summary>
    public int Reloads { get; private set; }

    /// <summary>Rebuilds the settings from their sources and applies what may change while running.</summary>
    public bool Reload(string reason)
    {
        lock (_lock)
        {
            ServerOptions old = _live.Current;
            ServerOptions next;
            try
            {
                next = old.Reload?.Invoke() ?? old;
            }
            catch (ServerConfigurationException e)
            {
                _logger.Error("Configuration reload ({Reason}) refused, the current settings stay: {Error}", reason, e.Message);
                return false;
            }

            ServerOptions merged = next;
            var applied = new List<string>();
            foreach (Setting s in Settings.All)
            {
                if (Equals(s.Get(old), s.Get(next)))
                {
                    continue;
                }

                if (s.Reloadable)
                {
                    applied.Add($"{s.Key}={(s.Key.Contains("token", StringComparison.Ordinal) ? "***" : s.Get(next))}");
                }
                else
                {
                    _logger.Warning("Configuration reload: {Setting} changed but needs a restart; it stays {Value} until then", s.Key, s.Get(old));
                }
            }

            foreach (Setting s in Settings.All)
            {
                merged = s.KeepOnReload?.Invoke(merged, old) ?? merged;
            }

            _live.Update(merged);
            _level.MinimumLevel = ParseLevel(merged.LogLevel);
            Reloads++;
            _logger.Information("Configuration reloaded ({Reason}): {Changes}", reason, applied.Count == 0 ? "no changes" : string.Join(", ", applied));
            return true;
        }
    }

    public static LogEventLevel ParseLevel(string level) => level switch
    {
        "verbose" => LogEventLevel.Verbose,
        "debug" => LogEventLevel.Debug,
        "warning" => LogEventLevel.Warning,
        "error" => LogEventLevel.Error,
        "fatal" => LogEventLevel.Fatal,
        _ => LogEventLevel.Information,
    };

    public void Dispose()
    {
        _watcher?.Dispose();
        _sighup?.Dispose();
        _debounce.Dispose();
    }
}
