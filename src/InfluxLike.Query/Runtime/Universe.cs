using InfluxLike.Query.Data;
using InfluxLike.Query.Planning;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Runtime;

/// <summary>
/// The function registry: every built-in of the universe, one entry each. Adding a function is one line here
/// and its table work in Functions/ (the checker's signature catalog, Semantics/Builtins.cs, lists its
/// parameters).
/// </summary>
public static class Universe
{
    public static readonly FluxDuration Infinity = FluxDuration.FromNanoseconds(long.MaxValue);

    /// <summary>
    /// The built-in names, shared by every query: built once (some 200 functions), read concurrently, never written
    /// (a script's options and definitions go to scopes of its own above this one).
    /// </summary>
    public static Scope Shared { get; } = Create();

    private static Scope Create()
    {
        var scope = new Scope(null);
        foreach (var fn in Functions())
        {
            scope.Set(fn.Name, Value.Function(fn));
        }

        scope.Set("inf", Value.Duration(Infinity));
        scope.Set("location", Value.Record(new RecordValue(["zone", "offset"], [Value.String("UTC"), Value.Duration(default)])));
        return scope;
    }

    private static Value Stream(PlanNode node) => Value.Stream(new TableStream(node));

    private static string Describe(CallArguments a, string name)
    {
        string source = a.Interpreter.Context.Source;
        if (a.Named.TryGetValue(name, out var v) && v.Kind == Kind.Function && v.AsFunction is Closure c)
        {
            var span = c.Expression.Span;
            if (span.Offset >= 0 && span.End <= source.Length)
            {
                return source.Substring(span.Offset, span.Length);
            }
        }

        return name;
    }

