using InfluxLike.Query.Data;
using InfluxLike.Query.Values;

namespace InfluxLike.Query;

/// <summary>
/// Row-wise transformations of Flux's universe: difference, derivative, cumulativeSum, movingAverage,
/// exponentialMovingAverage, timedMovingAverage's building block, elapsed, fill, timeShift,
/// truncateTimeColumn and histogram. Each works on one table, in row order, and keeps the group key.
/// </summary>
public static class Transforms
{
    private static (int Index, Kind Type) NumericColumn(Table table, string column, string function)
    {
        int c = table.IndexOf(column);
        if (c < 0)
        {
            throw new QueryException($"{function}: column \"{column}\" does not exist");
        }

        Kind type = table.Columns[c].Type;
        if (type is not (Kind.Float or Kind.Int or Kind.UInt))
        {
            throw new QueryException($"{function}: column \"{column}\" is {Value.KindName(type)}; {function} needs int, uint or float");
        }

        return (c, type);
    }

    private static double AsDouble(Kind type, long bits) =>
        type switch { Kind.Float => BitConverter.Int64BitsToDouble(bits), Kind.UInt => (ulong)bits, _ => bits };

    /// <summary>The table with one column replaced (name and place kept, type possibly changed).</summary>
    public static Table Replace(Table table, int column, Kind type, ColumnData data)
    {
        var columns = (ColumnMeta[])table.Columns.Clone();
        var all = (ColumnData[])table.Data.Clone();
        columns[column] = new ColumnMeta(columns[column].Name, type);
        all[column] = data;
        return new Table(table.Key, columns, all, table.Rows);
    }

    private static Table Rows(Table table, List<int> rows) => rows.Count == table.Rows ? table : TableOps.Gather(table, rows.ToArray());

    public static Table Difference(Table table, string[] columns, bool nonNegative, bool keepFirst, bool initialZero)
    {
        if (table.IsEmpty)
        {
            // The column types still change (int and uint differences are ints; empty tables keep their schema).
            return table;
        }

        foreach (string name in columns)
        {
            var (c, type) = NumericColumn(table, name, "difference");
            var src = table.Data[c];
            var bits = new long[table.Rows];
            var nulls = new bool[table.Rows];
            bool havePrev = false;
            long prev = 0;
            for (int r = 0; r < table.Rows; r++)
            {
                if (src.IsNull(r))
                {
                    nulls[r] = true;
                    continue;
                }

                long cur = src.Bits![r];
                if (!havePrev)
                {
                    nulls[r] = true;
                }
                else if (type == Kind.Float)
                {
                    double d = BitConverter.Int64BitsToDouble(cur) - BitConverter.Int64BitsToDouble(prev);
                    if (nonNegative && d < 0)
                    {
                        if (initialZero)
                        {
                            bits[r] = cur;
                        }
                        else
                        {
                            nulls[r] = true;
                        }
                    }
                    else
                    {
                        bits[r] = BitConverter.DoubleToInt64Bits(d);
                    }
                }
                else
                {
                    long d = type == Kind.UInt ? unchecked((long)((ulong)cur - (ulong)prev)) : unchecked(cur - prev);
                    bool negative = type == Kind.UInt ? (ulong)cur < (ulong)prev : d < 0;
                    if (type == Kind.UInt && negative)
                    {
                        d = -(long)((ulong)prev - (ulong)cur);
                    }

                    if (nonNegative && negative)
                    {
                        if (initialZero)
                        {
                            bits[r] = cur;
                        }
                        else
                        {
                            nulls[r] = true;
                        }
                    }
                    else
                    {
                        bits[r] = d;
                    }
                }

                havePrev = true;
                prev = cur;
            }

            if (keepFirst && initialZero && !src.IsNull(0))
            {
                nulls[0] = false;
                bits[0] = 0;
            }

            Kind outType = type == Kind.Float ? Kind.Float : Kind.Int;
            table = Replace(table, c, outType, new ColumnData(outType, bits, null, nulls));
        }

        return keepFirst ? table : TableOps.Slice(table, 1, table.Rows);
    }

