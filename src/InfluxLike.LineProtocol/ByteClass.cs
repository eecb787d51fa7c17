using System.Buffers;

namespace InfluxLike.LineProtocol;

/// <summary>
/// The byte sets of line-protocol syntax (InfluxDB's line-protocol v2 grammar). Scans use
/// <see cref="SearchValues{T}"/> so they run vectorised over the long runs of ordinary characters.
/// Each "stop" set holds the bytes that end a token of that kind, plus the backslash, whose meaning the
/// scanner decides.
/// </summary>
internal static class ByteClass
{
    // Control characters 0-31 and DEL: never allowed in measurements, tag keys and field keys.
    private static readonly byte[] NonPrintable = [.. Enumerable.Range(0, 32).Select(i => (byte)i), 0x7f];

    /// <summary>Ends a measurement: comma, space, control characters.</summary>
    public static readonly SearchValues<byte> MeasurementStop = SearchValues.Create([.. NonPrintable, (byte)',', (byte)' ', (byte)'\\']);

    /// <summary>Ends a tag key or field key: comma, equals sign, space, control characters.</summary>
    public static readonly SearchValues<byte> KeyStop = SearchValues.Create([.. NonPrintable, (byte)',', (byte)'=', (byte)' ', (byte)'\\']);

    /// <summary>
    /// Ends a tag value: comma, equals sign, space, CR, LF. Other control characters are accepted in tag
    /// values, as InfluxDB and the line-protocol corpus do.
    /// </summary>
    public static readonly SearchValues<byte> TagValueStop = SearchValues.Create([(byte)',', (byte)'=', (byte)' ', (byte)'\r', (byte)'\n', (byte)'\\']);

    /// <summary>Ends a string field value: the closing quote.</summary>
    public static readonly SearchValues<byte> StringStop = SearchValues.Create([(byte)'"', (byte)'\\']);

    /// <summary>Ends a number or boolean field value.</summary>
    public static readonly SearchValues<byte> ValueStop = SearchValues.Create([(byte)',', (byte)' ', (byte)'\r', (byte)'\n']);

    /// <summary>Bytes a comment may hold: everything printable, plus bytes of multi-byte UTF-8 sequences.</summary>
    public static readonly SearchValues<byte> CommentStop = SearchValues.Create(NonPrintable);

    /// <summary>Characters of a timestamp.</summary>
    public static readonly SearchValues<byte> TimeChars = SearchValues.Create("-0123456789"u8);

    public static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\r' or (byte)'\n';

    /// <summary>Whether <paramref name="next"/> after a backslash is an escape in a token of <paramref name="kind"/>.</summary>
    public static bool IsEscapable(TokenKind kind, byte next) => kind switch
    {
        TokenKind.Measurement => next is (byte)',' or (byte)' ',
        TokenKind.String => next is (byte)'"' or (byte)'\\',
        _ => next is (byte)',' or (byte)'=' or (byte)' ',
    };
}

/// <summary>Which escaping rules a token follows.</summary>
public enum TokenKind : byte
{
    /// <summary>Measurement name: <c>\,</c> and <c>\ </c>.</summary>
    Measurement,

    /// <summary>Tag key, tag value or field key: <c>\,</c>, <c>\=</c> and <c>\ </c>.</summary>
    Name,

    /// <summary>String field value (inside the quotes): <c>\"</c> and <c>\\</c>.</summary>
    String,
}
