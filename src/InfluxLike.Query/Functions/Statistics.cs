using InfluxLike.Query.Data;
using InfluxLike.Query.Values;

namespace InfluxLike.Query;

/// <summary>
/// The statistical aggregates and selectors of Flux's universe beyond the core ones: spread, stddev, median,
/// quantile (exact_mean, exact_selector, estimate_tdigest), mode, skew, integral, top/bottom, distinct,
/// unique. Nulls are skipped; an aggregate of no value is null; a selector of no value selects no row.
/// </summary>
public static class Statistics
{
    private static (ColumnData? Data, Kind Type) Column(Table table, string column, string function)
    {
        int c = table.IndexOf(column);
        if (c < 0)
        {
            if (table.IsEmpty)
            {
                return (null, Kind.Null);
            }

            throw new QueryException($"{function}: column \"{column}\" does not exist");
        }

        return (table.Data[c], table.Columns[c].Type);
    }

    private static void RequireNumeric(Kind type, string function, string column)
    {
        if (type is not (Kind.Float or Kind.Int or Kind.UInt or Kind.Null))
        {
            throw new QueryException($"{function}: column \"{column}\" is {Value.KindName(type)}; {function} needs int, uint or float");
        }
    }

    private static double AsDouble(Kind type, long bits) =>
        type switch { Kind.Float => BitConverter.Int64BitsToDouble(bits), Kind.UInt => (ulong)bits, _ => bits };

    /// <summary>The non-null values of a numeric column as doubles, in row order.</summary>
    public static double[] Numbers(ColumnData? data, Kind type, int rows)
    {
        if (data is null)
        {
            return [];
        }

        var values = new List<double>(rows);
        for (int r = 0; r < rows; r++)
        {
            if (!data.IsNull(r))
            {
                values.Add(AsDouble(type, data.Bits![r]));
            }
        }

        return [.. values];
    }

    private static GroupKey KeyWithout(GroupKey key, string column)
    {
        int k = key.IndexOf(column);
        return k < 0 ? key : new GroupKey([.. key.Columns.Where((_, i) => i != k)], [.. key.Values.Where((_, i) => i != k)]);
    }

    /// <summary>max − min, of the column's own type.</summary>
    public static Table Spread(Table table, string column)
    {
        var (data, type) = Column(table, column, "spread");
        RequireNumeric(type, "spread", column);
        GroupKey key = KeyWithout(table.Key, column);
        Kind outType = type == Kind.Null ? Kind.Float : type;
        if (data is null)
        {
            return TableOps.AggregateRow(key, column, outType, Value.Null);
        }

        bool any = false;
        long minI = long.MaxValue, maxI = long.MinValue;
        ulong minU = ulong.MaxValue, maxU = 0;
        double minF = double.PositiveInfinity, maxF = double.NegativeInfinity;
        for (int r = 0; r < table.Rows; r++)
        {
            if (data.IsNull(r))
            {
                continue;
            }

            any = true;
            long b = data.Bits![r];
            switch (type)
            {
                case Kind.Float:
                    double d = BitConverter.Int64BitsToDouble(b);
                    minF = Math.Min(minF, d);
                    maxF = Math.Max(maxF, d);
                    break;
                case Kind.UInt:
                    minU = Math.Min(minU, (ulong)b);
                    maxU = Math.Max(maxU, (ulong)b);
                    break;
                default:
                    minI = Math.Min(minI, b);
                    maxI = Math.Max(maxI, b);
                    break;
            }
        }

        Value v = !any ? Value.Null : type switch
        {
            Kind.Float => Value.Float(maxF - minF),
            Kind.UInt => Value.UInt(maxU - minU),
            _ => Value.Int(unchecked(maxI - minI)),
        };
        return TableOps.AggregateRow(key, column, outType, v);
    }

    /// <summary>Standard deviation: mode "sample" (n − 1, null under two values) or "population" (n).</summary>
    public static Table Stddev(Table table, string column, string mode)
    {
        if (mode is not ("sample" or "population"))
        {
            throw new QueryException($"stddev: mode must be \"sample\" or \"population\" (got \"{mode}\")");
        }

        var (data, type) = Column(table, column, "stddev");
        RequireNumeric(type, "stddev", column);
        double[] xs = Numbers(data, type, table.Rows);

        // Welford's running mean and sum of squares, as Flux does.
        double mean = 0, m2 = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            double delta = xs[i] - mean;
            mean += delta / (i + 1);
            m2 += delta * (xs[i] - mean);
        }

