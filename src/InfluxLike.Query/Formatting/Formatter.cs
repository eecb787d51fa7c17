using System.Globalization;
using System.Text;
using InfluxLike.Query.Ast;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Formatting;

/// <summary>
/// Prints an AST as canonical source: one statement per line, pipelines of two or more stages one
/// stage per line, four-space indentation, and parentheses exactly where precedence needs them.
/// <c>ScriptParser.Parse(Format(p))</c> gives back a tree equal to <c>p</c> (spans aside).
/// Recursion is bounded by the parser's depth limits.
/// </summary>
public static class Formatter
{
    private const string Indent = "    ";

    // Binding strength, tighter is higher; mirrors the order of alternatives in FluxLikeParser.g4.
    private const int Lowest = 0;
    private const int Conditional = 3;
    private const int Or = 4;
    private const int And = 5;
    private const int LogicalUnary = 6;
    private const int Comparison = 7;
    private const int Additive = 8;
    private const int Multiplicative = 9;
    private const int Power = 10;
    private const int Pipe = 11;
    private const int Unary = 12;
    private const int Postfix = 13;

    public static string Format(Ast.Program program)
    {
        var text = new StringBuilder();
        if (program.Package is not null)
        {
            text.Append("package ").Append(program.Package.Name).Append("\n\n");
        }

        foreach (var import in program.Imports)
        {
            text.Append("import ");
            if (import.Alias is not null)
            {
                text.Append(import.Alias.Name).Append(' ');
            }

            AppendString(text, import.Path.Value);
            text.Append('\n');
        }

        if (program.Imports.Length > 0 && program.Body.Length > 0)
        {
            text.Append('\n');
        }

        foreach (var statement in program.Body)
        {
            new Printer(text, 0).Statement(statement);
            text.Append('\n');
        }

        return text.ToString();
    }

    /// <summary>One expression in canonical form, e.g. for error messages and the UI.</summary>
    public static string Format(Expression expression)
    {
        var text = new StringBuilder();
        new Printer(text, 0).Expression(expression, Lowest);
        return text.ToString();
    }

    private static int Precedence(Expression expression) => expression switch
    {
        ConditionalExpression or FunctionExpression => Conditional,
        LogicalExpression { Operator: LogicalOperator.Or } => Or,
        LogicalExpression => And,
        UnaryExpression { Operator: UnaryOperator.Not or UnaryOperator.Exists } => LogicalUnary,
        UnaryExpression => Unary,
        BinaryExpression binary => binary.Operator switch
        {
            BinaryOperator.Power => Power,
            BinaryOperator.Multiply or BinaryOperator.Divide or BinaryOperator.Modulo => Multiplicative,
            BinaryOperator.Add or BinaryOperator.Subtract => Additive,
            _ => Comparison,
        },
        PipeExpression => Pipe,
        _ => Postfix,
    };