    private static IEnumerable<FunctionValue> Functions()
    {
        yield return new Builtin("from", null, a =>
        {
            var storage = a.Interpreter.Context.Storage ?? throw a.Error("this query has no storage to read from");
            BucketRef? bucket;
            if (a.Has("bucketID"))
            {
                bucket = storage.GetBucket(a.String("bucketID"));
            }
            else
            {
                string name = a.String("bucket");
                bucket = storage.FindBucket(a.Interpreter.Context.OrgId, name);
                if (bucket is null)
                {
                    throw new QueryException($"could not find bucket \"{name}\"", a.Span, QueryErrorKind.NotFound);
                }
            }

            return Stream(new FromNode(bucket ?? throw new QueryException("could not find bucket with that ID", a.Span, QueryErrorKind.NotFound)));
        });

        yield return new Builtin("range", "tables", a =>
        {
            long start = a.Time("start");
            long stop = a.Has("stop") ? a.Time("stop") : a.Interpreter.Now;
            return Stream(new RangeNode(a.Stream("tables"), start, stop));
        });

        yield return new Builtin("filter", "tables", a =>
        {
            string onEmpty = a.String("onEmpty", "drop");
            if (onEmpty is not ("drop" or "keep"))
            {
                throw a.Error("onEmpty must be \"drop\" or \"keep\"");
            }

            return Stream(new FilterNode(a.Stream("tables"), a.Function("fn"), onEmpty == "keep", Describe(a, "fn")));
        });

        yield return new Builtin("map", "tables", a =>
        {
            var fn = a.Function("fn");
            return Stream(new PerTableNode("map", a.Stream("tables"), (t, ctx) => TableOps.Map(t, new RowFunction(fn, ctx.Interpreter), ctx.Interpreter!), "fn: " + Describe(a, "fn"), changesKeys: true));
        });

        yield return Projection("keep", keep: true);
        yield return Projection("drop", keep: false);

        yield return new Builtin("rename", "tables", a =>
        {
            Func<string, string> rename;
            if (a.Has("columns"))
            {
                var map = a.Record("columns");
                rename = n => map.TryGet(n, out var v) && v.Kind == Kind.String ? v.AsString : n;
            }
            else
            {
                var fn = a.Function("fn");
                var interpreter = a.Interpreter;
                rename = n => fn.Call(interpreter, new CallArguments("fn", new() { ["column"] = Value.String(n) }, null, a.Span, interpreter)) is { Kind: Kind.String } v ? v.AsString : n;
            }

            return Stream(new PerTableNode("rename", a.Stream("tables"), (t, _) => [TableOps.Rename(t, rename)], changesKeys: true));
        });

        yield return new Builtin("set", "tables", a =>
        {
            string key = a.String("key");
            string value = a.String("value");
            return Stream(new PerTableNode("set", a.Stream("tables"), (t, _) =>
            {
                if (t.Key.Contains(key))
                {
                    return [TableOps.SetKeyColumn(t, key, Value.String(value), Kind.String)];
                }

                int c = t.IndexOf(key);
                var columns = c >= 0 ? (ColumnMeta[])t.Columns.Clone() : [.. t.Columns, new ColumnMeta(key, Kind.String)];
                var data = c >= 0 ? (ColumnData[])t.Data.Clone() : [.. t.Data, null!];
                c = c >= 0 ? c : columns.Length - 1;
                columns[c] = new ColumnMeta(key, Kind.String);
                data[c] = ColumnData.Constant(Kind.String, Value.String(value), t.Rows);
                return [new Table(t.Key, columns, data, t.Rows)];
            }, changesKeys: true));
        });

        yield return new Builtin("group", "tables", a =>
        {
            var columns = a.Strings("columns", []);
            string mode = a.String("mode", "by");
            if (mode is not ("by" or "except"))
            {
                throw a.Error("mode must be \"by\" or \"except\"");
            }

            return Stream(new StreamNode("group", [a.Stream("tables")], (inputs, ctx) => Grouping.Group(inputs[0], columns, mode == "except", ctx),
                $"columns: [{string.Join(", ", columns.Select(c => "\"" + c + "\""))}], mode: \"{mode}\"") { Group = new GroupCall(columns, mode == "except") });
        });

        yield return new Builtin("sort", "tables", a =>
        {
            var columns = a.Strings("columns", ["_value"]);
            bool desc = a.Bool("desc", false);
            return Stream(new PerTableNode("sort", a.Stream("tables"), (t, _) => [TableOps.Sort(t, columns, desc)]));
        });

        yield return new Builtin("limit", "tables", a =>
        {
            long n = a.Int("n");
            long offset = a.Int("offset", 0);
            if (n < 0 || offset < 0)
            {
                throw a.Error("n and offset must not be negative");
            }

            return Stream(new PerTableNode("limit", a.Stream("tables"), (t, _) => [TableOps.Slice(t, (int)Math.Min(offset, int.MaxValue), (int)Math.Min(offset + n, int.MaxValue))], $"n: {n}"));
        });

        yield return new Builtin("tail", "tables", a =>
        {
            long n = a.Int("n");
            long offset = a.Int("offset", 0);
            return Stream(new PerTableNode("tail", a.Stream("tables"), (t, _) =>
            {
                int end = (int)Math.Max(0, t.Rows - offset);
                return [TableOps.Slice(t, (int)Math.Max(0, end - n), end)];
            }));
        });

        foreach (var name in Aggregates.Names)
        {
            string fname = name;
            yield return new TableFunction(fname, (t, a) => Aggregates.Apply(fname, t, a.String("column", "_value")));
        }

        yield return new Builtin("aggregateWindow", "tables", a =>
        {
            var every = a.Duration("every");
            var spec = new Grouping.WindowSpec(every, a.Duration("period", every), a.Duration("offset", default), Location(a));
            if (every.IsNegative || every.IsZero)
            {
                throw a.Error("every must be a positive duration");
            }

            var fn = a.Function("fn");
            string column = a.String("column", "_value");
            string timeSrc = a.String("timeSrc", "_stop");
            string timeDst = a.String("timeDst", "_time");
            bool createEmpty = a.Bool("createEmpty", true);
            var node = new AggregateWindowNode(a.Stream("tables"), spec, fn, column, timeSrc, timeDst, createEmpty);
            return Stream(node);
        });

        yield return new Builtin("window", "tables", a =>
        {
            var every = a.Has("every") ? a.Duration("every") : a.Duration("period");
            var spec = new Grouping.WindowSpec(every, a.Duration("period", every), a.Duration("offset", default), Location(a));
            string timeColumn = a.String("timeColumn", "_time");
            string startColumn = a.String("startColumn", "_start");
            string stopColumn = a.String("stopColumn", "_stop");
            bool createEmpty = a.Bool("createEmpty", false);
            var input = a.Stream("tables");
            var bounds = Bounds(input);
            return Stream(new PerTableNode("window", input, (t, _) => Grouping.Window(t, spec, timeColumn, startColumn, stopColumn, createEmpty, bounds), $"every: {every}", changesKeys: true));
        });

        yield return new Builtin("pivot", "tables", a =>
        {
            var rowKey = a.Strings("rowKey");
            var columnKey = a.Strings("columnKey");
            string valueColumn = a.String("valueColumn");
            return Stream(new StreamNode("pivot", [a.Stream("tables")], (inputs, ctx) => Grouping.Pivot(inputs[0], rowKey, columnKey, valueColumn, ctx)));
        });

        yield return new Builtin("yield", "tables", a =>
        {
            string name = a.String("name", "_result");
            var node = new YieldNode(a.Stream("tables"), name);
            a.Interpreter.AddYield(name, node, a.Span);
            return Stream(node);
        });

        yield return new Builtin("union", null, a =>
        {
            var arr = a.Get("tables");
            if (arr.Kind != Kind.Array || arr.AsArray.Items.Any(i => i.Kind != Kind.Stream))
            {
                throw a.Error("tables must be an array of streams");
            }

            var inputs = arr.AsArray.Items.Select(i => i.AsStream.Node).ToArray();
            return Stream(new StreamNode("union", inputs, (streams, _) => TableOps.MergingKeys(streams.SelectMany(s => s), t => [t], always: true)));
        });

        yield return new Builtin("duplicate", "tables", a =>
        {
            string column = a.String("column");
            string asName = a.String("as");
            return Stream(new PerTableNode("duplicate", a.Stream("tables"), (t, _) =>
            {
                int c = t.IndexOf(column);
                if (c < 0)
                {
                    throw a.Error($"column \"{column}\" does not exist");
                }

                if (t.Key.Contains(asName))
                {
                    // Overwriting a key column: the key takes the duplicated value.
                    var value = t.Rows > 0 ? t.Data[c].Get(0) : t.Key.Get(column);
                    var withKey = TableOps.SetKeyColumn(t, asName, value, t.Columns[c].Type);
                    int at = withKey.IndexOf(asName);
                    var data = (ColumnData[])withKey.Data.Clone();
                    data[at] = t.Data[c];
                    return [new Table(withKey.Key, withKey.Columns, data, t.Rows)];
                }

                var projected = TableOps.Project(t, n => n != asName);
                return [new Table(projected.Key, [.. projected.Columns, new ColumnMeta(asName, t.Columns[c].Type)], [.. projected.Data, t.Data[c]], t.Rows)];
            }, changesKeys: true));
        });

        yield return new Builtin("buckets", null, a =>
        {
            var storage = a.Interpreter.Context.Storage ?? throw a.Error("this query has no storage");
            string? org = a.Interpreter.Context.OrgId;
            return Stream(new SourceNode("buckets()", _ =>
            {
                var b = new TableBuilder(GroupKey.Empty);
                foreach (var bucket in storage.Buckets(org))
                {
                    b[b.AddColumn("name", Kind.String)].AppendString(bucket.Name);
                    b[b.AddColumn("id", Kind.String)].AppendString(bucket.Id);
                    b[b.AddColumn("organizationID", Kind.String)].AppendString(bucket.OrgId);
                    b[b.AddColumn("retentionPolicy", Kind.String)].AppendString(null);
                    b[b.AddColumn("retentionPeriod", Kind.Int)].AppendBits(bucket.RetentionNanoseconds);
                    b.EndRow();
                }

                return [b.Build()];
            }));
        });

        foreach (var conversion in Conversions.All)
        {
            yield return conversion;
        }

        foreach (var function in StandardLibrary.Functions().Concat(TableValues.Functions()))
        {
            yield return function;
        }

        yield return new Builtin("length", null, a => Value.Int(a.Get("arr") is { Kind: Kind.Array } v ? v.AsArray.Length : throw a.Error("arr must be an array")));
        yield return new Builtin("contains", null, a =>
        {
            var value = a.Get("value");
            var set = a.Get("set");
            return set.Kind == Kind.Array ? Value.Bool(set.AsArray.Items.Any(i => i.Equals(value))) : throw a.Error("set must be an array");
        });
        yield return new Builtin("die", null, a => throw a.Error(a.String("msg")));
    }

    private static Builtin Projection(string name, bool keep) => new(name, "tables", a =>
    {
        Func<string, bool> test;
        if (a.Has("columns"))
        {
            var set = a.Strings("columns").ToHashSet(StringComparer.Ordinal);
            test = keep ? set.Contains : n => !set.Contains(n);
        }
        else
        {
            var fn = a.Function("fn");
            var interpreter = a.Interpreter;
            test = n =>
            {
                var v = fn.Call(interpreter, new CallArguments("fn", new() { ["column"] = Value.String(n) }, null, a.Span, interpreter));
                bool hit = v.Kind == Kind.Bool && v.AsBool;
                return keep ? hit : !hit;
            };
        }

        return Value.Stream(new TableStream(new PerTableNode(name, a.Stream("tables"), (t, _) => [TableOps.Project(t, test)], changesKeys: true)));
    });

    // The window's location: its location argument, else the location option (UTC unless the script sets it).
    private static Grouping.WindowLocation? Location(CallArguments a)
    {
        Value v = a.Has("location") ? a.Get("location") : a.Interpreter.Option("location");
        return v.Kind == Kind.Record ? Grouping.WindowLocation.From(v.AsRecord) : null;
    }

    /// <summary>The time bounds of the nearest range upstream (what window clips to, as in Flux), if any.</summary>
    private static (long Start, long Stop)? Bounds(PlanNode node)
    {
        for (var n = node; n is not null; n = n.Inputs.Count == 1 ? n.Inputs[0] : null)
        {
            switch (n)
            {
                case RangeNode r:
                    return (r.Start, r.Stop);
                case ReadRangeNode rr:
                    return (rr.Start, rr.Stop);
            }
        }

        return null;
    }
}