        double n = mode == "population" ? xs.Length : xs.Length - 1;
        Value v = n <= 0 ? Value.Null : Value.Float(Math.Sqrt(m2 / n));
        return TableOps.AggregateRow(KeyWithout(table.Key, column), column, Kind.Float, v);
    }

    /// <summary>quantile and median: an aggregate (exact_mean, estimate_tdigest) or a selector (exact_selector).</summary>
    public static Table Quantile(Table table, string column, double q, string method, double compression, string function)
    {
        if (q < 0 || q > 1 || double.IsNaN(q))
        {
            throw new QueryException($"{function}: q must be between 0 and 1 (got {q})");
        }

        var (data, type) = Column(table, column, function);
        if (method != "exact_selector")
        {
            RequireNumeric(type, function, column);
        }

        switch (method)
        {
            case "exact_selector":
            {
                if (data is null)
                {
                    return table;
                }

                var rows = Enumerable.Range(0, table.Rows).Where(r => !data.IsNull(r)).ToArray();
                if (rows.Length == 0)
                {
                    return TableOps.Slice(table, 0, 0);
                }

                // Any ordered type; stable: equal values keep their order.
                var ordered = rows.Order(Comparer<int>.Create((a, b) => TableOps.CompareCells(data, a, b))).ToArray();
                int index = (int)Math.Ceiling(q * ordered.Length);
                index = index > 0 ? index - 1 : 0;
                return TableOps.Gather(table, [ordered[index]]);
            }

            case "exact_mean":
            {
                double[] xs = Numbers(data, type, table.Rows);
                Array.Sort(xs);
                Value v = Value.Null;
                if (xs.Length > 0)
                {
                    double x = q * (xs.Length - 1);
                    double x0 = Math.Floor(x), x1 = Math.Ceiling(x);
                    v = Value.Float(x0 == x1 ? xs[(int)x0] : (xs[(int)x0] * (x1 - x)) + (xs[(int)x1] * (x - x0)));
                }

                return TableOps.AggregateRow(KeyWithout(table.Key, column), column, Kind.Float, v);
            }

            case "estimate_tdigest":
            {
                var digest = new TDigest(compression);
                foreach (double x in Numbers(data, type, table.Rows))
                {
                    digest.Add(x);
                }

                Value v = digest.Count == 0 ? Value.Null : Value.Float(digest.Quantile(q));
                return TableOps.AggregateRow(KeyWithout(table.Key, column), column, Kind.Float, v);
            }

            default:
                throw new QueryException($"{function}: unknown method \"{method}\" (estimate_tdigest, exact_mean or exact_selector)");
        }
    }

    /// <summary>
    /// The most frequent non-null value, of the column's type; several equally frequent values are all returned,
    /// one row each, sorted (Flux's mode); no value gives null.
    /// </summary>
    public static Table Mode(Table table, string column)
    {
        var (data, type) = Column(table, column, "mode");
        GroupKey key = KeyWithout(table.Key, column);
        if (data is null)
        {
            return TableOps.AggregateRow(key, column, Kind.Float, Value.Null);
        }

        var counts = new Dictionary<Value, int>();
        for (int r = 0; r < table.Rows; r++)
        {
            if (!data.IsNull(r))
            {
                Value v = data.Get(r);
                counts[v] = counts.GetValueOrDefault(v) + 1;
            }
        }

        if (counts.Count == 0)
        {
            return TableOps.AggregateRow(key, column, type, Value.Null);
        }

        int most = counts.Values.Max();
        var builder = new TableBuilder(key);
        int[] keyCols = [.. key.Columns.Select(c => builder.AddColumn(c.Name, c.Type))];
        int valueCol = builder.AddColumn(column, type);
        foreach (Value mode in counts.Where(kv => kv.Value == most).Select(kv => kv.Key).Order(ValueOrder.Instance))
        {
            for (int i = 0; i < keyCols.Length; i++)
            {
                builder[keyCols[i]].Append(key.Values[i]);
            }

            builder[valueCol].Append(mode);
            builder.EndRow();
        }

        return builder.Build();
    }

    /// <summary>Sample skewness (Flux's: population moments, n ≥ 1), float.</summary>
    public static Table Skew(Table table, string column)
    {
        var (data, type) = Column(table, column, "skew");
        RequireNumeric(type, "skew", column);
        double[] xs = Numbers(data, type, table.Rows);
        Value v = Value.Null;
        if (xs.Length > 0)
        {
            double mean = xs.Average();
            double m2 = xs.Sum(x => (x - mean) * (x - mean)) / xs.Length;
            double m3 = xs.Sum(x => (x - mean) * (x - mean) * (x - mean)) / xs.Length;
            v = Value.Float(m3 / Math.Pow(m2, 1.5));
        }

        return TableOps.AggregateRow(KeyWithout(table.Key, column), column, Kind.Float, v);
    }

    /// <summary>
    /// The area under the curve of <paramref name="column"/> over <paramref name="timeColumn"/>, per
    /// <paramref name="unitNs"/>: trapezoids between consecutive non-null points ("linear" also fills from the
    /// table's _start and to its _stop with the nearest value's line).
    /// </summary>
    public static Table Integral(Table table, string column, string timeColumn, long unitNs, string interpolate)
    {
        if (interpolate is not ("" or "linear"))
        {
            throw new QueryException($"integral: interpolate must be \"\" or \"linear\" (got \"{interpolate}\")");
        }

        if (unitNs <= 0)
        {
            throw new QueryException("integral: unit must be positive");
        }

        var (data, type) = Column(table, column, "integral");
        RequireNumeric(type, "integral", column);
        GroupKey key = KeyWithout(table.Key, column);
        if (data is null)
        {
            return TableOps.AggregateRow(key, column, Kind.Float, Value.Float(0));
        }

        int tc = table.IndexOf(timeColumn);
        if (tc < 0)
        {
            throw new QueryException($"integral: time column \"{timeColumn}\" does not exist");
        }

        var times = table.Data[tc];
        double area = 0;
        bool havePrev = false;
        long prevT = 0;
        double prevV = 0;
        for (int r = 0; r < table.Rows; r++)
        {
            if (data.IsNull(r) || times.IsNull(r))
            {
                continue;
            }

            long t = times.Bits![r];
            double v = AsDouble(type, data.Bits![r]);
            if (havePrev)
            {
                if (t < prevT)
                {
                    throw new QueryException($"integral: rows are not sorted by \"{timeColumn}\"");
                }

                area += (v + prevV) / 2 * ((double)(t - prevT) / unitNs);
            }

            havePrev = true;
            prevT = t;
            prevV = v;
        }

        return TableOps.AggregateRow(key, column, Kind.Float, Value.Float(area));
    }

    /// <summary>top and bottom: the table sorted by the columns (descending for top), its first n rows.</summary>
    public static Table SortLimit(Table table, long n, string[] columns, bool descending)
    {
        if (n < 0)
        {
            throw new QueryException($"{(descending ? "top" : "bottom")}: n must not be negative");
        }

        Table sorted = TableOps.Sort(table, columns, descending);
        return TableOps.Slice(sorted, 0, (int)Math.Min(n, int.MaxValue));
    }

    /// <summary>The distinct values of the column (nulls included once), as a _value column beside the key.</summary>
    public static Table Distinct(Table table, string column)
    {
        var (data, type) = Column(table, column, "distinct");
        var columns = new List<ColumnMeta>(table.Key.Columns.Where(c => c.Name != "_value"));
        var keyValues = table.Key.Columns.Select((c, i) => (c, table.Key.Values[i])).Where(x => x.c.Name != "_value").Select(x => x.Item2).ToList();
        var builder = new TableBuilder(table.Key);
        int[] keyCols = [.. columns.Select(c => builder.AddColumn(c.Name, c.Type))];
        int valueCol = builder.AddColumn("_value", type == Kind.Null ? Kind.String : type);
        if (data is null)
        {
            return builder.Build();
        }

        var seen = new HashSet<Value>();
        bool sawNull = false;
        int k = table.Key.IndexOf(column);
        int rows = k >= 0 ? Math.Min(table.Rows, 1) : table.Rows;
        for (int r = 0; r < rows; r++)
        {
            if (data.IsNull(r))
            {
                if (sawNull)
                {
                    continue;
                }

                sawNull = true;
            }
            else if (!seen.Add(data.Get(r)))
            {
                continue;
            }

            for (int i = 0; i < keyCols.Length; i++)
            {
                builder[keyCols[i]].Append(keyValues[i]);
            }

            builder[valueCol].AppendFrom(data, r);
            builder.EndRow();
        }

        return builder.Build();
    }

    /// <summary>The rows whose value in the column has not been seen in an earlier row (nulls count as one value).</summary>
    public static Table Unique(Table table, string column)
    {
        var (data, _) = Column(table, column, "unique");
        if (data is null)
        {
            return table;
        }

        var seen = new HashSet<Value>();
        var rows = new List<int>();
        for (int r = 0; r < table.Rows; r++)
        {
            if (seen.Add(data.IsNull(r) ? Value.Null : data.Get(r)))
            {
                rows.Add(r);
            }
        }

        return TableOps.Gather(table, rows.ToArray());
    }

    /// <summary>Orders values of one kind (for mode's tie-break).</summary>
    private sealed class ValueOrder : IComparer<Value>
    {
        public static readonly ValueOrder Instance = new();

        public int Compare(Value a, Value b) => a.Kind switch
        {
            Kind.String => string.CompareOrdinal(a.AsString, b.AsString),
            Kind.Float => a.AsFloat.CompareTo(b.AsFloat),
            Kind.UInt => a.AsUInt.CompareTo(b.AsUInt),
            _ => a.Bits.CompareTo(b.Bits),
        };
    }
}

