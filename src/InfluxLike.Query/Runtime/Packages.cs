using InfluxLike.Query.Csv;
using InfluxLike.Query.Data;
using InfluxLike.Query.Planning;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Runtime;

/// <summary>Importable packages: each a record of built-ins.</summary>
internal static class Packages
{
    public static RecordValue? Get(string path, Interpreter interpreter) => path switch
    {
        "influxdata/influxdb/schema" => Record(Schema()),
        "csv" => Record([new Builtin("from", null, CsvFrom)]),
        "array" => Record([new Builtin("from", null, ArrayFrom)]),
        "join" => Record(StandardLibrary.JoinPackage()),
        "strings" => Record(Strings().Concat(MorePackages.MoreStrings())),
        "date" => Record(MorePackages.Date(), ("Sunday", Value.Int(0)), ("Monday", Value.Int(1)), ("Tuesday", Value.Int(2)), ("Wednesday", Value.Int(3)),
            ("Thursday", Value.Int(4)), ("Friday", Value.Int(5)), ("Saturday", Value.Int(6)), ("January", Value.Int(1)), ("February", Value.Int(2)),
            ("March", Value.Int(3)), ("April", Value.Int(4)), ("May", Value.Int(5)), ("June", Value.Int(6)), ("July", Value.Int(7)), ("August", Value.Int(8)),
            ("September", Value.Int(9)), ("October", Value.Int(10)), ("November", Value.Int(11)), ("December", Value.Int(12))),
        "types" => Record(MorePackages.Types()),
        "experimental/aggregate" => Record(MorePackages.Aggregate()),
        "influxdata/influxdb/v1" => Record(Schema()),
        "regexp" => Record(
        [
            new Builtin("compile", null, a => Value.Regex(Regexes.Get(a.String("v"), a.Span))),
            new Builtin("matchRegexpString", null, a => Value.Bool(a.Get("r").AsRegex.IsMatch(a.String("v")))),
            new Builtin("replaceAllString", null, a => Value.String(a.Get("r").AsRegex.Replace(a.String("v"), a.String("t")))),
            new Builtin("quoteMeta", null, a => Value.String(System.Text.RegularExpressions.Regex.Escape(a.String("v")))),
            .. MorePackages.MoreRegexp(),
        ]),
        "math" => Record(
        [
            new Builtin("pow", null, a => Value.Float(Math.Pow(a.Float("x"), a.Float("y")))),
            new Builtin("sqrt", null, a => Value.Float(Math.Sqrt(a.Float("x")))),
            new Builtin("abs", null, a => Value.Float(Math.Abs(a.Float("x")))),
            new Builtin("floor", null, a => Value.Float(Math.Floor(a.Float("x")))),
            new Builtin("ceil", null, a => Value.Float(Math.Ceiling(a.Float("x")))),
            new Builtin("round", null, a => Value.Float(Math.Round(a.Float("x"), MidpointRounding.AwayFromZero))),
            new Builtin("mInf", null, a => Value.Float(a.Int("sign") >= 0 ? double.PositiveInfinity : double.NegativeInfinity)),
            new Builtin("NaN", null, _ => Value.Float(double.NaN)),
            .. MorePackages.MoreMath(),
        ], ("pi", Value.Float(Math.PI)), ("e", Value.Float(Math.E)), ("maxint", Value.Int(long.MaxValue)), ("minint", Value.Int(long.MinValue)), ("maxfloat", Value.Float(double.MaxValue))),
        "timezone" => Record(
        [
            new Builtin("fixed", null, a => Value.Record(new RecordValue(["zone", "offset"], [Value.String("UTC"), Value.Duration(a.Duration("offset"))]))),
            new Builtin("location", null, a => Value.Record(new RecordValue(["zone", "offset"], [Value.String(a.String("name")), Value.Duration(default)]))),
        ], ("utc", Value.Record(new RecordValue(["zone", "offset"], [Value.String("UTC"), Value.Duration(default)])))),
        _ => null,
    };

    private static RecordValue Record(IEnumerable<Builtin> functions, params (string Name, Value Value)[] constants)
    {
        var list = functions.Select(f => (f.Name, Value.Function(f))).Concat(constants).ToArray();
        return new RecordValue([.. list.Select(x => x.Item1)], [.. list.Select(x => x.Item2)]);
    }

    private static Value CsvFrom(CallArguments a)
    {
        string text = a.String("csv");
        var tables = AnnotatedCsvReader.Read(text);
        if (tables.Select(t => t.Result).Distinct().Count() > 1)
        {
            throw a.Error("csv.from takes exactly one result");
        }

        var list = tables.Select(t => t.Table).ToList();
        return Value.Stream(new TableStream(new SourceNode("csv.from", _ => list)));
    }

    private static Value ArrayFrom(CallArguments a)
    {
        var rows = a.Get("rows");
        if (rows.Kind != Kind.Array)
        {
            throw a.Error("rows must be an array of records");
        }

        var b = new TableBuilder(GroupKey.Empty);
        foreach (var row in rows.AsArray.Items)
        {
            if (row.Kind != Kind.Record)
            {
                throw a.Error("rows must be an array of records");
            }

            var r = row.AsRecord;
            for (int i = 0; i < r.Count; i++)
            {
                int c = b.AddColumn(r.Names[i], r.Values[i].Kind);
                b[c].Append(r.Values[i]);
            }

            b.EndRow();
        }

        var table = b.Build();
        return Value.Stream(new TableStream(new SourceNode("array.from", _ => [table])));
    }

