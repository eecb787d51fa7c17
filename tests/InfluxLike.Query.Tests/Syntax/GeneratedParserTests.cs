using System.Diagnostics;
using InfluxLike.Testing;

namespace InfluxLike.Query.Tests.Syntax;

/// <summary>
/// The C# parser under src/InfluxLike.Query/Syntax/Generated is committed; this fails when it no
/// longer matches grammar/*.g4. Needs node (20 is on the build machines): a missing node fails the
/// test with a message instead of skipping it, so a stale parser cannot slip through unnoticed.
/// </summary>
public sealed class GeneratedParserTests
{
    [Fact]
    public void Generated_parser_matches_the_grammar()
    {
        var script = Path.Combine(RepoPaths.Root, "scripts", "antlr-gen.sh");
        var (exitCode, output) = Run("bash", script, "--check");
        Assert.True(exitCode == 0, $"""
            the generated parser is stale or could not be checked (exit code {exitCode}).
            Regenerate with: bash scripts/antlr-gen.sh   (needs node and npm on the PATH)
            {output}
            """);
    }

    private static (int ExitCode, string Output) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoPaths.Root,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out after 2 minutes\n" + stdout + stderr.Result);
        }

        return (process.ExitCode, stdout + stderr.Result);
    }
}
