namespace InfluxLike.Query.Semantics;

/// <summary>"did you mean ...?" for misspelt names: nearest candidates by edit distance.</summary>
internal static class Suggestions
{
    /// <summary>
    /// Up to three candidates within a distance of about a third of the name's length; names of one
    /// or two letters only match up to case, since every short name is one edit from another.
    /// </summary>
    public static string? DidYouMean(string name, IEnumerable<string> candidates)
    {
        var limit = name.Length <= 2 ? 0 : Math.Max(1, name.Length / 3);
        var nearest = candidates
            .Distinct(StringComparer.Ordinal)
            .Select(c => (Name: c, Distance: Distance(name, c)))
            .Where(c => c.Distance <= limit || string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase))
            .OrderBy(c => c.Distance)
            .ThenBy(c => c.Name, StringComparer.Ordinal)
            .Take(3)
            .Select(c => $"'{c.Name}'")
            .ToList();
        return nearest.Count switch
        {
            0 => null,
            1 => $"did you mean {nearest[0]}?",
            _ => $"did you mean {string.Join(", ", nearest[..^1])} or {nearest[^1]}?",
        };
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps.</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
