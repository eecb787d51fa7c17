using InfluxLike.Query.Data;
using InfluxLike.Query.Runtime;
using InfluxLike.Query.Values;

namespace InfluxLike.Query;

/// <summary>Transformations that move rows between tables: group, pivot, window, aggregateWindow, union.</summary>
public static class Grouping
{
    /// <summary>group(columns:, mode:): regroup every row by the key columns; tables in order of first appearance.</summary>
    public static IEnumerable<Table> Group(IEnumerable<Table> input, string[] columns, bool except, QueryContext context)
    {
        // Whole tables wait in a list and are concatenated once at the end; a group that also gets single rows is built row by row.
        var builders = new Dictionary<GroupKey, TableBuilder>();
        var whole = new Dictionary<GroupKey, List<Table>>();
        var order = new List<GroupKey>();
        long reserved = 0;
        try
        {
            foreach (var table in input)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                long bytes = table.ApproximateBytes;
                context.Memory.Reserve(bytes);
                reserved += bytes;
                var keyColumns = new List<int>();
                for (int c = 0; c < table.Columns.Length; c++)
                {
                    bool listed = columns.Contains(table.Columns[c].Name);
                    if (listed != except)
                    {
                        keyColumns.Add(c);
                    }
                }

                if (!except)
                {
                    // mode "by": key in the order the columns were listed ("except" keeps table order).
                    keyColumns.Sort((a, b) => Array.IndexOf(columns, table.Columns[a].Name).CompareTo(Array.IndexOf(columns, table.Columns[b].Name)));
                }

                var metas = keyColumns.Select(c => table.Columns[c]).ToArray();
                bool allInKey = keyColumns.All(c => table.Key.Contains(table.Columns[c].Name));
                if (allInKey || table.IsEmpty)
                {
                    var key = new GroupKey(metas, [.. keyColumns.Select(c => table.IsEmpty ? table.Key.Get(table.Columns[c].Name) : table.Data[c].Get(0))]);
                    if (builders.TryGetValue(key, out var builder))
                    {
                        builder.AppendTable(table, builder.MapColumns(table));
                    }
                    else if (whole.TryGetValue(key, out var list))
                    {
                        list.Add(table);
                    }
                    else
                    {
                        whole[key] = [table];
                        order.Add(key);
                    }

                    continue;
                }

                for (int r = 0; r < table.Rows; r++)
                {
                    var key = new GroupKey(metas, [.. keyColumns.Select(c => table.Data[c].Get(r))]);
                    var builder = Builder(key);
                    builder.AppendRow(table, r, builder.MapColumns(table));
                }
            }

            foreach (var key in order)
            {
                var built = builders.TryGetValue(key, out var builder) ? builder.Build() : TableBuilder.Concat(key, whole[key]);
                yield return new Table(TableOps.OrderKey(key, built.Columns), built.Columns, built.Data, built.Rows);
            }
        }
        finally
        {
            context.Memory.Release(reserved);
        }

