using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Antlr4.Runtime;
using Antlr4.Runtime.Tree;
using InfluxLike.Query.Ast;
using InfluxLike.Query.Diagnostics;
using InfluxLike.Query.Syntax.Generated;
using static InfluxLike.Query.Syntax.Generated.FluxLikeParser;

namespace InfluxLike.Query.Syntax;

/// <summary>
/// Turns a parse tree without syntax errors into the AST. Problems only visible in token text
/// (integer overflow, impossible dates, a pipe into something that is not a call, nesting deeper
/// than <see cref="MaxExpressionDepth"/>) become diagnostics, with a placeholder node so that the
/// walk goes on and reports them all.
/// </summary>
internal sealed class AstBuilder(SourceText source, List<Diagnostic> diagnostics) : FluxLikeParserBaseVisitor<Expression>
{
    /// <summary>
    /// Deepest expression nesting accepted. Chains like a + b + ... or a |> f() |> ... nest without
    /// parser recursion, so the parser's own limit does not bound them; this does, and every
    /// recursive pass over the AST (formatter, checks) may rely on it.
    /// </summary>
    internal const int MaxExpressionDepth = 256;

    private int _depth;
    private bool _depthReported;

    public Ast.Program BuildProgram(ProgramContext context)
    {
        var imports = ImmutableArray.CreateBuilder<ImportDeclaration>();
        foreach (var import in context.importDeclaration())
        {
            imports.Add(new ImportDeclaration(
                Span(import),
                import.alias is null ? null : Identifier(import.alias),
                AsPlainString(import.stringLiteral(), "an import path")));
        }

        var package = context.packageClause()?.IDENTIFIER();
        return new Ast.Program(
            Span(context),
            package is null ? null : Identifier(package.Symbol),
            imports.ToImmutable(),
            Statements(context.statement()));
    }

    private ImmutableArray<Statement> Statements(StatementContext[] statements)
    {
        var result = ImmutableArray.CreateBuilder<Statement>(statements.Length);
        foreach (var statement in statements)
        {
            result.Add(BuildStatement(statement));
        }

        return result.MoveToImmutable();
    }

    private Statement BuildStatement(StatementContext context) => context switch
    {
        OptionStatementContext option => new OptionStatement(Span(option), BuildAssignment(option.assignment())),
        AssignmentStatementContext assignment => BuildAssignment(assignment.assignment()),
        ReturnStatementContext statement => new ReturnStatement(Span(statement), Build(statement.expression())),
        ExpressionStatementContext statement => new ExpressionStatement(Span(statement), Build(statement.expression())),
        _ => throw Unreachable(context),
    };

    private Statement BuildAssignment(AssignmentContext context) => context switch
    {
        VariableAssignmentContext variable => new VariableAssignment(
            Span(variable), Identifier(variable.IDENTIFIER().Symbol), Build(variable.expression())),
        MemberAssignmentContext member => new MemberAssignment(
            Span(member), Identifier(member.target), Identifier(member.member), Build(member.expression())),
        _ => throw Unreachable(context),
    };

    private Expression Build(ParserRuleContext context)
    {
        if (_depth >= MaxExpressionDepth)
        {
            if (!_depthReported)
            {
                _depthReported = true;
                diagnostics.Add(source.Error(
                    DiagnosticCodes.NestingTooDeep,
                    Span(context.Start),
                    $"the expression is nested more than {MaxExpressionDepth} levels deep; split it up with variables"));
            }

            return new Identifier(Span(context), "_");
        }

        _depth++;
        try
        {
            return Visit(context);
        }
        finally
        {
            _depth--;
        }
    }

    public override Expression VisitPrimaryExpression(PrimaryExpressionContext context) => Visit(context.primary());

    public override Expression VisitMemberExpression(MemberExpressionContext context) =>
        new MemberExpression(Span(context), Build(context.expression()), Identifier(context.IDENTIFIER().Symbol));

    public override Expression VisitIndexExpression(IndexExpressionContext context) =>
        new IndexExpression(Span(context), Build(context.expression(0)), Build(context.expression(1)));

    public override Expression VisitCallExpression(CallExpressionContext context) =>
        new CallExpression(Span(context), Build(context.expression()), Properties(context.propertyList()));

    public override Expression VisitUnaryExpression(UnaryExpressionContext context) =>
        new UnaryExpression(
            Span(context),
            context.op.Type == MINUS ? UnaryOperator.Negate : UnaryOperator.Plus,
            Build(context.expression()));

    public override Expression VisitLogicalUnaryExpression(LogicalUnaryExpressionContext context) =>
        new UnaryExpression(
            Span(context),
            context.op.Type == NOT ? UnaryOperator.Not : UnaryOperator.Exists,
            Build(context.expression()));

