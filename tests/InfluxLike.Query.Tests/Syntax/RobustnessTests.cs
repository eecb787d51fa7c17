using CsCheck;
using InfluxLike.Query.Diagnostics;
using InfluxLike.Query.Formatting;
using InfluxLike.Query.Semantics;
using InfluxLike.Query.Syntax;

namespace InfluxLike.Query.Tests.Syntax;

/// <summary>No input crashes or hangs the parser; limits end in clear diagnostics.</summary>
public sealed class RobustnessTests
{
    // Characters that matter to the lexer, so random strings reach deep into the grammar.
    private static readonly Gen<string> ScriptLike = Gen.String[
        Gen.OneOf(Gen.Char["(){}[]\"$\\/|><-=!~+*^%.,:\n 0123456789aeimnorstxyzT_"], Gen.Char), 0, 200];

    private static readonly string[] Fragments =
    [
        "data", "|>", "f(", ")", "(r) =>", "r.x", "{", "}", "[", "]", "\"a${", "\"", "1h", "2018-01-01",
        "/a/", "/", "if", "then", "else", "exists", "not", "and", "or", "with", ":", ",", "=", "<-", "\n", "-", "1.5",
    ];

    private static readonly Gen<string> Tokens =
        Gen.Int[0, Fragments.Length - 1].Select(i => Fragments[i]).Array[0, 60].Select(parts => string.Join(" ", parts));

    [Fact]
    public void Random_strings_never_throw() =>
        Gen.String.Sample(source => ParseTerminates(source), iter: 3000);

    [Fact]
    public void Random_script_like_strings_never_throw() =>
        ScriptLike.Sample(source => ParseTerminates(source), iter: 5000);

    [Fact]
    public void Random_token_soup_never_throws() =>
        Tokens.Sample(source => ParseTerminates(source), iter: 5000);

    [Fact]
    public void Random_bytes_as_utf8_never_throw() =>
        Gen.Byte.Array[0, 300].Sample(bytes => ParseTerminates(System.Text.Encoding.UTF8.GetString(bytes)), iter: 3000);

    [Theory]
    [InlineData("(", ")")]
    [InlineData("[", "]")]
    [InlineData("{a: ", "}")]
    [InlineData("\"${", "}\"")]
    [InlineData("f(x: ", ")")]
    public void Deep_brackets_are_rejected_with_a_position(string open, string close)
    {
        var source = string.Concat(Enumerable.Repeat(open, 10_000)) + "1" + string.Concat(Enumerable.Repeat(close, 10_000));
        var diagnostic = Assert.Single(ScriptParser.Parse(source).Diagnostics);
        Assert.Equal(DiagnosticCodes.NestingTooDeep, diagnostic.Code);
        Assert.Contains($"more than {ScriptParser.MaxBracketDepth} deep", diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-")]
    [InlineData("not ")]
    [InlineData("if a then b else ")]
    [InlineData("() => ")]
    public void Deep_prefix_chains_are_rejected(string prefix)
    {
        var source = string.Concat(Enumerable.Repeat(prefix, 50_000)) + "1";
        var diagnostic = Assert.Single(ScriptParser.Parse(source).Diagnostics);
        Assert.Equal(DiagnosticCodes.NestingTooDeep, diagnostic.Code);
    }

    [Theory]
    [InlineData(" + 1")]
    [InlineData(" |> f()")]
    [InlineData(".x")]
    [InlineData("[0]")]
    public void Long_left_chains_are_rejected_by_depth(string suffix)
    {
        var source = "a" + string.Concat(Enumerable.Repeat(suffix, 100_000));
        var diagnostic = Assert.Single(ScriptParser.Parse(source).Diagnostics);
        Assert.Equal(DiagnosticCodes.NestingTooDeep, diagnostic.Code);
        Assert.Equal(1, diagnostic.Span.Line);

        // The parser stops at the link where the chain became too long, rather than parsing all
        // 100,000 links first and then refusing the whole expression from its start.
        int stoppedAfterLinks = diagnostic.Span.Offset / suffix.Length;
        Assert.InRange(stoppedAfterLinks, 500, 2_000); // the parser allows 1,500 levels
    }

    [Fact]
    public void Moderate_nesting_is_fine()
    {
        var source = string.Concat(Enumerable.Repeat("(", 100)) + "1" + string.Concat(Enumerable.Repeat(")", 100));
        Assert.Empty(ScriptParser.Parse(source).Diagnostics);
        var chain = "a" + string.Concat(Enumerable.Repeat(" |> f()", 200));
        Assert.Empty(ScriptParser.Parse(chain).Diagnostics);
    }

    [Fact]
    public void Too_large_script_is_rejected_before_lexing()
    {
        var diagnostic = Assert.Single(ScriptParser.Parse(new string(' ', ScriptParser.MaxScriptLength + 1)).Diagnostics);
        Assert.Equal(DiagnosticCodes.ScriptTooLarge, diagnostic.Code);
    }

    [Fact]
    public void Many_errors_stop_at_the_limit()
    {
        var source = string.Concat(Enumerable.Repeat("x = )\n", 1000));
        var diagnostics = ScriptParser.Parse(source).Diagnostics;
        Assert.Equal(SyntaxErrors.MaxErrors + 1, diagnostics.Count);
        Assert.Equal(DiagnosticCodes.TooManyErrors, diagnostics[^1].Code);
    }

    [Fact]
    public void Large_valid_script_parses_quickly()
    {
        var line = "x = data |> range(start: -1h) |> filter(fn: (r) => r._measurement == \"cpu\" and r.host =~ /web/)\n";
        var source = string.Concat(Enumerable.Repeat(line, 5000));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = ScriptParser.Parse(source);
        Assert.Empty(result.Diagnostics);
        Assert.Equal(5000, result.Ast!.Body.Length);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
    }

    private static void ParseTerminates(string source)
    {
        var result = ScriptParser.Parse(source);
        // The invariant callers rely on: an AST exactly when there is no error, and every
        // diagnostic points inside the script with its line quoted.
        Assert.Equal(result.Ast is not null, result.Diagnostics.Count == 0);
        if (result.Ast is not null)
        {
            // Whatever parses, the checker and formatter take without throwing.
            _ = ScriptChecker.Check(result.Ast, source);
            _ = Formatter.Format(result.Ast);
        }

        foreach (var diagnostic in result.Diagnostics)
        {
            Assert.InRange(diagnostic.Span.Offset, 0, source.Length);
            Assert.NotNull(diagnostic.ToString());
        }
    }
}
