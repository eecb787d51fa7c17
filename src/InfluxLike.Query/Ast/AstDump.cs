using System.Globalization;
using System.Text;

namespace InfluxLike.Query.Ast;

/// <summary>
/// One-line S-expression of a tree, without spans: what golden tests compare, and how two trees
/// are compared for equality (records hold ImmutableArray, whose equality is by reference).
/// </summary>
public static class AstDump
{
    public static string Write(Node node)
    {
        var text = new StringBuilder();
        Append(text, node);
        return text.ToString();
    }

    private static void Append(StringBuilder text, Node? node)
    {
        switch (node)
        {
            case null:
                text.Append("_");
                break;
            case Program program:
                text.Append("(program");
                if (program.Package is not null)
                {
                    text.Append(" (package ").Append(program.Package.Name).Append(')');
                }

                All(text, program.Imports);
                All(text, program.Body);
                text.Append(')');
                break;
            case ImportDeclaration import:
                text.Append("(import ");
                if (import.Alias is not null)
                {
                    text.Append(import.Alias.Name).Append(' ');
                }

                Append(text, import.Path);
                text.Append(')');
                break;
            case VariableAssignment assignment:
                Open(text, "=", assignment.Name, assignment.Value);
                break;
            case MemberAssignment assignment:
                text.Append("(= ").Append(assignment.Object.Name).Append('.').Append(assignment.Member.Name).Append(' ');
                Append(text, assignment.Value);
                text.Append(')');
                break;
            case OptionStatement option:
                Open(text, "option", option.Assignment);
                break;
            case ReturnStatement statement:
                Open(text, "return", statement.Argument);
                break;
            case ExpressionStatement statement:
                Append(text, statement.Expression);
                break;
            case Block block:
                text.Append("(block");
                All(text, block.Body);
                text.Append(')');
                break;
            case Identifier identifier:
                text.Append(identifier.Name);
                break;
            case IntegerLiteral literal:
                text.Append(literal.Value.ToString(CultureInfo.InvariantCulture));
                break;
            case FloatLiteral literal:
                text.Append(literal.Value.ToString("R", CultureInfo.InvariantCulture)).Append('f');
                break;
            case BooleanLiteral literal:
                text.Append(literal.Value ? "true" : "false");
                break;
            case StringLiteral literal:
                Quote(text, literal.Value);
                break;
            case StringExpression expression:
                text.Append("(string");
                All(text, expression.Parts);
                text.Append(')');
                break;
            case TextPart part:
                Quote(text, part.Value);
                break;
            case InterpolatedPart part:
                Open(text, "${}", part.Expression);
                break;
            case RegexLiteral regex:
                text.Append('/').Append(regex.Pattern).Append('/');
                break;
            case DurationLiteral duration:
                text.Append("(duration");
                foreach (var part in duration.Parts)
                {
                    text.Append(' ').Append(part.Magnitude.ToString(CultureInfo.InvariantCulture)).Append(part.Unit);
                }

                text.Append(')');
                break;
            case DateTimeLiteral time:
                text.Append("(time ").Append(time.UnixNanoseconds.ToString(CultureInfo.InvariantCulture)).Append(')');
                break;
            case UnaryExpression unary:
                Open(text, unary.Operator.ToString().ToLowerInvariant(), unary.Operand);
                break;
            case BinaryExpression binary:
                Open(text, Symbol(binary.Operator), binary.Left, binary.Right);
                break;
            case LogicalExpression logical:
                Open(text, logical.Operator == LogicalOperator.And ? "and" : "or", logical.Left, logical.Right);
                break;
            case PipeExpression pipe:
                Open(text, "|>", pipe.Argument, pipe.Call);
                break;
            case CallExpression call:
                text.Append("(call ");
                Append(text, call.Callee);
                All(text, call.Arguments);
                text.Append(')');
                break;
            case MemberExpression member:
                Open(text, ".", member.Object, member.Property);
                break;
            case IndexExpression index:
                Open(text, "[]", index.Object, index.Index);
                break;
            case ConditionalExpression conditional:
                Open(text, "if", conditional.Test, conditional.Consequent, conditional.Alternate);
                break;
            case FunctionExpression function:
                text.Append("(fn (");
                for (var i = 0; i < function.Parameters.Length; i++)
                {
                    text.Append(i == 0 ? "" : " ");
                    Append(text, function.Parameters[i]);
                }

                text.Append(") ");
                Append(text, function.Body);
                text.Append(')');
                break;
            case Parameter parameter:
                text.Append(parameter.Name.Name);
                if (parameter.IsPipe)
                {
                    text.Append("=<-");
                }
                else if (parameter.Default is not null)
                {
                    text.Append('=');
                    Append(text, parameter.Default);
                }

                break;
            case RecordExpression record:
                text.Append("(record");
                if (record.With is not null)
                {
                    text.Append(' ').Append(record.With.Name).Append(" with");
                }

                All(text, record.Properties);
                text.Append(')');
                break;
            case Property property:
                Append(text, property.Key);
                if (property.Value is not null)
                {
                    text.Append(':');
                    Append(text, property.Value);
                }

                break;
            case ArrayExpression array:
                text.Append("(array");
                All(text, array.Elements);
                text.Append(')');
                break;
            case DictionaryExpression dictionary:
                text.Append("(dict");
                All(text, dictionary.Items);
                text.Append(')');
                break;
            case DictionaryItem item:
                Append(text, item.Key);
                text.Append(':');
                Append(text, item.Value);
                break;
            default:
                throw new ArgumentException($"no dump for {node.GetType().Name}", nameof(node));
        }
    }

    private static void Open(StringBuilder text, string head, params Node[] children)
    {
        text.Append('(').Append(head);
        All(text, children);
        text.Append(')');
    }

    private static void All<T>(StringBuilder text, IEnumerable<T> nodes)
        where T : Node
    {
        foreach (var node in nodes)
        {
            text.Append(' ');
            Append(text, node);
        }
    }

    private static void Quote(StringBuilder text, string value) =>
        text.Append('"').Append(value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('"');

    internal static string Symbol(BinaryOperator op) => op switch
    {
        BinaryOperator.Power => "^",
        BinaryOperator.Multiply => "*",
        BinaryOperator.Divide => "/",
        BinaryOperator.Modulo => "%",
        BinaryOperator.Add => "+",
        BinaryOperator.Subtract => "-",
        BinaryOperator.Equal => "==",
        BinaryOperator.NotEqual => "!=",
        BinaryOperator.Less => "<",
        BinaryOperator.LessOrEqual => "<=",
        BinaryOperator.Greater => ">",
        BinaryOperator.GreaterOrEqual => ">=",
        BinaryOperator.RegexMatch => "=~",
        _ => "!~",
    };
}
