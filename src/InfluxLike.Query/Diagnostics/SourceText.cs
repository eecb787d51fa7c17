using InfluxLike.Query.Ast;

namespace InfluxLike.Query.Diagnostics;

/// <summary>Line lookup for a script, so spans and diagnostics can quote the offending line.</summary>
internal sealed class SourceText
{
    private readonly string _text;

    // Offset of the first character of each line; a line ends at \n (a preceding \r is trimmed).
    private readonly List<int> _lineStarts = [0];

    public SourceText(string text)
    {
        _text = text;
        for (var i = text.IndexOf('\n'); i >= 0; i = text.IndexOf('\n', i + 1))
        {
            _lineStarts.Add(i + 1);
        }
    }

    public int Length => _text.Length;

    /// <summary>1-based line text without its line break; empty past the end.</summary>
    public string Line(int line)
    {
        if (line < 1 || line > _lineStarts.Count)
        {
            return "";
        }

        var start = _lineStarts[line - 1];
        var end = line < _lineStarts.Count ? _lineStarts[line] - 1 : _text.Length;
        if (end > start && _text[end - 1] == '\r')
        {
            end--;
        }

        return _text[start..end];
    }

    /// <summary>The span of <paramref name="length"/> characters at <paramref name="offset"/>.</summary>
    public SourceSpan SpanAt(int offset, int length)
    {
        offset = Math.Clamp(offset, 0, _text.Length);
        var index = _lineStarts.BinarySearch(offset);
        var line = index >= 0 ? index : ~index - 1;
        return new SourceSpan(line + 1, offset - _lineStarts[line] + 1, offset, Math.Max(0, length));
    }

    public Diagnostic Error(string code, SourceSpan span, string message, string? suggestion = null) =>
        new(DiagnosticSeverity.Error, code, span, message, Line(span.Line), suggestion);
}