/// <summary>aggregateWindow: per table, windows aggregated by a built-in or by any function of a stream.</summary>
public sealed class AggregateWindowNode(PlanNode input, Grouping.WindowSpec spec, FunctionValue fn, string column, string timeSrc, string timeDst, bool createEmpty) : PlanNode
{
    public PlanNode Input => input;

    public Grouping.WindowSpec Spec => spec;

    public FunctionValue Function => fn;

    public string Column => column;

    public string TimeSrc => timeSrc;

    public string TimeDst => timeDst;

    public bool CreateEmpty => createEmpty;

    public override IReadOnlyList<PlanNode> Inputs => [input];

    public override string Describe() => $"aggregateWindow(every: {spec.Every}, fn: {fn.Name}, createEmpty: {(createEmpty ? "true" : "false")})";

    public override IEnumerable<Table> Execute(QueryContext context)
    {
        var interpreter = context.Interpreter!;
        Func<Table, Table> aggregate;
        bool selector;
        string? builtinSelector = null;
        if (fn is TableFunction tf)
        {
            var args = new CallArguments(fn.Name, new() { ["column"] = Value.String(column) }, null, default, interpreter);
            aggregate = t => tf.Apply(t, args);
            selector = Aggregates.IsSelector(fn.Name);
            builtinSelector = selector ? fn.Name : null;
        }
        else
        {
            selector = false;
            aggregate = t =>
            {
                var source = new SourceNode("window", _ => [t]);
                var named = new Dictionary<string, Value>(StringComparer.Ordinal) { ["column"] = Value.String(column) };
                if (fn is Closure c && !c.Expression.Parameters.Any(p => p.Name.Name == "column"))
                {
                    named.Remove("column");
                }

                var result = fn.Call(interpreter, new CallArguments(fn.Name, named, Value.Stream(new TableStream(source)), default, interpreter));
                if (result.Kind != Kind.Stream)
                {
                    throw new QueryException("aggregateWindow: fn must return a stream of tables");
                }

                var tables = result.AsStream.Node.Execute(context).ToList();
                return tables.Count switch
                {
                    0 => TableOps.Slice(t, 0, 0),
                    1 => tables[0],
                    _ => throw new QueryException("aggregateWindow: fn returned several tables for one window"),
                };
            };
        }

        foreach (var table in input.Execute(context))
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            var output = Grouping.AggregateWindow(table, spec, aggregate, column, timeSrc, timeDst, createEmpty, selector, builtinSelector);
            yield return output;
        }
    }

    public override PlanNode WithInputs(IReadOnlyList<PlanNode> inputs) => new AggregateWindowNode(inputs[0], spec, fn, column, timeSrc, timeDst, createEmpty);
}
