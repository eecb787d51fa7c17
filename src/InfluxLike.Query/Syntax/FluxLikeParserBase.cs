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
    /// Rule invocations allowed on the stack at once, plus the links of left-recursive chains
    /// (<c>a |> b |> c</c>, <c>1 + 2 + 3</c>) open in them. One level of bracket nesting costs about
    /// three (expression, primary, the bracketed rule), so this is far beyond any real script but
    /// well inside a 1 MiB thread stack.
    /// </summary>
    internal const int MaxRuleDepth = 1500;

    private int _ruleDepth;

    // Left-recursive chains are parsed in a loop, not by recursion, but each link nests the tree one
    // level deeper, and the AST builder walks it recursively. Counting the links here stops a chain
    // of 100,000 pipes after 1,500 instead of parsing all of it and then refusing it.
    private int _chainLinks;
    private int _chainLinksInRule;
    private readonly Stack<int> _outerChainLinks = new();

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
        _outerChainLinks.Push(_chainLinksInRule);
        _chainLinksInRule = 0;
        base.EnterRecursionRule(localctx, state, ruleIndex, precedence);
    }

    public override void PushNewRecursionContext(ParserRuleContext localctx, int state, int ruleIndex)
    {
        _chainLinksInRule++;
        if (++_chainLinks + _ruleDepth > MaxRuleDepth)
        {
            throw new NestingTooDeepException(CurrentToken);
        }

        base.PushNewRecursionContext(localctx, state, ruleIndex);
    }

    public override void ExitRule()
    {
        _ruleDepth--;
        base.ExitRule();
    }

    public override void UnrollRecursionContexts(ParserRuleContext parentCtx)
    {
        _ruleDepth--;
        _chainLinks -= _chainLinksInRule;
        _chainLinksInRule = _outerChainLinks.TryPop(out int outer) ? outer : 0;
        base.UnrollRecursionContexts(parentCtx);
    }

    private void Descend()
    {
        if (++_ruleDepth + _chainLinks > MaxRuleDepth || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
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
