using System.Text;
using System.Text.RegularExpressions;
using InfluxLike.Query.Ast;
using InfluxLike.Query.Planning;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Runtime;

public sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, Value> _values = new(StringComparer.Ordinal);

    public Scope? Parent => parent;

    public bool TryGet(string name, out Value value)
    {
        for (var s = this; s is not null; s = s.Parent)
        {
            if (s._values.TryGetValue(name, out value))
            {
                return true;
            }
        }

        value = Value.Null;
        return false;
    }

    public void Set(string name, Value value) => _values[name] = value;
}

/// <summary>
/// Runs a checked script: evaluates statements and expressions to values. Calls of table functions do not read
/// data: they build plan nodes (<see cref="TableStream"/>), and each <c>yield</c> (explicit, or implied for a
/// top-level stream expression) records a result for the planner and executor.
/// </summary>
public sealed class Interpreter
{
    private readonly Scope _universe;
    private readonly Scope _options;
    private readonly Scope _globals;

    public Interpreter(QueryContext context)
    {
        Context = context;
        _universe = Universe.Shared;
        _options = new Scope(_universe);
        _globals = new Scope(_options);
        _options.Set("now", Value.Function(new Builtin("now", null, _ => Value.Time(context.Now))));
        _options.Set("v", Value.Record(DefaultV(context)));
    }

    public QueryContext Context { get; }

    public List<(string Name, PlanNode Node)> Yields { get; } = [];

    /// <summary>now(): the <c>now</c> option if the script sets one, else the request's time.</summary>
    public long Now
    {
        get
        {
            if (_options.TryGet("now", out var now) && now.Kind == Kind.Function)
            {
                var v = now.AsFunction.Call(this, new CallArguments("now", [], null, default, this));
                if (v.Kind == Kind.Time)
                {
                    return v.AsTime;
                }
            }

            return Context.Now;
        }
    }

    public Value Option(string name) => _options.TryGet(name, out var v) ? v : Value.Null;

    private static RecordValue DefaultV(QueryContext context) => new(
        ["timeRangeStart", "timeRangeStop", "windowPeriod", "bucket"],
        [Value.Time(context.TimeRange?.Start ?? context.Now - 3_600_000_000_000), Value.Time(context.TimeRange?.Stop ?? context.Now), Value.Duration(FluxDuration.FromNanoseconds(10_000_000_000)), Value.String(context.DefaultBucket ?? "")]);

    public void Define(string name, Value value) => _globals.Set(name, value);

    public void Run(Ast.Program program)
    {
        foreach (var import in program.Imports)
        {
            string path = import.Path.Value;
            var package = Packages.Get(path, this) ?? throw new QueryException($"unknown package \"{path}\"", import.Span);
            string alias = import.Alias?.Name ?? path[(path.LastIndexOf('/') + 1)..];
            _globals.Set(alias, Value.Record(package));
        }

        // Options first, as Flux evaluates them before the rest of the package.
        foreach (var statement in program.Body.OfType<OptionStatement>())
        {
            Execute(statement, _globals, topLevel: true);
        }

        foreach (var statement in program.Body)
        {
            if (statement is not OptionStatement)
            {
                Execute(statement, _globals, topLevel: true);
            }
        }
    }

    private Value? Execute(Statement statement, Scope scope, bool topLevel)
    {
        Context.CancellationToken.ThrowIfCancellationRequested();
        switch (statement)
        {
            case VariableAssignment a:
                scope.Set(a.Name.Name, Evaluate(a.Value, scope));
                return null;
            case OptionStatement { Assignment: VariableAssignment a }:
                _options.Set(a.Name.Name, Evaluate(a.Value, scope));
                return null;
            case OptionStatement { Assignment: MemberAssignment m }:
            {
                // option v.timeRangeStart = ... or option pkg.option = ...
                var target = Option(m.Object.Name);
                var record = target.Kind == Kind.Record ? target.AsRecord : RecordValue.Empty;
                _options.Set(m.Object.Name, Value.Record(record.With(m.Member.Name, Evaluate(m.Value, scope))));
                return null;
            }

            case ReturnStatement r:
                return Evaluate(r.Argument, scope);
            case ExpressionStatement e:
            {
                var v = Evaluate(e.Expression, scope);
                if (topLevel && v.Kind == Kind.Stream && v.AsStream.Node is not YieldNode)
                {
                    AddYield("_result", v.AsStream.Node, e.Span);
                }

                return null;
            }

            default:
                throw new QueryException("unsupported statement", statement.Span);
        }
    }

    public void AddYield(string name, PlanNode node, SourceSpan span)
    {
        if (Yields.Any(y => y.Name == name))
        {
            throw new QueryException($"two results are named \"{name}\"; give each yield a different name", span);
        }

        Yields.Add((name, node));
    }