    public static Table Derivative(Table table, string[] columns, string timeColumn, long unitNs, bool nonNegative, bool initialZero)
    {
        if (unitNs <= 0)
        {
            throw new QueryException("derivative: unit must be positive");
        }

        int tc = table.IndexOf(timeColumn);
        if (tc < 0)
        {
            if (table.IsEmpty)
            {
                return table;
            }

            throw new QueryException($"derivative: time column \"{timeColumn}\" does not exist");
        }

        var times = table.Data[tc];

        // Rows kept: from the second on, skipping a row whose time equals the last kept one.
        var keep = new List<int>();
        var isFirstOrDuplicate = new bool[table.Rows];
        long lastTime = long.MinValue;
        for (int r = 0; r < table.Rows; r++)
        {
            long t = times.Bits![r];
            if (r == 0 || t == lastTime)
            {
                isFirstOrDuplicate[r] = true;
                lastTime = r == 0 ? t : lastTime;
                continue;
            }

            if (t < lastTime)
            {
                throw new QueryException($"derivative: rows are not sorted by \"{timeColumn}\"");
            }

            keep.Add(r);
            lastTime = t;
        }

        foreach (string name in columns)
        {
            var (c, type) = NumericColumn(table, name, "derivative");
            var src = table.Data[c];
            var bits = new long[table.Rows];
            var nulls = new bool[table.Rows];
            bool havePrev = false;
            double prev = 0;
            long prevTime = 0;
            for (int r = 0; r < table.Rows; r++)
            {
                if (isFirstOrDuplicate[r] && r != 0)
                {
                    continue;
                }

                if (src.IsNull(r))
                {
                    nulls[r] = true;
                    continue;
                }

                double v = AsDouble(type, src.Bits![r]);
                long t = times.Bits![r];
                if (havePrev)
                {
                    double dt = (double)(t - prevTime) / unitNs;
                    double d = (v - prev) / dt;
                    if (nonNegative && d < 0)
                    {
                        if (initialZero)
                        {
                            bits[r] = BitConverter.DoubleToInt64Bits(0);
                        }
                        else
                        {
                            nulls[r] = true;
                        }
                    }
                    else
                    {
                        bits[r] = BitConverter.DoubleToInt64Bits(d);
                    }
                }
                else
                {
                    nulls[r] = true;
                }

                havePrev = true;
                prev = v;
                prevTime = t;
            }

            table = Replace(table, c, Kind.Float, new ColumnData(Kind.Float, bits, null, nulls));
        }

        return Rows(table, keep);
    }

    /// <summary>Running sums; a null adds nothing and shows the sum so far.</summary>
    public static Table CumulativeSum(Table table, string[] columns)
    {
        foreach (string name in columns)
        {
            int c = table.IndexOf(name);
            if (c < 0)
            {
                continue; // Flux ignores columns a table lacks
            }

            var (_, type) = NumericColumn(table, name, "cumulativeSum");
            var src = table.Data[c];
            var bits = new long[table.Rows];
            long sumI = 0;
            double sumF = 0;
            for (int r = 0; r < table.Rows; r++)
            {
                if (!src.IsNull(r))
                {
                    if (type == Kind.Float)
                    {
                        sumF += BitConverter.Int64BitsToDouble(src.Bits![r]);
                    }
                    else
                    {
                        sumI = unchecked(sumI + src.Bits![r]);
                    }
                }

                bits[r] = type == Kind.Float ? BitConverter.DoubleToInt64Bits(sumF) : sumI;
            }

            table = Replace(table, c, type, new ColumnData(type, bits, null, null));
        }

        return table;
    }

    /// <summary>
    /// The mean of each run of n values (nulls skipped; all null gives null), at the last row of the run; a
    /// table shorter than n gives one row, the mean of all, at its last row.
    /// </summary>
    public static Table MovingAverage(Table table, long n, string column = "_value")
    {
        if (n <= 0)
        {
            throw new QueryException("movingAverage: n must be positive");
        }

        if (table.IsEmpty)
        {
            return table;
        }

        var (c, type) = NumericColumn(table, column, "movingAverage");
        var src = table.Data[c];
        int window = (int)Math.Min(n, table.Rows);
        var bits = new long[table.Rows];
        var nulls = new bool[table.Rows];
        double sum = 0;
        int count = 0;
        for (int r = 0; r < table.Rows; r++)
        {
            if (!src.IsNull(r))
            {
                sum += AsDouble(type, src.Bits![r]);
                count++;
            }

            if (r >= window && !src.IsNull(r - window))
            {
                sum -= AsDouble(type, src.Bits![r - window]);
                count--;
            }

            nulls[r] = count == 0;
            bits[r] = BitConverter.DoubleToInt64Bits(count == 0 ? 0 : sum / count);
        }

        table = Replace(table, c, Kind.Float, new ColumnData(Kind.Float, bits, null, nulls));
        return TableOps.Slice(table, window - 1, table.Rows);
    }

