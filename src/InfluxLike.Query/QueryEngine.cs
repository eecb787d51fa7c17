using InfluxLike.Query.Data;
using InfluxLike.Query.Diagnostics;
using InfluxLike.Query.Planning;
using InfluxLike.Query.Runtime;
using InfluxLike.Query.Semantics;
using InfluxLike.Query.Values;

namespace InfluxLike.Query;

/// <summary>A script parsed, checked, evaluated and planned: its named results, ready to stream.</summary>
public sealed class PreparedQuery
{
    internal PreparedQuery(QueryContext context, IReadOnlyList<(string Name, PlanNode Plan)> results)
    {
        Context = context;
        Results = results;
    }

    public QueryContext Context { get; }

    public IReadOnlyList<(string Name, PlanNode Plan)> Results { get; }

    /// <summary>Each result's physical plan, showing what was pushed into storage.</summary>
    public string Explain() => string.Concat(Results.Select(r => $"result \"{r.Name}\":\n{Planner.Explain(r.Plan)}"));

    /// <summary>The tables of every result, in order, produced lazily as the caller pulls them.</summary>
    public IEnumerable<(string Result, Table Table)> Execute()
    {
        foreach (var (name, plan) in Results)
        {
            foreach (var table in plan.Execute(Context))
            {
                Context.CancellationToken.ThrowIfCancellationRequested();
                yield return (name, table);
            }
        }
    }
}

/// <summary>The query engine's entry point: text in, planned results out.</summary>
public static class QueryEngine
{
    /// <summary>
    /// Parses, checks and evaluates <paramref name="source"/>, then plans each result. Every error known before
    /// data is read (syntax, names, arguments, unknown buckets) is thrown here as a <see cref="QueryException"/>
    /// with its line and column, so the HTTP layer can answer 4xx before writing a row.
    /// </summary>
    /// <param name="inputs">Streams bound to names before the script runs (conformance inputs, tests).</param>
    public static PreparedQuery Prepare(string source, QueryContext context, IReadOnlyDictionary<string, PlanNode>? inputs = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(context);
        var parsed = inputs is null && context.Scripts is { } scripts ? scripts.ParseAndCheck(source) : ScriptChecker.ParseAndCheck(source, inputs?.Keys);
        if (parsed.Ast is null)
        {
            var first = parsed.Diagnostics.First(d => d.Severity == DiagnosticSeverity.Error);
            int count = parsed.Diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error);
            throw new QueryException(first.Message + (first.Suggestion is null ? "" : $" ({first.Suggestion})") + (count > 1 ? $" (and {count - 1} more error{(count > 2 ? "s" : "")})" : ""), first.Span);
        }

        var interpreter = new Interpreter(context);
        context.Interpreter = interpreter;
        context.Source = source;
        foreach (var (name, node) in inputs ?? new Dictionary<string, PlanNode>())
        {
            interpreter.Define(name, Value.Stream(new TableStream(node)));
        }

        interpreter.Run(parsed.Ast);
        if (interpreter.Yields.Count == 0)
        {
            throw new QueryException("the script produces no result: end it with a stream of tables or a yield()");
        }

        var results = interpreter.Yields.Select(y => (y.Name, Planner.Optimize(y.Node, context))).ToList();
        return new PreparedQuery(context, results);
    }
}
