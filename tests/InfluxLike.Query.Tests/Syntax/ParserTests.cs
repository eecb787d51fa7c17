using InfluxLike.Query.Ast;
using InfluxLike.Query.Syntax;

namespace InfluxLike.Query.Tests.Syntax;

/// <summary>Golden AST shapes (spans left out) for each language feature.</summary>
public sealed class ParserTests
{
    public static TheoryData<string, string> Expressions => new()
    {
        // precedence and associativity
        { "a + b * c", "(+ a (* b c))" },
        { "a * b + c", "(+ (* a b) c)" },
        { "a - b - c", "(- (- a b) c)" },
        { "a / b % c", "(% (/ a b) c)" },
        { "2 ^ 3 * 4", "(* (^ 2 3) 4)" },
        { "-2 ^ 2", "(^ (negate 2) 2)" },
        { "not a == b", "(not (== a b))" },
        { "not a and b", "(and (not a) b)" },
        { "a and b or c", "(or (and a b) c)" },
        { "a or b and c", "(or a (and b c))" },
        { "a < b == c", "(== (< a b) c)" },
        { "a + 1 > b * 2", "(> (+ a 1) (* b 2))" },
        { "(a + b) * c", "(* (+ a b) c)" },
        { "r._value =~ /ab+c/", "(=~ (. r _value) /ab+c/)" },
        { "r.host !~ /^web\\/[0-9]+$/", "(!~ (. r host) /^web/[0-9]+$/)" },
        { "exists r.x", "(exists (. r x))" },
        { "exists r.x and r.x > 0", "(and (exists (. r x)) (> (. r x) 0))" },
        { "-a.b", "(negate (. a b))" },
        { "+1", "(plus 1)" },
        // regex or division: decided by the token before '/'
        { "a / b / c", "(/ (/ a b) c)" },
        { "x / 2", "(/ x 2)" },
        { "f(r: /a/)", "(call f r:/a/)" },
        { "[/a/, /b/]", "(array /a/ /b/)" },
        { "(a) / 2", "(/ a 2)" },
        // pipes, member, index, calls
        { "a |> f()", "(|> a (call f))" },
        { "a |> f() |> g(x: 1)", "(|> (|> a (call f)) (call g x:1))" },
        { "a |> f() + 1", "(+ (|> a (call f)) 1)" },
        { "-a |> f()", "(|> (negate a) (call f))" },
        { "a.b.c", "(. (. a b) c)" },
        { "a[0]", "([] a 0)" },
        { "a[\"k\"].b", "(. ([] a \"k\") b)" },
        { "join.tables(method: \"inner\", left: l)", "(call (. join tables) method:\"inner\" left:l)" },
        { "f(n)", "(call f n)" },
        { "f(a: 1, b: 2,)", "(call f a:1 b:2)" },
        { "f()()", "(call (call f))" },
        // function literals
        { "(r) => r._value * 2", "(fn (r) (* (. r _value) 2))" },
        { "() => 1", "(fn () 1)" },
        { "(tables=<-, n=5, fn) => tables", "(fn (tables=<- n=5 fn) tables)" },
        { "(x) => { y = x + 1\n return y }", "(fn (x) (block (= y (+ x 1)) (return y)))" },
        { "(r) => ({r with v: 1})", "(fn (r) (record r with v:1))" },
        { "(r) => ({a: r.a})", "(fn (r) (record a:(. r a)))" },
        // records, arrays, dictionaries
        { "{}", "(record)" },
        { "{a: 1, \"b c\": 2, d}", "(record a:1 \"b c\":2 d)" },
        { "{r with _value: r._value * 2, x: \"y\"}", "(record r with _value:(* (. r _value) 2) x:\"y\")" },
        { "[]", "(array)" },
        { "[1, 2, 3,]", "(array 1 2 3)" },
        { "[\"a\": 1, \"b\": 2]", "(dict \"a\":1 \"b\":2)" },
        { "[:]", "(dict)" },
        // strings
        { "\"plain\"", "\"plain\"" },
        { "\"\"", "\"\"" },
        { "\"a \\\"q\\\" \\n \\\\ \\$ $5\"", "\"a \\\"q\\\" \\n \\\\ $ $5\"" },
        { "\"v=${r.x}\"", "(string \"v=\" (${} (. r x)))" },
        { "\"${a} and ${b + 1}!\"", "(string (${} a) \" and \" (${} (+ b 1)) \"!\")" },
        { "\"${ {a: 1}.a }\"", "(string (${} (. (record a:1) a)))" },
        { "\"outer ${\"inner ${x}\"}\"", "(string \"outer \" (${} (string \"inner \" (${} x))))" },
        { "\"\\xc2\\xb5s\"", "\"\u00B5s\"" },
        // durations
        { "1h30m", "(duration 1h 30m)" },
        { "-5m", "(negate (duration 5m))" },
        { "1mo", "(duration 1mo)" },
        { "1y", "(duration 1y)" },
        { "1ms", "(duration 1ms)" },
        { "2w1d3s10us5ns", "(duration 2w 1d 3s 10us 5ns)" },
        { "1\u00B5s", "(duration 1\u00B5s)" },
        // times
        { "2018-12-01T00:00:00Z", "(time 1543622400000000000)" },
        { "2018-12-01", "(time 1543622400000000000)" },
        { "2018-12-01T00:00:00.000000001Z", "(time 1543622400000000001)" },
        { "2018-12-01T02:00:00+02:00", "(time 1543622400000000000)" },
        { "1970-01-01T00:00:00.5Z", "(time 500000000)" },
        // numbers and booleans
        { "0", "0" },
        { "9223372036854775807", "9223372036854775807" },
        { "1.5", "1.5f" },
        { ".25", "0.25f" },
        { "true", "true" },
        { "false or true", "(or false true)" },
        // conditionals
        { "if a then b else c", "(if a b c)" },
        { "if a > 1 then \"big\" else if a > 0 then \"small\" else \"none\"", "(if (> a 1) \"big\" (if (> a 0) \"small\" \"none\"))" },
        { "if exists r.x then r.x else 0", "(if (exists (. r x)) (. r x) 0)" },
        { "x = if a then b else c or d", "(= x (if a b (or c d)))" },
    };