    public override Expression VisitPipeExpression(PipeExpressionContext context)
    {
        var argument = Build(context.expression(0));
        var right = Build(context.expression(1));
        if (right is CallExpression call)
        {
            return new PipeExpression(Span(context), argument, call);
        }

        // After the depth limit the right side is a placeholder; one error about that is enough.
        if (!_depthReported)
        {
            diagnostics.Add(source.Error(
                DiagnosticCodes.Syntax,
                right.Span,
                "the right side of '|>' must be a function call, like |> mean()"));
        }

        return new PipeExpression(Span(context), argument, new CallExpression(right.Span, right, []));
    }

    public override Expression VisitPowerExpression(PowerExpressionContext context) =>
        Binary(context, BinaryOperator.Power, context.expression(0), context.expression(1));

    public override Expression VisitMultiplicativeExpression(MultiplicativeExpressionContext context) =>
        Binary(
            context,
            context.op.Type switch
            {
                STAR => BinaryOperator.Multiply,
                SLASH => BinaryOperator.Divide,
                _ => BinaryOperator.Modulo,
            },
            context.expression(0),
            context.expression(1));

    public override Expression VisitAdditiveExpression(AdditiveExpressionContext context) =>
        Binary(
            context,
            context.op.Type == PLUS ? BinaryOperator.Add : BinaryOperator.Subtract,
            context.expression(0),
            context.expression(1));

    public override Expression VisitComparisonExpression(ComparisonExpressionContext context) =>
        Binary(
            context,
            context.op.Type switch
            {
                EQ => BinaryOperator.Equal,
                NEQ => BinaryOperator.NotEqual,
                LT => BinaryOperator.Less,
                LTE => BinaryOperator.LessOrEqual,
                GT => BinaryOperator.Greater,
                GTE => BinaryOperator.GreaterOrEqual,
                REGEX_EQ => BinaryOperator.RegexMatch,
                _ => BinaryOperator.RegexNotMatch,
            },
            context.expression(0),
            context.expression(1));

    public override Expression VisitAndExpression(AndExpressionContext context) =>
        new LogicalExpression(Span(context), LogicalOperator.And, Build(context.expression(0)), Build(context.expression(1)));

    public override Expression VisitOrExpression(OrExpressionContext context) =>
        new LogicalExpression(Span(context), LogicalOperator.Or, Build(context.expression(0)), Build(context.expression(1)));

    public override Expression VisitConditionalExpression(ConditionalExpressionContext context) =>
        new ConditionalExpression(
            Span(context), Build(context.expression(0)), Build(context.expression(1)), Build(context.expression(2)));

    public override Expression VisitIdentifier(IdentifierContext context) => Identifier(context.IDENTIFIER().Symbol);

