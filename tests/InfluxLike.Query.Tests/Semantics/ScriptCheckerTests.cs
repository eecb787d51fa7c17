using InfluxLike.Query.Diagnostics;
using InfluxLike.Query.Semantics;
using InfluxLike.Query.Syntax;
using InfluxLike.Query.Tests.Syntax;

namespace InfluxLike.Query.Tests.Semantics;

public sealed class ScriptCheckerTests
{
    [Theory]
    [MemberData(nameof(ConformanceParseTests.Cases), MemberType = typeof(ConformanceParseTests))]
    public void Conformance_script_checks_clean(string testCase)
    {
        var (source, inputs) = ConformanceParseTests.Load(testCase, withImports: true);
        Assert.Empty(Check(source, inputs));
    }

    public static TheoryData<string, string[]> Cases => new()
    {
        { "data |> fitler(fn: (r) => true)", ["1:9: unknown name 'fitler' (did you mean 'filter'?)"] },
        { "data |> filter(fn: (r) => x > 1)", ["1:27: unknown name 'x'"] },
        { "data |> sort(colums: [\"a\"])", ["1:14: 'sort' has no parameter 'colums' (did you mean 'columns'?)"] },
        { "data |> filter()", ["1:9: missing required argument 'fn' in call to 'filter'"] },
        { "data |> range(start: \"yesterday\")", ["1:22: argument 'start' of 'range' must be a time or duration, not a string"] },
        { "data |> limit(n: 1.5)", ["1:18: argument 'n' of 'limit' must be an integer, not a number"] },
        { "data |> float(v: 1)", ["1:9: 'float' does not take piped input: it has no '<-' parameter"] },
        { "x = mean()", ["1:5: 'mean' needs input: pipe a stream into it or pass 'tables'"] },
        { "data |> limit(n: 1, n: 2)", ["1:21: argument 'n' is given twice"] },
        { "x = strings.toUpper(v: \"a\")", ["1:5: 'strings' is a package that is not imported; add import \"strings\""] },
        { "import \"strings\"\nx = strings.toUper(v: \"a\")", ["2:13: package 'strings' has no member 'toUper' (did you mean 'toUpper'?)"] },
        { "import \"string\"", ["1:8: unknown package \"string\" (did you mean 'strings'?)"] },
        { "f = (a, b=1, t=<-) => a\nx = data |> f(c: 2)", ["2:15: 'f' has no parameter 'c'", "2:13: missing required argument 'a' in call to 'f'"] },
        { "y = z\nz = 1", ["1:5: unknown name 'z'"] },
        { "return 1", ["1:1: 'return' is only allowed inside a function body"] },
        { "f = () => {\n option now = () => 2020-01-01\n return 1\n}", ["2:2: options can only be set at the top level of a script, not inside a function"] },
        { "location.zone = \"UTC\"", ["1:1: only options can assign to a member: write 'option location.zone = ...'"] },
        { "option location.zone = \"UTC\"", [] },
        { "x = 1 + 1.0", ["1:5: '+' cannot combine an integer and a number; convert one side, e.g. with float(v: ...)"] },
        { "x = \"a\" == 1", ["1:5: '==' cannot combine a string and an integer; convert one side, e.g. with float(v: ...)"] },
        { "data |> filter(fn: (r) => r.host =~ \"web\")", ["1:37: the right side of '=~' must be a regex like /abc/, not a string"] },
        { "x = if 1 then 2 else 3", ["1:8: the condition of 'if' must be a boolean, not an integer"] },
        { "x = 2 * 3 + 1 == 7 and r =~ /a/", ["1:24: unknown name 'r'"] },
        { "f = (x) => { y = x\n return y }\ny", ["3:1: unknown name 'y'"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reports_exact_diagnostics(string source, string[] expected) =>
        Assert.Equal(string.Join("\n", expected), string.Join("\n", Check(source, ["data"]).Select(d =>
            $"{d.Span.Line}:{d.Span.Column}: {d.Message}" + (d.Suggestion is null ? "" : $" ({d.Suggestion})"))));

    [Fact]
    public void Every_error_in_a_script_is_reported()
    {
        var diagnostics = Check("data\n    |> rnage(start: -1h)\n    |> filter(fn: (r) => r.x > limit)\n    |> mean(colum: \"x\")", ["data"]);
        Assert.Equal(["2:8", "4:13"], diagnostics.Select(d => $"{d.Span.Line}:{d.Span.Column}"));
    }

    [Fact]
    public void Typical_influxdb_script_checks_clean()
    {
        const string source = """
            import "strings"
            option now = () => 2030-01-01T00:00:00Z

            threshold = 90.0
            busy = (tables=<-, limit=threshold) => tables |> filter(fn: (r) => r._value > limit)

            from(bucket: "telegraf")
                |> range(start: -1h, stop: now())
                |> filter(fn: (r) => r._measurement == "cpu" and r.host =~ /^web[0-9]+$/ and exists r.cpu)
                |> busy()
                |> aggregateWindow(every: 1m, fn: mean, createEmpty: false)
                |> map(fn: (r) => ({r with host: strings.toUpper(v: r.host), label: "${r.host}/${r.cpu}"}))
                |> reduce(fn: (r, accumulator) => ({sum: accumulator.sum + r._value}), identity: {sum: 0.0})
                |> yield(name: "busy")
            """;
        var result = ScriptChecker.ParseAndCheck(source);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
    }

    [Fact]
    public void Parse_and_check_reports_syntax_errors_first_then_semantic_ones()
    {
        var syntax = ScriptChecker.ParseAndCheck("data |> fitler(fn: (r) => )", ["data"]);
        Assert.Null(syntax.Ast);
        Assert.Equal([DiagnosticCodes.Syntax], syntax.Diagnostics.Select(d => d.Code));

        var semantic = ScriptChecker.ParseAndCheck("data |> fitler(fn: (r) => r.x > 0)", ["data"]);
        Assert.Null(semantic.Ast);
        Assert.Equal([DiagnosticCodes.Semantic], semantic.Diagnostics.Select(d => d.Code));

        var clean = ScriptChecker.ParseAndCheck("data |> filter(fn: (r) => r.x > 0)", ["data"]);
        Assert.NotNull(clean.Ast);
        Assert.Empty(clean.Diagnostics);
    }

    [Fact]
    public void Suggestions_rank_by_distance() =>
        Assert.Equal("did you mean 'sin' or 'sum'?", Suggestions.DidYouMean("sun", ["sum", "min", "sin", "filter"]));

    private static IReadOnlyList<InfluxLike.Query.Diagnostics.Diagnostic> Check(string source, IEnumerable<string> inputs)
    {
        var parsed = ScriptParser.Parse(source);
        Assert.True(parsed.Succeeded, string.Join("\n", parsed.Diagnostics));
        return ScriptChecker.Check(parsed.Ast!, source, inputs);
    }
}