    [Theory]
    [MemberData(nameof(Expressions))]
    public void Expression_has_the_expected_shape(string source, string expected) =>
        Assert.Equal($"(program {expected})", Dump(source));

    public static TheoryData<string, string> Programs => new()
    {
        { "import \"strings\"\nstrings.toUpper(v: \"a\")", "(program (import \"strings\") (call (. strings toUpper) v:\"a\"))" },
        { "import s \"strings\"", "(program (import s \"strings\"))" },
        { "package main\nx = 1", "(program (package main) (= x 1))" },
        { "option now = () => 2030-01-01T00:00:00Z", "(program (option (= now (fn () (time 1893456000000000000)))))" },
        { "option location.zone = \"UTC\"", "(program (option (= location.zone \"UTC\")))" },
        { "// comment\nx = 1 // trailing\n", "(program (= x 1))" },
        { "a = 1\nb = a\nb", "(program (= a 1) (= b a) b)" },
        { "data\n    |> range(start: -1h)\n    |> filter(fn: (r) => r._measurement == \"cpu\")",
            "(program (|> (|> data (call range start:(negate (duration 1h)))) (call filter fn:(fn (r) (== (. r _measurement) \"cpu\")))))" },
        { "union(tables: [t1, t2])\n|> sort(columns: [\"_time\"])", "(program (|> (call union tables:(array t1 t2)) (call sort columns:(array \"_time\"))))" },
        { "x = (a) => a\ny = x(a: 1)", "(program (= x (fn (a) a)) (= y (call x a:1)))" },
    };

    [Theory]
    [MemberData(nameof(Programs))]
    public void Program_has_the_expected_shape(string source, string expected) => Assert.Equal(expected, Dump(source));

    [Fact]
    public void Spans_locate_nodes()
    {
        var program = Parse("x = 1\n  |> f(a: \"s\")");
        var assignment = Assert.IsType<VariableAssignment>(Assert.Single(program.Body));
        Assert.Equal(new SourceSpan(1, 1, 0, 20), assignment.Span);
        var pipe = Assert.IsType<PipeExpression>(assignment.Value);
        Assert.Equal(new SourceSpan(1, 5, 4, 16), pipe.Span);
        Assert.Equal(new SourceSpan(2, 6, 11, 9), pipe.Call.Span);
        var argument = Assert.Single(pipe.Call.Arguments);
        Assert.Equal(new SourceSpan(2, 8, 13, 6), argument.Span);
        Assert.Equal(new SourceSpan(2, 11, 16, 3), argument.Value!.Span);
    }

    [Fact]
    public void Interpolated_parts_have_spans()
    {
        var program = Parse("\"ab${x}c\"");
        var statement = Assert.IsType<ExpressionStatement>(Assert.Single(program.Body));
        var text = Assert.IsType<StringExpression>(statement.Expression);
        Assert.Equal(new SourceSpan(1, 2, 1, 2), text.Parts[0].Span);
        Assert.Equal(new SourceSpan(1, 4, 3, 4), text.Parts[1].Span);
        Assert.Equal(new SourceSpan(1, 8, 7, 1), text.Parts[2].Span);
    }

    /// <summary>Every script of the tables above, for tests that run over all of them.</summary>
    public static TheoryData<string> Sources()
    {
        var scripts = new TheoryData<string>();
        foreach (var row in Expressions)
        {
            scripts.Add((string)row[0]);
        }

        foreach (var row in Programs)
        {
            scripts.Add((string)row[0]);
        }

        return scripts;
    }

    internal static Ast.Program Parse(string source)
    {
        var result = ScriptParser.Parse(source);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.Empty(result.Diagnostics);
        return result.Ast!;
    }

    internal static string Dump(string source) => AstDump.Write(Parse(source));
}
