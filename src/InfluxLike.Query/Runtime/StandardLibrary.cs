using InfluxLike.Query.Data;
using InfluxLike.Query.Planning;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Runtime;

/// <summary>
/// The universe functions beyond the core set: statistics (Functions/Statistics.cs) and row-wise
/// transformations (Functions/Transforms.cs), with Flux's parameters and defaults.
/// </summary>
internal static class StandardLibrary
{
    private static readonly FluxDuration Second = FluxDuration.FromNanoseconds(1_000_000_000);

    private static Value Stream(PlanNode node) => Value.Stream(new TableStream(node));

    private static Builtin PerTable(string name, Func<CallArguments, Func<Table, Table>> make, bool changesKeys = false) =>
        new(name, "tables", a =>
        {
            Func<Table, Table> apply = make(a);
            return Stream(new PerTableNode(name, a.Stream("tables"), (t, _) => [apply(t)], changesKeys: changesKeys));
        });

    private static double FloatOr(CallArguments a, string name, double fallback) => a.Has(name) ? a.Float(name) : fallback;

    private static long Nanoseconds(CallArguments a, string name, FluxDuration fallback)
    {
        FluxDuration d = a.Duration(name, fallback);
        if (d.Months != 0)
        {
            throw a.Error($"{name} must be a duration without months or years");
        }

        return d.Nanoseconds;
    }

    /// <summary>The join package: tables (any method) and its inner, left, right and full shorthands.</summary>
    public static IEnumerable<Builtin> JoinPackage()
    {
        Builtin Make(string name, string? fixedMethod) => new(name, "left", a =>
        {
            PlanNode left = a.Stream("left");
            Value right = a.Get("right");
            if (right.Kind != Kind.Stream)
            {
                throw a.Error("right must be a stream of tables");
            }

            FunctionValue on = a.Function("on");
            FunctionValue @as = a.Function("as");
            string method = fixedMethod ?? a.String("method");
            return Stream(new StreamNode("join." + name, [left, right.AsStream.Node],
                (inputs, ctx) => Joins.Tables(inputs[0], inputs[1], on, @as, method, ctx.Interpreter!), $"method: \"{method}\""));
        });

        yield return Make("tables", null);
        yield return Make("inner", "inner");
        yield return Make("left", "left");
        yield return Make("right", "right");
        yield return Make("full", "full");
    }

