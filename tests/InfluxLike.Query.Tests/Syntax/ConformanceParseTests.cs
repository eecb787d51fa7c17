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
    internal static string Source(string testCase)
    {
        var directory = RepoPaths.Conformance("flux", testCase);
        var text = File.ReadAllText(Path.Combine(directory, "pipeline.flux"));
        using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "meta.json")));
        return meta.RootElement.GetProperty("kind").GetString() == "pipeline" ? "data\n" + text : text;
    }
}
