using InfluxLike.Query.Data;
using InfluxLike.Query.Values;

namespace InfluxLike.Query;

/// <summary>
/// Aggregates (one row of key columns and the result) and selectors (the selected rows, whole) on one table,
/// following Flux: nulls are skipped; count of nothing is 0, sum/mean of nothing is null; a selector on a table
/// with no non-null value returns no row.
/// </summary>
public static class Aggregates
{
    public static readonly string[] Names = ["count", "sum", "mean", "min", "max", "first", "last"];

    public static bool IsSelector(string name) => name is "min" or "max" or "first" or "last";

    public static Table Apply(string name, Table table, string column) => name switch
    {
        "count" => Count(table, column),
        "sum" => Sum(table, column),
        "mean" => Mean(table, column),
        "min" => Select(table, column, "min"),
        "max" => Select(table, column, "max"),
        "first" => Select(table, column, "first"),
        "last" => Select(table, column, "last"),
        _ => throw new QueryException($"unknown aggregate \"{name}\""),
    };

    private static ColumnData? Column(Table table, string column, string function, out Kind type)
    {
        int c = table.IndexOf(column);
        if (c < 0)
        {
            if (table.IsEmpty)
            {
                type = Kind.Null;
                return null;
            }

            throw new QueryException($"{function}: column \"{column}\" does not exist");
        }

        type = table.Columns[c].Type;
        return table.Data[c];
    }

    public static Table Count(Table table, string column)
    {
        var data = Column(table, column, "count", out _);
        long n = 0;
        if (data is not null)
        {
            for (int r = 0; r < table.Rows; r++)
            {
                if (!data.IsNull(r))
                {
                    n++;
                }
            }
        }

        return TableOps.AggregateRow(WithoutColumn(table.Key, column), column, Kind.Int, Value.Int(n));
    }

    public static Table Sum(Table table, string column)
    {
        var data = Column(table, column, "sum", out var type);
        var key = WithoutColumn(table.Key, column);
        if (data is null)
        {
            return TableOps.AggregateRow(key, column, Kind.Float, Value.Null);
        }

        bool any = false;
        switch (type)
        {
            case Kind.Float:
            {
                double s = 0;
                for (int r = 0; r < table.Rows; r++)
                {
                    if (!data.IsNull(r))
                    {
                        s += BitConverter.Int64BitsToDouble(data.Bits![r]);
                        any = true;
                    }
                }

                return TableOps.AggregateRow(key, column, type, any ? Value.Float(s) : Value.Null);
            }

            case Kind.Int or Kind.UInt:
            {
                long s = 0;
                for (int r = 0; r < table.Rows; r++)
                {
                    if (!data.IsNull(r))
                    {
                        s = unchecked(s + data.Bits![r]);
                        any = true;
                    }
                }

                return TableOps.AggregateRow(key, column, type, any ? Value.FromBits(type, s) : Value.Null);
            }

            default:
                throw new QueryException($"sum: column \"{column}\" is {Value.KindName(type)}; sum needs int, uint or float");
        }
    }

    public static Table Mean(Table table, string column)
    {
        var data = Column(table, column, "mean", out var type);
        var key = WithoutColumn(table.Key, column);
        if (data is null)
        {
            return TableOps.AggregateRow(key, column, Kind.Float, Value.Null);
        }

        if (type is not (Kind.Float or Kind.Int or Kind.UInt))
        {
            throw new QueryException($"mean: column \"{column}\" is {Value.KindName(type)}; mean needs int, uint or float");
        }

        double sum = 0;
        long n = 0;
        for (int r = 0; r < table.Rows; r++)
        {
            if (!data.IsNull(r))
            {
                long bits = data.Bits![r];
                sum += type switch { Kind.Float => BitConverter.Int64BitsToDouble(bits), Kind.UInt => (ulong)bits, _ => bits };
                n++;
            }
        }

        return TableOps.AggregateRow(key, column, Kind.Float, n == 0 ? Value.Null : Value.Float(sum / n));
    }

    /// <summary>min, max, first, last: the whole selected row (first of equals for min/max).</summary>
    public static Table Select(Table table, string column, string which)
    {
        var data = Column(table, column, which, out var type);
        if (data is null)
        {
            return table;
        }

        int best = SelectRow(data, Enumerable.Range(0, table.Rows), which);
        if (which is "min" or "max" && type is not (Kind.Float or Kind.Int or Kind.UInt or Kind.String or Kind.Time or Kind.Bool))
        {
            throw new QueryException($"{which}: column \"{column}\" has type {Value.KindName(type)}");
        }

        return best < 0 ? TableOps.Slice(table, 0, 0) : TableOps.Gather(table, [best]);
    }

    /// <summary>
    /// The row that min, max, first or last selects among <paramref name="rows"/> (in their order; the first of
    /// equals for min and max; nulls skipped), or -1 when all are null.
    /// </summary>
    public static int SelectRow(ColumnData data, IEnumerable<int> rows, string which)
    {
        int best = -1;
        foreach (int r in rows)
        {
            if (data.IsNull(r))
            {
                continue;
            }

            if (best < 0)
            {
                best = r;
                if (which == "first")
                {
                    break;
                }

                continue;
            }

            switch (which)
            {
                case "last":
                    best = r;
                    break;
                case "min" when TableOps.CompareCells(data, r, best) < 0:
                case "max" when TableOps.CompareCells(data, r, best) > 0:
                    best = r;
                    break;
            }
        }

        return best;
    }

    private static GroupKey WithoutColumn(GroupKey key, string column)
    {
        int k = key.IndexOf(column);
        if (k < 0)
        {
            return key;
        }

        return new GroupKey([.. key.Columns.Where((_, i) => i != k)], [.. key.Values.Where((_, i) => i != k)]);
    }
}
