using InfluxLike.Query.Data;
using InfluxLike.Query.Runtime;
using InfluxLike.Query.Values;

namespace InfluxLike.Query;

/// <summary>
/// The table-level work of the core transformations, kept apart from argument handling so that the planner's
/// physical operators and the interpreter's calls share one implementation.
/// </summary>
public static class TableOps
{
    public const string Start = "_start";
    public const string Stop = "_stop";
    public const string Time = "_time";
    public const string ValueColumn = "_value";

    /// <summary>Rows of <paramref name="table"/> at the given indexes, in that order.</summary>
    public static Table Gather(Table table, ReadOnlySpan<int> rows)
    {
        if (rows.Length == table.Rows)
        {
            bool identity = true;
            for (int i = 0; i < rows.Length && identity; i++)
            {
                identity = rows[i] == i;
            }

            if (identity)
            {
                return table;
            }
        }

        var data = new ColumnData[table.Columns.Length];
        for (int c = 0; c < data.Length; c++)
        {
            var src = table.Data[c];
            if (src.IsConstant)
            {
                data[c] = src.Resized(rows.Length);
            }
            else if (src.Type == Kind.String)
            {
                var s = new string?[rows.Length];
                for (int i = 0; i < rows.Length; i++)
                {
                    s[i] = src.Strings![rows[i]];
                }

                data[c] = new ColumnData(src.Type, null, s, null);
            }
            else
            {
                var b = new long[rows.Length];
                bool[]? n = src.Nulls is null ? null : new bool[rows.Length];
                for (int i = 0; i < rows.Length; i++)
                {
                    b[i] = src.Bits![rows[i]];
                    if (n is not null)
                    {
                        n[i] = src.Nulls![rows[i]];
                    }
                }

                data[c] = new ColumnData(src.Type, b, null, n);
            }
        }

        return new Table(table.Key, table.Columns, data, rows.Length);
    }

    /// <summary>Rows [from, to) of the table.</summary>
    public static Table Slice(Table table, int from, int to)
    {
        from = Math.Clamp(from, 0, table.Rows);
        to = Math.Clamp(to, from, table.Rows);
        if (from == 0 && to == table.Rows)
        {
            return table;
        }

        var data = new ColumnData[table.Columns.Length];
        for (int c = 0; c < data.Length; c++)
        {
            var src = table.Data[c];
            data[c] = src.IsConstant ? src.Resized(to - from)
                : src.Type == Kind.String
                ? new ColumnData(src.Type, null, src.Strings![from..to], null)
                : new ColumnData(src.Type, src.Bits![from..to], null, src.Nulls?[from..to]);
        }

        return new Table(table.Key, table.Columns, data, to - from);
    }

    /// <summary>The table with a key column set to a constant (added at the front when missing) and in the key.</summary>
    public static Table SetKeyColumn(Table table, string name, Value value, Kind type)
    {
        int c = table.IndexOf(name);
        ColumnMeta[] columns;
        ColumnData[] data;
        var constant = ColumnData.Constant(type, value, table.Rows);
        if (c >= 0)
        {
            columns = (ColumnMeta[])table.Columns.Clone();
            data = (ColumnData[])table.Data.Clone();
            columns[c] = new ColumnMeta(name, type);
            data[c] = constant;
        }
        else
        {
            columns = [new ColumnMeta(name, type), .. table.Columns];
            data = [constant, .. table.Data];
        }

        var key = table.Key;
        int k = key.IndexOf(name);
        GroupKey newKey;
        if (k >= 0)
        {
            var values = (Value[])key.Values.Clone();
            var metas = (ColumnMeta[])key.Columns.Clone();
            values[k] = value;
            metas[k] = new ColumnMeta(name, type);
            newKey = new GroupKey(metas, values);
        }
        else
        {
            newKey = new GroupKey([new ColumnMeta(name, type), .. key.Columns], [value, .. key.Values]);
        }

        // Keep key column order following the table's column order.
        newKey = OrderKey(newKey, columns);
        return new Table(newKey, columns, data, table.Rows);
    }

    public static GroupKey OrderKey(GroupKey key, ColumnMeta[] columns)
    {
        var metas = new List<ColumnMeta>();
        var values = new List<Value>();
        foreach (var column in columns)
        {
            int k = key.IndexOf(column.Name);
            if (k >= 0)
            {
                metas.Add(key.Columns[k]);
                values.Add(key.Values[k]);
            }
        }

        for (int k = 0; k < key.Columns.Length; k++)
        {
            if (!metas.Any(m => m.Name == key.Columns[k].Name))
            {
                metas.Add(key.Columns[k]);
                values.Add(key.Values[k]);
            }
        }

        return new GroupKey([.. metas], [.. values]);
    }

