using System.Text;
using InfluxLike.Query.Data;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Tests.Execution;

/// <summary>
/// Flux's testing.diff rules (conformance README section 4): tables matched by group key; an empty table equals a
/// missing one; rows compared in order; columns by name (a column on one side only must be all null); floats
/// within 1e-6 with NaN = NaN; a type clash fails. Returns null when equal, else what differs.
/// </summary>
public static class TableComparer
{
    public static string? Diff(IReadOnlyList<Table> got, IReadOnlyList<Table> want)
    {
        var problems = new StringBuilder();
        var gotByKey = Index(got, "got", problems);
        var wantByKey = Index(want, "want", problems);
        foreach (var (key, w) in wantByKey)
        {
            if (!gotByKey.TryGetValue(key, out var g))
            {
                if (w.Rows > 0)
                {
                    problems.AppendLine($"missing table {key} ({w.Rows} rows)");
                }

                continue;
            }

            CompareTable(key, g, w, problems);
        }

        foreach (var (key, g) in gotByKey)
        {
            if (!wantByKey.ContainsKey(key) && g.Rows > 0)
            {
                problems.AppendLine($"unexpected table {key} ({g.Rows} rows): first row {Row(g, 0)}");
            }
        }

        return problems.Length == 0 ? null : problems.ToString();
    }

    private static Dictionary<GroupKey, Table> Index(IReadOnlyList<Table> tables, string side, StringBuilder problems)
    {
        var map = new Dictionary<GroupKey, Table>();
        foreach (var t in tables)
        {
            if (map.TryGetValue(t.Key, out var existing))
            {
                if (existing.Rows == 0)
                {
                    map[t.Key] = t;
                }
                else if (t.Rows > 0)
                {
                    problems.AppendLine($"{side} has two tables with key {t.Key}");
                }

                continue;
            }

            map[t.Key] = t;
        }

        return map;
    }

    private static void CompareTable(GroupKey key, Table got, Table want, StringBuilder problems)
    {
        if (got.Rows != want.Rows)
        {
            problems.AppendLine($"table {key}: got {got.Rows} rows, want {want.Rows}");
            for (int r = 0; r < Math.Max(got.Rows, want.Rows) && r < 12; r++)
            {
                problems.AppendLine($"  got:  {(r < got.Rows ? Row(got, r) : "-")}");
                problems.AppendLine($"  want: {(r < want.Rows ? Row(want, r) : "-")}");
            }

            return;
        }

        var names = got.Columns.Select(c => c.Name).Union(want.Columns.Select(c => c.Name)).Where(n => !key.Contains(n));
        foreach (var name in names)
        {
            int gi = got.IndexOf(name), wi = want.IndexOf(name);
            if (gi < 0 || wi < 0)
            {
                var (t, c) = gi < 0 ? (want, wi) : (got, gi);
                for (int r = 0; r < t.Rows; r++)
                {
                    if (!t.Data[c].IsNull(r))
                    {
                        problems.AppendLine($"table {key}: column \"{name}\" only in {(gi < 0 ? "want" : "got")}, row {r} = {t.Data[c].Get(r)}");
                        break;
                    }
                }

                continue;
            }

            if (got.Columns[gi].Type != want.Columns[wi].Type)
            {
                problems.AppendLine($"table {key}: column \"{name}\" is {got.Columns[gi].Type} in got, {want.Columns[wi].Type} in want");
                continue;
            }

            for (int r = 0; r < got.Rows; r++)
            {
                var a = got.Data[gi].Get(r);
                var b = want.Data[wi].Get(r);
                if (!Same(a, b))
                {
                    problems.AppendLine($"table {key}: row {r} column \"{name}\": got {a}, want {b}");
                    problems.AppendLine($"  got:  {Row(got, r)}");
                    problems.AppendLine($"  want: {Row(want, r)}");
                    return;
                }
            }
        }
    }

    private static bool Same(Value a, Value b)
    {
        if (a.IsNull || b.IsNull)
        {
            return a.IsNull && b.IsNull;
        }

        if (a.Kind == Kind.Float)
        {
            double x = a.AsFloat, y = b.AsFloat;
            return (double.IsNaN(x) && double.IsNaN(y)) || x == y || Math.Abs(x - y) <= 1e-6;
        }

        return a.Equals(b);
    }

    private static string Row(Table t, int r) => string.Join(",", t.Columns.Select((c, i) => c.Name + "=" + t.Data[i].Get(r)));
}
