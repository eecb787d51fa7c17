using InfluxLike.Query.Ast;
using InfluxLike.Query.Semantics;
using InfluxLike.Query.Tests.Syntax;

namespace InfluxLike.Query.Tests.Semantics;

public sealed class ScriptCacheTests
{
    [Fact]
    public void A_script_seen_before_gives_the_same_tree_without_parsing_again()
    {
        using var cache = new ScriptCache();
        const string script = "from(bucket: \"b\") |> range(start: -1h) |> filter(fn: (r) => r._field == \"x\")";
        var first = cache.ParseAndCheck(script);
        var second = cache.ParseAndCheck(new string(script.AsSpan())); // equal text, another string instance
        Assert.True(first.Succeeded);
        Assert.Same(first, second);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void A_failing_script_is_not_kept_and_reports_its_errors_each_time()
    {
        using var cache = new ScriptCache();
        const string script = "data |> fitler(fn: (r) => true)";
        var first = cache.ParseAndCheck(script);
        var second = cache.ParseAndCheck(script);
        Assert.False(first.Succeeded);
        Assert.False(second.Succeeded);
        Assert.NotSame(first, second);
        Assert.Equal(first.Diagnostics.Select(d => d.Message), second.Diagnostics.Select(d => d.Message));
        Assert.Equal(0, cache.Count);
    }

    [Theory]
    [MemberData(nameof(ConformanceParseTests.Cases), MemberType = typeof(ConformanceParseTests))]
    public void Cached_and_fresh_parses_agree(string testCase)
    {
        var (script, inputs) = ConformanceParseTests.Load(testCase, withImports: true);
        // The cache serves scripts without predefined names: bind the case's inputs in the script itself.
        int body = script.Split('\n').TakeWhile(l => l.StartsWith("import ", StringComparison.Ordinal)).Sum(l => l.Length + 1);
        string source = script[..body] + string.Concat(inputs.Select(i => $"{i} = from(bucket: \"b\") |> range(start: -1h)\n")) + script[body..];
        using var cache = new ScriptCache();
        var fresh = ScriptChecker.ParseAndCheck(source);
        var missed = cache.ParseAndCheck(source);
        var hit = cache.ParseAndCheck(source);
        Assert.True(fresh.Succeeded, string.Join("\n", fresh.Diagnostics));
        Assert.Equal(fresh.Succeeded, hit.Succeeded);
        Assert.Equal(fresh.Diagnostics.Select(d => d.ToString()), hit.Diagnostics.Select(d => d.ToString()));
        if (fresh.Succeeded)
        {
            Assert.Same(missed, hit);
            Assert.Equal(AstDump.Write(fresh.Ast!), AstDump.Write(hit.Ast!));
        }
    }

    [Fact]
    public void The_cache_holds_no_more_script_text_than_its_bound()
    {
        using var cache = new ScriptCache(maxChars: 1_000);
        for (int i = 0; i < 200; i++)
        {
            string script = $"x{i:D3} = \"{new string('a', 35)}\""; // 44 characters
            Assert.Equal(44, script.Length);
            Assert.True(cache.ParseAndCheck(script).Succeeded);
            Assert.True(cache.Count <= 1_000 / 44, $"{cache.Count} scripts held after {i + 1}");
        }

        // A script longer than a sixteenth of the bound is answered but never kept.
        string large = "y = " + string.Join(" + ", Enumerable.Repeat("1", 40));
        Assert.True(cache.ParseAndCheck(large).Succeeded);
        Assert.True(cache.Count <= 1_000 / 44);
    }
}