/// <summary>
/// The merging t-digest Flux uses for estimate_tdigest (InfluxData's Go port of Dunning's algorithm, compression
/// 1000 by default): centroids merged under the arcsine scale; quantiles interpolated between centroid
/// midpoints, from the minimum and to the maximum at the ends. Small inputs keep one centroid per value.
/// </summary>
public sealed class TDigest(double compression)
{
    private readonly List<(double Mean, double Weight)> _unprocessed = [];
    private List<(double Mean, double Weight)> _processed = [];
    private double[] _cumulative = [];
    private double _processedWeight;
    private double _unprocessedWeight;
    private double _min = double.PositiveInfinity;
    private double _max = double.NegativeInfinity;

    public double Count => _processedWeight + _unprocessedWeight;

    public void Add(double x, double weight = 1)
    {
        _unprocessed.Add((x, weight));
        _unprocessedWeight += weight;
        if (_unprocessed.Count > 8 * (int)Math.Ceiling(compression))
        {
            Process();
        }
    }

    private double IntegratedQ(double k) => (Math.Sin((Math.Min(k, compression) * Math.PI / compression) - (Math.PI / 2)) + 1) / 2;

    private double IntegratedLocation(double q) => compression * (Math.Asin((2 * q) - 1) + (Math.PI / 2)) / Math.PI;

