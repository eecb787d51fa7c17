using InfluxLike.Query.Data;
using InfluxLike.Query.Planning;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Runtime;

/// <summary>
/// Functions that turn tables into values inside a script (tableFind, getColumn, getRecord, findColumn,
/// findRecord) and that describe tables (columns, keys, keyValues), plus timedMovingAverage and
/// experimental/aggregate.rate. Extracting values runs the stream at call time, as Flux does.
/// </summary>
internal static class TableValues
{
    private static Value Stream(PlanNode node) => Value.Stream(new TableStream(node));

    private static RecordValue KeyRecord(GroupKey key) => new([.. key.Columns.Select(c => c.Name)], [.. key.Values]);

    private static Table? Find(CallArguments a, PlanNode input, FunctionValue fn)
    {
        QueryContext context = a.Interpreter.Context;
        foreach (Table t in input.Execute(context))
        {
            Value hit = fn.Call(a.Interpreter, new CallArguments(fn.Name, new() { ["key"] = Value.Record(KeyRecord(t.Key)) }, null, a.Span, a.Interpreter));
            if (hit.Kind == Kind.Bool && hit.AsBool)
            {
                return t;
            }
        }

        return null;
    }

    private static Table One(CallArguments a)
    {
        PlanNode node = a.Stream("table");
        var tables = node.Execute(a.Interpreter.Context).Take(2).ToList();
        return tables.Count == 1 ? tables[0] : throw a.Error(tables.Count == 0 ? "no table (pipe the result of tableFind)" : "more than one table (pipe the result of tableFind)");
    }

    private static Value Column(CallArguments a, Table t, string column)
    {
        int c = t.IndexOf(column);
        if (c < 0)
        {
            throw a.Error($"column \"{column}\" does not exist");
        }

        return Value.Array(new ArrayValue([.. Enumerable.Range(0, t.Rows).Select(r => t.Data[c].Get(r))]));
    }

    private static Value Record(CallArguments a, Table t, long idx)
    {
        if (idx < 0 || idx >= t.Rows)
        {
            throw a.Error($"index {idx} is out of bounds (the table has {t.Rows} rows)");
        }

        return Value.Record(new RecordValue([.. t.Columns.Select(c => c.Name)], [.. t.Data.Select(d => d.Get((int)idx))]));
    }

    public static IEnumerable<FunctionValue> Functions()
    {
        yield return new Builtin("tableFind", "tables", a =>
        {
            Table t = Find(a, a.Stream("tables"), a.Function("fn")) ?? throw a.Error("no table found that the predicate accepts");
            return Stream(new SourceNode("tableFind", _ => [t]));
        });
        yield return new Builtin("getColumn", "table", a => Column(a, One(a), a.String("column")));
        yield return new Builtin("getRecord", "table", a => Record(a, One(a), a.Int("idx")));
        yield return new Builtin("findColumn", "tables", a =>
            Find(a, a.Stream("tables"), a.Function("fn")) is { } t ? (t.IndexOf(a.String("column")) < 0 ? Value.Array(ArrayValue.Empty) : Column(a, t, a.String("column"))) : Value.Array(ArrayValue.Empty));
        yield return new Builtin("findRecord", "tables", a =>
            Find(a, a.Stream("tables"), a.Function("fn")) is { } t && a.Int("idx") < t.Rows ? Record(a, t, a.Int("idx")) : Value.Record(RecordValue.Empty));

        yield return new Builtin("columns", "tables", a =>
        {
            string column = a.String("column", "_value");
            return Stream(new PerTableNode("columns", a.Stream("tables"), (t, _) => [Listing(t, column, t.Columns.Select(c => c.Name))], changesKeys: true));
        });
        yield return new Builtin("keys", "tables", a =>
        {
            string column = a.String("column", "_value");
            return Stream(new PerTableNode("keys", a.Stream("tables"), (t, _) => [Listing(t, column, t.Key.Columns.Select(c => c.Name))], changesKeys: true));
        });
        yield return new Builtin("keyValues", "tables", a =>
        {
            string[]? given = a.Has("keyColumns") ? a.Strings("keyColumns") : null;
            FunctionValue? fn = a.OptionalFunction("fn");
            if (given is null && fn is null)
            {
                throw a.Error("give keyColumns or fn");
            }

            var interpreter = a.Interpreter;
            return Stream(new PerTableNode("keyValues", a.Stream("tables"), (t, _) =>
            {
                string[] names = given ?? [.. FunctionColumns(fn!, t, interpreter)];
                return [KeyValues(t, names)];
            }, changesKeys: true));
        });

        yield return new Builtin("timedMovingAverage", "tables", a =>
        {
            FluxDuration every = a.Duration("every"), period = a.Duration("period");
            if (every.Months != 0 || period.Months != 0 || every.Nanoseconds <= 0 || period.Nanoseconds <= 0)
            {
                throw a.Error("every and period must be positive durations without months");
            }

            string column = a.String("column", "_value");
            return Stream(new PerTableNode("timedMovingAverage", a.Stream("tables"), (t, _) => [TimedMovingAverage(t, every.Nanoseconds, period.Nanoseconds, column)]));
        });
    }

