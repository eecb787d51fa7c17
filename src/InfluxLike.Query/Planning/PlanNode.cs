using InfluxLike.Query.Data;
using InfluxLike.Query.Runtime;

namespace InfluxLike.Query.Planning;

/// <summary>
/// A node of the query plan: an operator over streams of tables. The interpreter builds the logical tree
/// (one node per table function call); <see cref="Planner"/> rewrites it (push-down into storage) and then
/// <see cref="Execute"/> streams tables out of it, pulled one at a time.
/// </summary>
public abstract class PlanNode
{
    public abstract IReadOnlyList<PlanNode> Inputs { get; }

    /// <summary>One line for EXPLAIN: the operator and its arguments.</summary>
    public abstract string Describe();

    public abstract IEnumerable<Table> Execute(QueryContext context);

    /// <summary>This node over new inputs (the planner rewrites bottom-up).</summary>
    public abstract PlanNode WithInputs(IReadOnlyList<PlanNode> inputs);
}

/// <summary>A transformation applied to each table on its own (filter, keep, sort, mean ...).</summary>
public sealed class PerTableNode(string name, PlanNode input, Func<Table, QueryContext, IEnumerable<Table>> apply, string? arguments = null, bool changesKeys = false) : PlanNode
{
    /// <summary>For a built-in aggregate or selector, which one and on which column (what the planner may push into storage).</summary>
    public AggregateCall? Aggregate { get; init; }

    public string Name => name;

    public PlanNode Input => input;

    public override IReadOnlyList<PlanNode> Inputs => [input];

    public override string Describe() => arguments is null ? name : $"{name}({arguments})";

    public override IEnumerable<Table> Execute(QueryContext context)
    {
        if (changesKeys)
        {
            foreach (var output in TableOps.MergingKeys(input.Execute(context), t => apply(t, context)))
            {
                yield return output;
            }

            yield break;
        }

        foreach (var table in input.Execute(context))
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            foreach (var output in apply(table, context))
            {
                yield return output;
            }
        }
    }

    public override PlanNode WithInputs(IReadOnlyList<PlanNode> inputs) => new PerTableNode(name, inputs[0], apply, arguments, changesKeys) { Aggregate = Aggregate };
}

/// <summary>A <c>group()</c> call: its columns and whether they are excluded (mode "except").</summary>
public sealed record GroupCall(IReadOnlyList<string> Columns, bool Except);

/// <summary>A call of a built-in aggregate or selector (count, sum, mean, min, max, first, last) on one column.</summary>
public sealed record AggregateCall(string Function, string Column);

/// <summary>A transformation over whole streams (group, union, join, sources).</summary>
public sealed class StreamNode(string name, IReadOnlyList<PlanNode> inputs, Func<IReadOnlyList<IEnumerable<Table>>, QueryContext, IEnumerable<Table>> apply, string? arguments = null) : PlanNode
{
    /// <summary>For <c>group()</c>: its columns and mode (what the planner may reason about).</summary>
    public GroupCall? Group { get; init; }

    public string Name => name;

    public override IReadOnlyList<PlanNode> Inputs => inputs;

    public override string Describe() => arguments is null ? name : $"{name}({arguments})";

    public override IEnumerable<Table> Execute(QueryContext context) =>
        apply([.. inputs.Select(i => i.Execute(context))], context);

    public override PlanNode WithInputs(IReadOnlyList<PlanNode> newInputs) => new StreamNode(name, newInputs, apply, arguments) { Group = Group };
}

/// <summary>Marks a named result; passes tables through.</summary>
public sealed class YieldNode(PlanNode input, string name) : PlanNode
{
    public string Name => name;

    public override IReadOnlyList<PlanNode> Inputs => [input];

    public override string Describe() => $"yield(name: \"{name}\")";

    public override IEnumerable<Table> Execute(QueryContext context) => input.Execute(context);

    public override PlanNode WithInputs(IReadOnlyList<PlanNode> inputs) => new YieldNode(inputs[0], name);
}

/// <summary><c>from(bucket:)</c>: every series of a bucket, all time (the planner narrows it when a range and filters follow).</summary>
public sealed class FromNode(BucketRef bucket) : PlanNode
{
    public BucketRef Bucket => bucket;

    public override IReadOnlyList<PlanNode> Inputs => [];

    public override string Describe() => $"from(bucket: \"{bucket.Name}\")";

    public override IEnumerable<Table> Execute(QueryContext context) =>
        context.Storage!.ReadRange(new ReadSpec(bucket, InfluxLike.LineProtocol.TimeRange.MinNanoseconds, InfluxLike.LineProtocol.TimeRange.MaxNanoseconds + 1, InfluxLike.Storage.Index.SeriesPredicate.All, null), context);

    public override PlanNode WithInputs(IReadOnlyList<PlanNode> inputs) => this;
}

/// <summary><c>range(start:, stop:)</c> with its bounds already resolved against now().</summary>
public sealed class RangeNode(PlanNode input, long start, long stop) : PlanNode
{
    public PlanNode Input => input;

    public long Start => start;

    public long Stop => stop;

    public override IReadOnlyList<PlanNode> Inputs => [input];

    public override string Describe() => $"range(start: {Values.Formats.Time(start)}, stop: {Values.Formats.Time(stop)})";

    public override IEnumerable<Table> Execute(QueryContext context)
    {
        foreach (var table in input.Execute(context))
        {
            yield return TableOps.Range(table, start, stop);
        }
    }

    public override PlanNode WithInputs(IReadOnlyList<PlanNode> inputs) => new RangeNode(inputs[0], start, stop);
}

/// <summary><c>filter(fn:)</c>: keeps the rows for which the predicate is true.</summary>
public sealed class FilterNode(PlanNode input, FunctionValue fn, bool keepEmpty, string source) : PlanNode
{
    public PlanNode Input => input;

    public FunctionValue Function => fn;

    public bool KeepEmpty => keepEmpty;

    public string Source => source;

    public override IReadOnlyList<PlanNode> Inputs => [input];

    public override string Describe() => $"filter(fn: {source})";

    public override IEnumerable<Table> Execute(QueryContext context)
    {
        var row = new RowFunction(fn, context.Interpreter);
        foreach (var table in input.Execute(context))
        {
            var output = TableOps.Filter(table, row, context.Interpreter!);
            if (!output.IsEmpty || keepEmpty)
            {
                yield return output;
            }
        }
    }

    public override PlanNode WithInputs(IReadOnlyList<PlanNode> inputs) => new FilterNode(inputs[0], fn, keepEmpty, source);
}

/// <summary>Tables computed by a function of the context (csv.from, array.from, buckets(), schema functions, test inputs).</summary>
public sealed class SourceNode(string description, Func<QueryContext, IEnumerable<Table>> produce) : PlanNode
{
    public override IReadOnlyList<PlanNode> Inputs => [];

    public override string Describe() => description;

    public override IEnumerable<Table> Execute(QueryContext context) => produce(context);

    public override PlanNode WithInputs(IReadOnlyList<PlanNode> inputs) => this;
}
