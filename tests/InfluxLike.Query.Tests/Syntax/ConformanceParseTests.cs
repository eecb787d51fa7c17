using System.Text.Json;
using InfluxLike.Query.Syntax;
using InfluxLike.Testing;

namespace InfluxLike.Query.Tests.Syntax;

/// <summary>Every pipeline of ../shared/conformance/flux parses without a diagnostic.</summary>
public sealed class ConformanceParseTests
{
    public static TheoryData<string> Cases()
    {
        var cases = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(RepoPaths.Conformance("flux"), "pipeline.flux", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            cases.Add(Path.GetRelativePath(RepoPaths.Conformance("flux"), Path.GetDirectoryName(file)!));
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Pipeline_parses(string testCase)
    {
        var source = Source(testCase);
        var result = ScriptParser.Parse(source);
        Assert.True(result.Diagnostics.Count == 0, string.Join("\n", result.Diagnostics));
        Assert.NotNull(result.Ast);
    }

    [Fact]
    public void All_cases_are_found() => Assert.Equal(150, Cases().Count);

    /// <summary>"pipeline" cases are stages for an input stream: parse them appended to a name.</summary>
    internal static string Source(string testCase) => Load(testCase).Source;

    /// <summary>
    /// The script as a program: the case's imports (kept in meta.json, not in the script) first,
    /// and the names the runner binds to input streams ("data" for pipelines).
    /// </summary>
    internal static (string Source, string[] Inputs) Load(string testCase, bool withImports = false)
    {
        var directory = RepoPaths.Conformance("flux", testCase);
        var text = File.ReadAllText(Path.Combine(directory, "pipeline.flux"));
        using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "meta.json")));
        var root = meta.RootElement;
        var imports = !withImports || !root.TryGetProperty("imports", out var list)
            ? ""
            : string.Concat(list.EnumerateArray().Select(i => $"import \"{i.GetString()}\"\n"));
        return root.GetProperty("kind").GetString() == "pipeline"
            ? (imports + "data\n" + text, ["data"])
            : (imports + text, [.. root.GetProperty("inputs").EnumerateObject().Select(p => p.Name)]);
    }
}