    /// <summary>Flux's exponentialMovingAverage: the first value is the mean of the first n, then α = 2 / (n + 1).</summary>
    public static Table ExponentialMovingAverage(Table table, long n, string column = "_value")
    {
        if (n <= 0)
        {
            throw new QueryException("exponentialMovingAverage: n must be positive");
        }

        if (table.IsEmpty)
        {
            return table;
        }

        var (c, type) = NumericColumn(table, column, "exponentialMovingAverage");
        var src = table.Data[c];
        var bits = new long[table.Rows];
        var nulls = new bool[table.Rows];
        double alpha = 2.0 / (n + 1);
        double ema = 0;
        double sum = 0;
        int count = 0;
        int first = (int)Math.Min(n, table.Rows) - 1;
        for (int r = 0; r < table.Rows; r++)
        {
            bool isNull = src.IsNull(r);
            double v = isNull ? 0 : AsDouble(type, src.Bits![r]);
            if (r <= first)
            {
                if (!isNull)
                {
                    sum += v;
                    count++;
                }

                ema = count == 0 ? 0 : sum / count;
                nulls[r] = count == 0;
            }
            else if (!isNull)
            {
                ema = (v * alpha) + (ema * (1 - alpha));
            }

            bits[r] = BitConverter.DoubleToInt64Bits(ema);
        }

        table = Replace(table, c, Kind.Float, new ColumnData(Kind.Float, bits, null, nulls));
        return TableOps.Slice(table, first, table.Rows);
    }

    /// <summary>Time between consecutive rows in units, as an int column; the first row is dropped.</summary>
    public static Table Elapsed(Table table, long unitNs, string timeColumn, string columnName)
    {
        if (unitNs <= 0)
        {
            throw new QueryException("elapsed: unit must be positive");
        }

        int tc = table.IndexOf(timeColumn);
        if (tc < 0)
        {
            if (table.IsEmpty)
            {
                return table;
            }

            throw new QueryException($"elapsed: time column \"{timeColumn}\" does not exist");
        }

        var times = table.Data[tc];
        var bits = new long[table.Rows];
        var nulls = new bool[table.Rows];
        for (int r = 1; r < table.Rows; r++)
        {
            if (times.IsNull(r) || times.IsNull(r - 1))
            {
                nulls[r] = true;
                continue;
            }

            bits[r] = (times.Bits![r] - times.Bits![r - 1]) / unitNs;
        }

        var columns = table.Columns.Where(m => m.Name != columnName).ToList();
        var data = table.Data.Where((_, i) => table.Columns[i].Name != columnName).ToList();
        columns.Add(new ColumnMeta(columnName, Kind.Int));
        data.Add(new ColumnData(Kind.Int, bits, null, nulls));
        return TableOps.Slice(new Table(table.Key, [.. columns], [.. data], table.Rows), 1, table.Rows);
    }

    /// <summary>Nulls of a column replaced by a value of its type, or by the previous non-null value.</summary>
    public static Table Fill(Table table, string column, Value? value, bool usePrevious)
    {
        int c = table.IndexOf(column);
        if (c < 0)
        {
            if (table.IsEmpty)
            {
                return table;
            }

            throw new QueryException($"fill: column \"{column}\" does not exist");
        }

        Kind type = table.Columns[c].Type;
        if (!usePrevious && value is { } v && v.Kind != type && type != Kind.Null)
        {
            throw new QueryException($"fill: the value is {Value.KindName(v.Kind)} but column \"{column}\" is {Value.KindName(type)}");
        }

        var src = table.Data[c];
        var builder = new ColumnBuilder(type, table.Rows);
        Value? previous = null;
        for (int r = 0; r < table.Rows; r++)
        {
            if (!src.IsNull(r))
            {
                previous = src.Get(r);
                builder.AppendFrom(src, r);
            }
            else if (usePrevious ? previous is not null : value is not null)
            {
                builder.Append(usePrevious ? previous!.Value : value!.Value);
            }
            else
            {
                builder.AppendNull();
            }
        }

        return Replace(table, c, type, builder.Build());
    }

