using System.Globalization;
using InfluxLike.Query.Data;
using InfluxLike.Query.Planning;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Runtime;

/// <summary>
/// The everyday packages used inside map and filter: date, types, and the rest of strings, math and regexp;
/// plus experimental/aggregate (rate) and influxdata/influxdb/v1 (the schema functions under their v1 names).
/// Times are UTC (the location option does not apply yet).
/// </summary>
internal static class MorePackages
{
    private static DateTime Utc(long ns) => DateTime.UnixEpoch.AddTicks(ns / 100);

    private static long Ns(DateTime t, long subTickNs = 0) => ((t - DateTime.UnixEpoch).Ticks * 100) + subTickNs;

    public static IEnumerable<Builtin> Date()
    {
        Builtin Part(string name, Func<long, DateTime, long> part) => new(name, null, a =>
        {
            long t = a.Time("t");
            return Value.Int(part(t, Utc(t)));
        });

        yield return Part("second", (_, d) => d.Second);
        yield return Part("minute", (_, d) => d.Minute);
        yield return Part("hour", (_, d) => d.Hour);
        yield return Part("weekDay", (_, d) => (int)d.DayOfWeek);
        yield return Part("monthDay", (_, d) => d.Day);
        yield return Part("yearDay", (_, d) => d.DayOfYear);
        yield return Part("month", (_, d) => d.Month);
        yield return Part("year", (_, d) => d.Year);
        yield return Part("week", (_, d) => ISOWeek.GetWeekOfYear(d));
        yield return Part("quarter", (_, d) => ((d.Month - 1) / 3) + 1);
        yield return Part("millisecond", (t, _) => ((t % 1_000_000_000 + 1_000_000_000) % 1_000_000_000) / 1_000_000);
        yield return Part("microsecond", (t, _) => ((t % 1_000_000_000 + 1_000_000_000) % 1_000_000_000) / 1_000);
        yield return Part("nanosecond", (t, _) => (t % 1_000_000_000 + 1_000_000_000) % 1_000_000_000);
        yield return new Builtin("truncate", null, a =>
        {
            long t = a.Time("t");
            FluxDuration unit = a.Duration("unit");
            if (unit.Months != 0)
            {
                DateTime d = Utc(t);
                int months = (int)unit.Months;
                int index = ((d.Year * 12) + d.Month - 1) / months * months;
                return Value.Time(Ns(new DateTime(index / 12, (index % 12) + 1, 1, 0, 0, 0, DateTimeKind.Utc)));
            }

            if (unit.Nanoseconds <= 0)
            {
                throw a.Error("unit must be positive");
            }

            return Value.Time(t - (((t % unit.Nanoseconds) + unit.Nanoseconds) % unit.Nanoseconds));
        });
        yield return new Builtin("add", null, a => Value.Time(Transforms.AddDuration(a.Time("to"), a.Duration("d"))));
        yield return new Builtin("sub", null, a =>
        {
            FluxDuration d = a.Duration("d");
            return Value.Time(Transforms.AddDuration(a.Time("from"), new FluxDuration(-d.Months, -d.Nanoseconds)));
        });
    }

    public static IEnumerable<Builtin> Types()
    {
        yield return new Builtin("isType", null, a =>
        {
            string type = a.String("type");
            Kind kind = a.Get("v").Kind;
            return Value.Bool(type switch
            {
                "string" => kind == Kind.String,
                "bytes" => false,
                "int" => kind == Kind.Int,
                "uint" => kind == Kind.UInt,
                "float" => kind == Kind.Float,
                "bool" => kind == Kind.Bool,
                "time" => kind == Kind.Time,
                "duration" => kind == Kind.Duration,
                "regexp" => kind == Kind.Regex,
                _ => throw a.Error($"unknown type \"{type}\" (string, bytes, int, uint, float, bool, time, duration or regexp)"),
            });
        });
        yield return new Builtin("isNumeric", null, a => Value.Bool(a.Get("v").Kind is Kind.Int or Kind.UInt or Kind.Float));
    }