    private void Process()
    {
        if (_unprocessed.Count == 0 && _processed.Count <= 2 * (int)Math.Ceiling(compression))
        {
            return;
        }

        var all = new List<(double Mean, double Weight)>(_unprocessed.Count + _processed.Count);
        all.AddRange(_unprocessed);
        all.AddRange(_processed);
        all.Sort((a, b) => a.Mean.CompareTo(b.Mean));
        var processed = new List<(double Mean, double Weight)> { all[0] };
        _processedWeight += _unprocessedWeight;
        _unprocessedWeight = 0;
        double soFar = all[0].Weight;
        double limit = _processedWeight * IntegratedQ(1.0);
        for (int i = 1; i < all.Count; i++)
        {
            var c = all[i];
            double projected = soFar + c.Weight;
            if (projected <= limit)
            {
                soFar = projected;
                var last = processed[^1];
                double w = last.Weight + c.Weight;
                processed[^1] = (last.Mean + (c.Weight * (c.Mean - last.Mean) / w), w);
            }
            else
            {
                double k1 = IntegratedLocation(soFar / _processedWeight);
                limit = _processedWeight * IntegratedQ(k1 + 1.0);
                soFar += c.Weight;
                processed.Add(c);
            }
        }

        _processed = processed;
        _min = Math.Min(_min, processed[0].Mean);
        _max = Math.Max(_max, processed[^1].Mean);
        _cumulative = new double[processed.Count + 1];
        double prev = 0;
        for (int i = 0; i < processed.Count; i++)
        {
            _cumulative[i] = prev + (processed[i].Weight / 2);
            prev += processed[i].Weight;
        }

        _cumulative[processed.Count] = prev;
        _unprocessed.Clear();
    }

    public double Quantile(double q)
    {
        Process();
        if (q < 0 || q > 1 || _processed.Count == 0)
        {
            return double.NaN;
        }

        if (_processed.Count == 1)
        {
            return _processed[0].Mean;
        }

        double index = q * _processedWeight;
        if (index <= _processed[0].Weight / 2)
        {
            return _min + (2 * index / _processed[0].Weight * (_processed[0].Mean - _min));
        }

        int lower = Array.FindIndex(_cumulative, c => c >= index);
        if (lower + 1 != _cumulative.Length)
        {
            double z1 = index - _cumulative[lower - 1];
            double z2 = _cumulative[lower] - index;
            return WeightedAverage(_processed[lower - 1].Mean, z2, _processed[lower].Mean, z1);
        }

        double zz1 = index - _processedWeight - (_processed[lower - 1].Weight / 2);
        double zz2 = (_processed[lower - 1].Weight / 2) - zz1;
        return WeightedAverage(_processed[^1].Mean, zz1, _max, zz2);
    }

    private static double WeightedAverage(double x1, double w1, double x2, double w2)
    {
        if (x1 > x2)
        {
            (x1, w1, x2, w2) = (x2, w2, x1, w1);
        }

        double x = ((x1 * w1) + (x2 * w2)) / (w1 + w2);
        return Math.Max(x1, Math.Min(x, x2));
    }
}