    /// <summary>Adds a duration to time columns (key columns too, so the group key moves with them).</summary>
    public static Table TimeShift(Table table, FluxDuration shift, string[] columns)
    {
        var set = columns.ToHashSet(StringComparer.Ordinal);
        var keyValues = (Value[])table.Key.Values.Clone();
        for (int k = 0; k < keyValues.Length; k++)
        {
            if (set.Contains(table.Key.Columns[k].Name) && keyValues[k].Kind == Kind.Time)
            {
                keyValues[k] = Value.Time(AddDuration(keyValues[k].AsTime, shift));
            }
        }

        var data = (ColumnData[])table.Data.Clone();
        for (int c = 0; c < data.Length; c++)
        {
            if (!set.Contains(table.Columns[c].Name) || table.Columns[c].Type != Kind.Time)
            {
                continue;
            }

            var src = data[c];
            if (src.IsConstant)
            {
                data[c] = ColumnData.Constant(Kind.Time, src.ConstantValue.Kind == Kind.Time ? Value.Time(AddDuration(src.ConstantValue.AsTime, shift)) : src.ConstantValue, table.Rows);
                continue;
            }

            var bits = new long[table.Rows];
            for (int r = 0; r < table.Rows; r++)
            {
                bits[r] = src.IsNull(r) ? 0 : AddDuration(src.Bits![r], shift);
            }

            data[c] = new ColumnData(Kind.Time, bits, null, src.Nulls is null ? null : (bool[])src.Nulls.Clone());
        }

        return new Table(new GroupKey(table.Key.Columns, keyValues), table.Columns, data, table.Rows);
    }

    /// <summary>A time plus a duration: calendar months first (day clamped to the month's end), then nanoseconds.</summary>
    public static long AddDuration(long time, FluxDuration d)
    {
        if (d.Months == 0)
        {
            return time + d.Nanoseconds;
        }

        var t = DateTime.UnixEpoch.AddTicks(time / 100).AddMonths((int)d.Months);
        return ((t - DateTime.UnixEpoch).Ticks * 100) + (time % 100) + d.Nanoseconds;
    }

    /// <summary>Each time of the column rounded down to a multiple of the unit (since the Unix epoch).</summary>
    public static Table TruncateTimeColumn(Table table, long unitNs, string timeColumn)
    {
        if (unitNs <= 0)
        {
            throw new QueryException("truncateTimeColumn: unit must be positive");
        }

        int c = table.IndexOf(timeColumn);
        if (c < 0)
        {
            if (table.IsEmpty)
            {
                return table;
            }

            throw new QueryException($"truncateTimeColumn: column \"{timeColumn}\" does not exist");
        }

        var src = table.Data[c];
        var bits = new long[table.Rows];
        for (int r = 0; r < table.Rows; r++)
        {
            long t = src.IsNull(r) ? 0 : src.Bits![r];
            bits[r] = t - (((t % unitNs) + unitNs) % unitNs);
        }

        return Replace(table, c, Kind.Time, new ColumnData(Kind.Time, bits, null, src.Nulls is null ? null : (bool[])src.Nulls.Clone()));
    }

