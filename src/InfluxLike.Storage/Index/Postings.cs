namespace InfluxLike.Storage.Index;

/// <summary>Set operations on sorted, duplicate-free arrays of series ids.</summary>
public static class Postings
{
    public static ulong[] Intersect(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        if (a.Length > b.Length)
        {
            ReadOnlySpan<ulong> t = a;
            a = b;
            b = t;
        }

        var result = new List<ulong>(a.Length);
        if (a.Length * 32 < b.Length)
        {
            // Very different sizes: binary search the small side's ids in the large side.
            foreach (ulong id in a)
            {
                if (b.BinarySearch(id) >= 0)
                {
                    result.Add(id);
                }
            }

            return [.. result];
        }

        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            if (a[i] == b[j])
            {
                result.Add(a[i]);
                i++;
                j++;
            }
            else if (a[i] < b[j])
            {
                i++;
            }
            else
            {
                j++;
            }
        }

        return [.. result];
    }

    public static ulong[] Union(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        var result = new ulong[a.Length + b.Length];
        int i = 0, j = 0, n = 0;
        while (i < a.Length && j < b.Length)
        {
            if (a[i] == b[j])
            {
                result[n++] = a[i++];
                j++;
            }
            else if (a[i] < b[j])
            {
                result[n++] = a[i++];
            }
            else
            {
                result[n++] = b[j++];
            }
        }

        while (i < a.Length)
        {
            result[n++] = a[i++];
        }

        while (j < b.Length)
        {
            result[n++] = b[j++];
        }

        return result[..n];
    }

    /// <summary>Ids of <paramref name="a"/> not in <paramref name="b"/>.</summary>
    public static ulong[] Except(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        var result = new List<ulong>(a.Length);
        int j = 0;
        foreach (ulong id in a)
        {
            while (j < b.Length && b[j] < id)
            {
                j++;
            }

            if (j >= b.Length || b[j] != id)
            {
                result.Add(id);
            }
        }

        return [.. result];
    }

    public static ulong[] UnionAll(IEnumerable<ulong[]> sets)
    {
        var all = new List<ulong>();
        foreach (ulong[] set in sets)
        {
            all.AddRange(set);
        }

        if (all.Count == 0)
        {
            return [];
        }

        all.Sort();
        int n = 1;
        for (int i = 1; i < all.Count; i++)
        {
            if (all[i] != all[n - 1])
            {
                all[n++] = all[i];
            }
        }

        return [.. all.GetRange(0, n)];
    }
}