        TableBuilder Builder(GroupKey key)
        {
            if (!builders.TryGetValue(key, out var builder))
            {
                builder = new TableBuilder(key);
                builders[key] = builder;
                if (whole.Remove(key, out var tables))
                {
                    foreach (var table in tables)
                    {
                        builder.AppendTable(table, builder.MapColumns(table));
                    }
                }
                else
                {
                    order.Add(key);
                }
            }

            return builder;
        }
    }

    /// <summary>
    /// pivot: per output group (the input key without the column-key columns), one row per distinct row key,
    /// sorted by it, and one column per distinct column-key value holding <paramref name="valueColumn"/>.
    /// </summary>
    public static IEnumerable<Table> Pivot(IEnumerable<Table> input, string[] rowKey, string[] columnKey, string valueColumn, QueryContext context)
    {
        var groups = new Dictionary<GroupKey, List<Table>>();
        var order = new List<GroupKey>();
        long reserved = 0;
        try
        {
            foreach (var table in input)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                foreach (var name in rowKey.Concat(columnKey).Append(valueColumn))
                {
                    if (table.IndexOf(name) < 0 && !table.IsEmpty)
                    {
                        throw new QueryException($"pivot: column \"{name}\" does not exist");
                    }
                }

                long bytes = table.ApproximateBytes;
                context.Memory.Reserve(bytes);
                reserved += bytes;
                var key = TableOps.Project(table, n => !columnKey.Contains(n) && n != valueColumn).Key;
                if (!groups.TryGetValue(key, out var list))
                {
                    groups[key] = list = [];
                    order.Add(key);
                }

                list.Add(table);
            }

            foreach (var key in order)
            {
                yield return PivotGroup(key, groups[key], rowKey, columnKey, valueColumn);
            }
        }
        finally
        {
            context.Memory.Release(reserved);
        }
    }

    private static Table PivotGroup(GroupKey key, List<Table> tables, string[] rowKey, string[] columnKey, string valueColumn)
    {
        var builder = new TableBuilder(key);
        foreach (var kc in key.Columns)
        {
            builder.AddColumn(kc.Name, kc.Type);
        }

        var first = tables.FirstOrDefault(t => !t.IsEmpty);
        if (first is null)
        {
            return Table.EmptyFor(key);
        }

        foreach (var rk in rowKey)
        {
            builder.AddColumn(rk, first.Columns[first.IndexOf(rk)].Type);
        }

        if (PivotByTime(key, tables, rowKey, columnKey, valueColumn, builder) is { } fast)
        {
            return fast;
        }

        // Distinct row keys in sorted order, then fill the cells.
        var rows = new SortedDictionary<Value[], int>(RowKeyComparer.Instance);
        var cells = new List<(Value[] Row, string Column, Kind Type, Value Value)>();
        foreach (var table in tables)
        {
            var rkIdx = rowKey.Select(table.IndexOf).ToArray();
            var ckIdx = columnKey.Select(table.IndexOf).ToArray();
            int vIdx = table.IndexOf(valueColumn);
            for (int r = 0; r < table.Rows; r++)
            {
                var rk = rkIdx.Select(c => table.Data[c].Get(r)).ToArray();
                rows.TryAdd(rk, 0);
                string name = string.Join("_", ckIdx.Select(c => table.Data[c].Get(r).ToString()));
                cells.Add((rk, name, table.Columns[vIdx].Type, table.Data[vIdx].Get(r)));
            }
        }

        int index = 0;
        foreach (var rk in rows.Keys.ToList())
        {
            rows[rk] = index++;
        }

        var columnIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var cell in cells)
        {
            if (!columnIndex.ContainsKey(cell.Column))
            {
                columnIndex[cell.Column] = builder.AddColumn(cell.Column, cell.Type);
            }
        }

        int n = rows.Count;
        var grid = new Value[columnIndex.Count + builder.Columns.Count, n];
        foreach (var cell in cells)
        {
            int c = columnIndex[cell.Column];
            if (builder.Columns[c].Type != cell.Type)
            {
                throw new QueryException($"pivot: column \"{cell.Column}\" gets values of two types ({Value.KindName(builder.Columns[c].Type)} and {Value.KindName(cell.Type)})");
            }

            grid[c, rows[cell.Row]] = cell.Value;
        }

        var rowKeyColumns = rowKey.Select(builder.IndexOf).ToArray();
        foreach (var (rk, row) in rows)
        {
            for (int i = 0; i < rowKey.Length; i++)
            {
                builder[rowKeyColumns[i]].Append(rk[i]);
            }

            for (int k = 0; k < key.Columns.Length; k++)
            {
                if (!rowKey.Contains(key.Columns[k].Name))
                {
                    builder[k].Append(key.Values[k]);
                }
            }

            foreach (var c in columnIndex.Values)
            {
                builder[c].Append(grid[c, row]);
            }

            builder.EndRow();
        }

        return builder.Build();
    }

    /// <summary>
    /// The usual pivot (row key one time or integer column without nulls, column key constant within each table,
    /// as <c>pivot(rowKey: ["_time"], columnKey: ["_field"])</c> on storage tables) without a sorted map and a row
    /// key array per cell; null when the tables are not of that shape (the general way then applies).
    /// </summary>
    private static Table? PivotByTime(GroupKey key, List<Table> tables, string[] rowKey, string[] columnKey, string valueColumn, TableBuilder builder)
    {
        if (rowKey.Length != 1)
        {
            return null;
        }

        var names = new string[tables.Count];
        Kind rowKind = Kind.Null;
        int total = 0;
        for (int t = 0; t < tables.Count; t++)
        {
            Table table = tables[t];
            int rk = table.IndexOf(rowKey[0]);
            if (table.IsEmpty)
            {
                continue;
            }

            ColumnData rowColumn = table.Data[rk];
            Kind kind = table.Columns[rk].Type;
            if (kind is not (Kind.Time or Kind.Int) || (rowKind != Kind.Null && kind != rowKind) || rowColumn.IsConstant)
            {
                return null;
            }

            rowKind = kind;
            for (int r = 0; r < table.Rows; r++)
            {
                if (rowColumn.IsNull(r))
                {
                    return null;
                }
            }

            var parts = new string[columnKey.Length];
            for (int i = 0; i < columnKey.Length; i++)
            {
                ColumnData c = table.Data[table.IndexOf(columnKey[i])];
                if (!c.IsConstant)
                {
                    return null;
                }

                parts[i] = c.ConstantValue.ToString();
            }

            names[t] = string.Join("_", parts);
            total += table.Rows;
        }

        if (key.Contains(rowKey[0]))
        {
            return null;
        }

        long[] times = DistinctRowTimes(tables, rowKey[0], total, out int distinct);
        var columnIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var cellKinds = new List<Kind>();
        var cellBits = new List<long[]?>();
        var cellStrings = new List<string?[]?>();
        var cellSet = new List<bool[]>();
        for (int t = 0; t < tables.Count; t++)
        {
            Table table = tables[t];
            if (table.IsEmpty)
            {
                continue;
            }

            int vIdx = table.IndexOf(valueColumn);
            Kind type = table.Columns[vIdx].Type;
            if (type == Kind.Null)
            {
                return null;
            }

            if (!columnIndex.TryGetValue(names[t], out int c))
            {
                if (builder.IndexOf(names[t]) >= 0)
                {
                    return null; // a pivoted column named like a key or row-key column: the general way decides
                }

                columnIndex[names[t]] = c = cellKinds.Count;
                cellKinds.Add(type);
                cellBits.Add(type == Kind.String ? null : new long[distinct]);
                cellStrings.Add(type == Kind.String ? new string?[distinct] : null);
                cellSet.Add(new bool[distinct]);
            }
            else if (cellKinds[c] != type)
            {
                throw new QueryException($"pivot: column \"{names[t]}\" gets values of two types ({Value.KindName(cellKinds[c])} and {Value.KindName(type)})");
            }

            // Both time lists are ascending: walk them together (a later table's cell wins, as in the general way).
            long[] rowTimes = table.Data[table.IndexOf(rowKey[0])].Bits!;
            ColumnData values = table.Data[vIdx];
            bool[] set = cellSet[c];
            long[]? bits = cellBits[c];
            string?[]? strings = cellStrings[c];
            long[]? sourceBits = type == Kind.String ? null : values.Bits;
            string?[]? sourceStrings = type == Kind.String ? values.Strings : null;
            int at = 0;
            for (int r = 0; r < table.Rows; r++)
            {
                long time = rowTimes[r];
                if (at >= distinct || times[at] != time)
                {
                    at = times.AsSpan(0, distinct).BinarySearch(time);
                }

                if (values.IsNull(r))
                {
                    set[at] = false;
                    if (strings is not null)
                    {
                        strings[at] = null; // a string column's nulls are its null cells
                    }
                }
                else
                {
                    set[at] = true;
                    if (bits is not null)
                    {
                        bits[at] = sourceBits![r];
                    }
                    else
                    {
                        strings![at] = sourceStrings![r];
                    }
                }

                at++;
            }
        }

        // Key columns hold one value in every row; the row key and the pivoted cells are built as arrays.
        var columns = new List<ColumnMeta>(key.Columns.Length + 1 + cellKinds.Count);
        var data = new List<ColumnData>(columns.Capacity);
        for (int k = 0; k < key.Columns.Length; k++)
        {
            Kind kind = key.Columns[k].Type == Kind.Null ? Kind.String : key.Columns[k].Type;
            columns.Add(new ColumnMeta(key.Columns[k].Name, kind));
            data.Add(ColumnData.Constant(kind, key.Values[k], distinct));
        }

        columns.Add(new ColumnMeta(rowKey[0], rowKind));
        data.Add(new ColumnData(rowKind, times.Length == distinct ? times : times[..distinct], null, null));
        foreach (var (name, c) in columnIndex)
        {
            bool[] set = cellSet[c];
            bool[]? nulls = null;
            if (set.AsSpan().Contains(false))
            {
                nulls = new bool[distinct];
                for (int i = 0; i < distinct; i++)
                {
                    nulls[i] = !set[i];
                }
            }

            columns.Add(new ColumnMeta(name, cellKinds[c]));
            data.Add(new ColumnData(cellKinds[c], cellBits[c], cellStrings[c], cellStrings[c] is null ? nulls : null));
        }

        return new Table(key, [.. columns], [.. data], distinct);
    }

    /// <summary>
    /// The distinct values of the row-key column over all tables, ascending. Storage tables of one series share their
    /// times, so the usual case is one table's column as it is; otherwise the columns are merged and sorted.
    /// </summary>
    private static long[] DistinctRowTimes(List<Table> tables, string rowKey, int total, out int distinct)
    {
        long[]? shared = null;
        int rows = 0;
        bool same = true;
        foreach (Table table in tables)
        {
            if (table.IsEmpty)
            {
                continue;
            }

            long[] bits = table.Data[table.IndexOf(rowKey)].Bits!;
            if (shared is null)
            {
                shared = bits;
                rows = table.Rows;
                for (int i = 1; i < rows && same; i++)
                {
                    same = bits[i] > bits[i - 1];
                }
            }
            else if (same)
            {
                same = table.Rows == rows && (ReferenceEquals(bits, shared) || bits.AsSpan(0, rows).SequenceEqual(shared.AsSpan(0, rows)));
            }
        }

        if (same && shared is not null)
        {
            distinct = rows;
            return shared;
        }

        var all = new long[total];
        int n = 0;
        foreach (Table table in tables)
        {
            if (!table.IsEmpty)
            {
                table.Data[table.IndexOf(rowKey)].Bits.AsSpan(0, table.Rows).CopyTo(all.AsSpan(n));
                n += table.Rows;
            }
        }

        Array.Sort(all);
        distinct = 0;
        for (int i = 0; i < all.Length; i++)
        {
            if (distinct == 0 || all[i] != all[distinct - 1])
            {
                all[distinct++] = all[i];
            }
        }

        return all;
    }

    private sealed class RowKeyComparer : IComparer<Value[]>
    {
        public static readonly RowKeyComparer Instance = new();

        public int Compare(Value[]? x, Value[]? y)
        {
            for (int i = 0; i < x!.Length; i++)
            {
                int c = Value.Compare(x[i], y![i]);
                if (c != 0)
                {
                    return c;
                }
            }

            return 0;
        }
    }

    /// <summary>Window boundaries: every/period/offset on the epoch-aligned grid (calendar months when given in mo/y).</summary>
    public sealed record WindowSpec(FluxDuration Every, FluxDuration Period, FluxDuration Offset, WindowLocation? Location = null)
    {
        public bool Infinite => Every.Months == 0 && Every.Nanoseconds >= long.MaxValue / 2;

        /// <summary>Whether windows follow a time zone's clock rather than UTC's (storage cannot answer those).</summary>
        public bool HasLocation => Location is not null;

        /// <summary>Start of the latest window (on the every grid) that starts at or before <paramref name="t"/>.</summary>
        public long AlignedStart(long t) =>
            Location is { } l && !Infinite ? l.ToUtc(AlignedStartUtc(l.ToLocal(t))) : AlignedStartUtc(t);

        private long AlignedStartUtc(long t)
        {
            if (Every.Months != 0)
            {
                var months = Every.Months;
                long shifted = t - (Offset.AddTo(0));
                var date = DateTime.UnixEpoch.AddTicks(Math.Clamp(shifted / 100, -(DateTime.UnixEpoch.Ticks), DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks - 1));
                long monthIndex = ((date.Year - 1970) * 12L) + date.Month - 1;
                long aligned = monthIndex - (((monthIndex % months) + months) % months);
                var start = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths((int)aligned);
                return ((start - DateTime.UnixEpoch).Ticks * 100) + Offset.AddTo(0);
            }

            long every = Every.Nanoseconds;
            long offset = Offset.Nanoseconds % every;
            long s = t - offset;
            long start2 = s - (((s % every) + every) % every);
            return start2 + offset;
        }

        public long Next(long start) => Location is { } l ? l.ToUtc(Every.AddTo(l.ToLocal(start))) : Every.AddTo(start);

        public long Previous(long start) => Location is { } l ? l.ToUtc(Every.Negate().AddTo(l.ToLocal(start))) : Every.Negate().AddTo(start);

        public long StopOf(long start) => Location is { } l ? l.ToUtc(Period.AddTo(l.ToLocal(start))) : Period.AddTo(start);
    }

    /// <summary>
    /// A time zone for window boundaries (Flux's <c>location</c>): a fixed offset, or a named zone from the
    /// system's time-zone database, whose offset changes with daylight saving. Windows are cut on the local
    /// clock (a day from local midnight to local midnight, 23 or 25 hours long across a change).
    /// </summary>
    public sealed class WindowLocation
    {
        private readonly TimeZoneInfo? _zone;
        private readonly long _fixed;

        private WindowLocation(TimeZoneInfo? zone, long fixedOffset)
        {
            _zone = zone;
            _fixed = fixedOffset;
        }

        /// <summary>The location of a <c>{zone, offset}</c> record; null for plain UTC.</summary>
        public static WindowLocation? From(RecordValue record)
        {
            string zone = record.TryGet("zone", out Value z) && z.Kind == Kind.String ? z.AsString : "UTC";
            long offset = record.TryGet("offset", out Value o) && o.Kind == Kind.Duration ? o.AsDuration.Nanoseconds : 0;
            if (zone is "UTC" or "Etc/UTC" or "")
            {
                return offset == 0 ? null : new WindowLocation(null, offset);
            }

            try
            {
                return new WindowLocation(TimeZoneInfo.FindSystemTimeZoneById(zone), offset);
            }
            catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
            {
                throw new QueryException($"unknown time zone \"{zone}\" (an IANA name such as \"America/Los_Angeles\")");
            }
        }

        private long OffsetAt(long utc) => _fixed + (_zone is null ? 0 : _zone.GetUtcOffset(new DateTime(Math.Clamp(DateTime.UnixEpoch.Ticks + (utc / 100), DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks), DateTimeKind.Utc)).Ticks * 100);

        public long ToLocal(long utc) => utc + OffsetAt(utc);

        // The UTC instant whose local clock reads local (the later offset's reading in a repeated hour).
        public long ToUtc(long local) => local - OffsetAt(local - OffsetAt(local));
    }

    /// <summary>window(): each row goes to the tables of the windows that hold its time; bounds clipped to the table's _start/_stop.</summary>
    public static IEnumerable<Table> Window(Table table, WindowSpec spec, string timeColumn, string startColumn, string stopColumn, bool createEmpty, (long Start, long Stop)? bounds = null)
    {
        foreach (var (start, stop, rows) in Windows(table, spec, timeColumn, createEmpty, bounds))
        {
            var t = TableOps.Gather(table, rows.ToArray());
            t = TableOps.SetKeyColumn(t, stopColumn, Value.Time(stop), Kind.Time);
            yield return TableOps.SetKeyColumn(t, startColumn, Value.Time(start), Kind.Time);
        }
    }

    /// <summary>The windows of one table in time order, each with its (clipped) bounds and row indexes.</summary>
    public static List<(long Start, long Stop, List<int> Rows)> Windows(Table table, WindowSpec spec, string timeColumn, bool createEmpty, (long Start, long Stop)? bounds = null)
    {
        long lower = long.MinValue, upper = long.MaxValue;
        bool bounded = false;
        var ks = table.Key.Get(TableOps.Start);
        var ke = table.Key.Get(TableOps.Stop);
        if (bounds is { } b)
        {
            (lower, upper, bounded) = (b.Start, b.Stop, true);
        }
        else if (ks.Kind == Kind.Time && ke.Kind == Kind.Time)
        {
            lower = ks.AsTime;
            upper = ke.AsTime;
            bounded = true;
        }

        int tc = table.IndexOf(timeColumn);
        if (tc < 0 && !table.IsEmpty)
        {
            throw new QueryException($"window: column \"{timeColumn}\" does not exist");
        }

        var result = new List<(long, long, List<int>)>();
        if (spec.Infinite)
        {
            var all = Enumerable.Range(0, table.Rows).Where(r => !table.Data[tc].IsNull(r)).ToList();
            if (all.Count > 0 || createEmpty)
            {
                result.Add((lower, upper, all));
            }

            return result;
        }

        // Rows come mostly in time order: consecutive rows of one window skip the lookup; windows are sorted
        // by start once at the end rather than kept sorted per row.
        var byStart = new Dictionary<long, List<int>>();
        ColumnData? times = tc >= 0 ? table.Data[tc] : null;
        long lastStart = long.MinValue;
        long lastStop = long.MinValue;
        List<int>? lastList = null;
        for (int r = 0; times is not null && r < table.Rows; r++)
        {
            if (times.IsNull(r))
            {
                continue;
            }

            long t = times.Bits![r];
            long aligned = spec.AlignedStart(t);
            if (lastList is not null && aligned == lastStart && lastStop > t && spec.Period == spec.Every)
            {
                lastList.Add(r);
                continue;
            }

            for (long s = aligned; spec.StopOf(s) > t; s = spec.Previous(s))
            {
                if (s <= t)
                {
                    if (!byStart.TryGetValue(s, out var list))
                    {
                        byStart[s] = list = [];
                    }

                    list.Add(r);
                    if (s == aligned)
                    {
                        (lastStart, lastStop, lastList) = (s, spec.StopOf(s), list);
                    }
                }
            }
        }

        if (createEmpty && bounded)
        {
            for (long s = spec.AlignedStart(lower); s < upper; s = spec.Next(s))
            {
                if (spec.StopOf(s) > lower)
                {
                    byStart.TryAdd(s, []);
                }
            }

            // Earlier-starting windows whose period reaches into the range.
            for (long s = spec.Previous(spec.AlignedStart(lower)); spec.StopOf(s) > lower; s = spec.Previous(s))
            {
                byStart.TryAdd(s, []);
            }
        }

        foreach (var (s, rows) in byStart.OrderBy(w => w.Key))
        {
            long start = Math.Max(s, lower), stop = Math.Min(spec.StopOf(s), upper);
            if (stop <= start && rows.Count == 0)
            {
                continue;
            }

            result.Add((start, stop, rows));
        }

        return result;
    }

    /// <summary>
    /// aggregateWindow: per table, the aggregate of each window, its time taken from the window's stop (or start),
    /// all in one table with the input's key.
    /// </summary>
    /// <summary>
    /// Keeps, of one table, only the rows a selector (min, max, first, last) picks in each window, in table
    /// order: applied before a <c>group()</c> that merges whole tables, it leaves the selector's answer per
    /// window unchanged (the winner of a window is among the kept rows, and so is whatever came before it)
    /// while the merged table shrinks from every point to one row per table and window.
    /// </summary>
    public static Table PreSelect(Table table, WindowSpec spec, string column, string which)
    {
        int c = table.IndexOf(column);
        if (c < 0 || table.IndexOf(TableOps.Time) < 0 || table.IsEmpty)
        {
            return table;
        }

        var keep = new SortedSet<int>();
        foreach (var (_, _, rows) in Windows(table, spec, TableOps.Time, createEmpty: false))
        {
            int best = Aggregates.SelectRow(table.Data[c], rows, which);
            if (best >= 0)
            {
                keep.Add(best);
            }
        }

        return TableOps.Gather(table, [.. keep]);
    }

    /// <param name="builtinSelector">min, max, first or last when <paramref name="aggregate"/> is that built-in selector: the rows are then picked in place.</param>
    public static Table AggregateWindow(Table table, WindowSpec spec, Func<Table, Table> aggregate, string column, string timeSrc, string timeDst, bool createEmpty, bool selector, string? builtinSelector = null)
    {
        if (builtinSelector is not null && !createEmpty && SelectWindows(table, spec, builtinSelector, column, timeSrc, timeDst) is { } selected)
        {
            return selected;
        }

        var builder = new TableBuilder(table.Key);
        foreach (var (start, stop, rows) in Windows(table, spec, TableOps.Time, createEmpty))
        {
            var window = TableOps.Gather(table, rows.ToArray());
            window = TableOps.SetKeyColumn(window, TableOps.Stop, Value.Time(stop), Kind.Time);
            window = TableOps.SetKeyColumn(window, TableOps.Start, Value.Time(start), Kind.Time);
            var output = aggregate(window);
            if (output.IsEmpty && createEmpty && selector)
            {
                // An empty window still gives a row, with a null value.
                int source = table.IndexOf(column);
                output = TableOps.AggregateRow(window.Key, column, source >= 0 ? table.Columns[source].Type : Kind.Float, Value.Null);
            }

            int src = output.IndexOf(timeSrc);
            if (src < 0 && !output.IsEmpty)
            {
                throw new QueryException($"aggregateWindow: column \"{timeSrc}\" does not exist after the aggregate");
            }

            for (int r = 0; r < output.Rows; r++)
            {
                for (int c = 0; c < output.Columns.Length; c++)
                {
                    var meta = output.Columns[c];
                    if (meta.Name == timeDst)
                    {
                        continue;
                    }

                    var value = meta.Name is TableOps.Start or TableOps.Stop && table.Key.Contains(meta.Name) ? table.Key.Get(meta.Name) : output.Data[c].Get(r);
                    int bc = builder.AddColumn(meta.Name, meta.Type);
                    builder[bc].Append(value);
                }

                int dc = builder.AddColumn(timeDst, output.Columns[src].Type);
                builder[dc].Append(output.Data[src].Get(r));
                builder.EndRow();
            }
        }

        if (builder.Rows == 0)
        {
            return Table.EmptyFor(table.Key);
        }

        var built = builder.Build();
        return new Table(TableOps.OrderKey(table.Key, built.Columns), built.Columns, built.Data, built.Rows);
    }

    /// <summary>
    /// aggregateWindow with a built-in selector and no empty windows: the table the general loop above builds,
    /// from each window's selected row (<see cref="Aggregates.SelectRow"/>, as the selector picks it) gathered
    /// once, instead of a table per window and a boxed value per output cell. After <c>group()</c> merges
    /// every series (TSBS groupby-orderby-limit: 138 k rows, 1,380 windows) the per-window tables cost more than
    /// the rest of the query. Null when the table is one the general loop handles differently (missing columns,
    /// <c>_start</c>/<c>_stop</c> absent or not times, a type min/max refuses): the caller then runs that loop.
    /// </summary>
    private static Table? SelectWindows(Table table, WindowSpec spec, string which, string column, string timeSrc, string timeDst)
    {
        int c = table.IndexOf(column);
        int startColumn = table.IndexOf(TableOps.Start);
        int stopColumn = table.IndexOf(TableOps.Stop);
        int srcColumn = table.IndexOf(timeSrc);
        if (table.IsEmpty || c < 0 || srcColumn < 0 || table.IndexOf(TableOps.Time) < 0 || startColumn < 0 || stopColumn < 0
            || table.Columns[startColumn].Type != Kind.Time || table.Columns[stopColumn].Type != Kind.Time
            || (which is "min" or "max" && table.Columns[c].Type is not (Kind.Float or Kind.Int or Kind.UInt or Kind.String or Kind.Time or Kind.Bool)))
        {
            return null;
        }

        var windows = Windows(table, spec, TableOps.Time, createEmpty: false);
        var rows = new int[windows.Count];
        var starts = new long[windows.Count];
        var stops = new long[windows.Count];
        int n = 0;
        foreach (var (start, stop, windowRows) in windows)
        {
            int best = Aggregates.SelectRow(table.Data[c], windowRows, which);
            if (best >= 0)
            {
                (rows[n], starts[n], stops[n]) = (best, start, stop);
                n++;
            }
        }

        if (n == 0)
        {
            return Table.EmptyFor(table.Key);
        }

        Array.Resize(ref starts, n);
        Array.Resize(ref stops, n);
        var picked = TableOps.Gather(table, rows.AsSpan(0, n));
        var windowStarts = new ColumnData(Kind.Time, starts, null, null);
        var windowStops = new ColumnData(Kind.Time, stops, null, null);

        // As the general loop: _start and _stop are the window's unless the input's key holds them; timeDst moves last.
        int skip = table.IndexOf(timeDst) >= 0 ? 1 : 0;
        var columns = new ColumnMeta[table.Columns.Length - skip + 1];
        var data = new ColumnData[columns.Length];
        int o = 0;
        for (int k = 0; k < table.Columns.Length; k++)
        {
            var meta = table.Columns[k];
            if (meta.Name == timeDst)
            {
                continue;
            }

            columns[o] = meta;
            data[o++] = k == startColumn ? KeyOr(table.Key, TableOps.Start, windowStarts, n)
                : k == stopColumn ? KeyOr(table.Key, TableOps.Stop, windowStops, n)
                : picked.Data[k];
        }

        columns[o] = new ColumnMeta(timeDst, table.Columns[srcColumn].Type);
        data[o] = srcColumn == startColumn ? windowStarts : srcColumn == stopColumn ? windowStops : picked.Data[srcColumn];
        return new Table(TableOps.OrderKey(table.Key, columns), columns, data, n);

        static ColumnData KeyOr(GroupKey key, string name, ColumnData window, int rows) =>
            key.Contains(name) ? ColumnData.Constant(Kind.Time, key.Get(name), rows) : window;
    }
}
