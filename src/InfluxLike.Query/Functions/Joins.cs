using InfluxLike.Query.Data;
using InfluxLike.Query.Runtime;
using InfluxLike.Query.Values;

namespace InfluxLike.Query;

/// <summary>
/// Flux's two joins. The universe <c>join(tables: {a, b}, on)</c>: an inner join on equal values of the
/// <c>on</c> columns, pairing tables whose group keys agree on the columns they share; columns other than
/// <c>on</c> held by both sides are suffixed with the side's name; the output key is the union of both keys.
/// The join package's <c>join.tables(left, right, on: (l, r) => bool, as: (l, r) => record, method)</c>:
/// inner, left, right and full joins whose output rows are what <c>as</c> builds (a missing side is an empty
/// record), grouped by the input key columns that the output keeps.
/// </summary>
public static class Joins
{
    private sealed record Side(string Name, List<Table> Tables);

    // Whether two group keys agree on every column both hold (only the on columns, when given).
    private static bool Compatible(GroupKey a, GroupKey b, HashSet<string>? on = null)
    {
        for (int i = 0; i < a.Columns.Length; i++)
        {
            if (on is not null && !on.Contains(a.Columns[i].Name))
            {
                continue;
            }

            int j = b.IndexOf(a.Columns[i].Name);
            if (j >= 0 && !a.Values[i].Equals(b.Values[j]))
            {
                return false;
            }
        }

        return true;
    }

    public static IEnumerable<Table> Universe(string leftName, IEnumerable<Table> left, string rightName, IEnumerable<Table> right, string[] on, string method)
    {
        if (method != "inner")
        {
            throw new QueryException($"join: method \"{method}\" is not supported (only \"inner\"; the join package's join.tables does left, right and full)");
        }

        var l = new Side(leftName, [.. left]);
        var r = new Side(rightName, [.. right]);
        var onSet = on.ToHashSet(StringComparer.Ordinal);
        var outputs = new Dictionary<GroupKey, TableBuilder>();
        var order = new List<GroupKey>();
        foreach (Table lt in l.Tables)
        {
            foreach (Table rt in r.Tables)
            {
                if (!Compatible(lt.Key, rt.Key, onSet))
                {
                    continue;
                }

                // A table without every on column has nothing to match on (Flux leaves it out).
                if (lt.IsEmpty || rt.IsEmpty || on.Any(c => lt.IndexOf(c) < 0 || rt.IndexOf(c) < 0))
                {
                    continue;
                }

                // Output columns: on columns once, then each side's others, suffixed when both sides hold them.
                var lNames = lt.Columns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
                var rNames = rt.Columns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
                string LName(string n) => onSet.Contains(n) || !rNames.Contains(n) ? n : n + "_" + leftName;
                string RName(string n) => onSet.Contains(n) || !lNames.Contains(n) ? n : n + "_" + rightName;

                var keyColumns = new List<ColumnMeta>();
                var keyValues = new List<Value>();
                for (int k = 0; k < lt.Key.Columns.Length; k++)
                {
                    keyColumns.Add(lt.Key.Columns[k] with { Name = LName(lt.Key.Columns[k].Name) });
                    keyValues.Add(lt.Key.Values[k]);
                }

                for (int k = 0; k < rt.Key.Columns.Length; k++)
                {
                    string name = RName(rt.Key.Columns[k].Name);
                    if (!keyColumns.Any(c => c.Name == name))
                    {
                        keyColumns.Add(rt.Key.Columns[k] with { Name = name });
                        keyValues.Add(rt.Key.Values[k]);
                    }
                }

                var key = TableOps.OrderKey(new GroupKey([.. keyColumns], [.. keyValues]), [.. keyColumns]);
                if (!outputs.TryGetValue(key, out TableBuilder? builder))
                {
                    outputs[key] = builder = new TableBuilder(key);
                    order.Add(key);
                }

                int[] lOn = [.. on.Select(lt.IndexOf)];
                int[] rOn = [.. on.Select(rt.IndexOf)];

                // The right rows by on values: the first row of each distinct value, then a chain through next[].
                // Keys are row numbers compared through the columns (a left row probes as −row − 1): nothing is
                // allocated per row.
                var first = new Dictionary<int, int>(rt.Rows, new RowComparer(rt, rOn, lt, lOn));
                var next = new int[rt.Rows];
                var last = new int[rt.Rows];
                for (int row = 0; row < rt.Rows; row++)
                {
                    next[row] = -1;
                    if (first.TryGetValue(row, out int head))
                    {
                        next[last[head]] = row;
                        last[head] = row;
                    }
                    else
                    {
                        first[row] = row;
                        last[row] = row;
                    }
                }

                int[] lOut = [.. lt.Columns.Select(c => builder.AddColumn(LName(c.Name), c.Type))];
                int[] rOut = [.. rt.Columns.Select(c => onSet.Contains(c.Name) ? -1 : builder.AddColumn(RName(c.Name), c.Type))];
                for (int row = 0; row < lt.Rows; row++)
                {
                    if (!first.TryGetValue(-row - 1, out int match))
                    {
                        continue;
                    }

                    for (; match >= 0; match = next[match])
                    {
                        for (int c = 0; c < lOut.Length; c++)
                        {
                            builder[lOut[c]].AppendFrom(lt.Data[c], row);
                        }

                        for (int c = 0; c < rOut.Length; c++)
                        {
                            if (rOut[c] >= 0)
                            {
                                builder[rOut[c]].AppendFrom(rt.Data[c], match);
                            }
                        }

                        builder.EndRow();
                    }
                }
            }
        }

        foreach (GroupKey key in order)
        {
            Table t = outputs[key].Build();
            yield return IsSorted(t, on) ? t : TableOps.Sort(t, on, descending: false);
        }
    }

