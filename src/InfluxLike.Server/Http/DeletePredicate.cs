using InfluxLike.Storage.Index;

namespace InfluxLike.Server.Http;

/// <summary>
/// The predicate of <c>/api/v2/delete</c>: comparisons <c>key = "value"</c> and <c>key != "value"</c> on
/// <c>_measurement</c>, <c>_field</c> or a tag, joined by <c>AND</c> and <c>OR</c> (either case) with
/// parentheses. InfluxDB 2.x takes only <c>AND</c> and <c>=</c> on measurement and tags; this is a superset.
/// A missing tag compares as the empty string. An empty predicate matches every series.
/// </summary>
internal abstract record DeletePredicate
{
    public static readonly DeletePredicate All = new Always();

    /// <summary>Whether a series field (measurement, tags, field) is deleted.</summary>
    public abstract bool Matches(string measurement, IReadOnlyList<KeyValuePair<string, string>> tags, string field);

    /// <summary>A series predicate for the index selecting at least the matching series (refined by <see cref="Matches"/>).</summary>
    public abstract SeriesPredicate ToIndex();

    /// <exception cref="FormatException">The text is not a valid predicate; the message names the column.</exception>
    public static DeletePredicate Parse(string? text) =>
        string.IsNullOrWhiteSpace(text) ? All : new Parser(text).ParseAll();

    private sealed record Always : DeletePredicate
    {
        public override bool Matches(string measurement, IReadOnlyList<KeyValuePair<string, string>> tags, string field) => true;

        public override SeriesPredicate ToIndex() => SeriesPredicate.All;
    }

    private sealed record Compare(string Key, bool Equal, string Value) : DeletePredicate
    {
        public override bool Matches(string measurement, IReadOnlyList<KeyValuePair<string, string>> tags, string field)
        {
            string actual = Key switch
            {
                "_measurement" => measurement,
                "_field" => field,
                _ => tags.FirstOrDefault(t => t.Key == Key).Value ?? "",
            };
            return (actual == Value) == Equal;
        }

        public override SeriesPredicate ToIndex() => (Key, Equal) switch
        {
            ("_measurement", true) => new SeriesPredicate.MeasurementEquals(Value),
            ("_field", _) => SeriesPredicate.All, // fields are not in the series index
            (_, true) when Value.Length > 0 => new SeriesPredicate.TagEquals(Key, Value),
            _ => SeriesPredicate.All, // "!=" also matches series without the tag: let the exact test decide
        };
    }

    private sealed record And(DeletePredicate Left, DeletePredicate Right) : DeletePredicate
    {
        public override bool Matches(string measurement, IReadOnlyList<KeyValuePair<string, string>> tags, string field) =>
            Left.Matches(measurement, tags, field) && Right.Matches(measurement, tags, field);

        public override SeriesPredicate ToIndex() => Combine(Left.ToIndex(), Right.ToIndex(), and: true);
    }

    private sealed record Or(DeletePredicate Left, DeletePredicate Right) : DeletePredicate
    {
        public override bool Matches(string measurement, IReadOnlyList<KeyValuePair<string, string>> tags, string field) =>
            Left.Matches(measurement, tags, field) || Right.Matches(measurement, tags, field);

        public override SeriesPredicate ToIndex() => Combine(Left.ToIndex(), Right.ToIndex(), and: false);
    }

    private static SeriesPredicate Combine(SeriesPredicate a, SeriesPredicate b, bool and)
    {
        bool allA = a is SeriesPredicate.AllSeries;
        bool allB = b is SeriesPredicate.AllSeries;
        if (and)
        {
            return allA ? b : allB ? a : a & b;
        }

        return allA || allB ? SeriesPredicate.All : a | b;
    }

    private sealed class Parser(string text)
    {
        private int _pos;

        public DeletePredicate ParseAll()
        {
            DeletePredicate p = ParseOr();
            SkipSpaces();
            if (_pos < text.Length)
            {
                throw Error($"unexpected \"{text[_pos]}\"");
            }

            return p;
        }

        private DeletePredicate ParseOr()
        {
            DeletePredicate left = ParseAnd();
            while (Keyword("OR"))
            {
                left = new Or(left, ParseAnd());
            }

            return left;
        }

        private DeletePredicate ParseAnd()
        {
            DeletePredicate left = ParseFactor();
            while (Keyword("AND"))
            {
                left = new And(left, ParseFactor());
            }

            return left;
        }

        private DeletePredicate ParseFactor()
        {
            SkipSpaces();
            if (_pos < text.Length && text[_pos] == '(')
            {
                _pos++;
                DeletePredicate inner = ParseOr();
                SkipSpaces();
                if (_pos >= text.Length || text[_pos] != ')')
                {
                    throw Error("expected \")\"");
                }

                _pos++;
                return inner;
            }

            string key = ParseKey();
            SkipSpaces();
            bool equal;
            if (text.AsSpan(_pos).StartsWith("!="))
            {
                equal = false;
                _pos += 2;
            }
            else if (_pos < text.Length && text[_pos] == '=')
            {
                equal = true;
                _pos++;
            }
            else
            {
                throw Error($"expected = or != after \"{key}\"");
            }

            SkipSpaces();
            return new Compare(key, equal, ParseString());
        }

        private string ParseKey()
        {
            SkipSpaces();
            if (_pos < text.Length && text[_pos] == '"')
            {
                return ParseString();
            }

            int start = _pos;
            while (_pos < text.Length && (char.IsLetterOrDigit(text[_pos]) || text[_pos] is '_' or '-' or '.'))
            {
                _pos++;
            }

            if (_pos == start)
            {
                throw Error(_pos < text.Length ? $"expected a tag key, _measurement or _field, found \"{text[_pos]}\"" : "expected a comparison");
            }

            return text[start.._pos];
        }

        private string ParseString()
        {
            if (_pos >= text.Length || text[_pos] is not ('"' or '\''))
            {
                throw Error("expected a quoted value");
            }

            char quote = text[_pos++];
            var value = new System.Text.StringBuilder();
            while (_pos < text.Length && text[_pos] != quote)
            {
                if (text[_pos] == '\\' && _pos + 1 < text.Length)
                {
                    _pos++;
                }

                value.Append(text[_pos++]);
            }

            if (_pos >= text.Length)
            {
                throw Error("unterminated string");
            }

            _pos++;
            return value.ToString();
        }

        private bool Keyword(string word)
        {
            SkipSpaces();
            if (text.AsSpan(_pos).StartsWith(word, StringComparison.OrdinalIgnoreCase)
                && (_pos + word.Length == text.Length || !char.IsLetterOrDigit(text[_pos + word.Length])))
            {
                _pos += word.Length;
                return true;
            }

            return false;
        }

        private void SkipSpaces()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos]))
            {
                _pos++;
            }
        }

        private FormatException Error(string message) => new($"invalid delete predicate at column {_pos + 1}: {message}");
    }
}