    private readonly struct Printer(StringBuilder text, int depth)
    {
        public void Statement(Statement statement)
        {
            switch (statement)
            {
                case OptionStatement option:
                    text.Append("option ");
                    Statement(option.Assignment);
                    break;
                case VariableAssignment assignment:
                    text.Append(assignment.Name.Name).Append(" = ");
                    Expression(assignment.Value, Lowest);
                    break;
                case MemberAssignment assignment:
                    text.Append(assignment.Object.Name).Append('.').Append(assignment.Member.Name).Append(" = ");
                    Expression(assignment.Value, Lowest);
                    break;
                case ReturnStatement statementReturn:
                    text.Append("return ");
                    Expression(statementReturn.Argument, Lowest);
                    break;
                case ExpressionStatement expression:
                    Expression(expression.Expression, Lowest);
                    break;
                default:
                    throw new ArgumentException($"cannot format {statement.GetType().Name}", nameof(statement));
            }
        }

        /// <summary>Prints <paramref name="expression"/>, in parentheses if it binds looser than <paramref name="context"/>.</summary>
        public void Expression(Expression expression, int context)
        {
            var parenthesize = Precedence(expression) < context;
            if (parenthesize)
            {
                text.Append('(');
            }

            Bare(expression);
            if (parenthesize)
            {
                text.Append(')');
            }
        }

        private void Bare(Expression expression)
        {
            switch (expression)
            {
                case Identifier identifier:
                    text.Append(identifier.Name);
                    break;
                case IntegerLiteral literal:
                    text.Append(literal.Value.ToString(CultureInfo.InvariantCulture));
                    break;
                case FloatLiteral literal:
                    AppendFloat(text, literal.Value);
                    break;
                case BooleanLiteral literal:
                    text.Append(literal.Value ? "true" : "false");
                    break;
                case StringLiteral literal:
                    AppendString(text, literal.Value);
                    break;
                case StringExpression interpolated:
                    text.Append('"');
                    foreach (var part in interpolated.Parts)
                    {
                        if (part is TextPart textPart)
                        {
                            AppendStringContent(text, textPart.Value);
                        }
                        else
                        {
                            text.Append("${");
                            Expression(((InterpolatedPart)part).Expression, Lowest);
                            text.Append('}');
                        }
                    }

                    text.Append('"');
                    break;
                case RegexLiteral regex:
                    text.Append('/').Append(regex.Pattern.Replace("/", "\\/", StringComparison.Ordinal)).Append('/');
                    break;
                case DurationLiteral duration:
                    foreach (var part in duration.Parts)
                    {
                        text.Append(part.Magnitude.ToString(CultureInfo.InvariantCulture)).Append(part.Unit);
                    }

                    break;
                case DateTimeLiteral time:
                    AppendTime(text, time.UnixNanoseconds);
                    break;
                case UnaryExpression unary:
                    text.Append(unary.Operator switch
                    {
                        UnaryOperator.Negate => "-",
                        UnaryOperator.Plus => "+",
                        UnaryOperator.Not => "not ",
                        _ => "exists ",
                    });
                    Expression(unary.Operand, Precedence(unary));
                    break;
                case BinaryExpression binary:
                    Infix(binary, AstDump.Symbol(binary.Operator), binary.Left, binary.Right);
                    break;
                case LogicalExpression logical:
                    Infix(logical, logical.Operator == LogicalOperator.And ? "and" : "or", logical.Left, logical.Right);
                    break;
                case PipeExpression pipe:
                    Pipeline(pipe);
                    break;
                case CallExpression call:
                    Expression(call.Callee, Postfix);
                    text.Append('(');
                    Properties(call.Arguments);
                    text.Append(')');
                    break;
                case MemberExpression member:
                    Expression(member.Object, Postfix);
                    text.Append('.').Append(member.Property.Name);
                    break;
                case IndexExpression index:
                    Expression(index.Object, Postfix);
                    text.Append('[');
                    Expression(index.Index, Lowest);
                    text.Append(']');
                    break;
                case ConditionalExpression conditional:
                    text.Append("if ");
                    Expression(conditional.Test, Lowest);
                    text.Append(" then ");
                    Expression(conditional.Consequent, Lowest);
                    text.Append(" else ");
                    Expression(conditional.Alternate, Lowest);
                    break;
                case FunctionExpression function:
                    Function(function);
                    break;
                case RecordExpression record:
                    text.Append('{');
                    if (record.With is not null)
                    {
                        text.Append(record.With.Name).Append(" with ");
                    }

                    Properties(record.Properties);
                    text.Append('}');
                    break;
                case ArrayExpression array:
                    text.Append('[');
                    for (var i = 0; i < array.Elements.Length; i++)
                    {
                        text.Append(i == 0 ? "" : ", ");
                        Expression(array.Elements[i], Lowest);
                    }

                    text.Append(']');
                    break;
                case DictionaryExpression dictionary:
                    text.Append('[');
                    if (dictionary.Items.Length == 0)
                    {
                        text.Append(':');
                    }

                    for (var i = 0; i < dictionary.Items.Length; i++)
                    {
                        text.Append(i == 0 ? "" : ", ");
                        Expression(dictionary.Items[i].Key, Lowest);
                        text.Append(": ");
                        Expression(dictionary.Items[i].Value, Lowest);
                    }

                    text.Append(']');
                    break;
                default:
                    throw new ArgumentException($"cannot format {expression.GetType().Name}", nameof(expression));
            }
        }

        // Left-associative: the left operand may share the operator's level, the right may not.
        private void Infix(Expression node, string symbol, Expression left, Expression right)
        {
            var level = Precedence(node);
            Expression(left, level);
            text.Append(' ').Append(symbol).Append(' ');
            Expression(right, level + 1);
        }

        /// <summary>One stage per line for two or more stages, as Flux users write them.</summary>
        private void Pipeline(PipeExpression pipe)
        {
            var stages = new List<CallExpression>();
            Expression source = pipe;
            while (source is PipeExpression inner)
            {
                stages.Add(inner.Call);
                source = inner.Argument;
            }

            Expression(source, Pipe);
            var nested = new Printer(text, depth + 1);
            for (var i = stages.Count - 1; i >= 0; i--)
            {
                if (stages.Count > 1)
                {
                    text.Append('\n');
                    nested.AppendIndent();
                }
                else
                {
                    text.Append(' ');
                }

                text.Append("|> ");
                nested.Expression(stages[i], Postfix);
            }
        }

        private void Function(FunctionExpression function)
        {
            text.Append('(');
            for (var i = 0; i < function.Parameters.Length; i++)
            {
                var parameter = function.Parameters[i];
                text.Append(i == 0 ? "" : ", ").Append(parameter.Name.Name);
                if (parameter.IsPipe)
                {
                    text.Append("=<-");
                }
                else if (parameter.Default is not null)
                {
                    text.Append('=');
                    Expression(parameter.Default, Lowest);
                }
            }

            text.Append(") => ");
            switch (function.Body)
            {
                case Block block:
                    text.Append("{\n");
                    var inner = new Printer(text, depth + 1);
                    foreach (var statement in block.Body)
                    {
                        inner.AppendIndent();
                        inner.Statement(statement);
                        text.Append('\n');
                    }

                    AppendIndent();
                    text.Append('}');
                    break;
                case RecordExpression record:
                    // "=> {" would open a block.
                    text.Append('(');
                    Expression(record, Lowest);
                    text.Append(')');
                    break;
                case Expression body:
                    Expression(body, Lowest);
                    break;
            }
        }

        private void Properties(IReadOnlyList<Property> properties)
        {
            for (var i = 0; i < properties.Count; i++)
            {
                text.Append(i == 0 ? "" : ", ");
                if (properties[i].Key is StringLiteral key)
                {
                    AppendString(text, key.Value);
                }
                else
                {
                    text.Append(((Identifier)properties[i].Key).Name);
                }

                if (properties[i].Value is { } value)
                {
                    text.Append(": ");
                    Expression(value, Lowest);
                }
            }
        }

        private void AppendIndent()
        {
            for (var i = 0; i < depth; i++)
            {
                text.Append(Indent);
            }
        }
    }