    public Value EvaluateBody(Node body, Scope scope)
    {
        if (body is Expression e)
        {
            return Evaluate(e, scope);
        }

        foreach (var statement in ((Block)body).Body)
        {
            if (Execute(statement, scope, topLevel: false) is { } returned)
            {
                return returned;
            }
        }

        return Value.Null;
    }

    public Value Evaluate(Expression expression, Scope scope)
    {
        switch (expression)
        {
            case Identifier id:
                if (scope.TryGet(id.Name, out var value))
                {
                    return value;
                }

                throw new QueryException($"undefined identifier \"{id.Name}\"", id.Span);
            case IntegerLiteral i:
                return Value.Int(i.Value);
            case FloatLiteral f:
                return Value.Float(f.Value);
            case BooleanLiteral b:
                return Value.Bool(b.Value);
            case StringLiteral s:
                return Value.String(s.Value);
            case DateTimeLiteral t:
                return Value.Time(t.UnixNanoseconds);
            case DurationLiteral d:
                return Value.Duration(ToDuration(d));
            case RegexLiteral r:
                return Value.Regex(Regexes.Get(r.Pattern, r.Span));
            case StringExpression se:
            {
                var sb = new StringBuilder();
                foreach (var part in se.Parts)
                {
                    if (part is TextPart tp)
                    {
                        sb.Append(tp.Value);
                    }
                    else
                    {
                        var v = Evaluate(((InterpolatedPart)part).Expression, scope);
                        if (v.Kind != Kind.String)
                        {
                            throw new QueryException($"string interpolation needs a string, got {Value.KindName(v.Kind)} (convert it with string())", part.Span);
                        }

                        sb.Append(v.AsString);
                    }
                }

                return Value.String(sb.ToString());
            }

            case ArrayExpression a:
                return Value.Array(new ArrayValue([.. a.Elements.Select(e => Evaluate(e, scope))]));
            case DictionaryExpression dict:
            {
                var items = new Dictionary<Value, Value>();
                foreach (var item in dict.Items)
                {
                    items[Evaluate(item.Key, scope)] = Evaluate(item.Value, scope);
                }

                return Value.Dictionary(new DictionaryValue(items));
            }

            case RecordExpression rec:
                return Value.Record(EvaluateRecord(rec, scope));
            case FunctionExpression fn:
                return Value.Function(new Closure(fn, scope));
            case MemberExpression m:
                return Member(Evaluate(m.Object, scope), m.Property.Name, m.Span);
            case IndexExpression ix:
            {
                var obj = Evaluate(ix.Object, scope);
                var index = Evaluate(ix.Index, scope);
                if (obj.Kind == Kind.Array && index.Kind == Kind.Int)
                {
                    var arr = obj.AsArray;
                    if (index.AsInt < 0 || index.AsInt >= arr.Length)
                    {
                        throw new QueryException($"index {index.AsInt} out of bounds (array length {arr.Length})", ix.Span);
                    }

                    return arr.Items[index.AsInt];
                }

                if (obj.Kind == Kind.Record && index.Kind == Kind.String)
                {
                    return obj.AsRecord.Get(index.AsString);
                }

                throw new QueryException($"cannot index {Value.KindName(obj.Kind)} with {Value.KindName(index.Kind)}", ix.Span);
            }

            case ConditionalExpression c:
            {
                var test = Evaluate(c.Test, scope);
                return test.Kind == Kind.Bool && test.AsBool ? Evaluate(c.Consequent, scope) : Evaluate(c.Alternate, scope);
            }

            case UnaryExpression u:
                return Operators.Unary(u.Operator, Evaluate(u.Operand, scope), u.Span);
            case LogicalExpression l:
            {
                var left = Evaluate(l.Left, scope);
                bool lt = left.Kind == Kind.Bool && left.AsBool;
                if (l.Operator == LogicalOperator.And)
                {
                    if (!lt)
                    {
                        return Value.Bool(false);
                    }

                    var right = Evaluate(l.Right, scope);
                    return Value.Bool(right.Kind == Kind.Bool && right.AsBool);
                }

                if (lt)
                {
                    return Value.Bool(true);
                }

                var r2 = Evaluate(l.Right, scope);
                return Value.Bool(r2.Kind == Kind.Bool && r2.AsBool);
            }

            case BinaryExpression bin:
                return Operators.Binary(bin.Operator, Evaluate(bin.Left, scope), Evaluate(bin.Right, scope), bin.Span);
            case CallExpression call:
                return Call(call, null, scope);
            case PipeExpression pipe:
                return Call(pipe.Call, Evaluate(pipe.Argument, scope), scope);
            default:
                throw new QueryException("unsupported expression", expression.Span);
        }
    }

