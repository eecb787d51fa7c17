using System.Collections.Immutable;
using CsCheck;
using InfluxLike.Query.Ast;
using InfluxLike.Query.Formatting;
using InfluxLike.Query.Syntax;
using InfluxLike.Query.Tests.Syntax;

namespace InfluxLike.Query.Tests.Formatting;

public sealed class FormatterTests
{
    [Theory]
    [MemberData(nameof(ParserTests.Sources), MemberType = typeof(ParserTests))]
    public void Formatting_a_test_script_round_trips(string source) => AssertRoundTrips(source);

    [Theory]
    [MemberData(nameof(ConformanceParseTests.Cases), MemberType = typeof(ConformanceParseTests))]
    public void Formatting_a_conformance_script_round_trips(string testCase) =>
        AssertRoundTrips(ConformanceParseTests.Source(testCase));

    public static TheoryData<string, string> Canonical => new()
    {
        { "a+b*c", "a + b * c\n" },
        { "(a+b)*c", "(a + b) * c\n" },
        { "a-(b-c)", "a - (b - c)\n" },
        { "(a-b)-c", "a - b - c\n" },
        { "-(a+b)", "-(a + b)\n" },
        { "(not a) == b", "(not a) == b\n" },
        { "not (a and b)", "not (a and b)\n" },
        { "(if a then b else c) + 1", "(if a then b else c) + 1\n" },
        { "((r) => r).x", "((r) => r).x\n" },
        { "f = (r) =>({a: r})", "f = (r) => ({a: r})\n" },
        { "data |> range(start: -1h)", "data |> range(start: -1h)\n" },
        { "data|>range(start:-1h)|>filter(fn:(r)=>r._measurement==\"cpu\")",
            "data\n    |> range(start: -1h)\n    |> filter(fn: (r) => r._measurement == \"cpu\")\n" },
        { "import \"strings\"\nx = strings.toUpper(v: \"a\")", "import \"strings\"\n\nx = strings.toUpper(v: \"a\")\n" },
        { "f = (x) => { y = x\nreturn y }", "f = (x) => {\n    y = x\n    return y\n}\n" },
        { "t = 2018-12-01T02:00:00.500+02:00", "t = 2018-12-01T00:00:00.5Z\n" },
        { "s = \"a\\${b} ${c} $d\"", "s = \"a\\${b} ${c} $d\"\n" },
        { "r = /a\\/b/", "r = /a\\/b/\n" },
        { "x = [:]", "x = [:]\n" },
        { "x = {r with a: 1, \"b c\": 2.0}", "x = {r with a: 1, \"b c\": 2.0}\n" },
        { "x = 100000000000000000000000.0", "x = 100000000000000000000000.0\n" }, // shortest digits, not 99999999999999991611392
        { "x = 0.0000000000000000000001", "x = 0.0000000000000000000001\n" },
    };

    [Theory]
    [MemberData(nameof(Canonical))]
    public void Formats_canonically(string source, string expected)
    {
        Assert.Equal(expected, Formatter.Format(ParserTests.Parse(source)));
        AssertRoundTrips(source);
    }

    [Fact]
    public void Generated_trees_round_trip() =>
        Expressions(4).Sample(
            expression =>
            {
                var program = new Ast.Program(default, null, [], [new ExpressionStatement(default, expression)]);
                var source = Formatter.Format(program);
                var reparsed = ScriptParser.Parse(source);
                Assert.True(reparsed.Succeeded, source + "\n" + string.Join("\n", reparsed.Diagnostics));
                Assert.Equal(AstDump.Write(program), AstDump.Write(reparsed.Ast!));
            },
            iter: 3000);

    private static void AssertRoundTrips(string source)
    {
        var first = ParserTests.Parse(source);
        var formatted = Formatter.Format(first);
        var second = ScriptParser.Parse(formatted);
        Assert.True(second.Succeeded, formatted + "\n" + string.Join("\n", second.Diagnostics));
        Assert.Equal(AstDump.Write(first), AstDump.Write(second.Ast!));
        // Canonical: formatting is idempotent.
        Assert.Equal(formatted, Formatter.Format(second.Ast!));
    }

