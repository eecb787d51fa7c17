using Antlr4.Runtime;
using Antlr4.Runtime.Atn;
using Antlr4.Runtime.Misc;
using InfluxLike.Query.Diagnostics;
using InfluxLike.Query.Syntax.Generated;

namespace InfluxLike.Query.Syntax;

/// <summary>
/// Collects lexer and parser errors as diagnostics with plain-words messages. ANTLR's own messages
/// ("mismatched input ... expecting {...}") list token names; ours say what was found and what was
/// expected in words, summarising the expected set.
/// </summary>
internal sealed class SyntaxErrors(SourceText source, List<Diagnostic> diagnostics) : BaseErrorListener, IAntlrErrorListener<int>
{
    /// <summary>More errors than this and the rest are noise from recovery; stop parsing.</summary>
    internal const int MaxErrors = 20;

    public void SyntaxError(TextWriter output, IRecognizer recognizer, int offendingSymbol, int line, int charPositionInLine, string msg, RecognitionException e)
    {
        // Only a trailing backslash at the very end of a string reaches here (every other character
        // has a token), so the lexer's own message is not worth showing.
        var lexer = (Lexer)recognizer;
        Add(source.SpanAt(lexer.TokenStartCharIndex, Math.Max(1, lexer.InputStream.Index - lexer.TokenStartCharIndex)), "the string ends with a lone '\\'; write '\\\\' for a backslash");
    }

    public override void SyntaxError(TextWriter output, IRecognizer recognizer, IToken offendingSymbol, int line, int charPositionInLine, string msg, RecognitionException e)
    {
        var span = offendingSymbol.Type == TokenConstants.EOF
            ? source.SpanAt(offendingSymbol.StartIndex, 0)
            : source.SpanAt(offendingSymbol.StartIndex, offendingSymbol.StopIndex - offendingSymbol.StartIndex + 1);
        Add(span, msg);
    }

    private void Add(Ast.SourceSpan span, string message)
    {
        // After an error, recovery guesses (a missing '}' in "{a: 1 b: 2}") and the rest of the line
        // often fails again only because of the guess: keep the first error of each line.
        if (diagnostics.Count > 0 && diagnostics[^1].Span.Line == span.Line)
        {
            return;
        }

        if (diagnostics.Count >= MaxErrors)
        {
            diagnostics.Add(source.Error(DiagnosticCodes.TooManyErrors, span, $"more than {MaxErrors} errors; stopped here"));
            throw new TooManyErrorsException();
        }

        diagnostics.Add(source.Error(DiagnosticCodes.Syntax, span, message));
    }
}

internal sealed class TooManyErrorsException() : Exception("too many syntax errors");

/// <summary>
/// Error messages in words, and recovery by statement: after an error the parser skips to the next
/// line that starts like a statement (a name, <c>option</c>, <c>import</c>, <c>return</c>) and goes
/// on from there, so each broken statement gives one error and later statements are still checked.
/// ANTLR's default follow-set recovery stops at the next ')' or name instead and then reports
/// confusing follow-on errors, because Flux has no statement separator to resynchronise on.
/// Single-token insertion and deletion (a forgotten ')') stay as ANTLR does them.
/// </summary>
internal sealed class SyntaxErrorStrategy : DefaultErrorStrategy
{
    private int _recoveryIndex = -1;
    private readonly HashSet<int> _recoveryStates = [];

    public override void Recover(Parser recognizer, RecognitionException e)
    {
        var tokens = (ITokenStream)recognizer.InputStream;
        if (tokens.Index != _recoveryIndex)
        {
            _recoveryIndex = tokens.Index;
            _recoveryStates.Clear();
        }

        // Unwinding rules recover again at the same token; only the same state twice means no
        // progress (a statement failing at its own first token), and then a token must go.
        var stuck = !_recoveryStates.Add(recognizer.State);
        if (stuck || !AtStatementStart(tokens))
        {
            do
            {
                recognizer.Consume();
            }
            while (tokens.LA(1) != TokenConstants.EOF && !AtStatementStart(tokens));
        }
    }

