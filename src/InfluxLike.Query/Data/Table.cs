using InfluxLike.Query.Values;

namespace InfluxLike.Query.Data;

/// <summary>A column's name and type (one of bool, int, uint, float, string, time).</summary>
public readonly record struct ColumnMeta(string Name, Kind Type);

/// <summary>
/// A column's values: numbers, booleans and times in <see cref="Bits"/> (floats as bit patterns),
/// strings in <see cref="Strings"/>; <see cref="Nulls"/> marks null cells (absent when there are none).
/// A column holding one value in every row (a group-key column, <c>_start</c>/<c>_stop</c>) is stored as that
/// value only; its arrays are built on first use, which cell access through <see cref="Get"/>/<see cref="IsNull"/>
/// and the row-moving operations never need.
/// </summary>
public sealed class ColumnData
{
    private readonly Value _constant;
    private long[]? _bits;
    private string?[]? _strings;
    private bool[]? _nulls;

    public ColumnData(Kind type, long[]? bits, string?[]? strings, bool[]? nulls)
    {
        Type = type;
        _bits = bits;
        _strings = strings;
        _nulls = nulls;
        Length = strings?.Length ?? bits?.Length ?? 0;
    }

    private ColumnData(Kind type, Value constant, int rows)
    {
        Type = type;
        _constant = constant;
        IsConstant = true;
        Length = rows;
    }

    public Kind Type { get; }

    public int Length { get; }

    /// <summary>True when every row holds <see cref="ConstantValue"/>.</summary>
    public bool IsConstant { get; }

    public Value ConstantValue => _constant;

    public long[]? Bits
    {
        get
        {
            if (IsConstant && Type != Kind.String && _bits is null)
            {
                var bits = new long[Length];
                Array.Fill(bits, _constant.IsNull ? 0 : _constant.Bits);
                _bits = bits;
            }

            return _bits;
        }
    }

    public string?[]? Strings
    {
        get
        {
            if (IsConstant && Type == Kind.String && _strings is null)
            {
                var strings = new string?[Length];
                Array.Fill(strings, _constant.IsNull ? null : _constant.AsString);
                _strings = strings;
            }

            return _strings;
        }
    }

    public bool[]? Nulls
    {
        get
        {
            if (IsConstant && _constant.IsNull && Type != Kind.String && _nulls is null)
            {
                var nulls = new bool[Length];
                Array.Fill(nulls, true);
                _nulls = nulls;
            }

            return _nulls;
        }
    }

    public bool IsNull(int row) =>
        IsConstant ? _constant.IsNull
        : Type == Kind.String ? _strings![row] is null
        : _nulls is not null && _nulls[row];

    public Value Get(int row)
    {
        if (IsConstant)
        {
            return _constant;
        }

        if (Type == Kind.String)
        {
            string? s = _strings![row];
            return s is null ? Value.Null : Value.String(s);
        }

        if (Type == Kind.Null || (_nulls is not null && _nulls[row]))
        {
            return Value.Null;
        }

        return Value.FromBits(Type, _bits![row]);
    }

    /// <summary>A column of <paramref name="rows"/> copies of one value (stored once).</summary>
    public static ColumnData Constant(Kind type, Value value, int rows) =>
        new(type, value.IsNull ? Value.Null : type == Kind.String ? value : Value.FromBits(type, value.Bits), rows);

    /// <summary>The same value in <paramref name="rows"/> rows: for gathering or slicing a constant column.</summary>
    public ColumnData Resized(int rows) => new(Type, _constant, rows);

    public long ApproximateBytes => IsConstant ? 16 : (_bits?.Length * 8L ?? 0) + (_strings?.Length * 8L ?? 0) + (_nulls?.Length ?? 0);
}

/// <summary>
/// One table of a stream: its group key, its columns and their values, columnar. Tables are immutable once
/// built; operators make new ones, sharing unchanged columns.
/// </summary>
public sealed class Table
{
    private Dictionary<string, int>? _byName;

