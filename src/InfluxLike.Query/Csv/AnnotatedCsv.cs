using System.Buffers;
using System.Globalization;
using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Query.Data;
using InfluxLike.Query.Syntax;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Csv;

/// <summary>Which parts of annotated CSV a client asked for (the <c>dialect</c> of a query request).</summary>
public sealed record CsvDialect
{
    public static readonly CsvDialect Default = new();

    public bool Header { get; init; } = true;

    public char Delimiter { get; init; } = ',';

    public bool DataType { get; init; } = true;

    public bool Group { get; init; } = true;

    public bool DefaultRow { get; init; } = true;

    public bool AnyAnnotation => DataType || Group || DefaultRow;
}

/// <summary>
/// Reads InfluxDB's annotated CSV (the format of <c>csv.from</c> and of the conformance files) into tables:
/// <c>#datatype</c>/<c>#group</c>/<c>#default</c> annotations, a header, records; a new table starts with a new
/// annotation block or a change of the <c>table</c> column. Blank lines are ignored, as Flux's reader does.
/// </summary>
public static class AnnotatedCsvReader
{
    public static List<(string Result, Table Table)> Read(string text)
    {
        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text[1..];
        }

        var output = new List<(string, Table)>();
        string[]? types = null, groups = null, defaults = null, header = null;
        bool inAnnotations = false;
        Block? block = null;
        bool sawRecord = false;
        int lineNo = 0;
        foreach (var row in Rows(text))
        {
            lineNo++;
            if (row.Count == 1 && row[0].Length == 0)
            {
                continue;
            }

            if (row[0].StartsWith('#'))
            {
                if (!inAnnotations)
                {
                    Flush();
                    types = groups = defaults = header = null;
                    inAnnotations = true;
                }

                switch (row[0])
                {
                    case "#datatype": types = [.. row]; break;
                    case "#group": groups = [.. row]; break;
                    case "#default": defaults = [.. row]; break;
                }

                continue;
            }

            if (inAnnotations || header is null)
            {
                inAnnotations = false;
                header = [.. row];
                if (types is null)
                {
                    throw new QueryException($"annotated CSV line {lineNo}: missing #datatype annotation");
                }

                if (header.Length != types.Length)
                {
                    throw new QueryException($"annotated CSV line {lineNo}: header has {header.Length} cells, #datatype has {types.Length}");
                }

                continue;
            }

            if (row.Count != header.Length)
            {
                throw new QueryException($"annotated CSV line {lineNo}: {row.Count} cells, the header has {header.Length}");
            }

            int tableCol = Array.IndexOf(header, "table");
            string tableId = tableCol >= 0 ? Cell(row, tableCol) : "";
            if (block is null || block.TableId != tableId)
            {
                if (block is not null)
                {
                    Flush();
                }

                block = new Block(types!, groups, defaults, header, tableId);
            }

            block.Add(row, lineNo);
            sawRecord = true;
        }

        Flush();
        return output;

        string Cell(List<string> r, int c) => r[c].Length == 0 && defaults is not null && c < defaults.Length ? defaults[c] : r[c];