    private RecordValue EvaluateRecord(RecordExpression rec, Scope scope)
    {
        var names = new List<string>();
        var values = new List<Value>();
        if (rec.With is { } with)
        {
            var baseValue = Evaluate(with, scope);
            if (baseValue.Kind != Kind.Record)
            {
                throw new QueryException($"\"{with.Name}\" is not a record", with.Span);
            }

            names.AddRange(baseValue.AsRecord.Names);
            values.AddRange(baseValue.AsRecord.Values);
        }

        foreach (var p in rec.Properties)
        {
            string name = p.Key switch
            {
                Identifier i => i.Name,
                StringLiteral s => s.Value,
                _ => throw new QueryException("record keys are names or strings", p.Span),
            };
            var v = p.Value is null ? Evaluate((Identifier)p.Key, scope) : Evaluate(p.Value, scope);
            int at = names.IndexOf(name);
            if (at >= 0)
            {
                values[at] = v;
            }
            else
            {
                names.Add(name);
                values.Add(v);
            }
        }

        return new RecordValue([.. names], [.. values]);
    }

    private static Value Member(Value obj, string name, SourceSpan span)
    {
        if (obj.Kind == Kind.Record)
        {
            if (obj.AsRecord.TryGet(name, out var v))
            {
                return v;
            }

            return Value.Null;
        }

        if (obj.IsNull)
        {
            return Value.Null;
        }

        throw new QueryException($"cannot read property \"{name}\" of {Value.KindName(obj.Kind)}", span);
    }

    public Value Call(CallExpression call, Value? piped, Scope scope)
    {
        var callee = Evaluate(call.Callee, scope);
        if (callee.Kind != Kind.Function)
        {
            throw new QueryException($"{Describe(call.Callee)} is not a function (it is {Value.KindName(callee.Kind)})", call.Callee.Span);
        }

        var named = new Dictionary<string, Value>(StringComparer.Ordinal);
        foreach (var p in call.Arguments)
        {
            string name = p.Key is Identifier i ? i.Name : ((StringLiteral)p.Key).Value;
            named[name] = p.Value is null ? Evaluate((Identifier)p.Key, scope) : Evaluate(p.Value, scope);
        }

        var fn = callee.AsFunction;
        var args = new CallArguments(fn.Name, named, piped, call.Span, this);
        try
        {
            return fn.Call(this, args);
        }
        catch (QueryException)
        {
            throw;
        }
        catch (Exception e) when (e is OverflowException or ArgumentException or FormatException or InvalidOperationException)
        {
            throw new QueryException($"{fn.Name}: {e.Message}", call.Span);
        }
    }

    private static string Describe(Expression e) => e switch
    {
        Identifier i => "\"" + i.Name + "\"",
        MemberExpression m => "\"" + m.Property.Name + "\"",
        _ => "the callee",
    };

    public static FluxDuration ToDuration(DurationLiteral d)
    {
        long months = 0, ns = 0;
        foreach (var part in d.Parts)
        {
            checked
            {
                switch (part.Unit)
                {
                    case "y": months += part.Magnitude * 12; break;
                    case "mo": months += part.Magnitude; break;
                    case "w": ns += part.Magnitude * 7 * 86_400_000_000_000; break;
                    case "d": ns += part.Magnitude * 86_400_000_000_000; break;
                    case "h": ns += part.Magnitude * 3_600_000_000_000; break;
                    case "m": ns += part.Magnitude * 60_000_000_000; break;
                    case "s": ns += part.Magnitude * 1_000_000_000; break;
                    case "ms": ns += part.Magnitude * 1_000_000; break;
                    case "us" or "\u00B5s": ns += part.Magnitude * 1_000; break;
                    default: ns += part.Magnitude; break;
                }
            }
        }

        return new FluxDuration(months, ns);
    }
}

/// <summary>
/// Regular expressions, cached by pattern (Go RE2 syntax is close to .NET's for the common cases). They run on
/// .NET's non-backtracking engine, as RE2 does: matching time is linear in the input, so a pattern like
/// <c>^(a+)+$</c> against a long tag value cannot stall a query (with the backtracking engine it ran into the
/// match timeout and failed the query with a 500). The constructs that engine lacks (backreferences,
/// lookarounds, atomic groups) are the ones RE2 lacks too.
/// </summary>
public static class Regexes
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Regex> Cache = new(StringComparer.Ordinal);

    public static Regex Get(string pattern, SourceSpan? span = null)
    {
        if (Cache.TryGetValue(pattern, out var r))
        {
            return r;
        }

        try
        {
            r = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw new QueryException($"invalid regular expression /{pattern}/: {e.Message}", span);
        }
        catch (NotSupportedException e)
        {
            throw new QueryException($"regular expression /{pattern}/ uses a construct RE2 syntax lacks (backreference, lookaround or atomic group): {e.Message}", span);
        }

        if (Cache.Count < 1000)
        {
            Cache[pattern] = r;
        }

        return r;
    }
}
