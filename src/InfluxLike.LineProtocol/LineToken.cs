using System.Buffers;
using System.Text;

namespace InfluxLike.LineProtocol;

/// <summary>
/// A name or string value as it stands in the input (a span into the caller's buffer), with its escapes
/// still in place. <see cref="IsEscaped"/> is false for the common case, and then <see cref="Raw"/> is the
/// value itself; otherwise <see cref="Unescape"/> writes the value into a caller-supplied buffer.
/// Only valid while the reader's input is.
/// </summary>
public readonly ref struct LineToken
{
    internal LineToken(ReadOnlySpan<byte> raw, bool isEscaped, TokenKind kind)
    {
        Raw = raw;
        IsEscaped = isEscaped;
        Kind = kind;
    }

    /// <summary>The bytes as written in the input, escapes included.</summary>
    public ReadOnlySpan<byte> Raw { get; }

    /// <summary>Whether <see cref="Raw"/> holds at least one escape sequence.</summary>
    public bool IsEscaped { get; }

    public TokenKind Kind { get; }

    /// <summary>The length of the value after unescaping.</summary>
    public int UnescapedLength => IsEscaped ? Escaping.UnescapedLength(Raw, Kind) : Raw.Length;

    /// <summary>
    /// The value with escapes resolved: <see cref="Raw"/> itself when there are none, else the prefix of
    /// <paramref name="buffer"/> it was written to (<paramref name="buffer"/> needs <see cref="UnescapedLength"/> bytes;
    /// <see cref="Raw"/>.Length always suffices).
    /// </summary>
    public ReadOnlySpan<byte> Unescape(Span<byte> buffer)
    {
        if (!IsEscaped)
        {
            return Raw;
        }

        int n = Escaping.Unescape(Raw, Kind, buffer);
        return buffer[..n];
    }

    /// <summary>Whether the unescaped value equals <paramref name="value"/>, without allocating.</summary>
    public bool ValueEquals(ReadOnlySpan<byte> value)
    {
        if (!IsEscaped)
        {
            return Raw.SequenceEqual(value);
        }

        if (UnescapedLength != value.Length)
        {
            return false;
        }

        byte[]? rented = null;
        Span<byte> buffer = Raw.Length <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(Raw.Length));
        bool equal = Unescape(buffer).SequenceEqual(value);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return equal;
    }

    /// <summary>The unescaped value as a string (allocates).</summary>
    public override string ToString()
    {
        if (!IsEscaped)
        {
            return Encoding.UTF8.GetString(Raw);
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(Raw.Length);
        string s = Encoding.UTF8.GetString(Unescape(buffer));
        ArrayPool<byte>.Shared.Return(buffer);
        return s;
    }
}

/// <summary>Escape and unescape rules per token kind, shared by the reader and the writer.</summary>
internal static class Escaping
{
    public static int UnescapedLength(ReadOnlySpan<byte> raw, TokenKind kind)
    {
        int n = 0;
        for (int i = 0; i < raw.Length; i++, n++)
        {
            if (raw[i] == (byte)'\\' && i + 1 < raw.Length && ByteClass.IsEscapable(kind, raw[i + 1]))
            {
                i++;
            }
        }

        return n;
    }

    /// <summary>
    /// Resolves escapes. A backslash before a character that is not escapable in this kind of token stays
    /// as it is, as InfluxDB reads it.
    /// </summary>
    public static int Unescape(ReadOnlySpan<byte> raw, TokenKind kind, Span<byte> destination)
    {
        int n = 0;
        for (int i = 0; i < raw.Length; i++)
        {
            byte b = raw[i];
            if (b == (byte)'\\' && i + 1 < raw.Length && ByteClass.IsEscapable(kind, raw[i + 1]))
            {
                b = raw[++i];
            }

            destination[n++] = b;
        }

        return n;
    }

    /// <summary>Bytes of <paramref name="value"/> once escaped for <paramref name="kind"/>.</summary>
    public static int EscapedLength(ReadOnlySpan<byte> value, TokenKind kind)
    {
        int n = value.Length;
        foreach (byte b in value)
        {
            if (NeedsEscape(kind, b))
            {
                n++;
            }
        }

        return n;
    }

    public static int Escape(ReadOnlySpan<byte> value, TokenKind kind, Span<byte> destination)
    {
        int n = 0;
        foreach (byte b in value)
        {
            if (NeedsEscape(kind, b))
            {
                destination[n++] = (byte)'\\';
            }

            destination[n++] = b;
        }

        return n;
    }

    public static bool NeedsEscape(TokenKind kind, byte b) => kind switch
    {
        TokenKind.Measurement => b is (byte)',' or (byte)' ',
        TokenKind.String => b is (byte)'"' or (byte)'\\',
        _ => b is (byte)',' or (byte)'=' or (byte)' ',
    };
}
