using System.Text;
using InfluxLike.Query.Ast;
using InfluxLike.Query.Data;
using InfluxLike.Query.Runtime;
using InfluxLike.Query.Values;
using InfluxLike.Storage.Index;

namespace InfluxLike.Query.Planning;

/// <summary>A storage read of a bucket's series in [start, stop) that pass the pushed-down filters.</summary>
/// <remarks>
/// A pushed filter the index answers exactly (see <see cref="SeriesFilters.TryExact"/>) narrows
/// <paramref name="index"/> and <paramref name="fields"/> only; any other is also kept in <paramref name="filters"/> and
/// tested on each series field the index returns.
/// </remarks>
public sealed class ReadRangeNode(BucketRef bucket, long start, long stop, SeriesPredicate index, IReadOnlyList<FunctionValue> filters, IReadOnlyList<string> filterText, IReadOnlySet<string>? fields = null) : PlanNode
{
    public BucketRef Bucket => bucket;

    public long Start => start;

    public long Stop => stop;

    public SeriesPredicate IndexPredicate => index;

    public IReadOnlyList<FunctionValue> Filters => filters;

    public IReadOnlyList<string> FilterText => filterText;

    public override IReadOnlyList<PlanNode> Inputs => [];

    public override string Describe() => $"ReadRange({Arguments})";

    /// <summary>What is read: bucket, bounds and the pushed filters (also shown by the nodes built on this read).</summary>
    public string Arguments =>
        $"bucket: \"{bucket.Name}\", start: {Formats.Time(start)}, stop: {Formats.Time(stop)}" +
        (filterText.Count > 0 ? ", filter: " + string.Join(" and ", filterText.Select(t => "(" + t + ")")) : "");

    /// <summary>The only fields read (null: all), from pushed <c>_field ==</c> tests.</summary>
    public IReadOnlySet<string>? Fields => fields;

    public ReadSpec Spec(QueryContext context) => new(bucket, start, stop, index, SeriesFilters.All(filters, context.Interpreter!), fields);

    public override IEnumerable<Table> Execute(QueryContext context) => context.Storage!.ReadRange(Spec(context), context);

    public override PlanNode WithInputs(IReadOnlyList<PlanNode> inputs) => this;

    /// <param name="fn">The filter to test on each series field; null when <paramref name="predicate"/> and
    /// <paramref name="onlyFields"/> are exact.</param>
    public ReadRangeNode WithFilter(FunctionValue? fn, SeriesPredicate predicate, IReadOnlySet<string>? onlyFields, string text) =>
        new(bucket, start, stop, index is SeriesPredicate.AllSeries ? predicate : predicate is SeriesPredicate.AllSeries ? index : index & predicate,
            fn is null ? filters : [.. filters, fn], [.. filterText, text],
            SeriesFilters.IntersectFields(fields, onlyFields));
}

/// <summary>aggregateWindow with a built-in aggregate, computed by storage.</summary>
public sealed class ReadWindowAggregateNode(ReadRangeNode read, long every, long offset, string aggregate, bool createEmpty) : PlanNode
{
    public override IReadOnlyList<PlanNode> Inputs => [];

    public override string Describe() =>
        $"ReadWindowAggregate({read.Arguments}, every: {Formats.Duration(FluxDuration.FromNanoseconds(every))}, fn: {aggregate}, createEmpty: {(createEmpty ? "true" : "false")})";

    public override IEnumerable<Table> Execute(QueryContext context) =>
        context.Storage!.ReadWindowAggregate(read.Spec(context), every, offset, aggregate, createEmpty, context);

    public override PlanNode WithInputs(IReadOnlyList<PlanNode> inputs) => this;
}

/// <summary>Each series field's selected point per window (its time moved to the window start), ahead of group() + aggregateWindow.</summary>
public sealed class ReadWindowSelectNode(ReadRangeNode read, long every, long offset, string selector) : PlanNode
{
    public override IReadOnlyList<PlanNode> Inputs => [];

    public override string Describe() =>
        $"ReadWindowSelect({read.Arguments}, every: {Formats.Duration(FluxDuration.FromNanoseconds(every))}, fn: {selector})";

    public override IEnumerable<Table> Execute(QueryContext context) => context.Storage!.ReadWindowSelect(read.Spec(context), every, offset, selector, context);

    public override PlanNode WithInputs(IReadOnlyList<PlanNode> inputs) => this;
}