    public static IEnumerable<Builtin> MoreStrings() =>
    [
        new("title", null, a => Value.String(CultureInfo.InvariantCulture.TextInfo.ToTitleCase(a.String("v")))),
        new("toTitle", null, a => Value.String(a.String("v").ToUpperInvariant())),
        new("trim", null, a => Value.String(a.String("v").Trim(a.String("cutset").ToCharArray()))),
        new("trimLeft", null, a => Value.String(a.String("v").TrimStart(a.String("cutset").ToCharArray()))),
        new("trimRight", null, a => Value.String(a.String("v").TrimEnd(a.String("cutset").ToCharArray()))),
        new("trimPrefix", null, a => Value.String(a.String("v").StartsWith(a.String("prefix"), StringComparison.Ordinal) ? a.String("v")[a.String("prefix").Length..] : a.String("v"))),
        new("trimSuffix", null, a => Value.String(a.String("v").EndsWith(a.String("suffix"), StringComparison.Ordinal) ? a.String("v")[..^a.String("suffix").Length] : a.String("v"))),
        new("index", null, a => Value.Int(a.String("v").IndexOf(a.String("substr"), StringComparison.Ordinal))),
        new("lastIndex", null, a => Value.Int(a.String("v").LastIndexOf(a.String("substr"), StringComparison.Ordinal))),
        new("indexAny", null, a => Value.Int(a.String("v").IndexOfAny(a.String("chars").ToCharArray()))),
        new("lastIndexAny", null, a => Value.Int(a.String("v").LastIndexOfAny(a.String("chars").ToCharArray()))),
        new("countStr", null, a => Value.Int(CountOf(a.String("v"), a.String("substr")))),
        new("repeat", null, a => Value.String(string.Concat(Enumerable.Repeat(a.String("v"), (int)Math.Max(0, a.Int("i")))))),
        new("replace", null, a => Value.String(ReplaceN(a.String("v"), a.String("t"), a.String("u"), a.Int("i")))),
        new("splitN", null, a => Value.Array(new ArrayValue([.. a.String("v").Split(a.String("t"), (int)Math.Max(1, a.Int("i"))).Select(Value.String)]))),
        new("equalFold", null, a => Value.Bool(string.Equals(a.String("v"), a.String("t"), StringComparison.OrdinalIgnoreCase))),
        new("compare", null, a => Value.Int(Math.Sign(string.CompareOrdinal(a.String("v"), a.String("t"))))),
        new("isDigit", null, a => Value.Bool(a.String("v") is { Length: 1 } s && char.IsDigit(s[0]))),
        new("isLetter", null, a => Value.Bool(a.String("v") is { Length: 1 } s && char.IsLetter(s[0]))),
        new("isLower", null, a => Value.Bool(a.String("v") is { Length: 1 } s && char.IsLower(s[0]))),
        new("isUpper", null, a => Value.Bool(a.String("v") is { Length: 1 } s && char.IsUpper(s[0]))),
    ];

