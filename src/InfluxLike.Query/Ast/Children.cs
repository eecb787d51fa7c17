namespace InfluxLike.Query.Ast;

/// <summary>
/// The direct sub-expressions of an expression, in source order, for passes that only need to
/// visit everything below a node they have no special rule for.
/// </summary>
internal static class Children
{
    public static IEnumerable<Expression> Of(Expression expression)
    {
        switch (expression)
        {
            case StringExpression interpolated:
                foreach (var part in interpolated.Parts)
                {
                    if (part is InterpolatedPart inner)
                    {
                        yield return inner.Expression;
                    }
                }

                break;
            case UnaryExpression unary:
                yield return unary.Operand;
                break;
            case BinaryExpression binary:
                yield return binary.Left;
                yield return binary.Right;
                break;
            case LogicalExpression logical:
                yield return logical.Left;
                yield return logical.Right;
                break;
            case IndexExpression index:
                yield return index.Object;
                yield return index.Index;
                break;
            case ConditionalExpression conditional:
                yield return conditional.Test;
                yield return conditional.Consequent;
                yield return conditional.Alternate;
                break;
            case ArrayExpression array:
                foreach (var element in array.Elements)
                {
                    yield return element;
                }

                break;
            case DictionaryExpression dictionary:
                foreach (var item in dictionary.Items)
                {
                    yield return item.Key;
                    yield return item.Value;
                }

                break;
        }
    }
}