/// <summary>first() or last() on a storage read, answered from the edge blocks of each series field.</summary>
public sealed class ReadSelectorNode(ReadRangeNode read, bool last) : PlanNode
{
    public override IReadOnlyList<PlanNode> Inputs => [];

    public override string Describe() => $"ReadSelector({read.Arguments}, fn: {(last ? "last" : "first")})";

    public override IEnumerable<Table> Execute(QueryContext context) => context.Storage!.ReadSelector(read.Spec(context), last, context);

    public override PlanNode WithInputs(IReadOnlyList<PlanNode> inputs) => this;
}

/// <summary>
/// Rewrites the logical plan into the physical one, bottom-up: <c>from |&gt; range</c> becomes a storage read;
/// following filters on <c>_measurement</c>, <c>_field</c> and tags move into it (their index part narrows the
/// series, the exact test runs once per series instead of per row); <c>aggregateWindow</c> with a built-in
/// aggregate on such a read is computed by storage, and so are <c>first()</c> and <c>last()</c> (from the edge
/// blocks only). Anything a rule cannot take stays a general operator
/// with the same result.
/// </summary>
public static class Planner
{
    public static PlanNode Optimize(PlanNode node, QueryContext context)
    {
        var inputs = node.Inputs.Select(i => Optimize(i, context)).ToArray();
        if (!inputs.SequenceEqual(node.Inputs))
        {
            node = node.WithInputs(inputs);
        }

        if (context.DisablePushDown)
        {
            return node;
        }

        switch (node)
        {
            case RangeNode { Input: FromNode from } range:
                return new ReadRangeNode(from.Bucket, range.Start, range.Stop, SeriesPredicate.All, [], []);
            case FilterNode { Input: ReadRangeNode read } filter when filter.Function is Closure closure && !filter.KeepEmpty:
                return PushFilter(read, filter, closure, context) ?? node;
            case PerTableNode { Input: ReadRangeNode read, Aggregate: { Function: "first" or "last", Column: "_value" } call }:
                return new ReadSelectorNode(read, call.Function == "last");
            case AggregateWindowNode { Input: StreamNode { Group: { Columns.Count: 0, Except: false } } group } aw
                when aw.Function is TableFunction { Name: "min" or "max" or "first" or "last" } tf && !aw.CreateEmpty && aw.TimeSrc == "_stop" && aw.TimeDst == "_time"
                     && group.Inputs[0] is not (PerTableNode { Name: "preselect" } or ReadWindowSelectNode):
                // group() merges whole tables into one: a selector's winner per window can be picked per table first,
                // by storage when the tables come straight from a read and the windows are plain.
                var spec = aw.Spec;
                string which = tf.Name;
                string column = aw.Column;
                PlanNode pre = group.Inputs[0] is ReadRangeNode source && column == "_value" && !spec.HasLocation && spec.Every.Months == 0 && spec.Period == spec.Every && spec.Offset.Months == 0 && !spec.Infinite
                    ? new ReadWindowSelectNode(source, spec.Every.Nanoseconds, spec.Offset.Nanoseconds, which)
                    : new PerTableNode("preselect", group.Inputs[0], (t, _) => [Grouping.PreSelect(t, spec, column, which)], $"fn: {which}, every: {spec.Every}");
                return aw.WithInputs([group.WithInputs([pre])]);
            case AggregateWindowNode { Input: ReadRangeNode read } aw
                when aw.Function is TableFunction tf && Aggregates.Names.Contains(tf.Name) && aw.Column == "_value" && aw.TimeSrc == "_stop" && aw.TimeDst == "_time"
                     && aw.Spec.Every.Months == 0 && aw.Spec.Period == aw.Spec.Every && aw.Spec.Offset.Months == 0 && !aw.Spec.Infinite && !aw.Spec.HasLocation:
                return new ReadWindowAggregateNode(read, aw.Spec.Every.Nanoseconds, aw.Spec.Offset.Nanoseconds, tf.Name, aw.CreateEmpty);
            default:
                return node;
        }
    }