    private static void AppendString(StringBuilder text, string value)
    {
        text.Append('"');
        AppendStringContent(text, value);
        text.Append('"');
    }

    private static void AppendStringContent(StringBuilder text, string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            _ = c switch
            {
                '"' => text.Append("\\\""),
                '\\' => text.Append("\\\\"),
                '\n' => text.Append("\\n"),
                '\r' => text.Append("\\r"),
                '\t' => text.Append("\\t"),
                // Only "${" would start an interpolation; a lone '$' stays as it is.
                '$' when i + 1 < value.Length && value[i + 1] == '{' => text.Append("\\$"),
                _ => text.Append(c),
            };
        }
    }

    /// <summary>Shortest round-trip digits, always with a '.', never an exponent (the grammar has none).</summary>
    private static void AppendFloat(StringBuilder text, double value)
    {
        var digits = Formats.Float(value);
        text.Append(digits);
        if (!digits.Contains('.', StringComparison.Ordinal))
        {
            text.Append(".0");
        }
    }

    /// <summary>RFC 3339 in UTC with the fraction's trailing zeros dropped: 2018-12-01T00:00:00.5Z.</summary>
    private static void AppendTime(StringBuilder text, long unixNanoseconds)
    {
        var seconds = Math.DivRem(unixNanoseconds, 1_000_000_000L, out var nanos);
        if (nanos < 0)
        {
            seconds--;
            nanos += 1_000_000_000L;
        }

        var time = DateTime.UnixEpoch.AddSeconds(seconds);
        text.Append(time.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture));
        if (nanos != 0)
        {
            text.Append('.').Append(nanos.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0'));
        }

        text.Append('Z');
    }
}