    public Table(GroupKey key, ColumnMeta[] columns, ColumnData[] data, int rows)
    {
        Key = key;
        Columns = columns;
        Data = data;
        Rows = rows;
    }

    public GroupKey Key { get; }

    public ColumnMeta[] Columns { get; }

    public ColumnData[] Data { get; }

    public int Rows { get; }

    public bool IsEmpty => Rows == 0;

    public int IndexOf(string name)
    {
        if (Columns.Length <= 8)
        {
            for (int i = 0; i < Columns.Length; i++)
            {
                if (Columns[i].Name == name)
                {
                    return i;
                }
            }

            return -1;
        }

        _byName ??= Columns.Select((c, i) => (c.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        return _byName.TryGetValue(name, out int index) ? index : -1;
    }

    public ColumnData? Column(string name)
    {
        int i = IndexOf(name);
        return i < 0 ? null : Data[i];
    }

    public Value Get(int column, int row) => Data[column].Get(row);

    public long ApproximateBytes => Data.Sum(d => d.ApproximateBytes);

    /// <summary>An empty table with the key's columns only.</summary>
    public static Table EmptyFor(GroupKey key) =>
        new(key, key.Columns, [.. key.Columns.Select((c, i) => ColumnData.Constant(c.Type, key.Values[i], 0))], 0);
}

/// <summary>
/// A table's group key: the key columns (in table column order) and their values. Two keys are equal when
/// they have the same columns, in any order, with the same values (nulls equal).
/// </summary>
public sealed class GroupKey : IEquatable<GroupKey>
{
    public static readonly GroupKey Empty = new([], []);
    private int _hash;

    public GroupKey(ColumnMeta[] columns, Value[] values)
    {
        Columns = columns;
        Values = values;
    }

    public ColumnMeta[] Columns { get; }

    public Value[] Values { get; }

    public int IndexOf(string name)
    {
        for (int i = 0; i < Columns.Length; i++)
        {
            if (Columns[i].Name == name)
            {
                return i;
            }
        }

        return -1;
    }

    public bool Contains(string name) => IndexOf(name) >= 0;

    public Value Get(string name)
    {
        int i = IndexOf(name);
        return i < 0 ? Value.Null : Values[i];
    }

    public bool Equals(GroupKey? other)
    {
        if (other is null || other.Columns.Length != Columns.Length)
        {
            return false;
        }

        if (ReferenceEquals(this, other))
        {
            return true;
        }

        for (int i = 0; i < Columns.Length; i++)
        {
            int j = i < other.Columns.Length && other.Columns[i].Name == Columns[i].Name ? i : other.IndexOf(Columns[i].Name);
            if (j < 0 || other.Columns[j].Type != Columns[i].Type || !Values[i].Equals(other.Values[j]))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as GroupKey);

    public override int GetHashCode()
    {
        if (_hash == 0)
        {
            int h = 17;
            for (int i = 0; i < Columns.Length; i++)
            {
                h ^= HashCode.Combine(Columns[i].Name.GetHashCode(StringComparison.Ordinal), Values[i]);
            }

            _hash = h == 0 ? 1 : h;
        }

        return _hash;
    }

    /// <summary>Order keys by their columns' values (sorted by column name), for deterministic output.</summary>
    public static int Compare(GroupKey a, GroupKey b)
    {
        var names = a.Columns.Select(c => c.Name).Union(b.Columns.Select(c => c.Name)).Order(StringComparer.Ordinal);
        foreach (string name in names)
        {
            int ia = a.IndexOf(name), ib = b.IndexOf(name);
            if (ia < 0 || ib < 0)
            {
                if (ia != ib)
                {
                    return ia < 0 ? -1 : 1;
                }

                continue;
            }

            int c = Value.Compare(a.Values[ia], b.Values[ib]);
            if (c != 0)
            {
                return c;
            }
        }

        return 0;
    }

    public override string ToString() => "{" + string.Join(", ", Columns.Select((c, i) => c.Name + "=" + Values[i])) + "}";
}