    // Splits the predicate's top-level "and" terms into those about the series only (pushed) and the rest.
    private static PlanNode? PushFilter(ReadRangeNode read, FilterNode filter, Closure closure, QueryContext context)
    {
        var fn = closure.Expression;
        if (fn.Parameters.Length != 1 || fn.Body is not Expression body)
        {
            return null;
        }

        string r = fn.Parameters[0].Name.Name;
        var terms = new List<Expression>();
        SeriesFilters.Conjuncts(body, terms);
        var pushed = terms.Where(t => SeriesFilters.IsSeriesOnly(t, r)).ToList();
        if (pushed.Count == 0)
        {
            return null;
        }

        var rest = terms.Except(pushed).ToList();
        var pushedBody = pushed.Aggregate((a, b) => new LogicalExpression(a.Span, LogicalOperator.And, a, b));
        var text = string.Join(" and ", pushed.Select(t => Text(t, context.Source)));
        ReadRangeNode newRead;
        if (SeriesFilters.TryExact(pushedBody, r, closure.Scope, out var exact, out var onlyFields))
        {
            newRead = read.WithFilter(null, exact, onlyFields, text);
        }
        else
        {
            var pushedFn = new Closure(fn with { Body = pushedBody }, closure.Scope);
            newRead = read.WithFilter(pushedFn, SeriesFilters.IndexPredicate(pushedBody, r, closure.Scope), null, text);
        }

        if (rest.Count == 0)
        {
            return newRead;
        }

        var restBody = rest.Aggregate((a, b) => new LogicalExpression(a.Span, LogicalOperator.And, a, b));
        return new FilterNode(newRead, new Closure(fn with { Body = restBody }, closure.Scope), false, string.Join(" and ", rest.Select(t => Text(t, context.Source))));
    }

    private static string Text(Expression e, string source) =>
        e.Span.Offset >= 0 && e.Span.End <= source.Length ? source.Substring(e.Span.Offset, e.Span.Length) : "...";

    /// <summary>The physical plan as an indented tree, root first (what EXPLAIN shows).</summary>
    public static string Explain(PlanNode node)
    {
        var sb = new StringBuilder();
        Walk(node, 0);
        return sb.ToString();

        void Walk(PlanNode n, int depth)
        {
            sb.Append(' ', depth * 2).Append(n.Describe()).Append('\n');
            foreach (var i in n.Inputs)
            {
                Walk(i, depth + 1);
            }
        }
    }
}

/// <summary>Series-level filters: predicates that read only <c>_measurement</c>, <c>_field</c> and tags.</summary>
public static class SeriesFilters
{
    private static readonly HashSet<string> RowColumns = ["_time", "_value", "_start", "_stop"];

    /// <summary>True when <paramref name="e"/> reads the row only through series columns, compared to constants.</summary>
    public static bool IsSeriesOnly(Expression e, string r) => e switch
    {
        LogicalExpression l => IsSeriesOnly(l.Left, r) && IsSeriesOnly(l.Right, r),
        UnaryExpression { Operator: UnaryOperator.Not } u => IsSeriesOnly(u.Operand, r),
        UnaryExpression { Operator: UnaryOperator.Exists, Operand: MemberExpression m } => IsSeriesColumn(m, r),
        BinaryExpression { Operator: BinaryOperator.Equal or BinaryOperator.NotEqual or BinaryOperator.RegexMatch or BinaryOperator.RegexNotMatch } b =>
            (IsSeriesColumn(b.Left, r) && IsConstant(b.Right, r)) || (IsSeriesColumn(b.Right, r) && IsConstant(b.Left, r)),
        BooleanLiteral => true,
        _ => false,
    };

    private static bool IsSeriesColumn(Expression e, string r) =>
        e is MemberExpression { Object: Identifier id } m && id.Name == r && !RowColumns.Contains(m.Property.Name);

    private static bool IsConstant(Expression e, string r) => e switch
    {
        StringLiteral or RegexLiteral => true,
        Identifier id => id.Name != r,
        MemberExpression { Object: Identifier id } => id.Name != r,
        _ => false,
    };

    /// <summary>The part of a series-only predicate the index can answer: a superset of the matching series.</summary>
    public static SeriesPredicate IndexPredicate(Expression e, string r, Scope scope)
    {
        switch (e)
        {
            case LogicalExpression { Operator: LogicalOperator.And } l:
            {
                var a = IndexPredicate(l.Left, r, scope);
                var b = IndexPredicate(l.Right, r, scope);
                return a is SeriesPredicate.AllSeries ? b : b is SeriesPredicate.AllSeries ? a : a & b;
            }

            case LogicalExpression { Operator: LogicalOperator.Or } l:
            {
                var a = IndexPredicate(l.Left, r, scope);
                var b = IndexPredicate(l.Right, r, scope);
                return a is SeriesPredicate.AllSeries || b is SeriesPredicate.AllSeries ? SeriesPredicate.All : a | b;
            }

            case BinaryExpression { Operator: BinaryOperator.Equal or BinaryOperator.RegexMatch } b:
            {
                var (column, constant) = IsSeriesColumn(b.Left, r) ? ((MemberExpression)b.Left, b.Right) : ((MemberExpression)b.Right, b.Left);
                string name = column.Property.Name;
                if (name == "_field")
                {
                    return SeriesPredicate.All;
                }

                var value = Constant(constant, scope);
                if (b.Operator == BinaryOperator.Equal && value.Kind == Kind.String)
                {
                    return EqualsPredicate(name, value.AsString);
                }

                if (b.Operator == BinaryOperator.RegexMatch && value.Kind == Kind.Regex)
                {
                    return MatchesPredicate(name, value.AsRegex);
                }

                return SeriesPredicate.All;
            }

            default:
                return SeriesPredicate.All;
        }
    }