    private static IEnumerable<Builtin> Strings() =>
    [
        new("toUpper", null, a => Value.String(a.String("v").ToUpperInvariant())),
        new("toLower", null, a => Value.String(a.String("v").ToLowerInvariant())),
        new("trimSpace", null, a => Value.String(a.String("v").Trim())),
        new("strlen", null, a => Value.Int(a.String("v").EnumerateRunes().Count())),
        new("hasPrefix", null, a => Value.Bool(a.String("v").StartsWith(a.String("prefix"), StringComparison.Ordinal))),
        new("hasSuffix", null, a => Value.Bool(a.String("v").EndsWith(a.String("suffix"), StringComparison.Ordinal))),
        new("containsStr", null, a => Value.Bool(a.String("v").Contains(a.String("substr"), StringComparison.Ordinal))),
        new("replaceAll", null, a => Value.String(a.String("v").Replace(a.String("t"), a.String("u"), StringComparison.Ordinal))),
        new("split", null, a => Value.Array(new ArrayValue([.. a.String("v").Split(a.String("t")).Select(Value.String)]))),
        new("joinStr", null, a => Value.String(string.Join(a.String("v"), a.Get("arr").AsArray.Items.Select(i => i.AsString)))),
        new("substring", null, a =>
        {
            var runes = a.String("v").EnumerateRunes().ToArray();
            int start = (int)Math.Clamp(a.Int("start"), 0, runes.Length);
            int end = (int)Math.Clamp(a.Int("end"), start, runes.Length);
            return Value.String(string.Concat(runes[start..end].Select(r => r.ToString())));
        }),
    ];

    /// <summary>schema.*: one table with a string _value column, sorted, distinct.</summary>
    private static IEnumerable<Builtin> Schema()
    {
        yield return SchemaFunction("measurements", (a, s) => s.Series.Measurement);
        yield return SchemaFunction("measurementTagKeys", (a, s) => null, tagKeys: true, measurementArg: true);
        yield return SchemaFunction("tagKeys", (a, s) => null, tagKeys: true);
        yield return SchemaFunction("tagValues", (a, s) => s.Series.Tags.FirstOrDefault(t => t.Key == a.String("tag")).Value);
        yield return SchemaFunction("measurementTagValues", (a, s) => s.Series.Tags.FirstOrDefault(t => t.Key == a.String("tag")).Value, measurementArg: true);
        yield return SchemaFunction("fieldKeys", (a, s) => s.Series.Field);
        yield return SchemaFunction("measurementFieldKeys", (a, s) => s.Series.Field, measurementArg: true);
    }

    private static Builtin SchemaFunction(string name, Func<CallArguments, (SeriesMeta Series, Kind Type), string?> pick, bool tagKeys = false, bool measurementArg = false) =>
        new(name, null, a =>
        {
            var storage = a.Interpreter.Context.Storage ?? throw a.Error("this query has no storage");
            string bucketName = a.String("bucket");
            var bucket = storage.FindBucket(a.Interpreter.Context.OrgId, bucketName) ?? throw new QueryException($"could not find bucket \"{bucketName}\"", a.Span, QueryErrorKind.NotFound);
            long now = a.Interpreter.Now;
            long start = a.Has("start") ? a.Time("start") : now - (30L * 86_400_000_000_000);
            long stop = a.Has("stop") ? a.Time("stop") : now;
            string? measurement = measurementArg ? a.String("measurement") : null;
            var predicate = a.OptionalFunction("predicate");
            var interpreter = a.Interpreter;
            var filter = SeriesFilters.FromFunction(predicate, interpreter);
            return Value.Stream(new TableStream(new SourceNode($"schema.{name}(bucket: \"{bucketName}\")", ctx =>
            {
                var spec = new ReadSpec(bucket, start, stop, measurement is null ? InfluxLike.Storage.Index.SeriesPredicate.All : new InfluxLike.Storage.Index.SeriesPredicate.MeasurementEquals(measurement),
                    s => (measurement is null || s.Measurement == measurement) && (filter is null || filter(s)));
                var values = new SortedSet<string>(StringComparer.Ordinal);
                foreach (var s in storage.Series(spec, ctx))
                {
                    if (tagKeys)
                    {
                        values.Add("_field");
                        values.Add("_measurement");
                        values.Add("_start");
                        values.Add("_stop");
                        foreach (var t in s.Series.Tags)
                        {
                            values.Add(t.Key);
                        }
                    }
                    else if (pick(a, s) is { } v)
                    {
                        values.Add(v);
                    }
                }

                var b = new TableBuilder(GroupKey.Empty);
                int c = b.AddColumn("_value", Kind.String);
                foreach (var v in values)
                {
                    b[c].AppendString(v);
                    b.EndRow();
                }

                return [b.Build()];
            })));
        });
}
