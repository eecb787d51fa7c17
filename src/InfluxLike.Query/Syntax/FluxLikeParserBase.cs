using System.Runtime.CompilerServices;
using Antlr4.Runtime;

namespace InfluxLike.Query.Syntax.Generated;

/// <summary>
/// Hand-written base of the generated parser (grammar option <c>superClass</c>). Public only because
/// antlr-ng emits public classes; use <see cref="ScriptParser"/>.
/// </summary>
public abstract class FluxLikeParserBase : Parser
{
    /// <summary>
    /// Rule invocations allowed on the stack at once. One level of bracket nesting costs about three
    /// (expression, primary, the bracketed rule), so this is far beyond any real script but well
    /// inside a 1 MiB thread stack.
    /// </summary>
    internal const int MaxRuleDepth = 1500;

    private int _ruleDepth;

    protected FluxLikeParserBase(ITokenStream input, TextWriter output, TextWriter errorOutput)
        : base(input, output, errorOutput)
    {
    }

    public override void EnterRule(ParserRuleContext localctx, int state, int ruleIndex)
    {
        Descend();
        base.EnterRule(localctx, state, ruleIndex);
    }

    public override void EnterRecursionRule(ParserRuleContext localctx, int state, int ruleIndex, int precedence)
    {
        Descend();
        base.EnterRecursionRule(localctx, state, ruleIndex, precedence);
    }

    public override void ExitRule()
    {
        _ruleDepth--;
        base.ExitRule();
    }

    public override void UnrollRecursionContexts(ParserRuleContext parentCtx)
    {
        _ruleDepth--;
        base.UnrollRecursionContexts(parentCtx);
    }

    private void Descend()
    {
        if (++_ruleDepth > MaxRuleDepth || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            // The only exception the parser lets out of the generated code; ScriptParser turns it
            // into a diagnostic at the token where nesting became too deep.
            throw new NestingTooDeepException(CurrentToken);
        }
    }
}

internal sealed class NestingTooDeepException(IToken token) : Exception("nesting too deep")
{
    public IToken Token { get; } = token;
}
