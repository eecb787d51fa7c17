using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace InfluxLike.LineProtocol;

/// <summary>
/// Writes canonical line protocol into an <see cref="IBufferWriter{T}"/>: names escaped as InfluxDB reads
/// them, tags in key order, floats in the shortest form that reads back exactly, one <c>\n</c> per line.
/// </summary>
/// <remarks>
/// Call <see cref="StartLine(ReadOnlySpan{byte})"/>, then <c>AddTag</c> in ascending key order, then at
/// least one <c>AddField</c>, then <see cref="EndLine"/>. Anything that cannot be written so that it reads
/// back the same (an empty name, a control character in a name, a name ending in a backslash, a NaN...)
/// throws <see cref="ArgumentException"/> naming what was wrong, and the line is abandoned.
/// </remarks>
public sealed class LineProtocolWriter
{
    private readonly IBufferWriter<byte> _output;
    private readonly long _unitNanoseconds;
    private State _state;
    private byte[] _lastTagKey = new byte[64];
    private int _lastTagKeyLength;

    public LineProtocolWriter(IBufferWriter<byte> output, Precision precision = Precision.Nanoseconds)
    {
        _output = output;
        _unitNanoseconds = precision.NanosecondsPerUnit();
    }

    private enum State : byte
    {
        Idle,
        Tags,
        Fields,
    }

    public void StartLine(string measurement) => StartLine(Encoding.UTF8.GetBytes(measurement));

    public void StartLine(ReadOnlySpan<byte> measurement)
    {
        if (_state != State.Idle)
        {
            ThrowHelper.ThrowInvalidOperation("The previous line was not ended.");
        }

        CheckName(measurement, "measurement", allowControl: false);
        if (measurement[0] == (byte)'#')
        {
            ThrowHelper.ThrowArgument("A measurement may not start with '#' (the line would read as a comment).", nameof(measurement));
        }

        WriteEscaped(measurement, TokenKind.Measurement);
        _state = State.Tags;
        _lastTagKeyLength = -1;
    }