    /// <summary>
    /// At the end of a loop iteration, a token that can neither continue nor end the loop is
    /// reported and skipped up to the next statement, like <see cref="Recover"/> does; ANTLR would
    /// skip only up to the loop's follow set. Everything else is as ANTLR does it.
    /// </summary>
    public override void Sync(Parser recognizer)
    {
        var state = recognizer.Interpreter.atn.states[recognizer.State];
        if (InErrorRecoveryMode(recognizer)
            || state.StateType is not (StateType.StarLoopBack or StateType.PlusLoopBack))
        {
            base.Sync(recognizer);
            return;
        }

        var tokens = (ITokenStream)recognizer.InputStream;
        var next = recognizer.Atn.NextTokens(state);
        if (next.Contains(tokens.LA(1)) || next.Contains(TokenConstants.EPSILON))
        {
            base.Sync(recognizer);
            return;
        }

        ReportUnwantedToken(recognizer);
        while (tokens.LA(1) != TokenConstants.EOF && !AtStatementStart(tokens))
        {
            recognizer.Consume();
        }
    }

    /// <summary>
    /// ANTLR drops a stray token when the one after it fits; never drop one to reach the next
    /// line's statement: in "f(x: )" + newline + "d = 1" that would turn d into the argument.
    /// </summary>
    protected override IToken? SingleTokenDeletion(Parser recognizer) =>
        AtStatementStart((ITokenStream)recognizer.InputStream, 2) ? null : base.SingleTokenDeletion(recognizer);

    private static bool AtStatementStart(ITokenStream tokens, int lookahead = 1)
    {
        var token = tokens.LT(lookahead);
        if (token.Type is not (FluxLikeLexer.IDENTIFIER or FluxLikeLexer.OPTION or FluxLikeLexer.IMPORT or FluxLikeLexer.RETURN))
        {
            return token.Type == TokenConstants.EOF;
        }

        var previous = tokens.LT(lookahead == 1 ? -1 : lookahead - 1);
        return previous is null || previous.Line < token.Line;
    }

    protected override void ReportNoViableAlternative(Parser recognizer, NoViableAltException e) =>
        Report(recognizer, e.OffendingToken, e, ExpectedAtDeadEnd(recognizer, e));

    /// <summary>
    /// A decision like "parenthesised expression or function literal" predicts over many tokens and
    /// fails at the token no alternative accepts; ANTLR's expected set describes the decision's first
    /// token instead. The tokens the surviving ATN configurations could take next are what the user
    /// needed to write at the failing token.
    /// </summary>
    private static IntervalSet? ExpectedAtDeadEnd(Parser recognizer, NoViableAltException e)
    {
        if (e.StartToken.TokenIndex == e.OffendingToken.TokenIndex || e.DeadEndConfigs is null)
        {
            return e.GetExpectedTokens();
        }

        var expected = new IntervalSet();
        foreach (var config in e.DeadEndConfigs.configs)
        {
            expected.AddAll(recognizer.Atn.NextTokens(config.state));
        }

        // Epsilon means "whatever follows the rule", which this set cannot name: say nothing then.
        return expected.Contains(TokenConstants.EPSILON) ? null : expected;
    }

    protected override void ReportInputMismatch(Parser recognizer, InputMismatchException e) =>
        Report(recognizer, e.OffendingToken, e, e.GetExpectedTokens());

    protected override void ReportFailedPredicate(Parser recognizer, FailedPredicateException e) =>
        Report(recognizer, e.OffendingToken, e, null);

    protected override void ReportUnwantedToken(Parser recognizer)
    {
        if (InErrorRecoveryMode(recognizer))
        {
            return;
        }

        BeginErrorCondition(recognizer);
        Report(recognizer, recognizer.CurrentToken, null, GetExpectedTokens(recognizer));
    }

    protected override void ReportMissingToken(Parser recognizer)
    {
        if (InErrorRecoveryMode(recognizer))
        {
            return;
        }

        BeginErrorCondition(recognizer);
        var token = recognizer.CurrentToken;
        recognizer.NotifyErrorListeners(token, $"expected {Describe(GetExpectedTokens(recognizer))} before {TokenText(token)}", null);
    }

    /// <summary>"expected X, found Y" when the expected set reads short, else "Y is not expected here".</summary>
    private static void Report(Parser recognizer, IToken offending, RecognitionException? e, IntervalSet? expected)
    {
        var found = TokenText(offending);
        var words = expected is null ? [] : ExpectedWords(expected);
        var message = words.Count is > 0 and <= 3
            ? $"expected {Join(words)}, found {found}"
            : $"{found} is not expected here";
        recognizer.NotifyErrorListeners(offending, message, e);
    }

