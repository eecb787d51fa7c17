using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace InfluxLike.Testing;

/// <summary>
/// Runs the real <c>influxlike</c> executable as a child process on 127.0.0.1 with an OS-chosen port, for
/// tests of the command line, start-up and shutdown. Ends only the process it started, by PID.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(Process process)
    {
        _process = process;
    }

    public Uri BaseAddress { get; private set; } = null!;

    public int Pid => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <c>influxlike</c> (the dll next to the test binaries) with the given arguments.</summary>
    public static Task<ServerProcess> StartAsync(IEnumerable<string> args, IDictionary<string, string>? environment = null, TimeSpan? timeout = null) =>
        StartProgramAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "influxlike.dll"), .. args], environment, timeout);

    /// <summary>Starts <paramref name="program"/> (a published executable, or an emulator running one) with the given arguments.</summary>
    public static async Task<ServerProcess> StartProgramAsync(string program, IEnumerable<string> args, IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var kv in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[kv.Key] = kv.Value;
        }

        var server = new ServerProcess(Process.Start(psi)!);
        server._process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();

        Task done = await Task.WhenAny(server._listening.Task, server._process.WaitForExitAsync(), Task.Delay(timeout ?? TimeSpan.FromSeconds(30)));
        if (done != server._listening.Task)
        {
            string output = server.Output;
            await server.DisposeAsync();
            throw new InvalidOperationException("influxlike did not start listening:\n" + output);
        }

        server.BaseAddress = await server._listening.Task;
        return server;
    }

    /// <summary>Runs <c>influxlike</c> to completion (for commands that end by themselves).</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "influxlike.dll"));
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Sends SIGTERM (a graceful stop) and waits for the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (kill(_process.Id, 15) != 0)
        {
            throw new InvalidOperationException("kill(SIGTERM) failed: errno " + Marshal.GetLastPInvokeError());
        }

        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>Sends SIGHUP (reload the configuration).</summary>
    public void Hangup()
    {
        if (kill(_process.Id, 1) != 0)
        {
            throw new InvalidOperationException("kill(SIGHUP) failed: errno " + Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>Waits until the output holds <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline || _process.HasExited)
            {
                throw new TimeoutException($"\"{text}\" did not appear in the output:\n{Output}");
            }

            await Task.Delay(50);
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        Match m = ListeningRegex().Match(line);
        if (m.Success)
        {
            _listening.TrySetResult(new Uri(m.Groups[1].Value));
        }
    }

    [GeneratedRegex(@"listening on (http://[^,\s]+)")]
    private static partial Regex ListeningRegex();

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // a test helper: LibraryImport's source generator buys nothing here
    private static extern int kill(int pid, int sig);
#pragma warning restore SYSLIB1054
}
