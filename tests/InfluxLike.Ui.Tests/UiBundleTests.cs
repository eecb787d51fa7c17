using System.Diagnostics;
using InfluxLike.Testing;

namespace InfluxLike.Ui.Tests;

/// <summary>
/// The bundle under src/InfluxLike.Server/Ui/dist is committed (the server embeds it; building needs no node);
/// this fails when it no longer matches Ui/src. Needs node and npm (setup.sh installs them): a missing node
/// fails the test with a message instead of skipping it, so a stale bundle cannot slip through unnoticed.
/// </summary>
public sealed class UiBundleTests
{
    [Fact]
    public async Task Committed_bundle_matches_the_sources()
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoPaths.Root,
        };
        start.ArgumentList.Add(Path.Combine(RepoPaths.Root, "scripts", "ui-build.sh"));
        start.ArgumentList.Add("--check");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash");
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = await process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }

        Assert.True(process.HasExited && process.ExitCode == 0, $"""
            the committed UI bundle is stale or could not be checked (exit code {(process.HasExited ? process.ExitCode : -1)}).
            Rebuild with: bash scripts/ui-build.sh   (needs node and npm on the PATH)
            {stdout}{await stderr}
            """);
    }
}
