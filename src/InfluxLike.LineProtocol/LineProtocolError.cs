using System.Text;

namespace InfluxLike.LineProtocol;

/// <summary>
/// A syntax or value error on one line of a line-protocol body. The reader reports it and carries on with
/// the next line, so one bad line never hides the good ones around it.
/// </summary>
/// <param name="Line">1-based line number in the body where the bad entry starts.</param>
/// <param name="Column">1-based byte column of the offending character on its physical line.</param>
/// <param name="Message">What was wrong, in plain words.</param>
/// <param name="LineText">The start of the offending line (at most <see cref="MaxLineTextBytes"/> bytes), for error responses.</param>
public sealed record LineProtocolError(long Line, int Column, string Message, string LineText)
{
    public const int MaxLineTextBytes = 128;

    public override string ToString() => $"line {Line}, column {Column}: {Message}";

    public LineProtocolException ToException() => new(this);

    internal static string Excerpt(ReadOnlySpan<byte> line)
    {
        int end = line.IndexOfAny((byte)'\n', (byte)'\r');
        if (end >= 0)
        {
            line = line[..end];
        }

        bool truncated = false;
        if (line.Length > MaxLineTextBytes)
        {
            line = line[..MaxLineTextBytes];
            truncated = true;
        }

        // Invalid UTF-8 becomes U+FFFD: the excerpt is for people, the column points at the exact byte.
        string text = Encoding.UTF8.GetString(line);
        return truncated ? text + "…" : text;
    }
}

/// <summary>A line-protocol error raised where throwing is the contract (e.g. <see cref="Point.Parse(string, Precision)"/>).</summary>
public sealed class LineProtocolException : FormatException
{
    public LineProtocolException(LineProtocolError error)
        : base(error.ToString())
    {
        Error = error;
    }

    public LineProtocolError Error { get; }

    public long Line => Error.Line;

    public int Column => Error.Column;
}
