using InfluxLike.Query.Values;

namespace InfluxLike.Query.Data;

/// <summary>Grows one typed column.</summary>
public sealed class ColumnBuilder
{
    private long[] _bits;
    private string?[]? _strings;
    private bool[]? _nulls;

    public ColumnBuilder(Kind type, int capacity = 8)
    {
        Type = type;
        capacity = Math.Max(capacity, 4);
        if (type == Kind.String)
        {
            _bits = [];
            _strings = new string?[capacity];
        }
        else
        {
            _bits = new long[capacity];
        }
    }

    public Kind Type { get; }

    public int Count { get; private set; }

    private void Grow()
    {
        int size = Math.Max(8, Capacity * 2);
        if (_strings is not null)
        {
            Array.Resize(ref _strings, size);
        }
        else
        {
            Array.Resize(ref _bits, size);
            if (_nulls is not null)
            {
                Array.Resize(ref _nulls, size);
            }
        }
    }

    private int Capacity => _strings?.Length ?? _bits.Length;

    public void AppendNull()
    {
        if (Count == Capacity)
        {
            Grow();
        }

        if (_strings is null)
        {
            _nulls ??= new bool[_bits.Length];
            _nulls[Count] = true;
        }

        Count++;
    }

    public void AppendBits(long bits)
    {
        if (Count == Capacity)
        {
            Grow();
        }

        _bits[Count++] = bits;
    }

    public void AppendString(string? s)
    {
        if (Count == Capacity)
        {
            Grow();
        }

        _strings![Count++] = s;
    }

    /// <summary>Appends a value of the column's type (or null); a value of another type is an error for the caller to report.</summary>
    public void Append(Value v)
    {
        if (v.IsNull)
        {
            AppendNull();
        }
        else if (Type == Kind.String)
        {
            AppendString(v.AsString);
        }
        else
        {
            AppendBits(v.Bits);
        }
    }

    public void AppendFrom(ColumnData data, int row)
    {
        if (data.IsConstant)
        {
            Append(data.ConstantValue);
        }
        else if (Type == Kind.String)
        {
            AppendString(data.Strings![row]);
        }
        else if (data.IsNull(row))
        {
            AppendNull();
        }
        else
        {
            AppendBits(data.Bits![row]);
        }
    }

    /// <summary>Appends every row of <paramref name="data"/>: one fill for a constant column, one copy otherwise.</summary>
    public void AppendAll(ColumnData data)
    {
        int n = data.Length;
        while (Capacity < Count + n)
        {
            Grow();
        }

        if (data.IsConstant)
        {
            var v = data.ConstantValue;
            if (v.IsNull)
            {
                for (int i = 0; i < n; i++)
                {
                    AppendNull();
                }
            }
            else if (_strings is not null)
            {
                _strings.AsSpan(Count, n).Fill(v.AsString);
                Count += n;
            }
            else
            {
                _bits.AsSpan(Count, n).Fill(v.Bits);
                Count += n;
            }

            return;
        }

        if (_strings is not null)
        {
            data.Strings.AsSpan(0, n).CopyTo(_strings.AsSpan(Count));
        }
        else
        {
            data.Bits.AsSpan(0, n).CopyTo(_bits.AsSpan(Count));
            if (data.Nulls is { } nulls)
            {
                _nulls ??= new bool[_bits.Length];
                nulls.AsSpan(0, n).CopyTo(_nulls.AsSpan(Count));
            }
        }

        Count += n;
    }

    public ColumnData Build()
    {
        if (Type == Kind.String)
        {
            return new ColumnData(Type, null, Count == _strings!.Length ? _strings : _strings[..Count], null);
        }

        return new ColumnData(
            Type,
            Count == _bits.Length ? _bits : _bits[..Count],
            null,
            _nulls is null ? null : (Count == _nulls.Length ? _nulls : _nulls[..Count]));
    }
}

/// <summary>Builds one table column by column and row by row, columns added by name as they first appear.</summary>
public sealed class TableBuilder
{
    private readonly List<ColumnMeta> _columns = [];
    private readonly List<ColumnBuilder> _builders = [];

