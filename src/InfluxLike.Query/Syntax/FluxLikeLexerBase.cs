using Antlr4.Runtime;

namespace InfluxLike.Query.Syntax.Generated;

/// <summary>
/// Hand-written base of the generated lexer (grammar option <c>superClass</c>). Public only because
/// antlr-ng emits public classes; use <see cref="ScriptParser"/>.
/// </summary>
public abstract class FluxLikeLexerBase : Lexer
{
    // Type of the last token on the default channel; 0 before the first one.
    private int _previousTokenType;

    protected FluxLikeLexerBase(ICharStream input, TextWriter output, TextWriter errorOutput)
        : base(input, output, errorOutput)
    {
    }

    public override IToken NextToken()
    {
        var token = base.NextToken();
        if (token.Channel == TokenConstants.DefaultChannel)
        {
            _previousTokenType = token.Type;
        }

        return token;
    }

    /// <summary>
    /// An unbalanced '}' at top level would pop an empty mode stack and throw inside the runtime;
    /// stay in the current mode instead and let the parser report the stray brace.
    /// </summary>
    public override int PopMode() => ModeStack.Count == 0 ? CurrentMode : base.PopMode();

    /// <summary>
    /// A '/' begins a regex literal only where an operand may start: not after an identifier,
    /// literal or closing bracket, where it is division (Flux's scanner makes the same choice).
    /// </summary>
    protected bool RegexAllowed() => _previousTokenType switch
    {
        FluxLikeLexer.IDENTIFIER or FluxLikeLexer.INTEGER or FluxLikeLexer.FLOAT or FluxLikeLexer.DURATION
            or FluxLikeLexer.DATETIME or FluxLikeLexer.TRUE or FluxLikeLexer.FALSE or FluxLikeLexer.REGEX
            or FluxLikeLexer.STRING_END or FluxLikeLexer.RPAREN or FluxLikeLexer.RBRACK
            or FluxLikeLexer.RBRACE => false,
        _ => true,
    };
}