    // Whether rows already ascend by the columns (inputs sorted by time usually give sorted output).
    private static bool IsSorted(Table t, string[] columns)
    {
        int[] idx = [.. columns.Select(t.IndexOf).Where(i => i >= 0)];
        for (int r = 1; r < t.Rows; r++)
        {
            foreach (int c in idx)
            {
                int cmp = TableOps.CompareCells(t.Data[c], r - 1, r);
                if (cmp < 0)
                {
                    break;
                }

                if (cmp > 0)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>join.tables: rows paired where <paramref name="on"/> holds, shaped by <paramref name="as"/>.</summary>
    public static IEnumerable<Table> Tables(IEnumerable<Table> left, IEnumerable<Table> right, FunctionValue on, FunctionValue @as, string method, Interpreter interpreter)
    {
        if (method is not ("inner" or "left" or "right" or "full"))
        {
            throw new QueryException($"join.tables: method must be \"inner\", \"left\", \"right\" or \"full\" (got \"{method}\")");
        }

        List<Table> lefts = [.. left];
        List<Table> rights = [.. right];
        var rightMatched = rights.Select(t => new bool[t.Rows]).ToArray();
        var rows = new List<(RecordValue Row, GroupKey Source)>();
        var unmatchedLeft = new List<(RecordValue Row, GroupKey Source)>();
        bool keepLeft = method is "left" or "full", keepRight = method is "right" or "full";

        Value Call(FunctionValue fn, RecordValue l, RecordValue r) =>
            fn.Call(interpreter, new CallArguments("join.tables", new() { ["l"] = Value.Record(l), ["r"] = Value.Record(r) }, null, default, interpreter));

        foreach (Table lt in lefts)
        {
            var leftMatched = new bool[lt.Rows];
            for (int ri = 0; ri < rights.Count; ri++)
            {
                Table rt = rights[ri];
                if (!Compatible(lt.Key, rt.Key))
                {
                    continue;
                }

                for (int a = 0; a < lt.Rows; a++)
                {
                    RecordValue lr = RowRecord(lt, a);
                    for (int b = 0; b < rt.Rows; b++)
                    {
                        RecordValue rr = RowRecord(rt, b);
                        Value hit = Call(on, lr, rr);
                        if (hit.Kind == Kind.Bool && hit.AsBool)
                        {
                            leftMatched[a] = true;
                            rightMatched[ri][b] = true;
                            rows.Add((AsRecord(Call(@as, lr, rr)), Merge(lt.Key, rt.Key)));
                        }
                    }
                }
            }

            if (keepLeft)
            {
                for (int a = 0; a < lt.Rows; a++)
                {
                    if (!leftMatched[a])
                    {
                        unmatchedLeft.Add((AsRecord(Call(@as, RowRecord(lt, a), KeyRecord(lt.Key))), lt.Key));
                    }
                }
            }
        }

        if (keepRight)
        {
            for (int ri = 0; ri < rights.Count; ri++)
            {
                for (int b = 0; b < rights[ri].Rows; b++)
                {
                    if (!rightMatched[ri][b])
                    {
                        rows.Add((AsRecord(Call(@as, KeyRecord(rights[ri].Key), RowRecord(rights[ri], b))), rights[ri].Key));
                    }
                }
            }
        }

        // Matched rows, then the right side's unmatched ones, then the left side's (Flux's order).
        rows.AddRange(unmatchedLeft);

        // A column null in every row of a table takes the type it has elsewhere in the output.
        var types = new Dictionary<string, Kind>(StringComparer.Ordinal);
        foreach (var (row, _) in rows)
        {
            for (int i = 0; i < row.Count; i++)
            {
                if (row.Values[i].Kind != Kind.Null)
                {
                    types.TryAdd(row.Names[i], row.Values[i].Kind);
                }
            }
        }

        // Rows grouped by the source key columns the output keeps, valued from the output row itself.
        var outputs = new Dictionary<GroupKey, TableBuilder>();
        var order = new List<GroupKey>();
        foreach (var (row, source) in rows)
        {
            var keyColumns = new List<ColumnMeta>();
            var keyValues = new List<Value>();
            foreach (ColumnMeta c in source.Columns)
            {
                if (row.TryGet(c.Name, out Value v) && v.Kind != Kind.Null)
                {
                    keyColumns.Add(new ColumnMeta(c.Name, v.Kind));
                    keyValues.Add(v);
                }
            }

            var key = new GroupKey([.. keyColumns], [.. keyValues]);
            if (!outputs.TryGetValue(key, out TableBuilder? builder))
            {
                outputs[key] = builder = new TableBuilder(key);
                order.Add(key);
            }

            for (int i = 0; i < row.Count; i++)
            {
                Value v = row.Values[i];
                int c = builder.IndexOf(row.Names[i]);
                if (c < 0)
                {
                    c = builder.AddColumn(row.Names[i], v.Kind == Kind.Null ? types.GetValueOrDefault(row.Names[i], Kind.Null) : v.Kind);
                }

                builder[c].Append(v);
            }

            builder.EndRow();
        }

        return order.Select(k => outputs[k].Build());
    }

    private static GroupKey Merge(GroupKey a, GroupKey b)
    {
        var columns = a.Columns.ToList();
        var values = a.Values.ToList();
        for (int i = 0; i < b.Columns.Length; i++)
        {
            if (a.IndexOf(b.Columns[i].Name) < 0)
            {
                columns.Add(b.Columns[i]);
                values.Add(b.Values[i]);
            }
        }

        return new GroupKey([.. columns], [.. values]);
    }

    private static RecordValue AsRecord(Value v) =>
        v.Kind == Kind.Record ? v.AsRecord : throw new QueryException($"join.tables: as must return a record, got {Value.KindName(v.Kind)}");

    // The record standing for the missing side of an outer join: the group key's columns (the tables joined
    // share them), everything else absent (null).
    private static RecordValue KeyRecord(GroupKey key) => new([.. key.Columns.Select(c => c.Name)], [.. key.Values]);

    private static RecordValue RowRecord(Table t, int row)
    {
        var names = new string[t.Columns.Length];
        var values = new Value[t.Columns.Length];
        for (int c = 0; c < names.Length; c++)
        {
            names[c] = t.Columns[c].Name;
            values[c] = t.Data[c].Get(row);
        }

        return new RecordValue(names, values);
    }

    /// <summary>Row numbers compared by their on values: 0 and up are right rows, −1 and down left rows.</summary>
    private sealed class RowComparer(Table right, int[] rightOn, Table left, int[] leftOn) : IEqualityComparer<int>
    {
        private Value Get(int index, int column) =>
            index >= 0 ? right.Data[rightOn[column]].Get(index) : left.Data[leftOn[column]].Get(-index - 1);

        public bool Equals(int a, int b)
        {
            for (int c = 0; c < rightOn.Length; c++)
            {
                if (!Get(a, c).Equals(Get(b, c)))
                {
                    return false;
                }
            }

            return true;
        }

        public int GetHashCode(int index)
        {
            var h = new HashCode();
            for (int c = 0; c < rightOn.Length; c++)
            {
                h.Add(Get(index, c));
            }

            return h.ToHashCode();
        }
    }
}