    public static Table Range(Table table, long start, long stop)
    {
        int t = table.IndexOf(Time);
        if (t < 0 || table.Columns[t].Type != Kind.Time)
        {
            throw new QueryException("range: the input table has no _time column of type time");
        }

        var times = table.Data[t];
        var keep = new List<int>(table.Rows);
        for (int r = 0; r < table.Rows; r++)
        {
            if (!times.IsNull(r))
            {
                long x = times.Bits![r];
                if (x >= start && x < stop)
                {
                    keep.Add(r);
                }
            }
        }

        // A second range narrows the first: bounds are intersected with the table's own.
        if (table.Key.Get(Start) is { Kind: Kind.Time } oldStart && table.Key.Get(Stop) is { Kind: Kind.Time } oldStop)
        {
            start = Math.Max(start, oldStart.AsTime);
            stop = Math.Min(stop, oldStop.AsTime);
        }

        var output = Gather(table, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(keep));
        output = SetKeyColumn(output, Stop, Value.Time(stop), Kind.Time);
        return SetKeyColumn(output, Start, Value.Time(start), Kind.Time);
    }

    public static Table Filter(Table table, RowFunction fn, Interpreter interpreter)
    {
        if (table.IsEmpty)
        {
            return table;
        }

        fn.Bind(table);
        var keep = new List<int>(table.Rows);
        for (int r = 0; r < table.Rows; r++)
        {
            var v = fn.Invoke(interpreter, r);
            if (v.Kind == Kind.Bool && v.AsBool)
            {
                keep.Add(r);
            }
            else if (v.Kind is not (Kind.Bool or Kind.Null))
            {
                throw new QueryException($"filter: the predicate must return a boolean, got {Value.KindName(v.Kind)}");
            }
        }

        return Gather(table, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(keep));
    }

    /// <summary>map: each row becomes the record the function returns; key columns follow the new values.</summary>
    public static IEnumerable<Table> Map(Table table, RowFunction fn, Interpreter interpreter)
    {
        fn.Bind(table);
        var groups = new Dictionary<GroupKey, TableBuilder>();
        var order = new List<GroupKey>();
        for (int r = 0; r < table.Rows; r++)
        {
            var v = fn.Invoke(interpreter, r);
            if (v.Kind != Kind.Record)
            {
                throw new QueryException($"map: the function must return a record, got {Value.KindName(v.Kind)}");
            }

            var record = v.AsRecord;
            var key = KeyOf(table.Key, record);
            if (!groups.TryGetValue(key, out var builder))
            {
                builder = new TableBuilder(key);
                groups[key] = builder;
                order.Add(key);
            }

            for (int i = 0; i < record.Count; i++)
            {
                var value = record.Values[i];
                if (value.Kind is > Kind.Time and not Kind.Null)
                {
                    throw new QueryException($"map: column \"{record.Names[i]}\" would hold a {Value.KindName(value.Kind)}; columns hold only basic values");
                }

                int c = builder.AddColumn(record.Names[i], value.Kind);
                if (!value.IsNull && builder.Columns[c].Type != value.Kind)
                {
                    throw new QueryException($"map: column \"{record.Names[i]}\" is {Value.KindName(builder.Columns[c].Type)} in one row and {Value.KindName(value.Kind)} in another");
                }

                builder[c].Append(value);
            }

            builder.EndRow();
        }

        if (order.Count == 0)
        {
            // An empty input keeps its key columns.
            yield return Table.EmptyFor(table.Key);
            yield break;
        }

        foreach (var key in order)
        {
            var built = groups[key].Build();
            yield return new Table(OrderKey(key, built.Columns), built.Columns, built.Data, built.Rows);
        }
    }

    // The output key: input key columns still present in the record, with the record's values.
    private static GroupKey KeyOf(GroupKey inputKey, RecordValue record)
    {
        bool same = true;
        int present = 0;
        for (int k = 0; k < inputKey.Columns.Length; k++)
        {
            int i = record.IndexOf(inputKey.Columns[k].Name);
            if (i < 0)
            {
                same = false;
                continue;
            }

            present++;
            var v = record.Values[i];
            if (!v.Equals(inputKey.Values[k]) || (!v.IsNull && v.Kind != inputKey.Columns[k].Type))
            {
                same = false;
            }
        }

        if (same)
        {
            return inputKey;
        }

        var metas = new List<ColumnMeta>(present);
        var values = new List<Value>(present);
        for (int k = 0; k < inputKey.Columns.Length; k++)
        {
            int i = record.IndexOf(inputKey.Columns[k].Name);
            if (i >= 0)
            {
                var v = record.Values[i];
                metas.Add(new ColumnMeta(inputKey.Columns[k].Name, v.IsNull ? inputKey.Columns[k].Type : v.Kind));
                values.Add(v);
            }
        }

        return new GroupKey([.. metas], [.. values]);
    }

