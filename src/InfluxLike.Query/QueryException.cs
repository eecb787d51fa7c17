using InfluxLike.Query.Ast;

namespace InfluxLike.Query;

/// <summary>
/// A query failed: a runtime error in the script (wrong argument, schema collision, unknown bucket ...), with the
/// place in the script when known. Message texts are for users: they name what was wrong.
/// </summary>
public class QueryException : Exception
{
    public QueryException(string message, SourceSpan? span = null, QueryErrorKind kind = QueryErrorKind.Invalid)
        : base(message)
    {
        Span = span;
        Kind = kind;
    }

    public QueryException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public QueryException()
    {
    }

    public SourceSpan? Span { get; }

    public QueryErrorKind Kind { get; }

    /// <summary>The message with its "line:column" prefix when the place is known.</summary>
    public string Describe() => Span is { } s ? $"error @{s.Line}:{s.Column}: {Message}" : Message;
}

/// <summary>What the HTTP layer maps an error to: invalid (400), not found (404), limits (413/429), internal (500).</summary>
public enum QueryErrorKind
{
    Invalid,
    NotFound,
    ResourceExhausted,
    Timeout,
    Internal,
}