    private static Value Constant(Expression e, Scope scope) => e switch
    {
        StringLiteral s => Value.String(s.Value),
        RegexLiteral re => Value.Regex(Regexes.Get(re.Pattern, re.Span)),
        Identifier id => scope.TryGet(id.Name, out var v) ? v : Value.Null,
        MemberExpression { Object: Identifier id } m => scope.TryGet(id.Name, out var o) && o.Kind == Kind.Record ? o.AsRecord.Get(m.Property.Name) : Value.Null,
        _ => Value.Null,
    };

    /// <summary>
    /// Translates a series-only predicate the index answers exactly, so that no series field needs testing one by
    /// one: <c>and</c>s and <c>or</c>s of <c>_measurement</c> or tag columns compared with <c>==</c> to a non-empty
    /// string or with <c>=~</c> to a regex that does not match "" (a series without the tag has a null there, which
    /// neither matches, and which the index leaves out), and, at the top level, <c>_field == "..."</c> tests, alone or
    /// joined by <c>or</c>, which become the set of fields read. False for anything else (<c>!=</c>, <c>not</c>,
    /// <c>exists</c>, fields inside other <c>or</c>s, non-string constants): the general path then applies.
    /// </summary>
    public static bool TryExact(Expression e, string r, Scope scope, out SeriesPredicate predicate, out IReadOnlySet<string>? fields)
    {
        predicate = SeriesPredicate.All;
        fields = null;
        var terms = new List<Expression>();
        Conjuncts(e, terms);
        foreach (var term in terms)
        {
            var named = new HashSet<string>(StringComparer.Ordinal);
            if (FieldAlternatives(term, r, scope, named))
            {
                fields = IntersectFields(fields, named);
                continue;
            }

            if (!TryExactSeries(term, r, scope, out var p))
            {
                predicate = SeriesPredicate.All;
                fields = null;
                return false;
            }

            predicate = predicate is SeriesPredicate.AllSeries ? p : predicate & p;
        }

        return true;
    }

    /// <summary>The terms of a chain of <c>and</c>s, left to right.</summary>
    internal static void Conjuncts(Expression e, List<Expression> terms)
    {
        if (e is LogicalExpression { Operator: LogicalOperator.And } and)
        {
            Conjuncts(and.Left, terms);
            Conjuncts(and.Right, terms);
        }
        else
        {
            terms.Add(e);
        }
    }

    // `_field == "a"` or `_field == "a" or _field == "b" ...`: collects the names.
    private static bool FieldAlternatives(Expression e, string r, Scope scope, HashSet<string> names) => e switch
    {
        LogicalExpression { Operator: LogicalOperator.Or } l => FieldAlternatives(l.Left, r, scope, names) && FieldAlternatives(l.Right, r, scope, names),
        BinaryExpression { Operator: BinaryOperator.Equal } b when ColumnAndConstant(b, r) is ({ Property.Name: "_field" }, { } c)
            && Constant(c, scope) is { Kind: Kind.String } v => names.Add(v.AsString) || true,
        _ => false,
    };

