using System.Collections.Immutable;

namespace InfluxLike.Query.Ast;

// The query AST: immutable records, every node with the span of source it came from. Built by
// Syntax/AstBuilder from the ANTLR parse tree, which stays inside Syntax/. Parentheses leave no
// node (precedence is in the tree shape); the formatter puts back the ones that are needed.
// Lists are ImmutableArray, whose equality is by reference: compare trees with AstDump, which
// also leaves spans out.

public abstract record Node(SourceSpan Span);

public sealed record Program(
    SourceSpan Span,
    Identifier? Package,
    ImmutableArray<ImportDeclaration> Imports,
    ImmutableArray<Statement> Body) : Node(Span);

/// <summary><c>import "strings"</c> or <c>import s "strings"</c>.</summary>
public sealed record ImportDeclaration(SourceSpan Span, Identifier? Alias, StringLiteral Path) : Node(Span);

public abstract record Statement(SourceSpan Span) : Node(Span);

/// <summary><c>name = expr</c>.</summary>
public sealed record VariableAssignment(SourceSpan Span, Identifier Name, Expression Value) : Statement(Span);

/// <summary><c>option name.member = expr</c>; only valid after <c>option</c>.</summary>
public sealed record MemberAssignment(SourceSpan Span, Identifier Object, Identifier Member, Expression Value)
    : Statement(Span);

/// <summary><c>option</c> followed by a variable or member assignment.</summary>
public sealed record OptionStatement(SourceSpan Span, Statement Assignment) : Statement(Span);

public sealed record ReturnStatement(SourceSpan Span, Expression Argument) : Statement(Span);

public sealed record ExpressionStatement(SourceSpan Span, Expression Expression) : Statement(Span);

/// <summary>Body of a function literal written with braces.</summary>
public sealed record Block(SourceSpan Span, ImmutableArray<Statement> Body) : Node(Span);

public abstract record Expression(SourceSpan Span) : Node(Span);

public sealed record Identifier(SourceSpan Span, string Name) : Expression(Span);

public sealed record IntegerLiteral(SourceSpan Span, long Value) : Expression(Span);

public sealed record FloatLiteral(SourceSpan Span, double Value) : Expression(Span);

public sealed record BooleanLiteral(SourceSpan Span, bool Value) : Expression(Span);

/// <summary>A string without interpolation, escapes already decoded.</summary>
public sealed record StringLiteral(SourceSpan Span, string Value) : Expression(Span);

/// <summary>A string with at least one <c>${...}</c>: alternating text and expressions.</summary>
public sealed record StringExpression(SourceSpan Span, ImmutableArray<StringPart> Parts) : Expression(Span);

public abstract record StringPart(SourceSpan Span) : Node(Span);

public sealed record TextPart(SourceSpan Span, string Value) : StringPart(Span);

public sealed record InterpolatedPart(SourceSpan Span, Expression Expression) : StringPart(Span);

/// <summary><c>/pattern/</c>; <see cref="Pattern"/> has <c>\/</c> decoded to <c>/</c>.</summary>
public sealed record RegexLiteral(SourceSpan Span, string Pattern) : Expression(Span);

/// <summary><c>1h30m</c> is two parts; units keep their spelling (y mo w d h m s ms us µs ns).</summary>
public sealed record DurationLiteral(SourceSpan Span, ImmutableArray<DurationPart> Parts) : Expression(Span);

public readonly record struct DurationPart(long Magnitude, string Unit);

/// <summary>An RFC 3339 time (or a bare date, meaning midnight UTC) as nanoseconds since the Unix epoch.</summary>
public sealed record DateTimeLiteral(SourceSpan Span, long UnixNanoseconds) : Expression(Span);

public enum UnaryOperator
{
    Negate,
    Plus,
    Not,
    Exists,
}

public sealed record UnaryExpression(SourceSpan Span, UnaryOperator Operator, Expression Operand) : Expression(Span);

public enum BinaryOperator
{
    Power,
    Multiply,
    Divide,
    Modulo,
    Add,
    Subtract,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    RegexMatch,
    RegexNotMatch,
}

public sealed record BinaryExpression(SourceSpan Span, BinaryOperator Operator, Expression Left, Expression Right)
    : Expression(Span);

public enum LogicalOperator
{
    And,
    Or,
}

public sealed record LogicalExpression(SourceSpan Span, LogicalOperator Operator, Expression Left, Expression Right)
    : Expression(Span);

/// <summary><c>argument |> call</c>: the argument flows into the callee's <c>&lt;-</c> parameter.</summary>
public sealed record PipeExpression(SourceSpan Span, Expression Argument, CallExpression Call) : Expression(Span);

/// <summary>Flux arguments are always named: <c>f(a: 1, b)</c> where <c>b</c> is shorthand for <c>b: b</c>.</summary>
public sealed record CallExpression(SourceSpan Span, Expression Callee, ImmutableArray<Property> Arguments)
    : Expression(Span);

public sealed record MemberExpression(SourceSpan Span, Expression Object, Identifier Property) : Expression(Span);

public sealed record IndexExpression(SourceSpan Span, Expression Object, Expression Index) : Expression(Span);

public sealed record ConditionalExpression(SourceSpan Span, Expression Test, Expression Consequent, Expression Alternate)
    : Expression(Span);

/// <summary><c>(a, b=1, tables=&lt;-) => body</c>; <see cref="Body"/> is a <see cref="Block"/> or an <see cref="Expression"/>.</summary>
public sealed record FunctionExpression(SourceSpan Span, ImmutableArray<Parameter> Parameters, Node Body)
    : Expression(Span);

/// <summary><see cref="IsPipe"/> marks <c>name=&lt;-</c>; then <see cref="Default"/> is null.</summary>
public sealed record Parameter(SourceSpan Span, Identifier Name, Expression? Default, bool IsPipe) : Node(Span);

/// <summary><c>{a: 1, b}</c> or <c>{r with a: 1}</c> (<see cref="With"/> set).</summary>
public sealed record RecordExpression(SourceSpan Span, Identifier? With, ImmutableArray<Property> Properties)
    : Expression(Span);

/// <summary>
/// <see cref="Key"/> is an <see cref="Identifier"/> or a <see cref="StringLiteral"/>;
/// a null <see cref="Value"/> is shorthand for the variable of the key's name.
/// </summary>
public sealed record Property(SourceSpan Span, Expression Key, Expression? Value) : Node(Span);

public sealed record ArrayExpression(SourceSpan Span, ImmutableArray<Expression> Elements) : Expression(Span);

/// <summary><c>["a": 1]</c>; <c>[:]</c> is the empty dictionary.</summary>
public sealed record DictionaryExpression(SourceSpan Span, ImmutableArray<DictionaryItem> Items) : Expression(Span);

public sealed record DictionaryItem(SourceSpan Span, Expression Key, Expression Value) : Node(Span);
