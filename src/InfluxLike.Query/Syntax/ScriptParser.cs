using Antlr4.Runtime;
using Antlr4.Runtime.Atn;
using Antlr4.Runtime.Misc;
using InfluxLike.Query.Diagnostics;
using InfluxLike.Query.Syntax.Generated;

namespace InfluxLike.Query.Syntax;

/// <summary>
/// The result of parsing. <see cref="Ast"/> is set exactly when <see cref="Diagnostics"/> holds no
/// error: a tree rebuilt from ANTLR's error recovery would contain guesses, so later passes never
/// see one.
/// </summary>
public sealed record ParseResult(Ast.Program? Ast, IReadOnlyList<Diagnostic> Diagnostics)
{
    public bool Succeeded => Ast is not null;
}

/// <summary>
/// Entry point of the query front end: source text to AST plus diagnostics. Safe to call from many
/// threads: the only shared state is ANTLR's prediction (DFA) cache, which the runtime locks.
/// </summary>
public static class ScriptParser
{
    /// <summary>Longest script accepted, in characters; a 50-line script is about 2 KB.</summary>
    public const int MaxScriptLength = 1 << 20;

    /// <summary>Deepest nesting of brackets, braces and interpolations accepted.</summary>
    public const int MaxBracketDepth = 128;

    public static ParseResult Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var text = new SourceText(source);
        var diagnostics = new List<Diagnostic>();
        if (source.Length > MaxScriptLength)
        {
            diagnostics.Add(text.Error(
                DiagnosticCodes.ScriptTooLarge,
                text.SpanAt(MaxScriptLength, 0),
                $"the script is {source.Length} characters long; the limit is {MaxScriptLength}"));
            return new ParseResult(null, diagnostics);
        }

        var errors = new SyntaxErrors(text, diagnostics);
        // AntlrInputStream indexes UTF-16 code units, so token offsets are string indexes.
        var lexer = new FluxLikeLexer(new AntlrInputStream(source));
        lexer.RemoveErrorListeners();
        lexer.AddErrorListener(errors);
        var tokens = new CommonTokenStream(lexer);
        try
        {
            tokens.Fill();
        }
        catch (TooManyErrorsException)
        {
            return new ParseResult(null, diagnostics);
        }

        if (CheckBracketDepth(tokens, text, diagnostics))
        {
            try
            {
                var tree = ParseTree(tokens, errors);
                if (diagnostics.Count == 0)
                {
                    var ast = new AstBuilder(text, diagnostics).BuildProgram(tree);
                    return new ParseResult(diagnostics.Count == 0 ? ast : null, diagnostics);
                }
            }
            catch (TooManyErrorsException)
            {
            }
            catch (NestingTooDeepException e)
            {
                diagnostics.Add(text.Error(DiagnosticCodes.NestingTooDeep, text.SpanAt(e.Token.StartIndex, 1), "the script is nested too deeply here; split it up with variables"));
            }
        }

        return new ParseResult(null, diagnostics);
    }

    /// <summary>
    /// Two-stage parsing, as ANTLR's authors recommend: SLL prediction is much faster than full LL
    /// and gives the same tree for every valid script of this grammar, but may fail on a valid one;
    /// it stops at the first error, and then the script is parsed again with full LL and our
    /// recovering error strategy, which also produces the diagnostics.
    /// </summary>
    private static FluxLikeParser.ProgramContext ParseTree(CommonTokenStream tokens, SyntaxErrors errors)
    {
        var parser = new FluxLikeParser(tokens) { ErrorHandler = new BailErrorStrategy() };
        parser.Interpreter.PredictionMode = PredictionMode.SLL;
        parser.RemoveErrorListeners();
        try
        {
            return parser.program();
        }
        catch (ParseCanceledException)
        {
        }

        tokens.Seek(0);
        parser = new FluxLikeParser(tokens) { ErrorHandler = new SyntaxErrorStrategy() };
        parser.RemoveErrorListeners();
        parser.AddErrorListener(errors);
        return parser.program();
    }

    /// <summary>
    /// Rejects deep bracket nesting before parsing, with the position of the first bracket past the
    /// limit; the parser's recursion guard then only catches other deep constructs (long prefix
    /// chains, if-then-else towers).
    /// </summary>
    private static bool CheckBracketDepth(CommonTokenStream tokens, SourceText text, List<Diagnostic> diagnostics)
    {
        var depth = 0;
        foreach (var token in tokens.GetTokens())
        {
            switch (token.Type)
            {
                case FluxLikeLexer.LPAREN or FluxLikeLexer.LBRACK or FluxLikeLexer.LBRACE or FluxLikeLexer.INTERP_START:
                    if (++depth > MaxBracketDepth)
                    {
                        diagnostics.Add(text.Error(
                            DiagnosticCodes.NestingTooDeep,
                            text.SpanAt(token.StartIndex, token.StopIndex - token.StartIndex + 1),
                            $"brackets are nested more than {MaxBracketDepth} deep here; split the script up with variables"));
                        return false;
                    }

                    break;
                case FluxLikeLexer.RPAREN or FluxLikeLexer.RBRACK or FluxLikeLexer.RBRACE:
                    depth = Math.Max(0, depth - 1);
                    break;
            }
        }

        return true;
    }
}