    // Random trees over every expression kind, shaped like the parser's output (no parentheses
    // nodes, pipes only into calls, record bodies wrapped by the formatter).
    private static readonly Gen<Identifier> Names =
        Gen.Int[0, 4].Select(i => new Identifier(default, new[] { "a", "b", "r", "_value", "x1" }[i]));

    private static readonly Gen<Expression> Leaves = Gen.OneOf<Expression>(
        Names.Select(n => (Expression)n),
        Gen.Long[0, long.MaxValue].Select(v => (Expression)new IntegerLiteral(default, v)),
        Gen.Double[0, 1e6].Select(v => (Expression)new FloatLiteral(default, v)),
        Gen.Bool.Select(v => (Expression)new BooleanLiteral(default, v)),
        Gen.String[Gen.Char["ab$\"\\{}\n "], 0, 6].Select(v => (Expression)new StringLiteral(default, v)),
        Gen.String[Gen.Char["ab+*/.^$"], 1, 5].Select(v => (Expression)new RegexLiteral(default, v)),
        Gen.Long[0, 1000].Select(v => (Expression)new DurationLiteral(default, [new DurationPart(v, "h"), new DurationPart(5, "mo")])),
        Gen.Long[-1_000_000_000_000_000_000, 1_000_000_000_000_000_000].Select(v => (Expression)new DateTimeLiteral(default, v)));

    private static Gen<Expression> Expressions(int depth)
    {
        if (depth == 0)
        {
            return Leaves;
        }

        var inner = Expressions(depth - 1);
        var call = Gen.Select(Names, inner.Array[0, 2], (callee, values) => new CallExpression(
            default, callee, [.. values.Select((v, i) => new Property(default, new Identifier(default, "p" + i), v))]));
        return Gen.Frequency(
            (3, Leaves),
            (2, Gen.Select(Gen.Enum<BinaryOperator>(), inner, inner, (op, l, r) => (Expression)new BinaryExpression(default, op, l, r))),
            (1, Gen.Select(Gen.Enum<LogicalOperator>(), inner, inner, (op, l, r) => (Expression)new LogicalExpression(default, op, l, r))),
            (1, Gen.Select(Gen.Enum<UnaryOperator>(), inner, (op, e) => (Expression)new UnaryExpression(default, op, e))),
            (1, Gen.Select(inner, call, (a, c) => (Expression)new PipeExpression(default, a, c))),
            (1, call.Select(c => (Expression)c)),
            (1, Gen.Select(inner, Names, (o, n) => (Expression)new MemberExpression(default, o, n))),
            (1, Gen.Select(inner, inner, (o, i) => (Expression)new IndexExpression(default, o, i))),
            (1, Gen.Select(inner, inner, inner, (t, c, a) => (Expression)new ConditionalExpression(default, t, c, a))),
            (1, Gen.Select(Names, inner, (p, body) => (Expression)new FunctionExpression(
                default, [new Parameter(default, p, null, false), new Parameter(default, new Identifier(default, "t"), null, true)], body))),
            (1, Gen.Select(Names.Null(), inner.Array[1, 3], (with, values) => (Expression)new RecordExpression(
                default, with, [.. values.Select((v, i) => new Property(default, new Identifier(default, "k" + i), v))]))),
            (1, inner.Array[0, 3].Select(values => (Expression)new ArrayExpression(default, [.. values]))),
            (1, Gen.Select(inner, inner, (k, v) => (Expression)new DictionaryExpression(default, [new DictionaryItem(default, k, v)]))),
            (1, Gen.Select(Gen.String[Gen.Char["a$ "], 0, 3], inner, (t, e) => (Expression)new StringExpression(
                default, t.Length == 0 ? [new InterpolatedPart(default, e)] : [new TextPart(default, t), new InterpolatedPart(default, e)]))));
    }
}