    private static bool TryExactSeries(Expression e, string r, Scope scope, out SeriesPredicate predicate)
    {
        predicate = SeriesPredicate.All;
        switch (e)
        {
            case LogicalExpression l:
                if (!TryExactSeries(l.Left, r, scope, out var a) || !TryExactSeries(l.Right, r, scope, out var b))
                {
                    return false;
                }

                predicate = l.Operator == LogicalOperator.And ? a & b : a | b;
                return true;
            // `=~` takes the string on its left and the regex on its right; the other order is an error at run time,
            // which the general path reports.
            case BinaryExpression { Operator: BinaryOperator.Equal or BinaryOperator.RegexMatch } bin
                when ColumnAndConstant(bin, r) is ({ } column, { } constant) && (bin.Operator == BinaryOperator.Equal || ReferenceEquals(bin.Left, column)):
            {
                string name = column.Property.Name;
                if (name == "_field")
                {
                    return false;
                }

                var value = Constant(constant, scope);
                if (bin.Operator == BinaryOperator.Equal && value.Kind == Kind.String && value.AsString.Length > 0)
                {
                    predicate = EqualsPredicate(name, value.AsString);
                    return true;
                }

                if (bin.Operator == BinaryOperator.RegexMatch && value.Kind == Kind.Regex && !value.AsRegex.IsMatch(""))
                {
                    predicate = MatchesPredicate(name, value.AsRegex);
                    return true;
                }

                return false;
            }

            default:
                return false;
        }
    }

    private static SeriesPredicate EqualsPredicate(string column, string value) =>
        column == "_measurement" ? new SeriesPredicate.MeasurementEquals(value) : new SeriesPredicate.TagEquals(column, value);

    private static SeriesPredicate MatchesPredicate(string column, System.Text.RegularExpressions.Regex pattern) =>
        column == "_measurement" ? new SeriesPredicate.MeasurementMatches(pattern) : new SeriesPredicate.TagMatches(column, pattern);

    /// <summary>The fields both sets allow; null stands for all fields.</summary>
    internal static IReadOnlySet<string>? IntersectFields(IReadOnlySet<string>? a, IReadOnlySet<string>? b) =>
        a is null ? b : b is null ? a : a.Intersect(b, StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal);

    private static (MemberExpression? Column, Expression? Constant) ColumnAndConstant(BinaryExpression b, string r) =>
        IsSeriesColumn(b.Left, r) && IsConstant(b.Right, r) ? ((MemberExpression)b.Left, b.Right)
        : IsSeriesColumn(b.Right, r) && IsConstant(b.Left, r) ? ((MemberExpression)b.Right, b.Left)
        : (null, null);

    /// <summary>All the pushed filters as one test per series field, evaluated exactly as the row filter would be.</summary>
    public static Func<SeriesMeta, bool>? All(IReadOnlyList<FunctionValue> filters, Interpreter interpreter)
    {
        if (filters.Count == 0)
        {
            return null;
        }

        var tests = filters.Select(f => FromFunction(f, interpreter)!).ToArray();
        return s =>
        {
            foreach (var t in tests)
            {
                if (!t(s))
                {
                    return false;
                }
            }

            return true;
        };
    }

    /// <summary>A predicate function <c>(r) => bool</c> applied to a record of the series' columns.</summary>
    public static Func<SeriesMeta, bool>? FromFunction(FunctionValue? fn, Interpreter interpreter)
    {
        if (fn is null)
        {
            return null;
        }

        // The series' columns as a one-row table of constants; series with the same tag keys (the usual case: one
        // measurement's) share the column list, so the row function keeps its binding from one to the next.
        var row = new RowFunction(fn, interpreter);
        ColumnMeta[] columns = [];
        return s =>
        {
            if (!SameColumns(columns, s))
            {
                columns = new ColumnMeta[2 + s.Tags.Count];
                columns[0] = new ColumnMeta("_measurement", Kind.String);
                columns[1] = new ColumnMeta("_field", Kind.String);
                for (int i = 0; i < s.Tags.Count; i++)
                {
                    columns[2 + i] = new ColumnMeta(s.Tags[i].Key, Kind.String);
                }
            }

            var data = new ColumnData[columns.Length];
            data[0] = ColumnData.Constant(Kind.String, Value.String(s.Measurement), 1);
            data[1] = ColumnData.Constant(Kind.String, Value.String(s.Field), 1);
            for (int i = 0; i < s.Tags.Count; i++)
            {
                data[2 + i] = ColumnData.Constant(Kind.String, Value.String(s.Tags[i].Value), 1);
            }

            row.Bind(new Table(GroupKey.Empty, columns, data, 1));
            var result = row.Invoke(interpreter, 0);
            return result.Kind == Kind.Bool && result.AsBool;
        };

        static bool SameColumns(ColumnMeta[] columns, SeriesMeta s)
        {
            if (columns.Length != 2 + s.Tags.Count)
            {
                return false;
            }

            for (int i = 0; i < s.Tags.Count; i++)
            {
                if (!string.Equals(columns[2 + i].Name, s.Tags[i].Key, StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
