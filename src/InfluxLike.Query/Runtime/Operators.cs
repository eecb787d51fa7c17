using InfluxLike.Query.Ast;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Runtime;

/// <summary>
/// Operator semantics: arithmetic on two values of one numeric kind (an int meeting a float is widened to
/// float), string concatenation, ordered comparisons across numeric kinds, and null in, null out (a filter
/// treats a null result as false).
/// </summary>
public static class Operators
{
    public static Value Unary(UnaryOperator op, Value v, SourceSpan span)
    {
        switch (op)
        {
            case UnaryOperator.Exists:
                return Value.Bool(!v.IsNull);
            case UnaryOperator.Not:
                return v.IsNull ? Value.Null : v.Kind == Kind.Bool ? Value.Bool(!v.AsBool) : throw Bad("not", v.Kind, span);
            case UnaryOperator.Plus:
                return v;
            default:
                return v.Kind switch
                {
                    Kind.Null => v,
                    Kind.Int => Value.Int(checked(-v.AsInt)),
                    Kind.Float => Value.Float(-v.AsFloat),
                    Kind.Duration => Value.Duration(v.AsDuration.Negate()),
                    _ => throw Bad("-", v.Kind, span),
                };
        }
    }

    private static QueryException Bad(string op, Kind kind, SourceSpan span) =>
        new($"operator {op} is not defined for {Value.KindName(kind)}", span);

    private static QueryException Bad(BinaryOperator op, Kind a, Kind b, SourceSpan span) =>
        new($"operator {AstDump.Symbol(op)} is not defined for {Value.KindName(a)} and {Value.KindName(b)}", span);

    public static Value Binary(BinaryOperator op, Value a, Value b, SourceSpan span)
    {
        if (op is BinaryOperator.RegexMatch or BinaryOperator.RegexNotMatch)
        {
            if (a.IsNull || b.IsNull)
            {
                return Value.Null;
            }

            if (a.Kind != Kind.String || b.Kind != Kind.Regex)
            {
                throw Bad(op, a.Kind, b.Kind, span);
            }

            bool m = b.AsRegex.IsMatch(a.AsString);
            return Value.Bool(op == BinaryOperator.RegexMatch ? m : !m);
        }

        if (a.IsNull || b.IsNull)
        {
            return Value.Null;
        }

        switch (op)
        {
            case BinaryOperator.Equal:
            case BinaryOperator.NotEqual:
            {
                bool eq = a.Kind == b.Kind ? a.Equals(b)
                    : Value.IsNumeric(a.Kind) && Value.IsNumeric(b.Kind) ? Value.Compare(a, b) == 0
                    : throw Bad(op, a.Kind, b.Kind, span);
                return Value.Bool(op == BinaryOperator.Equal ? eq : !eq);
            }

            case BinaryOperator.Less:
            case BinaryOperator.LessOrEqual:
            case BinaryOperator.Greater:
            case BinaryOperator.GreaterOrEqual:
            {
                if (a.Kind != b.Kind && !(Value.IsNumeric(a.Kind) && Value.IsNumeric(b.Kind)))
                {
                    throw Bad(op, a.Kind, b.Kind, span);
                }

                if (a.Kind is Kind.Bool or Kind.Record or Kind.Array or Kind.Function)
                {
                    throw Bad(op, a.Kind, b.Kind, span);
                }

                if ((a.Kind == Kind.Float && double.IsNaN(a.AsFloat)) || (b.Kind == Kind.Float && double.IsNaN(b.AsFloat)))
                {
                    return Value.Bool(false);
                }

                int c = Value.Compare(a, b);
                return Value.Bool(op switch
                {
                    BinaryOperator.Less => c < 0,
                    BinaryOperator.LessOrEqual => c <= 0,
                    BinaryOperator.Greater => c > 0,
                    _ => c >= 0,
                });
            }
        }

        if (a.Kind == Kind.String && b.Kind == Kind.String && op == BinaryOperator.Add)
        {
            return Value.String(a.AsString + b.AsString);
        }

        if (a.Kind == Kind.Duration && b.Kind == Kind.Duration && op is BinaryOperator.Add or BinaryOperator.Subtract)
        {
            var x = a.AsDuration;
            var y = op == BinaryOperator.Add ? b.AsDuration : b.AsDuration.Negate();
            return Value.Duration(new FluxDuration(x.Months + y.Months, checked(x.Nanoseconds + y.Nanoseconds)));
        }

        if (a.Kind == b.Kind)
        {
            switch (a.Kind)
            {
                case Kind.Int:
                {
                    long x = a.AsInt, y = b.AsInt;
                    return op switch
                    {
                        BinaryOperator.Add => Value.Int(unchecked(x + y)),
                        BinaryOperator.Subtract => Value.Int(unchecked(x - y)),
                        BinaryOperator.Multiply => Value.Int(unchecked(x * y)),
                        BinaryOperator.Divide => y == 0 ? throw new QueryException("cannot divide by zero", span) : Value.Int(x / y),
                        BinaryOperator.Modulo => y == 0 ? throw new QueryException("cannot divide by zero", span) : Value.Int(x % y),
                        _ => Value.Float(Math.Pow(x, y)),
                    };
                }

                case Kind.UInt:
                {
                    ulong x = a.AsUInt, y = b.AsUInt;
                    return op switch
                    {
                        BinaryOperator.Add => Value.UInt(unchecked(x + y)),
                        BinaryOperator.Subtract => Value.UInt(unchecked(x - y)),
                        BinaryOperator.Multiply => Value.UInt(unchecked(x * y)),
                        BinaryOperator.Divide => y == 0 ? throw new QueryException("cannot divide by zero", span) : Value.UInt(x / y),
                        BinaryOperator.Modulo => y == 0 ? throw new QueryException("cannot divide by zero", span) : Value.UInt(x % y),
                        _ => Value.Float(Math.Pow(x, y)),
                    };
                }

                case Kind.Float:
                    return FloatOp(op, a.AsFloat, b.AsFloat);
            }
        }

        if (Value.IsNumeric(a.Kind) && Value.IsNumeric(b.Kind))
        {
            return FloatOp(op, Value.ToDouble(a), Value.ToDouble(b));
        }

        throw Bad(op, a.Kind, b.Kind, span);
    }

    private static Value FloatOp(BinaryOperator op, double x, double y) => Value.Float(op switch
    {
        BinaryOperator.Add => x + y,
        BinaryOperator.Subtract => x - y,
        BinaryOperator.Multiply => x * y,
        BinaryOperator.Divide => x / y,
        BinaryOperator.Modulo => x % y,
        _ => Math.Pow(x, y),
    });
}
