using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Unicode;

namespace InfluxLike.LineProtocol;

/// <summary>Options of a <see cref="LineProtocolReader"/>.</summary>
public readonly record struct LineProtocolReaderOptions
{
    public LineProtocolReaderOptions()
    {
    }

    /// <summary>Unit of the timestamps in the input.</summary>
    public Precision Precision { get; init; } = Precision.Nanoseconds;

    /// <summary>
    /// Time in nanoseconds given to lines without a timestamp (normally the server's clock at the start of
    /// the request). It is truncated to <see cref="Precision"/>, as InfluxDB does.
    /// </summary>
    public long DefaultTimestamp { get; init; }

    /// <summary>Number of the input's first line, for a body read in pieces (1 when not set).</summary>
    public long FirstLineNumber { get; init; } = 1;
}

/// <summary>
/// A forward-only, zero-copy reader of InfluxDB line protocol over a span of UTF-8 bytes, in the manner of
/// <see cref="System.Text.Json.Utf8JsonReader"/>.
/// </summary>
/// <remarks>
/// <para>
/// Each <see cref="Read"/> parses one whole entry (a line; a string field may span several physical lines)
/// and either exposes its measurement, tags (sorted by key), fields (in input order) and timestamp as spans
/// into the input, or sets <see cref="Error"/> with the line, column and reason and skips to the next line.
/// A line is valid or invalid as a whole: nothing of a bad line is exposed, so a caller never stores half
/// a line. Nothing is allocated per line; only an error allocates.
/// </para>
/// <para>
/// Syntax is InfluxDB's (the line-protocol v2 grammar; tested against the line-protocol corpus): escapes
/// <c>\,</c> <c>\ </c> in measurements, <c>\,</c> <c>\=</c> <c>\ </c> in tag keys, tag values and field keys,
/// <c>\"</c> <c>\\</c> in string values; a backslash before any other character is kept as it is.
/// </para>
/// <para>
/// The reader rents two small arrays for tag and field positions; <see cref="Dispose"/> returns them. Do
/// not copy a reader that you will dispose (the copies would share the arrays).
/// </para>
/// </remarks>
public ref partial struct LineProtocolReader
{
    private const int InitialCapacity = 16;

    private readonly ReadOnlySpan<byte> _input;
    private readonly long _unitNanoseconds;
    private readonly long _defaultTimestamp;

    private int _pos;        // next byte to read
    private long _line;      // 1-based line number of the byte at _pos

    private TagEntry[] _tags;
    private FieldEntry[] _fields;
    private int _tagCount;
    private int _fieldCount;

    private int _entryStart;
    private int _entryEnd;
    private long _entryLine;
    private TokenPos _measurement;
    private long _timestamp;
    private bool _hasTimestamp;
    private LineProtocolError? _error;
    private int _asciiUntil;  // input[entry start.._asciiUntil] is known to be ASCII
    private readonly bool _allAscii;

    public LineProtocolReader(ReadOnlySpan<byte> input, LineProtocolReaderOptions options = default)
    {
        _input = input;
        _unitNanoseconds = options.Precision.NanosecondsPerUnit();
        long t = options.DefaultTimestamp;
        _defaultTimestamp = t - (((t % _unitNanoseconds) + _unitNanoseconds) % _unitNanoseconds);
        _line = options.FirstLineNumber > 0 ? options.FirstLineNumber : 1;
        _allAscii = System.Text.Ascii.IsValid(input);
        _asciiUntil = _allAscii ? int.MaxValue : 0;
        _tags = ArrayPool<TagEntry>.Shared.Rent(InitialCapacity);
        _fields = ArrayPool<FieldEntry>.Shared.Rent(InitialCapacity);
    }

    /// <summary>The error of the entry just read, or null when it is valid.</summary>
    public readonly LineProtocolError? Error => _error;

    /// <summary>1-based line number where the entry just read starts.</summary>
    public readonly long LineNumber => _entryLine;

    /// <summary>Bytes consumed so far.</summary>
    public readonly int BytesConsumed => _pos;

    /// <summary>The entry just read, as it stands in the input (without its line ending).</summary>
    public readonly ReadOnlySpan<byte> RawEntry => _input[_entryStart.._entryEnd];

    /// <summary>The measurement of the entry just read.</summary>
    public readonly LineToken Measurement
    {
        get
        {
            EnsureValid();
            return Token(_measurement, TokenKind.Measurement);
        }
    }

    /// <summary>Number of tags of the entry just read.</summary>
    public readonly int TagCount => _error is null ? _tagCount : 0;

    /// <summary>Number of fields of the entry just read (at least one in a valid entry).</summary>
    public readonly int FieldCount => _error is null ? _fieldCount : 0;

    /// <summary>Whether the entry carried its own timestamp (else <see cref="Timestamp"/> is the default).</summary>
    public readonly bool HasTimestamp => _hasTimestamp;

    /// <summary>The entry's time in nanoseconds since the Unix epoch.</summary>
    public readonly long Timestamp
    {
        get
        {
            EnsureValid();
            return _timestamp;
        }
    }

    /// <summary>Tag <paramref name="index"/> of the entry, in order of key (compared as unescaped bytes).</summary>
    public readonly LineTag GetTag(int index)
    {
        EnsureValid();
        if ((uint)index >= (uint)_tagCount)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(index));
        }

        ref readonly TagEntry t = ref _tags[index];
        return new LineTag(Token(t.Key, TokenKind.Name), Token(t.Value, TokenKind.Name));
    }

    /// <summary>Field <paramref name="index"/> of the entry, in input order (a key may repeat: the last one wins).</summary>
    public readonly LineField GetField(int index)
    {
        EnsureValid();
        if ((uint)index >= (uint)_fieldCount)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(index));
        }

        ref readonly FieldEntry f = ref _fields[index];
        return new LineField(Token(f.Key, TokenKind.Name), f.Type, f.Bits, Token(f.StringValue, TokenKind.String));
    }

    /// <summary>
    /// Moves to the next entry, skipping blank lines and comments. Returns false at the end of the input.
    /// When it returns true, either <see cref="Error"/> is null and the entry's parts can be read, or
    /// <see cref="Error"/> says what was wrong and the rest of that line has been skipped.
    /// </summary>
    public bool Read()
    {
        _error = null;
        _tagCount = 0;
        _fieldCount = 0;
        _hasTimestamp = false;

        if (!SkipBlankLines())
        {
            _entryStart = _entryEnd = _pos;
            return false;
        }

        _entryStart = _pos;
        _entryLine = _line;
        if (!ParseEntry())
        {
            SkipRestOfLine();
        }

        return true;
    }

    /// <summary>Returns the rented buffers to the pool.</summary>
    public void Dispose()
    {
        if (_tags is not null)
        {
            ArrayPool<TagEntry>.Shared.Return(_tags);
            ArrayPool<FieldEntry>.Shared.Return(_fields);
            _tags = null!;
            _fields = null!;
        }
    }

    private readonly LineToken Token(TokenPos s, TokenKind kind) =>
        new(_input.Slice(s.Start, s.Length), s.Escaped, kind);

    private readonly void EnsureValid()
    {
        if (_error is not null)
        {
            ThrowHelper.ThrowInvalidOperation("The entry just read is not valid; see Error.");
        }
    }

    // Skips spaces, blank lines and comments. Returns false at the end of the input.
    private bool SkipBlankLines()
    {
        ReadOnlySpan<byte> input = _input;
        while (true)
        {
            while (_pos < input.Length && input[_pos] == (byte)' ')
            {
                _pos++;
            }

            if (_pos >= input.Length)
            {
                return false;
            }

            switch (input[_pos])
            {
                case (byte)'#':
                    int commentStart = _pos;
                    int bad = input[_pos..].IndexOfAny(ByteClass.CommentStop);
                    int commentEnd = bad < 0 ? input.Length : _pos + bad;
                    _pos = commentEnd;
                    if (!TakeEndOfLine())
                    {
                        // A control character inside a comment: back to the '#', where the entry parser
                        // reports it.
                        _pos = commentStart;
                        return true;
                    }

                    break;
                case (byte)'\n':
                    _pos++;
                    _line++;
                    break;
                case (byte)'\r':
                    if (!TakeEndOfLine())
                    {
                        // A lone carriage return: the entry parser reports it.
                        return true;
                    }

                    break;
                default:
                    return true;
            }
        }
    }

    // Consumes a line ending (LF, CRLF, or CR at the end of the input); true also at the end of the input.
    private bool TakeEndOfLine()
    {
        ReadOnlySpan<byte> input = _input;
        if (_pos >= input.Length)
        {
            return true;
        }

        switch (input[_pos])
        {
            case (byte)'\n':
                _pos++;
                _line++;
                return true;
            case (byte)'\r':
                if (_pos + 1 >= input.Length)
                {
                    _pos++;
                    return true;
                }

                if (input[_pos + 1] == (byte)'\n')
                {
                    _pos += 2;
                    _line++;
                    return true;
                }

                return false;
            default:
                return false;
        }
    }

    private void SkipRestOfLine()
    {
        int nl = _input[_pos..].IndexOf((byte)'\n');
        if (nl < 0)
        {
            _pos = _input.Length;
        }
        else
        {
            _pos += nl + 1;
            _line++;
        }

        _entryEnd = TrimLineEnd(_pos);
    }

    private readonly int TrimLineEnd(int end)
    {
        if (end > _entryStart && _input[end - 1] == (byte)'\n')
        {
            end--;
        }

        if (end > _entryStart && _input[end - 1] == (byte)'\r')
        {
            end--;
        }

        return end;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Fail(int at, string message)
    {
        ReadOnlySpan<byte> input = _input;
        at = Math.Min(at, input.Length);

        // The column counts bytes from the start of the physical line holding the error (string values may
        // hold newlines), and the line number follows.
        int lineStart = input[..at].LastIndexOf((byte)'\n') + 1;
        long line = _entryLine + input[_entryStart..Math.Max(_entryStart, at)].Count((byte)'\n');
        int physicalStart = input[.._entryStart].LastIndexOf((byte)'\n') + 1;
        _error = new LineProtocolError(line, at - lineStart + 1, message, LineProtocolError.Excerpt(input[physicalStart..]));
        return false;
    }

    private readonly bool IsValidUtf8(ReadOnlySpan<byte> input, (int Start, int Length) token) =>
        token.Start + token.Length <= _asciiUntil || Utf8.IsValid(input.Slice(token.Start, token.Length));

    internal static string Describe(byte b) => b switch
    {
        (byte)'\n' => "a line feed",
        (byte)'\r' => "a carriage return",
        (byte)'\t' => "a tab",
        (byte)' ' => "a space",
        < 0x20 or 0x7f => $"control character 0x{b:X2}",
        >= 0x80 => $"byte 0x{b:X2}",
        _ => $"'{(char)b}'",
    };

    /// <summary>A token's position in the input.</summary>
    private struct TokenPos
    {
        public int Start;
        public int Length;
        public bool Escaped;

        public TokenPos(int start, int length, bool escaped)
        {
            Start = start;
            Length = length;
            Escaped = escaped;
        }
    }

    private struct TagEntry
    {
        public TokenPos Key;
        public TokenPos Value;
        public ulong KeyPrefix;
    }

    private struct FieldEntry
    {
        public TokenPos Key;
        public TokenPos StringValue;
        public long Bits;
        public FieldType Type;
    }
}