    /// <summary>The table restricted to the named columns, in table order (key shrinks with it).</summary>
    public static Table Project(Table table, Func<string, bool> keep)
    {
        var columns = new List<ColumnMeta>();
        var data = new List<ColumnData>();
        for (int c = 0; c < table.Columns.Length; c++)
        {
            if (keep(table.Columns[c].Name))
            {
                columns.Add(table.Columns[c]);
                data.Add(table.Data[c]);
            }
        }

        var keyCols = new List<ColumnMeta>();
        var keyVals = new List<Value>();
        for (int k = 0; k < table.Key.Columns.Length; k++)
        {
            if (keep(table.Key.Columns[k].Name))
            {
                keyCols.Add(table.Key.Columns[k]);
                keyVals.Add(table.Key.Values[k]);
            }
        }

        return new Table(new GroupKey([.. keyCols], [.. keyVals]), [.. columns], [.. data], columns.Count == 0 ? 0 : table.Rows);
    }

    /// <summary>
    /// Runs a per-table transformation that may change group keys; tables whose key changed are merged with
    /// the others of the same new key (as Flux's table builders do), in order of first appearance.
    /// </summary>
    public static IEnumerable<Table> MergingKeys(IEnumerable<Table> input, Func<Table, IEnumerable<Table>> apply, bool always = false)
    {
        Dictionary<GroupKey, TableBuilder>? merged = null;
        List<GroupKey>? order = null;
        foreach (var table in input)
        {
            foreach (var output in apply(table))
            {
                if (!always && output.Key.Equals(table.Key) && merged is null)
                {
                    yield return output;
                    continue;
                }

                merged ??= [];
                order ??= [];
                if (!merged.TryGetValue(output.Key, out var builder))
                {
                    merged[output.Key] = builder = new TableBuilder(output.Key);
                    order.Add(output.Key);
                }

                builder.AppendTable(output, builder.MapColumns(output));
            }
        }

        if (order is not null)
        {
            foreach (var key in order)
            {
                var built = merged![key].Build();
                yield return new Table(OrderKey(key, built.Columns), built.Columns, built.Data, built.Rows);
            }
        }
    }

    public static Table Rename(Table table, Func<string, string> rename)
    {
        var columns = table.Columns.Select(c => c with { Name = rename(c.Name) }).ToArray();
        var dup = columns.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null)
        {
            throw new QueryException($"rename: two columns would be named \"{dup.Key}\"");
        }

        var key = new GroupKey([.. table.Key.Columns.Select(c => c with { Name = rename(c.Name) })], table.Key.Values);
        return new Table(key, columns, table.Data, table.Rows);
    }

    /// <summary>Stable sort by the columns (nulls first), ascending or descending.</summary>
    public static Table Sort(Table table, string[] columns, bool descending)
    {
        var indexes = columns.Select(table.IndexOf).Where(i => i >= 0).ToArray();
        if (indexes.Length == 0 || table.Rows < 2)
        {
            return table;
        }

        var order = Enumerable.Range(0, table.Rows).ToArray();
        var cmp = Comparer<int>.Create((a, b) =>
        {
            foreach (int c in indexes)
            {
                int x = CompareCells(table.Data[c], a, b);
                if (x != 0)
                {
                    return descending ? -x : x;
                }
            }

            return a.CompareTo(b);
        });
        Array.Sort(order, cmp);
        return Gather(table, order);
    }

    public static int CompareCells(ColumnData column, int a, int b)
    {
        if (column.IsConstant)
        {
            return 0;
        }

        bool na = column.IsNull(a), nb = column.IsNull(b);
        if (na || nb)
        {
            return (na ? 0 : 1) - (nb ? 0 : 1);
        }

        return column.Type switch
        {
            Kind.String => string.CompareOrdinal(column.Strings![a], column.Strings![b]),
            Kind.Float => BitConverter.Int64BitsToDouble(column.Bits![a]).CompareTo(BitConverter.Int64BitsToDouble(column.Bits![b])),
            Kind.UInt => ((ulong)column.Bits![a]).CompareTo((ulong)column.Bits![b]),
            _ => column.Bits![a].CompareTo(column.Bits![b]),
        };
    }

    /// <summary>An aggregate's output: the key columns and one value column.</summary>
    public static Table AggregateRow(GroupKey key, string column, Kind type, Value value)
    {
        var columns = new ColumnMeta[key.Columns.Length + 1];
        var data = new ColumnData[columns.Length];
        for (int k = 0; k < key.Columns.Length; k++)
        {
            columns[k] = key.Columns[k];
            data[k] = ColumnData.Constant(key.Columns[k].Type, key.Values[k], 1);
        }

        columns[^1] = new ColumnMeta(column, type);
        data[^1] = ColumnData.Constant(type, value, 1);
        return new Table(key, columns, data, 1);
    }

    public static ColumnData RequireColumn(Table table, string column, string function, out Kind type)
    {
        int c = table.IndexOf(column);
        if (c < 0)
        {
            throw new QueryException($"{function}: column \"{column}\" does not exist");
        }

        type = table.Columns[c].Type;
        return table.Data[c];
    }
}