    public void AddTag(string key, string value) => AddTag(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value));

    public void AddTag(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (_state != State.Tags)
        {
            ThrowHelper.ThrowInvalidOperation("Tags go after StartLine and before the fields.");
        }

        CheckName(key, "tag key", allowControl: false);
        CheckName(value, "tag value", allowControl: true);
        if (_lastTagKeyLength >= 0)
        {
            int cmp = key.SequenceCompareTo(_lastTagKey.AsSpan(0, _lastTagKeyLength));
            if (cmp <= 0)
            {
                ThrowHelper.ThrowArgument(cmp == 0
                    ? $"Duplicate tag key \"{Encoding.UTF8.GetString(key)}\"."
                    : $"Tag key \"{Encoding.UTF8.GetString(key)}\" is out of order: add tags in ascending key order.", nameof(key));
            }
        }

        if (_lastTagKey.Length < key.Length)
        {
            _lastTagKey = new byte[Math.Max(key.Length, _lastTagKey.Length * 2)];
        }

        key.CopyTo(_lastTagKey);
        _lastTagKeyLength = key.Length;

        WriteByte((byte)',');
        WriteEscaped(key, TokenKind.Name);
        WriteByte((byte)'=');
        WriteEscaped(value, TokenKind.Name);
    }

    public void AddField(string key, double value) => AddField(Encoding.UTF8.GetBytes(key), value);

    public void AddField(ReadOnlySpan<byte> key, double value)
    {
        if (!double.IsFinite(value))
        {
            ThrowHelper.ThrowArgument($"Field \"{Encoding.UTF8.GetString(key)}\" is {value}: line protocol holds only finite floats.", nameof(value));
        }

        StartField(key);
        Span<byte> buffer = _output.GetSpan(32);
        int n = FormatFloat(value, buffer);
        _output.Advance(n);
    }

    public void AddField(string key, long value) => AddField(Encoding.UTF8.GetBytes(key), value);

    public void AddField(ReadOnlySpan<byte> key, long value)
    {
        StartField(key);
        Span<byte> buffer = _output.GetSpan(21);
        value.TryFormat(buffer, out int n, default, CultureInfo.InvariantCulture);
        buffer[n++] = (byte)'i';
        _output.Advance(n);
    }

    public void AddField(string key, ulong value) => AddField(Encoding.UTF8.GetBytes(key), value);

    public void AddField(ReadOnlySpan<byte> key, ulong value)
    {
        StartField(key);
        Span<byte> buffer = _output.GetSpan(21);
        value.TryFormat(buffer, out int n, default, CultureInfo.InvariantCulture);
        buffer[n++] = (byte)'u';
        _output.Advance(n);
    }

    public void AddField(string key, bool value) => AddField(Encoding.UTF8.GetBytes(key), value);

    public void AddField(ReadOnlySpan<byte> key, bool value)
    {
        StartField(key);
        Write(value ? "true"u8 : "false"u8);
    }

    public void AddField(string key, string value) => AddStringField(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value));

    /// <summary>Adds a string field; <paramref name="utf8Value"/> is the unescaped value.</summary>
    public void AddStringField(ReadOnlySpan<byte> key, ReadOnlySpan<byte> utf8Value)
    {
        if (!Utf8.IsValid(utf8Value))
        {
            ThrowHelper.ThrowArgument($"String value of field \"{Encoding.UTF8.GetString(key)}\" is not valid UTF-8.", nameof(utf8Value));
        }

        StartField(key);
        WriteByte((byte)'"');
        WriteEscaped(utf8Value, TokenKind.String);
        WriteByte((byte)'"');
    }

    /// <summary>Ends the line with a timestamp in nanoseconds (written in the writer's precision).</summary>
    public void EndLine(long timestampNanoseconds)
    {
        EnsureFields();
        Span<byte> buffer = _output.GetSpan(22);
        buffer[0] = (byte)' ';
        (timestampNanoseconds / _unitNanoseconds).TryFormat(buffer[1..], out int n, default, CultureInfo.InvariantCulture);
        buffer[n + 1] = (byte)'\n';
        _output.Advance(n + 2);
        _state = State.Idle;
    }

    /// <summary>Ends the line without a timestamp (the server's clock will stamp it).</summary>
    public void EndLine()
    {
        EnsureFields();
        WriteByte((byte)'\n');
        _state = State.Idle;
    }

    private void EnsureFields()
    {
        if (_state != State.Fields)
        {
            ThrowHelper.ThrowInvalidOperation("A line needs at least one field.");
        }
    }

    private void StartField(ReadOnlySpan<byte> key)
    {
        if (_state == State.Idle)
        {
            ThrowHelper.ThrowInvalidOperation("Fields go after StartLine.");
        }

        CheckName(key, "field key", allowControl: false);
        WriteByte(_state == State.Tags ? (byte)' ' : (byte)',');
        _state = State.Fields;
        WriteEscaped(key, TokenKind.Name);
        WriteByte((byte)'=');
    }

    private static void CheckName(ReadOnlySpan<byte> name, string what, bool allowControl)
    {
        if (name.IsEmpty)
        {
            ThrowHelper.ThrowArgument($"The {what} is empty.", what);
        }

        if (!Utf8.IsValid(name))
        {
            ThrowHelper.ThrowArgument($"The {what} is not valid UTF-8.", what);
        }

        int bad = allowControl ? name.IndexOfAny((byte)'\r', (byte)'\n') : name.IndexOfAny(ByteClass.CommentStop);
        if (bad >= 0)
        {
            ThrowHelper.ThrowArgument($"The {what} holds control character 0x{name[bad]:X2} at byte {bad}, which line protocol cannot carry.", what);
        }

        // "a\" followed by the escaped delimiter would read back as "a" plus an escaped delimiter.
        if (name[^1] == (byte)'\\')
        {
            ThrowHelper.ThrowArgument($"The {what} ends with a backslash, which line protocol cannot carry.", what);
        }
    }

    private void WriteEscaped(ReadOnlySpan<byte> value, TokenKind kind)
    {
        int length = Escaping.EscapedLength(value, kind);
        Span<byte> buffer = _output.GetSpan(length);
        if (length == value.Length)
        {
            value.CopyTo(buffer);
        }
        else
        {
            Escaping.Escape(value, kind, buffer);
        }

        _output.Advance(length);
    }

    private void WriteByte(byte b)
    {
        _output.GetSpan(1)[0] = b;
        _output.Advance(1);
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_output.GetSpan(bytes.Length));
        _output.Advance(bytes.Length);
    }

    /// <summary>
    /// Formats like Go's <c>strconv.FormatFloat(v, 'g', -1, 64)</c>, which InfluxDB's encoder uses: the
    /// shortest digits that read back exactly, in exponent form when the decimal exponent is below -4 or
    /// at least 6 ("6.632243e+06", "1e-05"), else plain ("12.123", "42").
    /// </summary>
    internal static int FormatFloat(double value, Span<byte> destination)
    {
        int n = 0;
        if (double.IsNegative(value))
        {
            destination[n++] = (byte)'-';
        }

        if (value == 0)
        {
            destination[n++] = (byte)'0';
            return n;
        }

        // The shortest digits that read back (.NET's "R" misses some: 2^-958), laid out the way Go does.
        ulong shortest = ShortestFloat.Decompose(value, out int exp10);
        int nd = DecimalDigits.Length(shortest);
        Span<byte> digits = stackalloc byte[20];
        for (int i = nd - 1; i >= 0; i--)
        {
            digits[i] = (byte)('0' + (int)(shortest % 10));
            shortest /= 10;
        }

        digits = digits[..nd];

        // dp: position of the decimal point relative to the first digit.
        int dp = nd + exp10;
        int exp = dp - 1;
        if (exp < -4 || exp >= 6)
        {
            destination[n++] = digits[0];
            if (nd > 1)
            {
                destination[n++] = (byte)'.';
                digits[1..].CopyTo(destination[n..]);
                n += nd - 1;
            }

            destination[n++] = (byte)'e';
            destination[n++] = exp < 0 ? (byte)'-' : (byte)'+';
            int abs = Math.Abs(exp);
            if (abs < 10)
            {
                destination[n++] = (byte)'0';
            }

            abs.TryFormat(destination[n..], out int en, default, CultureInfo.InvariantCulture);
            return n + en;
        }

        if (dp <= 0)
        {
            destination[n++] = (byte)'0';
        }
        else
        {
            for (int i = 0; i < dp; i++)
            {
                destination[n++] = i < nd ? digits[i] : (byte)'0';
            }
        }

        int decimals = Math.Max(nd - dp, 0);
        if (decimals > 0)
        {
            destination[n++] = (byte)'.';
            for (int i = 0; i < decimals; i++)
            {
                int k = dp + i;
                destination[n++] = k >= 0 && k < nd ? digits[k] : (byte)'0';
            }
        }

        return n;
    }
}