    public TableBuilder(GroupKey key)
    {
        Key = key;
    }

    public GroupKey Key { get; }

    public int Rows { get; private set; }

    public IReadOnlyList<ColumnMeta> Columns => _columns;

    public int IndexOf(string name)
    {
        for (int i = 0; i < _columns.Count; i++)
        {
            if (_columns[i].Name == name)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The index of column <paramref name="name"/>, adding it (null-filled so far) when new; a type clash throws.</summary>
    public int AddColumn(string name, Kind type)
    {
        int i = IndexOf(name);
        if (i >= 0)
        {
            if (_columns[i].Type != type)
            {
                if (_columns[i].Type == Kind.Null)
                {
                    // A column first seen only as nulls takes the first real type.
                    var builder = new ColumnBuilder(type, Rows);
                    for (int r = 0; r < _builders[i].Count; r++)
                    {
                        builder.AppendNull();
                    }

                    _builders[i] = builder;
                    _columns[i] = new ColumnMeta(name, type);
                    return i;
                }

                if (type != Kind.Null)
                {
                    throw new QueryException($"schema collision: column \"{name}\" is both {Value.KindName(_columns[i].Type)} and {Value.KindName(type)}");
                }
            }

            return i;
        }

        var b = new ColumnBuilder(type == Kind.Null ? Kind.Null : type, Math.Max(Rows, 8));
        for (int r = 0; r < Rows; r++)
        {
            b.AppendNull();
        }

        _columns.Add(new ColumnMeta(name, type));
        _builders.Add(b);
        return _columns.Count - 1;
    }

    public ColumnBuilder this[int column] => _builders[column];

    /// <summary>Ends the current row: columns that got no value get a null.</summary>
    public void EndRow()
    {
        Rows++;
        PadToRows();
    }

    private void PadToRows()
    {
        foreach (var b in _builders)
        {
            while (b.Count < Rows)
            {
                b.AppendNull();
            }
        }
    }

    /// <summary>Appends a whole row from another table (columns matched by name; missing ones null).</summary>
    public void AppendRow(Table source, int row, int[] map)
    {
        for (int c = 0; c < map.Length; c++)
        {
            _builders[map[c]].AppendFrom(source.Data[c], row);
        }

        EndRow();
    }

    /// <summary>Appends all rows of another table (columns matched through <paramref name="map"/>; missing ones null).</summary>
    public void AppendTable(Table source, int[] map)
    {
        for (int c = 0; c < map.Length; c++)
        {
            _builders[map[c]].AppendAll(source.Data[c]);
        }

        Rows += source.Rows;
        PadToRows(); // the columns the source lacks
    }

    /// <summary>Columns of <paramref name="source"/> mapped to this builder's column indexes, added as needed.</summary>
    public int[] MapColumns(Table source)
    {
        var map = new int[source.Columns.Length];
        for (int c = 0; c < map.Length; c++)
        {
            map[c] = AddColumn(source.Columns[c].Name, source.Columns[c].Type);
        }

        return map;
    }

    /// <summary>
    /// All rows of <paramref name="tables"/>, in order, as one table with key <paramref name="key"/>: what appending each
    /// with <see cref="AppendTable"/> builds, with each column sized once, and kept as one value where every table
    /// holds the same one there (the tables' <c>_start</c>, <c>_measurement</c>... when <c>group()</c> merges series).
    /// </summary>
    public static Table Concat(GroupKey key, IReadOnlyList<Table> tables)
    {
        var schema = new TableBuilder(key);
        var maps = new int[tables.Count][];
        int total = 0;
        for (int t = 0; t < tables.Count; t++)
        {
            maps[t] = schema.MapColumns(tables[t]);
            total += tables[t].Rows;
        }

        var columns = new ColumnMeta[schema._columns.Count];
        var data = new ColumnData[columns.Length];
        var sources = new ColumnData?[tables.Count];
        for (int c = 0; c < columns.Length; c++)
        {
            var meta = schema._columns[c];
            for (int t = 0; t < tables.Count; t++)
            {
                int from = Array.IndexOf(maps[t], c);
                sources[t] = from < 0 || tables[t].Columns[from].Type == Kind.Null ? null : tables[t].Data[from];
            }

            if (meta.Type == Kind.Null)
            {
                // A column that never got a value is typed string, as Flux does for all-null columns.
                meta = meta with { Type = Kind.String };
                data[c] = ColumnData.Constant(Kind.String, Value.Null, total);
            }
            else
            {
                data[c] = SameEverywhere(tables, sources, out Value value) ? ColumnData.Constant(meta.Type, value, total) : Concat(meta.Type, tables, sources, total);
            }

            columns[c] = meta;
        }

        return new Table(key, columns, data, total);
    }

    // True when every row of every table holds the same value in this column (null where a table lacks it).
    private static bool SameEverywhere(IReadOnlyList<Table> tables, ColumnData?[] sources, out Value value)
    {
        value = Value.Null;
        bool first = true;
        for (int t = 0; t < tables.Count; t++)
        {
            if (tables[t].IsEmpty)
            {
                continue;
            }

            ColumnData? source = sources[t];
            if (source is not null && !source.IsConstant)
            {
                return false;
            }

            Value v = source?.ConstantValue ?? Value.Null;
            if (first)
            {
                (value, first) = (v, false);
            }
            else if (v.IsNull != value.IsNull || (!v.IsNull && (v.Kind != value.Kind || (v.Kind == Kind.String ? v.AsString != value.AsString : v.Bits != value.Bits))))
            {
                return false;
            }
        }

        return true;
    }

    private static ColumnData Concat(Kind type, IReadOnlyList<Table> tables, ColumnData?[] sources, int total)
    {
        int at = 0;
        if (type == Kind.String)
        {
            var strings = new string?[total];
            for (int t = 0; t < tables.Count; t++)
            {
                int n = tables[t].Rows;
                if (sources[t] is { } source)
                {
                    if (source.IsConstant)
                    {
                        strings.AsSpan(at, n).Fill(source.ConstantValue.IsNull ? null : source.ConstantValue.AsString);
                    }
                    else
                    {
                        source.Strings.AsSpan(0, n).CopyTo(strings.AsSpan(at));
                    }
                }

                at += n;
            }

            return new ColumnData(type, null, strings, null);
        }

        var bits = new long[total];
        bool[]? nulls = null;
        for (int t = 0; t < tables.Count; t++)
        {
            int n = tables[t].Rows;
            ColumnData? source = sources[t];
            if (source is null || (source.IsConstant && source.ConstantValue.IsNull))
            {
                nulls ??= new bool[total];
                nulls.AsSpan(at, n).Fill(true);
            }
            else if (source.IsConstant)
            {
                bits.AsSpan(at, n).Fill(source.ConstantValue.Bits);
            }
            else
            {
                source.Bits.AsSpan(0, n).CopyTo(bits.AsSpan(at));
                if (source.Nulls is { } sourceNulls)
                {
                    nulls ??= new bool[total];
                    sourceNulls.AsSpan(0, n).CopyTo(nulls.AsSpan(at));
                }
            }

            at += n;
        }

        return new ColumnData(type, bits, null, nulls);
    }

    public Table Build()
    {
        var columns = new ColumnMeta[_columns.Count];
        var data = new ColumnData[_columns.Count];
        for (int i = 0; i < columns.Length; i++)
        {
            // A column that never got a value is typed string, as Flux does for all-null columns.
            var meta = _columns[i];
            if (meta.Type == Kind.Null)
            {
                meta = meta with { Type = Kind.String };
                data[i] = ColumnData.Constant(Kind.String, Value.Null, Rows);
            }
            else
            {
                data[i] = _builders[i].Build();
            }

            columns[i] = meta;
        }

        return new Table(Key, columns, data, Rows);
    }
}
