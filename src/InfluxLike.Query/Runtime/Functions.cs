using InfluxLike.Query.Ast;
using InfluxLike.Query.Data;
using InfluxLike.Query.Planning;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Runtime;

/// <summary>A callable value: a built-in, or a function literal closed over its scope.</summary>
public abstract class FunctionValue
{
    public abstract string Name { get; }

    public abstract Value Call(Interpreter interpreter, CallArguments args);

    public override string ToString() => "<function " + Name + ">";
}

/// <summary>A built-in function; <see cref="PipeParameter"/> names the parameter a <c>|&gt;</c> feeds.</summary>
public class Builtin(string name, string? pipeParameter, Func<CallArguments, Value> implementation) : FunctionValue
{
    public override string Name => name;

    public string? PipeParameter => pipeParameter;

    public override Value Call(Interpreter interpreter, CallArguments args) => implementation(args);
}

/// <summary>
/// A built-in aggregate or selector (mean, max, ...): callable in a pipe, and also applied directly to one table
/// by aggregateWindow without going through the interpreter.
/// </summary>
public sealed class TableFunction(string functionName, Func<Table, CallArguments, Table> apply)
    : Builtin(functionName, "tables", null!)
{
    public Table Apply(Table table, CallArguments args) => apply(table, args);

    public override Value Call(Interpreter interpreter, CallArguments args)
    {
        var input = args.Stream("tables");
        return Value.Stream(new TableStream(new PerTableNode(Name, input, (t, _) => [Apply(t, args)]) { Aggregate = new AggregateCall(Name, args.String("column", "_value")) }));
    }
}

public sealed class Closure(FunctionExpression expression, Scope scope) : FunctionValue
{
    public FunctionExpression Expression => expression;

    public Scope Scope => scope;

    public override string Name => "(anonymous)";

    public string? PipeParameter => expression.Parameters.FirstOrDefault(p => p.IsPipe)?.Name.Name;

    public override Value Call(Interpreter interpreter, CallArguments args)
    {
        var local = new Scope(scope);
        foreach (var p in expression.Parameters)
        {
            string name = p.Name.Name;
            if (p.IsPipe)
            {
                if (args.Piped is { } piped)
                {
                    local.Set(name, piped);
                }
                else if (args.Named.TryGetValue(name, out var given))
                {
                    local.Set(name, given);
                }
                else
                {
                    throw new QueryException($"missing required argument \"{name}\" (the piped input)", args.Span);
                }
            }
            else if (args.Named.TryGetValue(name, out var v))
            {
                local.Set(name, v);
            }
            else if (p.Default is not null)
            {
                local.Set(name, interpreter.Evaluate(p.Default, local));
            }
            else
            {
                throw new QueryException($"missing required argument \"{name}\"", args.Span);
            }
        }

        foreach (var name in args.Named.Keys)
        {
            if (!expression.Parameters.Any(p => p.Name.Name == name))
            {
                throw new QueryException($"function does not take an argument \"{name}\"", args.Span);
            }
        }

        return interpreter.EvaluateBody(expression.Body, local);
    }
}

/// <summary>The arguments of one call, with typed accessors whose errors name the function and the argument.</summary>
public sealed class CallArguments(string functionName, Dictionary<string, Value> named, Value? piped, SourceSpan span, Interpreter interpreter)
{
    public string FunctionName => functionName;

    public Dictionary<string, Value> Named => named;

    public Value? Piped => piped;

    public SourceSpan Span => span;

    public Interpreter Interpreter => interpreter;

    public bool Has(string name) => named.ContainsKey(name) || (name == "tables" && piped is not null);

    public Value Get(string name)
    {
        if (named.TryGetValue(name, out var v))
        {
            return v;
        }

        throw Error($"missing required argument \"{name}\"");
    }

    public QueryException Error(string message) => new($"{functionName}: {message}", span);

    private Value Typed(string name, Kind kind)
    {
        var v = Get(name);
        if (v.Kind != kind)
        {
            throw Error($"argument \"{name}\" must be {Value.KindName(kind)}, got {Value.KindName(v.Kind)}");
        }

        return v;
    }

    public PlanNode Stream(string name)
    {
        Value v;
        if (name is "tables" or "left" or "table" && piped is { } p)
        {
            v = p;
        }
        else if (!named.TryGetValue(name, out v))
        {
            throw Error($"missing the input stream \"{name}\" (pipe a stream of tables into it)");
        }

        if (v.Kind != Kind.Stream)
        {
            throw Error($"argument \"{name}\" must be a stream of tables, got {Value.KindName(v.Kind)}");
        }

        return v.AsStream.Node;
    }

    public string String(string name) => Typed(name, Kind.String).AsString;

    public string String(string name, string fallback) => named.ContainsKey(name) ? String(name) : fallback;

    public long Int(string name) => Typed(name, Kind.Int).AsInt;

    public long Int(string name, long fallback) => named.ContainsKey(name) ? Int(name) : fallback;

    public bool Bool(string name, bool fallback) => named.ContainsKey(name) ? Typed(name, Kind.Bool).AsBool : fallback;

    public double Float(string name)
    {
        var v = Get(name);
        return v.Kind switch
        {
            Kind.Float => v.AsFloat,
            Kind.Int => v.AsInt,
            _ => throw Error($"argument \"{name}\" must be float, got {Value.KindName(v.Kind)}"),
        };
    }

    public FluxDuration Duration(string name) => Typed(name, Kind.Duration).AsDuration;

    public FluxDuration Duration(string name, FluxDuration fallback) => named.ContainsKey(name) ? Duration(name) : fallback;

    public FunctionValue Function(string name) => Typed(name, Kind.Function).AsFunction;

    public FunctionValue? OptionalFunction(string name) => named.ContainsKey(name) ? Function(name) : null;

    public string[] Strings(string name)
    {
        var arr = Typed(name, Kind.Array).AsArray;
        var result = new string[arr.Length];
        for (int i = 0; i < result.Length; i++)
        {
            if (arr.Items[i].Kind != Kind.String)
            {
                throw Error($"argument \"{name}\" must be an array of strings");
            }

            result[i] = arr.Items[i].AsString;
        }

        return result;
    }

    public string[] Strings(string name, string[] fallback) => named.ContainsKey(name) ? Strings(name) : fallback;

    public RecordValue Record(string name) => Typed(name, Kind.Record).AsRecord;

    /// <summary>A time argument: a time, a duration relative to now, or an integer of Unix seconds.</summary>
    public long Time(string name)
    {
        var v = Get(name);
        return v.Kind switch
        {
            Kind.Time => v.AsTime,
            Kind.Duration => v.AsDuration.AddTo(interpreter.Now),
            Kind.Int => checked(v.AsInt * 1_000_000_000),
            _ => throw Error($"argument \"{name}\" must be a time, a duration or an integer, got {Value.KindName(v.Kind)}"),
        };
    }
}
