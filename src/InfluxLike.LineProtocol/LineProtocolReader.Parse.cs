using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace InfluxLike.LineProtocol;

public ref partial struct LineProtocolReader
{
    // Parses the entry at _pos. On success _pos is past its line ending; on failure _error is set and _pos
    // is where parsing stopped (the caller skips the rest of the line).
    private bool ParseEntry()
    {
        ReadOnlySpan<byte> input = _input;

        // A vectorised ASCII check (of the whole input, done once, or else of the physical line) spares a
        // UTF-8 check per token; only tokens past it (non-ASCII bytes, or a string running onto later
        // lines) are checked one by one.
        if (!_allAscii)
        {
            int newline = input[_pos..].IndexOf((byte)'\n');
            int physicalEnd = newline < 0 ? input.Length : _pos + newline;
            _asciiUntil = Ascii.IsValid(input[_pos..physicalEnd]) ? physicalEnd : _pos;
        }

        // Measurement.
        int start = _pos;
        bool escaped = ScanToken(ByteClass.MeasurementStop, TokenKind.Measurement);
        if (_pos == start)
        {
            return Fail(start, _pos >= input.Length
                ? "expected a measurement name, found the end of the input"
                : $"expected a measurement name, found {Describe(input[_pos])}");
        }

        if (input[start] == (byte)'#')
        {
            return Fail(CommentErrorPosition(start), "invalid character in comment (comments may not hold control characters)");
        }

        _measurement = new TokenPos(start, _pos - start, escaped);
        if (!IsValidUtf8(input, (start, _pos - start)))
        {
            return Fail(start, "invalid UTF-8 in measurement name");
        }

        if (!TakeTagComma())
        {
            return false;
        }

        // Tags.
        while (true)
        {
            if (_pos < input.Length && input[_pos] == (byte)' ')
            {
                break;
            }

            start = _pos;
            escaped = ScanToken(ByteClass.KeyStop, TokenKind.Name);
            int keyLength = _pos - start;
            if (_pos >= input.Length)
            {
                return Fail(_pos, keyLength == 0
                    ? "expected a tag key or fields, found the end of the input"
                    : $"expected '=' after tag key \"{Text(start, keyLength)}\", found the end of the input");
            }

            if (keyLength == 0)
            {
                return Fail(_pos, $"expected a tag key or a space before the fields, found {Describe(input[_pos])}");
            }

            if (input[_pos] != (byte)'=')
            {
                return Fail(_pos, $"expected '=' after tag key \"{Text(start, keyLength)}\", found {Describe(input[_pos])}");
            }

            if (!IsValidUtf8(input, (start, keyLength)))
            {
                return Fail(start, "invalid UTF-8 in tag key");
            }

            var key = new TokenPos(start, keyLength, escaped);
            _pos++;
            start = _pos;
            escaped = ScanToken(ByteClass.TagValueStop, TokenKind.Name);
            if (_pos == start)
            {
                return Fail(start, $"expected a value for tag key \"{Text(key.Start, key.Length)}\", found {(_pos < input.Length ? Describe(input[_pos]) : "the end of the input")}");
            }

            if (!IsValidUtf8(input, (start, _pos - start)))
            {
                return Fail(start, "invalid UTF-8 in tag value");
            }

            AddTag(key, new TokenPos(start, _pos - start, escaped));
            if (_pos >= input.Length)
            {
                return Fail(_pos, "expected fields after the tags, found the end of the input");
            }

            if (!TakeTagComma())
            {
                return false;
            }
        }

        if (_tagCount > 1 && !SortTags())
        {
            return false;
        }

        while (_pos < input.Length && input[_pos] == (byte)' ')
        {
            _pos++;
        }

        // Fields.
        while (true)
        {
            if (!ParseField())
            {
                return false;
            }

            if (_pos >= input.Length)
            {
                return FinishEntry(hasTimestamp: false, 0, input.Length);
            }

            byte c = input[_pos];
            if (c == (byte)',')
            {
                _pos++;
                continue;
            }

            if (!ByteClass.IsWhitespace(c))
            {
                return Fail(_pos, $"expected ',' or a space after a field value, found {Describe(c)}");
            }

            while (_pos < input.Length && input[_pos] == (byte)' ')
            {
                _pos++;
            }

            int end = _pos;
            if (TakeEndOfLine())
            {
                return FinishEntry(hasTimestamp: false, 0, end);
            }

            break;
        }

        return ParseTimestamp();
    }

    // After a measurement or tag value: a comma must be followed by a tag key.
    private bool TakeTagComma()
    {
        ReadOnlySpan<byte> input = _input;
        if (_pos >= input.Length || input[_pos] != (byte)',')
        {
            return true;
        }

        _pos++;
        if (_pos >= input.Length)
        {
            return Fail(_pos, "expected a tag key after ',', found the end of the input");
        }

        if (ByteClass.IsWhitespace(input[_pos]))
        {
            return Fail(_pos, $"expected a tag key after ',', found {Describe(input[_pos])}");
        }

        return true;
    }

    private bool ParseField()
    {
        ReadOnlySpan<byte> input = _input;
        int keyStart = _pos;
        bool keyEscaped = ScanToken(ByteClass.KeyStop, TokenKind.Name);
        int keyLength = _pos - keyStart;
        if (keyLength == 0)
        {
            return Fail(_pos, _pos >= input.Length
                ? "expected a field key, found the end of the input"
                : $"expected a field key, found {Describe(input[_pos])}");
        }

        if (_pos >= input.Length)
        {
            return Fail(_pos, $"expected '=' after field key \"{Text(keyStart, keyLength)}\", found the end of the input");
        }

        if (input[_pos] != (byte)'=')
        {
            return Fail(_pos, $"expected '=' after field key \"{Text(keyStart, keyLength)}\", found {Describe(input[_pos])}");
        }

        if (!IsValidUtf8(input, (keyStart, keyLength)))
        {
            return Fail(keyStart, "invalid UTF-8 in field key");
        }

        _pos++;
        if (_pos >= input.Length)
        {
            return Fail(_pos, $"expected a value for field \"{Text(keyStart, keyLength)}\", found the end of the input");
        }

        ref FieldEntry field = ref NextField();
        field.Key = new TokenPos(keyStart, keyLength, keyEscaped);
        field.StringValue = default;
        int valueStart = _pos;
        switch (input[_pos])
        {
            case (byte)'"':
                _pos++;
                bool escaped = ScanString();
                if (_pos >= input.Length)
                {
                    return Fail(valueStart, $"string value of field \"{Text(keyStart, keyLength)}\" has no closing quote");
                }

                var s = new TokenPos(valueStart + 1, _pos - valueStart - 1, escaped);
                _pos++;
                if (!IsValidUtf8(input, (s.Start, s.Length)))
                {
                    return Fail(valueStart, $"invalid UTF-8 in string value of field \"{Text(keyStart, keyLength)}\"");
                }

                field.Type = FieldType.String;
                field.StringValue = s;
                field.Bits = 0;
                return true;

            case (byte)'t' or (byte)'T' or (byte)'f' or (byte)'F':
                ReadOnlySpan<byte> word = TakeValue();
                if (!NumberParsing.TryParseBoolean(word, out bool b))
                {
                    return Fail(valueStart, $"invalid boolean value \"{Text(valueStart, word.Length)}\" for field \"{Text(keyStart, keyLength)}\" (use t, T, true, True, TRUE, f, F, false, False or FALSE)");
                }

                field.Type = FieldType.Boolean;
                field.Bits = b ? 1 : 0;
                return true;

            case (byte)'-' or >= (byte)'0' and <= (byte)'9' or (byte)'.':
                ReadOnlySpan<byte> number = TakeValue();
                return ParseNumber(ref field, number, valueStart, keyStart, keyLength);

            default:
                return Fail(valueStart, $"invalid value for field \"{Text(keyStart, keyLength)}\": expected a number, a boolean or a double-quoted string, found {Describe(input[_pos])}");
        }
    }

    private bool ParseNumber(ref FieldEntry field, ReadOnlySpan<byte> number, int valueStart, int keyStart, int keyLength)
    {
        switch (number[^1])
        {
            case (byte)'i':
                switch (NumberParsing.TryParseInt64(number[..^1], out long l))
                {
                    case NumberStatus.Ok:
                        field.Type = FieldType.Integer;
                        field.Bits = l;
                        return true;
                    case NumberStatus.OutOfRange:
                        return Fail(valueStart, $"integer value {Text(valueStart, number.Length)} of field \"{Text(keyStart, keyLength)}\" is out of range (int64: -9223372036854775808 to 9223372036854775807)");
                    default:
                        return Fail(valueStart, $"invalid integer value \"{Text(valueStart, number.Length)}\" for field \"{Text(keyStart, keyLength)}\"");
                }

            case (byte)'u':
                switch (NumberParsing.TryParseUInt64(number[..^1], out ulong u))
                {
                    case NumberStatus.Ok:
                        field.Type = FieldType.Unsigned;
                        field.Bits = unchecked((long)u);
                        return true;
                    case NumberStatus.OutOfRange:
                        return Fail(valueStart, $"unsigned value {Text(valueStart, number.Length)} of field \"{Text(keyStart, keyLength)}\" is out of range (uint64: 0 to 18446744073709551615)");
                    default:
                        return Fail(valueStart, $"invalid unsigned value \"{Text(valueStart, number.Length)}\" for field \"{Text(keyStart, keyLength)}\"");
                }

            default:
                switch (NumberParsing.TryParseDouble(number, out double d))
                {
                    case NumberStatus.Ok:
                        field.Type = FieldType.Float;
                        field.Bits = BitConverter.DoubleToInt64Bits(d);
                        return true;
                    case NumberStatus.OutOfRange:
                        return Fail(valueStart, $"float value {Text(valueStart, number.Length)} of field \"{Text(keyStart, keyLength)}\" is out of range (float64)");
                    default:
                        return Fail(valueStart, $"invalid float value \"{Text(valueStart, number.Length)}\" for field \"{Text(keyStart, keyLength)}\"");
                }
        }
    }

    private bool ParseTimestamp()
    {
        ReadOnlySpan<byte> input = _input;
        int start = _pos;
        int n = input[_pos..].IndexOfAnyExcept(ByteClass.TimeChars);
        _pos = n < 0 ? input.Length : _pos + n;
        int length = _pos - start;
        if (_pos < input.Length && !ByteClass.IsWhitespace(input[_pos]))
        {
            int bad = _pos;
            return Fail(length == 0 ? bad : start, length == 0
                ? $"expected a timestamp or the end of the line, found {Describe(input[bad])}"
                : $"invalid timestamp: {Describe(input[bad])} after \"{Text(start, length)}\"");
        }

        while (_pos < input.Length && input[_pos] == (byte)' ')
        {
            _pos++;
        }

        if (_pos < input.Length && input[_pos] is not ((byte)'\n' or (byte)'\r'))
        {
            return Fail(_pos, $"unexpected text after the timestamp, starting with {Describe(input[_pos])}");
        }

        long time = 0;
        if (length > 0)
        {
            switch (NumberParsing.TryParseInt64(input.Slice(start, length), out long units))
            {
                case NumberStatus.Ok:
                    if (!TryScale(units, out time))
                    {
                        return Fail(start, $"timestamp {Text(start, length)} is out of range at precision {_unitNanoseconds} ns (allowed: {TimeRange.MinNanoseconds} to {TimeRange.MaxNanoseconds} ns)");
                    }

                    break;
                case NumberStatus.OutOfRange:
                    return Fail(start, $"timestamp {Text(start, length)} is out of range (int64)");
                default:
                    return Fail(start, $"invalid timestamp \"{Text(start, length)}\"");
            }
        }

        int lineEnd = _pos;
        if (!TakeEndOfLine())
        {
            return Fail(_pos, $"unexpected text after the timestamp, starting with {Describe(input[_pos])}");
        }

        return FinishEntry(length > 0, time, lineEnd);
    }

    private bool TryScale(long units, out long nanoseconds)
    {
        if (units > TimeRange.MaxNanoseconds / _unitNanoseconds || units < TimeRange.MinNanoseconds / _unitNanoseconds)
        {
            nanoseconds = 0;
            return false;
        }

        nanoseconds = units * _unitNanoseconds;
        return nanoseconds is >= TimeRange.MinNanoseconds and <= TimeRange.MaxNanoseconds;
    }

    private bool FinishEntry(bool hasTimestamp, long time, int entryEnd)
    {
        _entryEnd = entryEnd;
        _hasTimestamp = hasTimestamp;
        _timestamp = hasTimestamp ? time : _defaultTimestamp;
        return true;
    }

    // Scans a measurement, key or tag value from _pos: stops at a byte of `stop` that is not escaped.
    // Returns whether an escape sequence was seen.
    private bool ScanToken(SearchValues<byte> stop, TokenKind kind)
    {
        ReadOnlySpan<byte> input = _input;
        bool escaped = false;
        while (true)
        {
            int i = input[_pos..].IndexOfAny(stop);
            if (i < 0)
            {
                _pos = input.Length;
                return escaped;
            }

            _pos += i;
            if (input[_pos] != (byte)'\\')
            {
                return escaped;
            }

            // A backslash: an escape when the next byte is escapable here, else an ordinary character
            // (and the byte after it is scanned as usual).
            if (_pos + 1 < input.Length && ByteClass.IsEscapable(kind, input[_pos + 1]))
            {
                escaped = true;
                _pos += 2;
            }
            else
            {
                _pos++;
            }
        }
    }

    // Scans a string value from just after its opening quote to its closing quote (or the end of input).
    private bool ScanString()
    {
        ReadOnlySpan<byte> input = _input;
        int start = _pos;
        bool escaped = false;
        while (true)
        {
            int i = input[_pos..].IndexOfAny(ByteClass.StringStop);
            if (i < 0)
            {
                _pos = input.Length;
                break;
            }

            _pos += i;
            if (input[_pos] == (byte)'"')
            {
                break;
            }

            if (_pos + 1 < input.Length && ByteClass.IsEscapable(TokenKind.String, input[_pos + 1]))
            {
                escaped = true;
                _pos += 2;
            }
            else
            {
                _pos++;
            }
        }

        // Raw newlines are allowed inside string values; keep the line count right.
        _line += input[start.._pos].Count((byte)'\n');
        return escaped;
    }

    private ReadOnlySpan<byte> TakeValue()
    {
        ReadOnlySpan<byte> input = _input;
        int start = _pos;
        int i = input[_pos..].IndexOfAny(ByteClass.ValueStop);
        _pos = i < 0 ? input.Length : _pos + i;
        return input[start.._pos];
    }

    private readonly int CommentErrorPosition(int start)
    {
        int bad = _input[start..].IndexOfAny(ByteClass.CommentStop);
        return bad < 0 ? start : start + bad;
    }

    private readonly string Text(int start, int length) => LineProtocolError.Excerpt(_input.Slice(start, length));

    private void AddTag(TokenPos key, TokenPos value)
    {
        if (_tagCount == _tags.Length)
        {
            Grow(ref _tags);
        }

        ref TagEntry t = ref _tags[_tagCount++];
        t.Key = key;
        t.Value = value;
        t.KeyPrefix = key.Escaped ? 0 : Prefix(_input.Slice(key.Start, key.Length));
    }

    private ref FieldEntry NextField()
    {
        if (_fieldCount == _fields.Length)
        {
            Grow(ref _fields);
        }

        return ref _fields[_fieldCount++];
    }

    private static void Grow<T>(ref T[] array)
    {
        T[] bigger = ArrayPool<T>.Shared.Rent(array.Length * 2);
        array.CopyTo(bigger, 0);
        ArrayPool<T>.Shared.Return(array);
        array = bigger;
    }

    // Sorts the tags by unescaped key (insertion sort: lines have few tags, and writers such as Telegraf
    // send them sorted already) and rejects a repeated key, as InfluxDB does.
    private bool SortTags()
    {
        TagEntry[] tags = _tags;
        for (int i = 1; i < _tagCount; i++)
        {
            TagEntry current = tags[i];
            int j = i - 1;
            int cmp = 0;
            while (j >= 0 && (cmp = CompareTags(tags[j], current)) > 0)
            {
                tags[j + 1] = tags[j];
                j--;
            }

            if (j >= 0 && cmp == 0)
            {
                TokenPos dup = current.Key.Start > tags[j].Key.Start ? current.Key : tags[j].Key;
                tags[j + 1] = current;
                return Fail(dup.Start, $"duplicate tag key \"{Text(dup.Start, dup.Length)}\"");
            }

            tags[j + 1] = current;
        }

        return true;
    }

    // The first 8 bytes of a key as a big-endian number: comparing two of them orders most keys at once.
    // Keys hold no NUL (control characters are rejected), so zero padding sorts short keys first.
    private static ulong Prefix(ReadOnlySpan<byte> key)
    {
        if (key.Length >= 8)
        {
            return BinaryPrimitives.ReadUInt64BigEndian(key);
        }

        ulong p = 0;
        foreach (byte b in key)
        {
            p = (p << 8) | b;
        }

        return p << (8 * (8 - key.Length));
    }

    private readonly int CompareTags(in TagEntry a, in TagEntry b)
    {
        if (a.KeyPrefix != b.KeyPrefix && !a.Key.Escaped && !b.Key.Escaped)
        {
            return a.KeyPrefix < b.KeyPrefix ? -1 : 1;
        }

        return CompareKeys(a.Key, b.Key);
    }

    private readonly int CompareKeys(TokenPos a, TokenPos b)
    {
        ReadOnlySpan<byte> ra = _input.Slice(a.Start, a.Length);
        ReadOnlySpan<byte> rb = _input.Slice(b.Start, b.Length);
        if (!a.Escaped && !b.Escaped)
        {
            return ra.SequenceCompareTo(rb);
        }

        return CompareUnescaped(ra, a.Escaped, rb, b.Escaped);
    }

    private static int CompareUnescaped(ReadOnlySpan<byte> a, bool aEscaped, ReadOnlySpan<byte> b, bool bEscaped)
    {
        byte[]? rentedA = null, rentedB = null;
        Span<byte> bufA = a.Length <= 256 ? stackalloc byte[256] : (rentedA = ArrayPool<byte>.Shared.Rent(a.Length));
        Span<byte> bufB = b.Length <= 256 ? stackalloc byte[256] : (rentedB = ArrayPool<byte>.Shared.Rent(b.Length));
        ReadOnlySpan<byte> ua = aEscaped ? bufA[..Escaping.Unescape(a, TokenKind.Name, bufA)] : a;
        ReadOnlySpan<byte> ub = bEscaped ? bufB[..Escaping.Unescape(b, TokenKind.Name, bufB)] : b;
        int cmp = ua.SequenceCompareTo(ub);
        if (rentedA is not null)
        {
            ArrayPool<byte>.Shared.Return(rentedA);
        }

        if (rentedB is not null)
        {
            ArrayPool<byte>.Shared.Return(rentedB);
        }

        return cmp;
    }
}