    public override Expression VisitIntegerLiteral(IntegerLiteralContext context)
    {
        var token = context.INTEGER().Symbol;
        if (long.TryParse(token.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return new IntegerLiteral(Span(token), value);
        }

        diagnostics.Add(source.Error(
            DiagnosticCodes.LiteralOutOfRange,
            Span(token),
            $"the integer {token.Text} is too large; integers range up to {long.MaxValue}"));
        return new IntegerLiteral(Span(token), 0);
    }

    public override Expression VisitFloatLiteral(FloatLiteralContext context)
    {
        var token = context.FLOAT().Symbol;
        var value = double.Parse(token.Text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        if (double.IsFinite(value))
        {
            return new FloatLiteral(Span(token), value);
        }

        diagnostics.Add(source.Error(DiagnosticCodes.LiteralOutOfRange, Span(token), $"the number {token.Text} is too large"));
        return new FloatLiteral(Span(token), 0);
    }

    public override Expression VisitBooleanLiteral(BooleanLiteralContext context) =>
        new BooleanLiteral(Span(context), context.TRUE() is not null);

    public override Expression VisitDurationLiteral(DurationLiteralContext context)
    {
        var token = context.DURATION().Symbol;
        if (Literals.TryParseDuration(token.Text, out var parts))
        {
            return new DurationLiteral(Span(token), parts);
        }

        diagnostics.Add(source.Error(
            DiagnosticCodes.LiteralOutOfRange, Span(token), $"a magnitude in the duration {token.Text} is too large"));
        return new DurationLiteral(Span(token), [new DurationPart(0, "s")]);
    }

    public override Expression VisitDateTimeLiteral(DateTimeLiteralContext context)
    {
        var token = context.DATETIME().Symbol;
        if (Literals.TryParseDateTime(token.Text, out var nanoseconds, out var problem))
        {
            return new DateTimeLiteral(Span(token), nanoseconds);
        }

        diagnostics.Add(source.Error(DiagnosticCodes.InvalidLiteral, Span(token), $"{token.Text} is not a valid time: {problem}"));
        return new DateTimeLiteral(Span(token), 0);
    }

    public override Expression VisitRegexLiteral(RegexLiteralContext context)
    {
        var token = context.REGEX().Symbol;
        return new RegexLiteral(Span(token), Literals.UnescapeRegex(token.Text.AsSpan(1, token.Text.Length - 2)));
    }

    public override Expression VisitStringPrimary(StringPrimaryContext context) => BuildString(context.stringLiteral());

    public override Expression VisitFunctionPrimary(FunctionPrimaryContext context)
    {
        var function = context.functionLiteral();
        var parameters = ImmutableArray.CreateBuilder<Parameter>();
        foreach (var parameter in function.parameterList()?.parameter() ?? [])
        {
            var isPipe = parameter.PIPE_RECEIVE() is not null;
            var defaultValue = parameter.expression() is { } expression ? Build(expression) : null;
            parameters.Add(new Parameter(Span(parameter), Identifier(parameter.IDENTIFIER().Symbol), defaultValue, isPipe));
        }

        Node body = function.block() is { } block
            ? new Block(Span(block), Statements(block.statement()))
            : Build(function.expression());
        return new FunctionExpression(Span(context), parameters.ToImmutable(), body);
    }

    // Parentheses only group; the tree shape keeps the grouping, the formatter re-adds them.
    public override Expression VisitParenthesized(ParenthesizedContext context) => Build(context.expression());

    public override Expression VisitRecordPrimary(RecordPrimaryContext context)
    {
        var record = context.record();
        return new RecordExpression(
            Span(context),
            record.with is null ? null : Identifier(record.with),
            Properties(record.propertyList()));
    }

    public override Expression VisitArrayPrimary(ArrayPrimaryContext context)
    {
        var elements = context.array().expression();
        var result = ImmutableArray.CreateBuilder<Expression>(elements.Length);
        foreach (var element in elements)
        {
            result.Add(Build(element));
        }

        return new ArrayExpression(Span(context), result.MoveToImmutable());
    }

    public override Expression VisitDictionaryPrimary(DictionaryPrimaryContext context)
    {
        var items = context.dictionary().dictionaryItem();
        var result = ImmutableArray.CreateBuilder<DictionaryItem>(items.Length);
        foreach (var item in items)
        {
            result.Add(new DictionaryItem(Span(item), Build(item.key), Build(item.value)));
        }

        return new DictionaryExpression(Span(context), result.MoveToImmutable());
    }

    private ImmutableArray<Property> Properties(PropertyListContext? list)
    {
        if (list is null)
        {
            return [];
        }

        var properties = list.property();
        var result = ImmutableArray.CreateBuilder<Property>(properties.Length);
        foreach (var property in properties)
        {
            Expression key = property.IDENTIFIER() is { } name
                ? Identifier(name.Symbol)
                : AsPlainString(property.stringLiteral(), "a property name");
            var value = property.expression() is { } expression ? Build(expression) : null;
            result.Add(new Property(Span(property), key, value));
        }

        return result.MoveToImmutable();
    }

    private Expression BuildString(StringLiteralContext context)
    {
        var parts = ImmutableArray.CreateBuilder<StringPart>();
        var text = new StringBuilder();
        var textStart = -1;
        var textEnd = -1;
        foreach (var part in context.stringPart())
        {
            if (part is StringTextContext literal)
            {
                textStart = textStart < 0 ? literal.Start.StartIndex : textStart;
                textEnd = literal.Stop.StopIndex + 1;
                Literals.UnescapeString(literal.STRING_TEXT().GetText(), text);
                continue;
            }

            FlushText();
            var interpolation = (StringInterpolationContext)part;
            parts.Add(new InterpolatedPart(Span(interpolation), Build(interpolation.expression())));
        }

        FlushText();
        var span = Span(context);
        return parts.Count switch
        {
            0 => new StringLiteral(span, ""),
            1 when parts[0] is TextPart only => new StringLiteral(span, only.Value),
            _ => new StringExpression(span, parts.ToImmutable()),
        };

        void FlushText()
        {
            if (textStart >= 0)
            {
                parts.Add(new TextPart(source.SpanAt(textStart, textEnd - textStart), text.ToString()));
                text.Clear();
                textStart = -1;
            }
        }
    }

    private StringLiteral AsPlainString(StringLiteralContext context, string what)
    {
        var value = BuildString(context);
        if (value is StringLiteral literal)
        {
            return literal;
        }

        diagnostics.Add(source.Error(DiagnosticCodes.Syntax, value.Span, $"{what} cannot contain ${{...}} interpolation"));
        return new StringLiteral(value.Span, "");
    }

    private Identifier Identifier(IToken token) => new(Span(token), token.Text);

    private BinaryExpression Binary(ParserRuleContext context, BinaryOperator op, ExpressionContext left, ExpressionContext right) =>
        new(Span(context), op, Build(left), Build(right));

    private SourceSpan Span(IToken token) => source.SpanAt(token.StartIndex, token.StopIndex - token.StartIndex + 1);

    private SourceSpan Span(ParserRuleContext context)
    {
        var stop = context.Stop ?? context.Start;
        var end = stop.Type == TokenConstants.EOF ? stop.StartIndex : stop.StopIndex + 1;
        return source.SpanAt(context.Start.StartIndex, Math.Max(0, end - context.Start.StartIndex));
    }

    private static InvalidOperationException Unreachable(IParseTree context) =>
        new($"parse tree node {context.GetType().Name} has no AST mapping");
}
