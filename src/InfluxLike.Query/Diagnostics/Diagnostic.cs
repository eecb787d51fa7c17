using System.Text;
using InfluxLike.Query.Ast;

namespace InfluxLike.Query.Diagnostics;

public enum DiagnosticSeverity
{
    Error,
    Warning,
}

/// <summary>
/// One problem found in a script. Diagnostics are collected and returned, never thrown, so that a
/// user sees every error of a script at once.
/// </summary>
/// <param name="Code">Stable identifier for tests and tools, e.g. <c>syntax</c>, <c>nesting-too-deep</c>.</param>
/// <param name="Message">Plain words, naming what was found and what was expected.</param>
/// <param name="SourceLine">The full line <see cref="Span"/> starts on, without its line break.</param>
/// <param name="Suggestion">A likely fix (e.g. a nearby known name), or null.</param>
public sealed record Diagnostic(
    DiagnosticSeverity Severity,
    string Code,
    SourceSpan Span,
    string Message,
    string SourceLine,
    string? Suggestion = null)
{
    /// <summary>
    /// <code>
    /// error at 2:21: expected an expression after '=>', found ')'
    ///   |> filter(fn: (r) => )
    ///                        ^
    /// </code>
    /// </summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(Severity == DiagnosticSeverity.Error ? "error" : "warning")
            .Append(" at ").Append(Span.Line).Append(':').Append(Span.Column).Append(": ").Append(Message);
        if (Suggestion is not null)
        {
            text.Append(" (").Append(Suggestion).Append(')');
        }

        text.Append('\n').Append(SourceLine.Replace('\t', ' ')).Append('\n');
        var caretColumn = Math.Min(Span.Column - 1, SourceLine.Length);
        var caretLength = Math.Clamp(Span.Length, 1, Math.Max(1, SourceLine.Length - caretColumn));
        text.Append(' ', caretColumn).Append('^').Append('~', caretLength - 1);
        return text.ToString();
    }
}