        void Flush()
        {
            if (block is not null)
            {
                output.Add(block.Build());
                block = null;
            }
            else if (header is not null && types is not null && !sawRecord)
            {
                // A header with no records: an empty table, its key from #default.
                output.Add(new Block(types, groups, defaults, header, "").Build());
            }

            sawRecord = false;
        }
    }

    private sealed class Block
    {
        private readonly string[] _types;
        private readonly string[]? _defaults;
        private readonly string[] _header;
        private readonly bool[] _group;
        private readonly ColumnBuilder[] _builders;
        private readonly int _first;
        private string? _result;

        public Block(string[] types, string[]? groups, string[]? defaults, string[] header, string tableId)
        {
            _types = types;
            _defaults = defaults;
            _header = header;
            TableId = tableId;
            _first = Array.IndexOf(header, "table") + 1;
            if (_first == 0)
            {
                _first = Array.IndexOf(header, "result") + 1;
            }

            _first = Math.Max(_first, 1);
            _group = [.. header.Select((_, i) => groups is not null && i < groups.Length && groups[i] == "true")];
            _builders = [.. types.Select(ParseType).Select(k => new ColumnBuilder(k))];
        }

        public string TableId { get; }

        public void Add(List<string> row, int lineNo)
        {
            int resultCol = Array.IndexOf(_header, "result");
            if (resultCol >= 0)
            {
                string r = row[resultCol].Length == 0 ? _defaults?.ElementAtOrDefault(resultCol) ?? "" : row[resultCol];
                _result ??= r;
            }

            for (int c = _first; c < _header.Length; c++)
            {
                string cell = row[c];
                if (cell.Length == 0 && _defaults is not null && c < _defaults.Length)
                {
                    cell = _defaults[c];
                }

                var b = _builders[c];
                if (cell.Length == 0 && b.Type != Kind.String)
                {
                    b.AppendNull();
                    continue;
                }

                if (cell.Length == 0)
                {
                    b.AppendString(null);
                    continue;
                }

                try
                {
                    b.Append(ParseCell(b.Type, cell));
                }
                catch (Exception e) when (e is FormatException or OverflowException)
                {
                    // OverflowException: a long or unsignedLong cell out of range (found by AFL++, tests/InfluxLike.Fuzz).
                    throw new QueryException($"annotated CSV line {lineNo}, column \"{_header[c]}\": {e.Message}");
                }
            }
        }

        public (string, Table) Build()
        {
            var metas = new List<ColumnMeta>();
            var data = new List<ColumnData>();
            var keyCols = new List<ColumnMeta>();
            var keyVals = new List<Value>();
            for (int c = _first; c < _header.Length; c++)
            {
                var meta = new ColumnMeta(_header[c], _builders[c].Type);
                var column = _builders[c].Build();
                metas.Add(meta);
                data.Add(column);
                if (_group[c])
                {
                    keyCols.Add(meta);
                    keyVals.Add(column.Bits?.Length > 0 || column.Strings?.Length > 0 ? column.Get(0) : DefaultValue(c, meta.Type));
                }
            }

            int rows = _builders[_first < _builders.Length ? _first : 0].Count;
            return (_result ?? _defaults?.ElementAtOrDefault(Array.IndexOf(_header, "result")) ?? "_result",
                new Table(new GroupKey([.. keyCols], [.. keyVals]), [.. metas], [.. data], rows));
        }

        private Value DefaultValue(int c, Kind type)
        {
            string cell = _defaults is not null && c < _defaults.Length ? _defaults[c] : "";
            try
            {
                return cell.Length == 0 ? Value.Null : ParseCell(type, cell);
            }
            catch (Exception e) when (e is FormatException or OverflowException)
            {
                // Found by fuzzing (tests/InfluxLike.Fuzz): a bad #default cell escaped as a bare FormatException.
                throw new QueryException($"annotated CSV #default, column \"{_header[c]}\": {e.Message}");
            }
        }
    }

    public static Kind ParseType(string t) => t switch
    {
        "string" or "#datatype" => Kind.String,
        "long" => Kind.Int,
        "unsignedLong" => Kind.UInt,
        "double" => Kind.Float,
        "boolean" => Kind.Bool,
        "duration" => Kind.Int,
        _ when t.StartsWith("dateTime", StringComparison.Ordinal) => Kind.Time,
        _ => throw new QueryException($"annotated CSV: unknown datatype \"{t}\""),
    };

    public static Value ParseCell(Kind type, string cell) => type switch
    {
        Kind.String => Value.String(cell),
        Kind.Int => Value.Int(long.Parse(cell, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)),
        Kind.UInt => Value.UInt(ulong.Parse(cell, NumberStyles.None, CultureInfo.InvariantCulture)),
        Kind.Float => Value.Float(ParseFloat(cell)),
        Kind.Bool => Value.Bool(cell switch
        {
            "true" or "True" or "TRUE" or "t" or "T" or "1" => true,
            "false" or "False" or "FALSE" or "f" or "F" or "0" => false,
            _ => throw new FormatException($"\"{cell}\" is not a boolean"),
        }),
        Kind.Time => Value.Time(ParseTime(cell)),
        _ => throw new FormatException("unsupported type"),
    };

    private static double ParseFloat(string cell) => cell switch
    {
        "NaN" => double.NaN,
        "+Inf" or "Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.Parse(cell, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    public static long ParseTime(string cell)
    {
        try
        {
            if (Literals.TryParseDateTime(cell, out long ns, out string problem))
            {
                return ns;
            }

            throw new FormatException($"\"{cell}\" is not an RFC 3339 time: {problem}");
        }
        catch (ArgumentOutOfRangeException)
        {
            throw new FormatException($"\"{cell}\" is not an RFC 3339 time");
        }
    }

    /// <summary>RFC 4180 rows: quoted cells may hold delimiters, quotes (doubled) and line breaks; CR before LF dropped.</summary>
    private static IEnumerable<List<string>> Rows(string text)
    {
        int i = 0;
        var cell = new StringBuilder();
        while (i < text.Length)
        {
            var row = new List<string>();
            while (true)
            {
                cell.Clear();
                if (i < text.Length && text[i] == '"')
                {
                    i++;
                    while (i < text.Length)
                    {
                        if (text[i] == '"')
                        {
                            if (i + 1 < text.Length && text[i + 1] == '"')
                            {
                                cell.Append('"');
                                i += 2;
                                continue;
                            }

                            i++;
                            break;
                        }

                        cell.Append(text[i++]);
                    }
                }

                while (i < text.Length && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
                {
                    cell.Append(text[i++]);
                }

                row.Add(cell.ToString());
                if (i < text.Length && text[i] == ',')
                {
                    i++;
                    continue;
                }

                if (i < text.Length && text[i] == '\r')
                {
                    i++;
                }

                if (i < text.Length && text[i] == '\n')
                {
                    i++;
                }

                break;
            }

            yield return row;
        }
    }
}

/// <summary>
/// Writes results as InfluxDB 2.x annotated CSV: per table schema a block of <c>#datatype</c>, <c>#group</c>,
/// <c>#default</c> rows and a header, records <c>,,0,...</c>, CRLF line ends, a blank line between blocks and
/// after the last, floats as Go's shortest 'f' format, times as RFC3339Nano. Streams: each table is written
/// as soon as it is given. Writes UTF-8 bytes: numbers and times are formatted as bytes in place, and text is
/// encoded once, when a table's constant cells are (an HTTP response needs no second pass through an encoder).
/// </summary>
public sealed class AnnotatedCsvWriter
{
    // Rows are formatted into _line and handed to the output once it holds FlushAt bytes, and at each table's end.
    private const int FlushAt = 16 * 1024;
    private readonly IBufferWriter<byte> _out;
    private readonly CsvDialect _dialect;
    private string? _result;
    private int _tableId;
    private ColumnMeta[]? _schema;
    private bool[]? _schemaKey;
    private bool _wroteAny;
    private byte[] _line = new byte[1024]; // grows to FlushAt and a row when a result is large
    private int _length;
    private Formats.TimeText _times;

    /// <param name="output">Receives the text in pieces of up to 16 KiB and a row (each table's end also hands over
    /// what is pending); an HTTP response's writer can send each piece as it comes.</param>
    public AnnotatedCsvWriter(IBufferWriter<byte> output, CsvDialect? dialect = null)
    {
        _out = output;
        _dialect = dialect ?? CsvDialect.Default;
    }

    public bool WroteAny => _wroteAny;

    /// <summary>Writes <paramref name="tables"/> and finishes: the whole CSV text (for tests and small answers).</summary>
    public static string ToText(IEnumerable<(string Result, Table Table)> tables, CsvDialect? dialect = null)
    {
        var bytes = new ArrayBufferWriter<byte>();
        var writer = new AnnotatedCsvWriter(bytes, dialect);
        foreach (var (result, table) in tables)
        {
            writer.WriteTable(result, table);
        }

        writer.Finish();
        return Encoding.UTF8.GetString(bytes.WrittenSpan);
    }

    public void WriteTable(string result, Table table)
    {
        if (table.IsEmpty)
        {
            return;
        }

        if (_result != result)
        {
            _result = result;
            _tableId = 0;
            _schema = null;
        }

        bool[] key = [.. table.Columns.Select(c => table.Key.Contains(c.Name))];
        if (_schema is null || !_schema.AsSpan().SequenceEqual(table.Columns) || !_schemaKey!.AsSpan().SequenceEqual(key))
        {
            if (_wroteAny)
            {
                Put("\r\n"u8);
            }

            _schema = table.Columns;
            _schemaKey = key;
            WriteHeader(result, table, key);
        }

        _wroteAny = true;
        char d = _dialect.Delimiter;
        string resultCell = _dialect.DefaultRow ? "" : Quote(result);
        string tableCell = _tableId.ToString(CultureInfo.InvariantCulture);

        // A constant column (the group key's, typically) is formatted once per table, not once per row, and each run of
        // constant cells with its delimiters becomes one piece of UTF-8: a row is then a few copies and its varying cells.
        var texts = new List<byte[]>();
        var columns = new List<int>(); // the varying column after each text; -1 after the last
        var run = new StringBuilder().Append(d).Append(resultCell).Append(d).Append(tableCell);
        for (int c = 0; c < table.Columns.Length; c++)
        {
            run.Append(d);
            if (table.Data[c].IsConstant)
            {
                run.Append(ConstantCell(table.Data[c].ConstantValue));
            }
            else
            {
                texts.Add(Encoding.UTF8.GetBytes(run.ToString()));
                columns.Add(c);
                run.Clear();
            }
        }

        texts.Add(Encoding.UTF8.GetBytes(run.Append("\r\n").ToString()));
        columns.Add(-1);

        // Rows are formatted into one byte buffer, numbers and times in place, and handed to the output in runs.
        if (TryWriteNumberRows(table, texts, columns))
        {
            FlushLine();
            _tableId++;
            return;
        }

        for (int row = 0; row < table.Rows; row++)
        {
            for (int i = 0; i < texts.Count; i++)
            {
                Put(texts[i]);
                if (columns[i] >= 0)
                {
                    PutCell(table.Data[columns[i]], row);
                }
            }

            if (_length > FlushAt)
            {
                FlushLine();
            }
        }

        FlushLine();
        _tableId++;
    }

    // The usual table (varying cells all numbers, times or booleans, none null): each row is written into one span
    // reserved for the longest such row, without a per-cell type test, null test or room check.
    private bool TryWriteNumberRows(Table table, List<byte[]> texts, List<int> columns)
    {
        int varying = columns.Count - 1;
        var kinds = new Kind[varying];
        var bits = new long[varying][];
        int longest = texts.Sum(t => t.Length);
        for (int i = 0; i < varying; i++)
        {
            ColumnData column = table.Data[columns[i]];
            if (column.Nulls is not null || column.Bits is not { } values || column.Type is not (Kind.Float or Kind.Int or Kind.UInt or Kind.Time or Kind.Bool))
            {
                return false;
            }

            kinds[i] = column.Type;
            bits[i] = values;
            longest += MaxNumberLength(column.Type);
        }

        for (int row = 0; row < table.Rows; row++)
        {
            Span<byte> line = Room(longest);
            int at = 0;
            for (int i = 0; i < varying; i++)
            {
                byte[] text = texts[i];
                text.CopyTo(line[at..]);
                at += text.Length;
                at += FormatNumber(kinds[i], bits[i][row], line[at..]);
            }

            byte[] end = texts[varying];
            end.CopyTo(line[at..]);
            _length += at + end.Length;
            if (_length > FlushAt)
            {
                FlushLine();
            }
        }

        return true;
    }

    // The longest text FormatNumber writes for a kind.
    private static int MaxNumberLength(Kind kind) => kind switch
    {
        Kind.Float => ShortestFloat.MaxFixedLength,
        Kind.Time => Formats.MaxTimeLength,
        _ => 20, // a long, a ulong, "false"
    };

    // A number, time or boolean cell into room (at least MaxNumberLength long); the bytes written.
    private int FormatNumber(Kind kind, long bits, Span<byte> room)
    {
        int written;
        switch (kind)
        {
            case Kind.Float:
                double v = BitConverter.Int64BitsToDouble(bits);
                return Formats.TryFormatFloat(v, room, out written) ? written : Encoding.UTF8.GetBytes(Formats.Float(v), room); // NaN, ±Inf
            case Kind.Time:
                return _times.Format(bits, room);
            case Kind.Int:
                bits.TryFormat(room, out written, default, CultureInfo.InvariantCulture);
                return written;
            case Kind.UInt:
                ((ulong)bits).TryFormat(room, out written, default, CultureInfo.InvariantCulture);
                return written;
            case Kind.Bool:
                ReadOnlySpan<byte> word = bits != 0 ? "true"u8 : "false"u8;
                word.CopyTo(room);
                return word.Length;
            default:
                return 0; // no value of its own (a null column)
        }
    }

    private void FlushLine()
    {
        if (_length > 0)
        {
            _out.Write(_line.AsSpan(0, _length));
            _length = 0;
        }
    }

    private Span<byte> Room(int count)
    {
        if (_line.Length - _length < count)
        {
            Array.Resize(ref _line, Math.Max(_line.Length * 2, _length + count));
        }

        return _line.AsSpan(_length);
    }

    private void Put(ReadOnlySpan<byte> utf8)
    {
        utf8.CopyTo(Room(utf8.Length));
        _length += utf8.Length;
    }

    private void Put(string s) => _length += Encoding.UTF8.GetBytes(s, Room(Encoding.UTF8.GetMaxByteCount(s.Length)));

    private void PutCell(ColumnData column, int row)
    {
        if (column.IsNull(row))
        {
            return;
        }

        if (column.Type == Kind.String)
        {
            Put(Quote(column.Strings![row]!));
            return;
        }

        _length += FormatNumber(column.Type, column.Bits![row], Room(MaxNumberLength(column.Type)));
    }

    /// <summary>An error that arrived after rows were written: Flux's in-band error table.</summary>
    public void WriteError(string message)
    {
        if (_wroteAny)
        {
            Put("\r\n"u8);
        }

        char d = _dialect.Delimiter;
        Put($"#datatype{d}string{d}string\r\n#group{d}true{d}true\r\n#default{d}{d}\r\n{d}error{d}reference\r\n{d}{Quote(message)}{d}\r\n");
        FlushLine();
        _wroteAny = true;
    }

    /// <summary>Ends the text (a blank line after the last table) and hands over what is pending.</summary>
    public void Finish()
    {
        if (_wroteAny)
        {
            Put("\r\n"u8);
        }

        FlushLine();
    }

    private void WriteHeader(string result, Table table, bool[] key)
    {
        char d = _dialect.Delimiter;
        var sb = new StringBuilder();
        if (_dialect.DataType)
        {
            sb.Append("#datatype").Append(d).Append("string").Append(d).Append("long");
            foreach (var c in table.Columns)
            {
                sb.Append(d).Append(TypeName(c.Type));
            }

            sb.Append("\r\n");
        }

        if (_dialect.Group)
        {
            sb.Append("#group").Append(d).Append("false").Append(d).Append("false");
            foreach (bool k in key)
            {
                sb.Append(d).Append(k ? "true" : "false");
            }

            sb.Append("\r\n");
        }

        if (_dialect.DefaultRow)
        {
            sb.Append("#default").Append(d).Append(Quote(result)).Append(d);
            foreach (var _ in table.Columns)
            {
                sb.Append(d);
            }

            sb.Append("\r\n");
        }

        if (_dialect.Header)
        {
            sb.Append(d).Append("result").Append(d).Append("table");
            foreach (var c in table.Columns)
            {
                sb.Append(d).Append(Quote(c.Name));
            }

            sb.Append("\r\n");
        }

        Put(sb.ToString());
    }

    public static string TypeName(Kind kind) => kind switch
    {
        Kind.Bool => "boolean",
        Kind.Int => "long",
        Kind.UInt => "unsignedLong",
        Kind.Float => "double",
        Kind.Time => "dateTime:RFC3339",
        _ => "string",
    };

    private string ConstantCell(Value v) => v.Kind switch
    {
        Kind.String => Quote(v.AsString),
        Kind.Int => v.AsInt.ToString(CultureInfo.InvariantCulture),
        Kind.UInt => v.AsUInt.ToString(CultureInfo.InvariantCulture),
        Kind.Float => Formats.Float(v.AsFloat),
        Kind.Bool => v.AsBool ? "true" : "false",
        Kind.Time => Formats.Time(v.AsTime),
        _ => "",
    };

    private string Quote(string s)
    {
        if (s.Length == 0)
        {
            return s;
        }

        bool needs = char.IsWhiteSpace(s[0]) || s == "\\.";
        foreach (char ch in s)
        {
            if (ch == _dialect.Delimiter || ch == '"' || ch == '\r' || ch == '\n')
            {
                needs = true;
                break;
            }
        }

        return needs ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
    }
}