    /// <summary>
    /// Cumulative counts of the column's values at or under each bin's upper bound, one row per bin (sorted),
    /// beside the group key; normalized to fractions when asked.
    /// </summary>
    public static Table Histogram(Table table, string column, string upperBoundColumn, string countColumn, double[] bins, bool normalize)
    {
        double[] bounds = [.. bins.Order()];
        var counts = new double[bounds.Length];
        int total = 0;
        int c = table.IndexOf(column);
        if (c >= 0)
        {
            var (_, type) = NumericColumn(table, column, "histogram");
            var src = table.Data[c];
            for (int r = 0; r < table.Rows; r++)
            {
                if (src.IsNull(r))
                {
                    continue;
                }

                double v = AsDouble(type, src.Bits![r]);
                total++;
                int at = Array.BinarySearch(bounds, v);
                at = at >= 0 ? at : ~at;
                if (at < bounds.Length)
                {
                    counts[at]++;
                }
            }
        }
        else if (!table.IsEmpty)
        {
            throw new QueryException($"histogram: column \"{column}\" does not exist");
        }

        var builder = new TableBuilder(table.Key);
        int[] keyCols = [.. table.Key.Columns.Where(k => k.Name != upperBoundColumn && k.Name != countColumn).Select(k => builder.AddColumn(k.Name, k.Type))];
        var keyValues = table.Key.Columns.Select((k, i) => (k, table.Key.Values[i])).Where(x => x.k.Name != upperBoundColumn && x.k.Name != countColumn).Select(x => x.Item2).ToArray();
        int ub = builder.AddColumn(upperBoundColumn, Kind.Float);
        int cc = builder.AddColumn(countColumn, Kind.Float);
        double running = 0;
        for (int b = 0; b < bounds.Length; b++)
        {
            running += counts[b];
            for (int k = 0; k < keyCols.Length; k++)
            {
                builder[keyCols[k]].Append(keyValues[k]);
            }

            builder[ub].Append(Value.Float(bounds[b]));
            builder[cc].Append(Value.Float(normalize && total > 0 ? running / total : running));
            builder.EndRow();
        }

        return builder.Build();
    }

    /// <summary>
    /// The value at quantile q of a histogram (rows of upper bound and cumulative count, Prometheus-style),
    /// by linear interpolation inside the bucket that holds it; the lowest bucket starts at minValue.
    /// </summary>
    public static Table HistogramQuantile(Table table, double q, string countColumn, string upperBoundColumn, string valueColumn, double minValue)
    {
        if (q < 0 || q > 1)
        {
            throw new QueryException($"histogramQuantile: quantile must be between 0 and 1 (got {q})");
        }

        GroupKey key = table.Key;
        if (table.IsEmpty)
        {
            return TableOps.AggregateRow(key, valueColumn, Kind.Float, Value.Null);
        }

        var (cc, ct) = NumericColumn(table, countColumn, "histogramQuantile");
        var (uc, ut) = NumericColumn(table, upperBoundColumn, "histogramQuantile");
        var buckets = new List<(double Upper, double Count)>();
        for (int r = 0; r < table.Rows; r++)
        {
            if (!table.Data[cc].IsNull(r) && !table.Data[uc].IsNull(r))
            {
                buckets.Add((AsDouble(ut, table.Data[uc].Bits![r]), AsDouble(ct, table.Data[cc].Bits![r])));
            }
        }

        buckets.Sort((a, b) => a.Upper.CompareTo(b.Upper));
        if (buckets.Count == 0)
        {
            return TableOps.AggregateRow(key, valueColumn, Kind.Float, Value.Null);
        }

        double total = buckets[^1].Count;
        double rank = q * total;
        double lowerBound = minValue, lowerCount = 0;
        double result = buckets[^1].Upper;
        for (int i = 0; i < buckets.Count; i++)
        {
            var (upper, count) = buckets[i];
            if (count < lowerCount)
            {
                throw new QueryException("histogramQuantile: histogram counts must not decrease as the upper bound grows");
            }

            if (rank <= count)
            {
                if (double.IsPositiveInfinity(upper))
                {
                    result = lowerBound;
                }
                else
                {
                    result = count == lowerCount ? upper : lowerBound + ((upper - lowerBound) * (rank - lowerCount) / (count - lowerCount));
                }

                break;
            }

            lowerBound = upper;
            lowerCount = count;
        }

        var keyWithout = new GroupKey([.. key.Columns.Where(k => k.Name != upperBoundColumn && k.Name != countColumn)],
            [.. key.Values.Where((_, i) => key.Columns[i].Name != upperBoundColumn && key.Columns[i].Name != countColumn)]);
        return TableOps.AggregateRow(keyWithout, valueColumn, Kind.Float, Value.Float(result));
    }
}
