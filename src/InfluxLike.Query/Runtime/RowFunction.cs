using InfluxLike.Query.Ast;
using InfluxLike.Query.Data;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Runtime;

/// <summary>
/// A function called once per row (filter's and map's <c>fn: (r) => ...</c>). The row record is one reused
/// object whose values are refilled per row, holding only the columns the body reads when it reads
/// <c>r</c> by member only, so calling it allocates nothing for scalar results.
/// </summary>
public sealed class RowFunction
{
    private readonly FunctionValue _fn;
    private readonly Closure? _closure;
    private readonly string _parameter = "r";
    private readonly HashSet<string>? _used;
    private readonly Scope? _scope;
    private Table? _table;
    private int[] _map = [];
    private RecordValue _record = RecordValue.Empty;

    public RowFunction(FunctionValue fn, Interpreter? interpreter = null)
    {
        _fn = fn;
        if (fn is Closure closure)
        {
            _closure = closure;
            var parameters = closure.Expression.Parameters;
            var rowParam = parameters.FirstOrDefault(p => !p.IsPipe && p.Default is null) ?? parameters.FirstOrDefault();
            if (rowParam is not null)
            {
                _parameter = rowParam.Name.Name;
            }

            _scope = new Scope(closure.Scope);
            foreach (var p in parameters)
            {
                if (p.Name.Name != _parameter && p.Default is not null && interpreter is not null)
                {
                    _scope.Set(p.Name.Name, interpreter.Evaluate(p.Default, _scope));
                }
            }

            var used = new HashSet<string>(StringComparer.Ordinal);
            _used = Collect(closure.Expression.Body, _parameter, used) ? used : null;
        }
    }

    /// <summary>The columns the body reads, or null when it uses the whole row.</summary>
    public IReadOnlySet<string>? UsedColumns => _used;

    public void Bind(Table table)
    {
        if (_table is not null && ReferenceEquals(_table.Columns, table.Columns))
        {
            _table = table; // the same column list: the same columns read, the record reused
            return;
        }

        _table = table;
        var names = new List<string>();
        var map = new List<int>();
        for (int c = 0; c < table.Columns.Length; c++)
        {
            if (_used is null || _used.Contains(table.Columns[c].Name))
            {
                names.Add(table.Columns[c].Name);
                map.Add(c);
            }
        }

        _map = [.. map];
        _record = new RecordValue([.. names], new Value[names.Count]);
    }

    public Value Invoke(Interpreter interpreter, int row)
    {
        var table = _table!;
        var values = _record.Values;
        for (int i = 0; i < _map.Length; i++)
        {
            values[i] = table.Data[_map[i]].Get(row);
        }

        if (_closure is not null)
        {
            _scope!.Set(_parameter, Value.Record(_record));
            return interpreter.EvaluateBody(_closure.Expression.Body, _scope);
        }

        return _fn.Call(interpreter, new CallArguments(_fn.Name, new() { [_parameter] = Value.Record(_record) }, null, default, interpreter));
    }

    /// <summary>True while <paramref name="name"/> is only ever read as <c>name.member</c>; collects the members.</summary>
    private static bool Collect(Node node, string name, HashSet<string> used)
    {
        switch (node)
        {
            case MemberExpression { Object: Identifier id } m when id.Name == name:
                used.Add(m.Property.Name);
                return true;
            case IndexExpression { Object: Identifier id, Index: StringLiteral s } when id.Name == name:
                used.Add(s.Value);
                return true;
            case Identifier id:
                return id.Name != name;
            case IntegerLiteral or FloatLiteral or BooleanLiteral or StringLiteral or DateTimeLiteral or DurationLiteral or RegexLiteral:
                return true;
            case MemberExpression m:
                return Collect(m.Object, name, used);
            case IndexExpression ix:
                return Collect(ix.Object, name, used) && Collect(ix.Index, name, used);
            case UnaryExpression u:
                return Collect(u.Operand, name, used);
            case BinaryExpression b:
                return Collect(b.Left, name, used) && Collect(b.Right, name, used);
            case LogicalExpression l:
                return Collect(l.Left, name, used) && Collect(l.Right, name, used);
            case ConditionalExpression c:
                return Collect(c.Test, name, used) && Collect(c.Consequent, name, used) && Collect(c.Alternate, name, used);
            case ArrayExpression a:
                return a.Elements.All(e => Collect(e, name, used));
            case StringExpression se:
                return se.Parts.All(p => p is TextPart || Collect(((InterpolatedPart)p).Expression, name, used));
            case RecordExpression r:
                return (r.With is null || r.With.Name != name) &&
                       r.Properties.All(p => p.Value is null ? !(p.Key is Identifier k && k.Name == name) : Collect(p.Value, name, used));
            case CallExpression call:
                return Collect(call.Callee, name, used) &&
                       call.Arguments.All(p => p.Value is null ? !(p.Key is Identifier k && k.Name == name) : Collect(p.Value, name, used));
            case PipeExpression pipe:
                return Collect(pipe.Argument, name, used) && Collect(pipe.Call, name, used);
            default:
                return false;
        }
    }
}