    private static long CountOf(string v, string sub)
    {
        if (sub.Length == 0)
        {
            return v.EnumerateRunes().Count() + 1;
        }

        long n = 0;
        for (int i = v.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = v.IndexOf(sub, i + sub.Length, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }

    private static string ReplaceN(string v, string t, string u, long n)
    {
        if (n < 0)
        {
            return v.Replace(t, u, StringComparison.Ordinal);
        }

        var result = new System.Text.StringBuilder();
        int at = 0;
        for (long done = 0; done < n; done++)
        {
            int i = v.IndexOf(t, at, StringComparison.Ordinal);
            if (i < 0)
            {
                break;
            }

            result.Append(v, at, i - at).Append(u);
            at = i + t.Length;
        }

        return result.Append(v, at, v.Length - at).ToString();
    }

    public static IEnumerable<Builtin> MoreMath() =>
    [
        new("mod", null, a => Value.Float(a.Float("x") % a.Float("y"))),
        new("remainder", null, a => Value.Float(Math.IEEERemainder(a.Float("x"), a.Float("y")))),
        new("log", null, a => Value.Float(Math.Log(a.Float("x")))),
        new("log10", null, a => Value.Float(Math.Log10(a.Float("x")))),
        new("log2", null, a => Value.Float(Math.Log2(a.Float("x")))),
        new("log1p", null, a => Value.Float(Math.Log(1 + a.Float("x")))),
        new("exp", null, a => Value.Float(Math.Exp(a.Float("x")))),
        new("exp2", null, a => Value.Float(Math.Pow(2, a.Float("x")))),
        new("sin", null, a => Value.Float(Math.Sin(a.Float("x")))),
        new("cos", null, a => Value.Float(Math.Cos(a.Float("x")))),
        new("tan", null, a => Value.Float(Math.Tan(a.Float("x")))),
        new("asin", null, a => Value.Float(Math.Asin(a.Float("x")))),
        new("acos", null, a => Value.Float(Math.Acos(a.Float("x")))),
        new("atan", null, a => Value.Float(Math.Atan(a.Float("x")))),
        new("atan2", null, a => Value.Float(Math.Atan2(a.Float("y"), a.Float("x")))),
        new("hypot", null, a => Value.Float(Math.Sqrt((a.Float("p") * a.Float("p")) + (a.Float("q") * a.Float("q"))))),
        new("cbrt", null, a => Value.Float(Math.Cbrt(a.Float("x")))),
        new("trunc", null, a => Value.Float(Math.Truncate(a.Float("x")))),
        new("roundtoeven", null, a => Value.Float(Math.Round(a.Float("x"), MidpointRounding.ToEven))),
        new("mMax", null, a => Value.Float(Math.Max(a.Float("x"), a.Float("y")))),
        new("mMin", null, a => Value.Float(Math.Min(a.Float("x"), a.Float("y")))),
        new("signbit", null, a => Value.Bool(double.IsNegative(a.Float("x")))),
        new("isInf", null, a => Value.Bool(a.Int("sign") switch { > 0 => double.IsPositiveInfinity(a.Float("f")), < 0 => double.IsNegativeInfinity(a.Float("f")), _ => double.IsInfinity(a.Float("f")) })),
        new("isNaN", null, a => Value.Bool(double.IsNaN(a.Float("f")))),
    ];

    public static IEnumerable<Builtin> MoreRegexp() =>
    [
        new("findString", null, a => Value.String(a.Get("r").AsRegex.Match(a.String("v")) is { Success: true } m ? m.Value : "")),
        new("findStringIndex", null, a => Value.Array(new ArrayValue(a.Get("r").AsRegex.Match(a.String("v")) is { Success: true } m ? [Value.Int(m.Index), Value.Int(m.Index + m.Length)] : []))),
        new("getString", null, a => Value.String(a.Get("r").AsRegex.ToString())),
        new("splitRegexp", null, a =>
        {
            long i = a.Int("i");
            string[] parts = i < 0 ? a.Get("r").AsRegex.Split(a.String("v")) : a.Get("r").AsRegex.Split(a.String("v"), (int)Math.Max(1, i));
            return Value.Array(new ArrayValue(i == 0 ? [] : [.. parts.Select(Value.String)]));
        }),
    ];

    /// <summary>experimental/aggregate.rate: per series, the non-negative derivative averaged per window; summed over groupColumns when given.</summary>
    public static IEnumerable<Builtin> Aggregate()
    {
        yield return new Builtin("rate", "tables", a =>
        {
            FluxDuration every = a.Duration("every");
            FluxDuration unit = a.Duration("unit", FluxDuration.FromNanoseconds(1_000_000_000));
            string[] groupColumns = a.Strings("groupColumns", []);
            if (every.Months != 0 || every.Nanoseconds <= 0 || unit.Months != 0 || unit.Nanoseconds <= 0)
            {
                throw a.Error("every and unit must be positive durations without months");
            }

            PlanNode input = a.Stream("tables");
            var derivative = new PerTableNode("derivative", input, (t, _) => [Transforms.Derivative(t, ["_value"], "_time", unit.Nanoseconds, nonNegative: true, initialZero: false)]);
            var mean = new TableFunction("mean", (t, args) => Aggregates.Apply("mean", t, args.String("column", "_value")));
            var windows = new AggregateWindowNode(derivative, new Grouping.WindowSpec(every, every, default), mean, "_value", "_stop", "_time", createEmpty: false);
            if (groupColumns.Length == 0)
            {
                return Value.Stream(new TableStream(windows));
            }

            var keep = groupColumns.Concat(["_start", "_stop", "_time"]).ToArray();
            var grouped = new StreamNode("group", [windows], (inputs, ctx) => Grouping.Group(inputs[0], [.. groupColumns.Concat(["_start", "_stop"])], false, ctx));
            return Value.Stream(new TableStream(new PerTableNode("sum per window", grouped, (t, _) => [SumByTime(t, keep)])));
        });
    }

    // Rows of equal _time summed (their _value), other non-key columns dropped.
    private static Table SumByTime(Table t, string[] keep)
    {
        var builder = new TableBuilder(t.Key);
        int[] keyCols = [.. t.Key.Columns.Select(c => builder.AddColumn(c.Name, c.Type))];
        int timeCol = builder.AddColumn("_time", Kind.Time);
        int valueCol = builder.AddColumn("_value", Kind.Float);
        int tc = t.IndexOf("_time"), vc = t.IndexOf("_value");
        if (tc < 0 || vc < 0)
        {
            return builder.Build();
        }

        var sums = new SortedDictionary<long, double?>();
        for (int r = 0; r < t.Rows; r++)
        {
            long time = t.Data[tc].Bits![r];
            double? v = t.Data[vc].IsNull(r) ? null : BitConverter.Int64BitsToDouble(t.Data[vc].Bits![r]);
            sums[time] = sums.TryGetValue(time, out double? s) ? (s ?? 0) + (v ?? 0) : v;
        }

        foreach (var (time, sum) in sums)
        {
            for (int i = 0; i < keyCols.Length; i++)
            {
                builder[keyCols[i]].Append(t.Key.Values[i]);
            }

            builder[timeCol].AppendBits(time);
            builder[valueCol].Append(sum is { } x ? Value.Float(x) : Value.Null);
            builder.EndRow();
        }

        return builder.Build();
    }
}
