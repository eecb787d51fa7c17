using System.Text;
using InfluxLike.Query.Planning;

namespace InfluxLike.Query.Values;

public sealed class ArrayValue(Value[] items)
{
    public static readonly ArrayValue Empty = new([]);

    public Value[] Items { get; } = items;

    public int Length => Items.Length;

    public override string ToString() => "[" + string.Join(", ", Items.Select(i => i.Kind == Kind.String ? "\"" + i.AsString + "\"" : i.ToString())) + "]";
}

/// <summary>A record: properties in the order they were written (small, so lookups are linear).</summary>
public sealed class RecordValue
{
    public static readonly RecordValue Empty = new([], []);

    public RecordValue(string[] names, Value[] values)
    {
        Names = names;
        Values = values;
    }

    public string[] Names { get; }

    public Value[] Values { get; }

    public int Count => Names.Length;

    public int IndexOf(string name)
    {
        for (int i = 0; i < Names.Length; i++)
        {
            if (Names[i] == name)
            {
                return i;
            }
        }

        return -1;
    }

    public bool TryGet(string name, out Value value)
    {
        int i = IndexOf(name);
        value = i < 0 ? Value.Null : Values[i];
        return i >= 0;
    }

    public Value Get(string name) => TryGet(name, out var v) ? v : Value.Null;

    /// <summary>A copy with <paramref name="name"/> set (replaced in place or appended).</summary>
    public RecordValue With(string name, Value value)
    {
        int i = IndexOf(name);
        if (i >= 0)
        {
            var values = (Value[])Values.Clone();
            values[i] = value;
            return new RecordValue(Names, values);
        }

        return new RecordValue([.. Names, name], [.. Values, value]);
    }

    public override string ToString()
    {
        var sb = new StringBuilder("{");
        for (int i = 0; i < Names.Length; i++)
        {
            sb.Append(i == 0 ? "" : ", ").Append(Names[i]).Append(": ").Append(Values[i]);
        }

        return sb.Append('}').ToString();
    }
}

public sealed class DictionaryValue(Dictionary<Value, Value> items)
{
    public Dictionary<Value, Value> Items { get; } = items;
}

/// <summary>A lazily evaluated stream of tables: a node of the query plan, run when a result is yielded.</summary>
public sealed class TableStream(PlanNode node)
{
    public PlanNode Node { get; } = node;

    public override string ToString() => "<stream " + Node.Describe() + ">";
}
