using InfluxLike.Query.Diagnostics;
using InfluxLike.Query.Syntax;

namespace InfluxLike.Query.Tests.Syntax;

/// <summary>Bad scripts and the exact diagnostics they produce: "line:column: message" per error.</summary>
public sealed class DiagnosticTests
{
    public static TheoryData<string, string[]> Cases => new()
    {
        { "data |> filter(fn: (r) => )", ["1:27: expected an expression, found ')'"] },
        { "x = ", ["1:5: expected an expression, found the end of the script"] },
        { "f(a: 1", ["1:7: expected ')' before the end of the script"] },
        { "a + * b", ["1:5: expected an expression, found '*'"] },
        { "x = 1 #", ["1:7: the character '#' is not expected here"] },
        { "r.\"x\"", ["1:3: expected a name, found '\"'"] },
        { "\"abc", ["1:5: expected '\"' to close the string, found the end of the script"] },
        { "a |> b", ["1:6: the right side of '|>' must be a function call, like |> mean()"] },
        { "x = 99999999999999999999", ["1:5: the integer 99999999999999999999 is too large; integers range up to 9223372036854775807"] },
        { "t = 2018-02-30T00:00:00Z", ["1:5: 2018-02-30T00:00:00Z is not a valid time: the date or time of day does not exist"] },
        { "t = 2500-01-01", ["1:5: 2500-01-01 is not a valid time: times must lie between 1677-09-21 and 2262-04-11 (nanoseconds since 1970 in 64 bits)"] },
        { "import \"a${b}\"", ["1:8: an import path cannot contain ${...} interpolation"] },
        // several errors in one script, each on its own line
        {
            "a = (1 +\nb = 2\nc = f(x: )\nd = ]",
            [
                "2:3: expected ')', found '='",
                "3:10: expected an expression, found ')'",
                "4:5: expected an expression, found ']'",
            ]
        },
        { "}", ["1:1: '}' is not expected here"] },
        { "x = \"abc\\", ["1:9: the string ends with a lone '\\'; write '\\\\' for a backslash"] },
        { "if a then b", ["1:12: expected 'else', found the end of the script"] },
        { "x = [1, 2", ["1:10: expected ']' or ',', found the end of the script"] },
        { "data |> filter(fn: (r) => r._value > 1 and)", ["1:43: expected an expression, found ')'"] },
        // one error per line: what recovery guessed does not produce a second one
        { "x = {a: 1 b: 2}", ["1:11: expected '}' before the name 'b'"] },
        { "x = 1\n\ty = )", ["2:6: expected an expression, found ')'"] },
        { "c = f(x: )\nd = ]", ["1:10: expected an expression, found ')'", "2:5: expected an expression, found ']'"] },
        {
            // one error per broken statement: recovery skips to the next line that starts a statement
            "data\n  |> range(start: )\n  |> filter(fn: (r) => r.x ==)\nx = {a: 1\ny = [1, 2\nz = ok",
            [
                "2:19: expected an expression, found ')'",
                "5:1: expected '}' before the name 'y'",
                "6:1: expected ']' or ',', found the name 'z'",
            ]
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reports_exact_diagnostics(string source, string[] expected)
    {
        var result = ScriptParser.Parse(source);
        Assert.Null(result.Ast);
        Assert.Equal(expected, result.Diagnostics.Select(d => $"{d.Span.Line}:{d.Span.Column}: {d.Message}"));
    }

    [Fact]
    public void Diagnostic_quotes_the_line_with_a_caret()
    {
        var result = ScriptParser.Parse("data\n    |> filter(fn: (r) => )\n");
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticCodes.Syntax, diagnostic.Code);
        Assert.Equal("""
            error at 2:26: expected an expression, found ')'
                |> filter(fn: (r) => )
                                     ^
            """, diagnostic.ToString());
    }

    [Fact]
    public void Caret_underlines_the_whole_token()
    {
        var diagnostic = Assert.Single(ScriptParser.Parse("x = 99999999999999999999").Diagnostics);
        Assert.EndsWith("\n    ^~~~~~~~~~~~~~~~~~~~", diagnostic.ToString(), StringComparison.Ordinal);
    }
}