    // The column names fn(column: name) accepts, in the table's column order.
    private static IEnumerable<string> FunctionColumns(FunctionValue fn, Table t, Interpreter interpreter) =>
        t.Key.Columns.Select(c => c.Name).Where(name =>
            fn.Call(interpreter, new CallArguments(fn.Name, new() { ["column"] = Value.String(name) }, null, default, interpreter)) is { Kind: Kind.Bool } v && v.AsBool);

    private static Table Listing(Table t, string column, IEnumerable<string> names)
    {
        var builder = new TableBuilder(t.Key);
        var keyColumns = t.Key.Columns.Where(c => c.Name != column).ToArray();
        int[] k = [.. keyColumns.Select(c => builder.AddColumn(c.Name, c.Type))];
        int v = builder.AddColumn(column, Kind.String);
        foreach (string name in names)
        {
            for (int i = 0; i < k.Length; i++)
            {
                builder[k[i]].Append(t.Key.Get(keyColumns[i].Name));
            }

            builder[v].AppendString(name);
            builder.EndRow();
        }

        return builder.Build();
    }

    private static Table KeyValues(Table t, string[] names)
    {
        var present = names.Where(n => t.Key.Contains(n)).ToArray();
        Kind type = present.Length == 0 ? Kind.String : t.Key.Columns[t.Key.IndexOf(present[0])].Type;
        if (present.Any(n => t.Key.Columns[t.Key.IndexOf(n)].Type != type))
        {
            throw new QueryException("keyValues: the key columns must all have one type");
        }

        var builder = new TableBuilder(t.Key);
        int[] k = [.. t.Key.Columns.Select(c => builder.AddColumn(c.Name, c.Type))];
        int keyCol = builder.AddColumn("_key", Kind.String);
        int valueCol = builder.AddColumn("_value", type);
        foreach (string name in present)
        {
            for (int i = 0; i < k.Length; i++)
            {
                builder[k[i]].Append(t.Key.Values[i]);
            }

            builder[keyCol].AppendString(name);
            builder[valueCol].Append(t.Key.Get(name));
            builder.EndRow();
        }

        return builder.Build();
    }

    /// <summary>
    /// Flux's <c>window(every, period) |> mean(column) |> duplicate(column: "_stop", as: "_time") |> window(every: inf)</c>:
    /// per window ending at a multiple of every (clipped to the table's _stop), the mean of the points in the
    /// period before it; windows without points give no row.
    /// </summary>
    private static Table TimedMovingAverage(Table t, long every, long period, string column)
    {
        int tc = t.IndexOf("_time");
        int vc = t.IndexOf(column);
        var builder = new TableBuilder(t.Key);
        int[] k = [.. t.Key.Columns.Select(c => builder.AddColumn(c.Name, c.Type))];
        int timeCol = builder.AddColumn("_time", Kind.Time);
        int valueCol = builder.AddColumn(column, Kind.Float);
        if (t.IsEmpty)
        {
            return builder.Build();
        }

        if (tc < 0 || vc < 0)
        {
            throw new QueryException($"timedMovingAverage: the table needs _time and \"{column}\" columns");
        }

        Kind type = t.Columns[vc].Type;
        if (type is not (Kind.Float or Kind.Int or Kind.UInt))
        {
            throw new QueryException($"timedMovingAverage: column \"{column}\" is {Value.KindName(type)}; it needs int, uint or float");
        }

        long stopBound = t.Key.Contains("_stop") ? t.Key.Get("_stop").AsTime : long.MaxValue;
        var windows = new SortedDictionary<long, (double Sum, int Count, bool Any)>();
        for (int r = 0; r < t.Rows; r++)
        {
            long p = t.Data[tc].Bits![r];

            // Windows [stop − period, stop) holding p, stop a multiple of every.
            long firstStop = (long)(Math.Floor((double)p / every) * every) + every;
            for (long stop = firstStop; stop - period <= p; stop += every)
            {
                var w = windows.GetValueOrDefault(stop);
                w.Any = true;
                if (!t.Data[vc].IsNull(r))
                {
                    long b = t.Data[vc].Bits![r];
                    w.Sum += type switch { Kind.Float => BitConverter.Int64BitsToDouble(b), Kind.UInt => (ulong)b, _ => b };
                    w.Count++;
                }

                windows[stop] = w;
            }
        }

        foreach (var (stop, w) in windows)
        {
            for (int i = 0; i < k.Length; i++)
            {
                builder[k[i]].Append(t.Key.Values[i]);
            }

            builder[timeCol].AppendBits(Math.Min(stop, stopBound));
            builder[valueCol].Append(w.Count == 0 ? Value.Null : Value.Float(w.Sum / w.Count));
            builder.EndRow();
        }

        return builder.Build();
    }
}