/// <summary>A tag of the entry a <see cref="LineProtocolReader"/> has read.</summary>
public readonly ref struct LineTag
{
    internal LineTag(LineToken key, LineToken value)
    {
        Key = key;
        Value = value;
    }

    public LineToken Key { get; }

    public LineToken Value { get; }
}

/// <summary>A field of the entry a <see cref="LineProtocolReader"/> has read; its value is already parsed.</summary>
public readonly ref struct LineField
{
    private readonly long _bits;
    private readonly LineToken _string;

    internal LineField(LineToken key, FieldType type, long bits, LineToken stringValue)
    {
        Key = key;
        Type = type;
        _bits = bits;
        _string = stringValue;
    }

    public LineToken Key { get; }

    public FieldType Type { get; }

    public double FloatValue => Type == FieldType.Float ? BitConverter.Int64BitsToDouble(_bits) : ThrowHelper.WrongType<double>(Type, FieldType.Float);

    public long IntegerValue => Type == FieldType.Integer ? _bits : ThrowHelper.WrongType<long>(Type, FieldType.Integer);

    public ulong UnsignedValue => Type == FieldType.Unsigned ? unchecked((ulong)_bits) : ThrowHelper.WrongType<ulong>(Type, FieldType.Unsigned);

    public bool BooleanValue => Type == FieldType.Boolean ? _bits != 0 : ThrowHelper.WrongType<bool>(Type, FieldType.Boolean);

    /// <summary>The string value, escapes still in place (see <see cref="LineToken.Unescape"/>).</summary>
    public LineToken StringValue => Type == FieldType.String ? _string : ThrowHelper.WrongType<LineToken>(Type, FieldType.String);

    /// <summary>The value's 64 bits for numeric and boolean types (a double's bit pattern for floats).</summary>
    public long RawBits => _bits;
}