    internal static string TokenText(IToken token) => token.Type switch
    {
        TokenConstants.EOF => "the end of the script",
        FluxLikeLexer.IDENTIFIER => $"the name '{token.Text}'",
        FluxLikeLexer.UNKNOWN_CHARACTER => $"the character '{token.Text}'",
        FluxLikeLexer.STRING_END => "the end of the string",
        _ => $"'{Shorten(token.Text)}'",
    };

    private static string Shorten(string text) => text.Length > 20 ? text[..17] + "..." : text;

    /// <summary>
    /// Names the expected set the way a person would: every token that can begin an expression
    /// becomes "an expression", every binary operator "an operator", then the punctuation left over.
    /// </summary>
    internal static string Describe(IntervalSet expected) => Join(ExpectedWords(expected));

    private static string Join(List<string> words) => words.Count switch
    {
        0 => "something else",
        1 => words[0],
        _ => string.Join(", ", words[..^1]) + " or " + words[^1],
    };

    private static List<string> ExpectedWords(IntervalSet expected)
    {
        var words = new List<string>();
        var tokens = new List<int>(expected.ToList());
        if (tokens.Contains(FluxLikeLexer.INTEGER) && tokens.Contains(FluxLikeLexer.LPAREN))
        {
            words.Add("an expression");
            tokens.RemoveAll(ExpressionStarts.Contains);
        }
        else if (tokens.Remove(FluxLikeLexer.IDENTIFIER))
        {
            words.Add("a name");
        }

        if (tokens.Count(Operators.Contains) > 3)
        {
            words.Add("an operator");
            tokens.RemoveAll(Operators.Contains);
        }

        if (tokens.Remove(FluxLikeLexer.QUOTE))
        {
            words.Add("a string");
        }

        // Inside a string only the closing quote is worth naming.
        if (tokens.Remove(FluxLikeLexer.STRING_END))
        {
            tokens.Remove(FluxLikeLexer.STRING_TEXT);
            tokens.Remove(FluxLikeLexer.INTERP_START);
            words.Add("'\"' to close the string");
        }

        foreach (var type in tokens)
        {
            words.Add(type == TokenConstants.EOF
                ? "the end of the script"
                : FluxLikeLexer.DefaultVocabulary.GetLiteralName(type) ?? FluxLikeLexer.DefaultVocabulary.GetSymbolicName(type).ToLowerInvariant());
        }

        return words;
    }

    private static readonly HashSet<int> ExpressionStarts =
    [
        FluxLikeLexer.IDENTIFIER, FluxLikeLexer.INTEGER, FluxLikeLexer.FLOAT, FluxLikeLexer.DURATION, FluxLikeLexer.DATETIME,
        FluxLikeLexer.TRUE, FluxLikeLexer.FALSE, FluxLikeLexer.REGEX, FluxLikeLexer.QUOTE, FluxLikeLexer.LPAREN,
        FluxLikeLexer.LBRACK, FluxLikeLexer.LBRACE, FluxLikeLexer.PLUS, FluxLikeLexer.MINUS, FluxLikeLexer.NOT,
        FluxLikeLexer.EXISTS, FluxLikeLexer.IF,
    ];

    private static readonly HashSet<int> Operators =
    [
        FluxLikeLexer.DOT, FluxLikeLexer.LBRACK, FluxLikeLexer.LPAREN, FluxLikeLexer.PIPE_FORWARD, FluxLikeLexer.CARET,
        FluxLikeLexer.STAR, FluxLikeLexer.SLASH, FluxLikeLexer.PERCENT, FluxLikeLexer.PLUS, FluxLikeLexer.MINUS,
        FluxLikeLexer.EQ, FluxLikeLexer.NEQ, FluxLikeLexer.LT, FluxLikeLexer.LTE, FluxLikeLexer.GT, FluxLikeLexer.GTE,
        FluxLikeLexer.REGEX_EQ, FluxLikeLexer.REGEX_NEQ, FluxLikeLexer.AND, FluxLikeLexer.OR,
    ];
}