    public static IEnumerable<FunctionValue> Functions()
    {
        yield return ToFunction.Create();
        yield return new TableFunction("spread", (t, a) => Statistics.Spread(t, a.String("column", "_value")));
        yield return new TableFunction("stddev", (t, a) => Statistics.Stddev(t, a.String("column", "_value"), a.String("mode", "sample")));
        yield return new TableFunction("median", (t, a) =>
            Statistics.Quantile(t, a.String("column", "_value"), 0.5, a.String("method", "estimate_tdigest"), FloatOr(a, "compression", 1000), "median"));
        yield return new TableFunction("quantile", (t, a) =>
            Statistics.Quantile(t, a.String("column", "_value"), a.Float("q"), a.String("method", "estimate_tdigest"), FloatOr(a, "compression", 1000), "quantile"));
        yield return new TableFunction("mode", (t, a) => Statistics.Mode(t, a.String("column", "_value")));
        yield return new TableFunction("skew", (t, a) => Statistics.Skew(t, a.String("column", "_value")));
        yield return new TableFunction("integral", (t, a) =>
            Statistics.Integral(t, a.String("column", "_value"), a.String("timeColumn", "_time"), Nanoseconds(a, "unit", Second), a.String("interpolate", "")));

        yield return PerTable("top", a =>
        {
            long n = a.Int("n");
            string[] columns = a.Strings("columns", ["_value"]);
            return t => Statistics.SortLimit(t, n, columns, descending: true);
        });
        yield return PerTable("bottom", a =>
        {
            long n = a.Int("n");
            string[] columns = a.Strings("columns", ["_value"]);
            return t => Statistics.SortLimit(t, n, columns, descending: false);
        });
        yield return PerTable("distinct", a =>
        {
            string column = a.String("column", "_value");
            return t => Statistics.Distinct(t, column);
        });
        yield return PerTable("unique", a =>
        {
            string column = a.String("column", "_value");
            return t => Statistics.Unique(t, column);
        });

        yield return PerTable("difference", a =>
        {
            string[] columns = a.Strings("columns", ["_value"]);
            bool nonNegative = a.Bool("nonNegative", false), keepFirst = a.Bool("keepFirst", false), initialZero = a.Bool("initialZero", false);
            return t => Transforms.Difference(t, columns, nonNegative, keepFirst, initialZero);
        });
        yield return PerTable("increase", a =>
        {
            string[] columns = a.Strings("columns", ["_value"]);
            return t => Transforms.CumulativeSum(Transforms.Difference(t, columns, nonNegative: true, keepFirst: true, initialZero: true), columns);
        });
        yield return PerTable("derivative", a =>
        {
            string[] columns = a.Strings("columns", ["_value"]);
            long unit = Nanoseconds(a, "unit", Second);
            string timeColumn = a.String("timeColumn", "_time");
            bool nonNegative = a.Bool("nonNegative", false), initialZero = a.Bool("initialZero", false);
            return t => Transforms.Derivative(t, columns, timeColumn, unit, nonNegative, initialZero);
        });
        yield return PerTable("cumulativeSum", a =>
        {
            string[] columns = a.Strings("columns", ["_value"]);
            return t => Transforms.CumulativeSum(t, columns);
        });
        yield return PerTable("movingAverage", a =>
        {
            long n = a.Int("n");
            return t => Transforms.MovingAverage(t, n);
        });
        yield return PerTable("exponentialMovingAverage", a =>
        {
            long n = a.Int("n");
            return t => Transforms.ExponentialMovingAverage(t, n);
        });
        yield return PerTable("elapsed", a =>
        {
            long unit = Nanoseconds(a, "unit", Second);
            string timeColumn = a.String("timeColumn", "_time");
            string columnName = a.String("columnName", "elapsed");
            return t => Transforms.Elapsed(t, unit, timeColumn, columnName);
        });
        yield return PerTable("fill", a =>
        {
            string column = a.String("column", "_value");
            bool usePrevious = a.Bool("usePrevious", false);
            Value? value = a.Has("value") ? a.Get("value") : null;
            if (!usePrevious && value is null)
            {
                throw a.Error("give value or usePrevious: true");
            }

            if (usePrevious && value is not null)
            {
                throw a.Error("value and usePrevious cannot both be given");
            }

            return t => Transforms.Fill(t, column, value, usePrevious);
        });
        yield return PerTable("timeShift", a =>
        {
            FluxDuration d = a.Duration("duration");
            string[] columns = a.Strings("columns", ["_start", "_stop", "_time"]);
            return t => Transforms.TimeShift(t, d, columns);
        }, changesKeys: true);
        yield return PerTable("truncateTimeColumn", a =>
        {
            long unit = Nanoseconds(a, "unit", Second);
            string timeColumn = a.String("timeColumn", "_time");
            return t => Transforms.TruncateTimeColumn(t, unit, timeColumn);
        });
        yield return PerTable("histogram", a =>
        {
            var bins = a.Get("bins");
            if (bins.Kind != Kind.Array || bins.AsArray.Items.Any(b => b.Kind is not (Kind.Float or Kind.Int)))
            {
                throw a.Error("bins must be an array of floats");
            }

            double[] bounds = [.. bins.AsArray.Items.Select(b => b.Kind == Kind.Float ? b.AsFloat : b.AsInt)];
            string column = a.String("column", "_value"), upper = a.String("upperBoundColumn", "le"), count = a.String("countColumn", "_value");
            bool normalize = a.Bool("normalize", false);
            return t => Transforms.Histogram(t, column, upper, count, bounds, normalize);
        }, changesKeys: true);
        yield return PerTable("histogramQuantile", a =>
        {
            double q = a.Float("quantile");
            string count = a.String("countColumn", "_value"), upper = a.String("upperBoundColumn", "le"), value = a.String("valueColumn", "_value");
            double min = FloatOr(a, "minValue", 0);
            return t => Transforms.HistogramQuantile(t, q, count, upper, value, min);
        }, changesKeys: true);

        yield return new Builtin("join", null, a =>
        {
            RecordValue tables = a.Record("tables");
            if (tables.Count != 2 || tables.Values.Any(v => v.Kind != Kind.Stream))
            {
                throw a.Error("tables must be a record of exactly two streams, e.g. {left: a, right: b}");
            }

            if (!a.Has("on"))
            {
                throw a.Error("on is required: the columns whose values must match");
            }

            string[] on = a.Strings("on");
            string method = a.String("method", "inner");
            string ln = tables.Names[0], rn = tables.Names[1];
            return Stream(new StreamNode("join", [tables.Values[0].AsStream.Node, tables.Values[1].AsStream.Node],
                (inputs, _) => Joins.Universe(ln, inputs[0], rn, inputs[1], on, method), $"on: [{string.Join(", ", on.Select(c => "\"" + c + "\""))}]"));
        });

        yield return new Builtin("linearBins", null, a =>
        {
            double start = a.Float("start"), width = a.Float("width");
            long count = a.Int("count");
            var items = Enumerable.Range(0, (int)count).Select(i => Value.Float(start + (i * width))).ToList();
            if (a.Bool("infinity", true))
            {
                items.Add(Value.Float(double.PositiveInfinity));
            }

            return Value.Array(new ArrayValue([.. items]));
        });
        yield return new Builtin("logarithmicBins", null, a =>
        {
            double start = a.Float("start"), factor = a.Float("factor");
            long count = a.Int("count");
            var items = Enumerable.Range(0, (int)count).Select(i => Value.Float(start * Math.Pow(factor, i))).ToList();
            if (a.Bool("infinity", true))
            {
                items.Add(Value.Float(double.PositiveInfinity));
            }

            return Value.Array(new ArrayValue([.. items]));
        });
    }
}
