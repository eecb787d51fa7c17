using InfluxLike.Query.Data;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Tests.Execution;

/// <summary>
/// aggregateWindow with a built-in selector picks each window's row in place; it must give exactly the table
/// the general per-window loop gives (same key, columns in the same order, same rows and cells), on merged
/// tables as <c>group()</c> leaves them, on storage-shaped tables, with nulls, ties and rows out of time order.
/// </summary>
public sealed class AggregateWindowTests
{
    private static readonly ColumnMeta Start = new("_start", Kind.Time);
    private static readonly ColumnMeta Stop = new("_stop", Kind.Time);

    private static Table RandomTable(Random random, Kind valueKind, bool keyed, bool startStopFirst)
    {
        int n = random.Next(0, 60);
        long start = 1000, stop = 1000 + random.Next(50, 400);
        var times = new long[n];
        var timeNulls = new bool[n];
        var values = new long[n];
        var valueNulls = new bool[n];
        var strings = new string?[n];
        var hosts = new string?[n];
        for (int i = 0; i < n; i++)
        {
            times[i] = random.Next((int)start, (int)stop);
            timeNulls[i] = random.Next(25) == 0;
            valueNulls[i] = random.Next(6) == 0;
            long v = random.Next(-3, 4); // few distinct values: ties are common
            values[i] = valueKind == Kind.Float ? BitConverter.DoubleToInt64Bits(v / 2.0) : v;
            strings[i] = valueNulls[i] ? null : "s" + (v + 3);
            hosts[i] = random.Next(5) == 0 ? null : "h" + random.Next(3);
        }

        if (random.Next(2) == 0)
        {
            Array.Sort(times); // storage order; otherwise rows come as group() concatenates them
        }

        var value = valueKind == Kind.String
            ? new ColumnData(Kind.String, null, strings, null)
            : new ColumnData(valueKind, values, null, valueNulls);
        ColumnMeta[] others = [new("_time", Kind.Time), new("_value", valueKind), new("host", Kind.String)];
        ColumnData[] otherData = [new ColumnData(Kind.Time, times, null, timeNulls), value, new ColumnData(Kind.String, null, hosts, null)];
        var startData = ColumnData.Constant(Kind.Time, Value.Time(start), n);
        var stopData = ColumnData.Constant(Kind.Time, Value.Time(stop), n);
        ColumnMeta[] columns = startStopFirst ? [Start, Stop, .. others] : [.. others, Stop, Start];
        ColumnData[] data = startStopFirst ? [startData, stopData, .. otherData] : [.. otherData, stopData, startData];
        var key = keyed ? new GroupKey([Start, Stop], [Value.Time(start), Value.Time(stop)]) : GroupKey.Empty;
        return new Table(key, columns, data, n);
    }

    [Theory]
    [InlineData("max")]
    [InlineData("min")]
    [InlineData("first")]
    [InlineData("last")]
    public void Selector_picked_in_place_matches_the_per_window_loop(string which)
    {
        var random = new Random(which.GetHashCode(StringComparison.Ordinal) & 0xffff);
        Kind[] kinds = [Kind.Float, Kind.Int, Kind.String];
        (string Src, string Dst)[] times = [("_stop", "_time"), ("_start", "_time"), ("_time", "_time"), ("_stop", "t")];
        int inPlace = 0;
        for (int round = 0; round < 300; round++)
        {
            bool keyed = random.Next(2) == 0;
            var table = RandomTable(random, kinds[round % kinds.Length], keyed, startStopFirst: random.Next(3) > 0);
            var every = FluxDuration.FromNanoseconds(random.Next(5, 90));
            var spec = new Grouping.WindowSpec(every, every, FluxDuration.FromNanoseconds(random.Next(0, 5)));
            var (src, dst) = times[random.Next(times.Length)];
            Table Aggregate(Table t) => Aggregates.Apply(which, t, "_value");
            var general = Grouping.AggregateWindow(table, spec, Aggregate, "_value", src, dst, createEmpty: false, selector: true);
            var fast = Grouping.AggregateWindow(table, spec, Aggregate, "_value", src, dst, createEmpty: false, selector: true, builtinSelector: which);
            AssertSame(general, fast, $"round {round}");
            if (!keyed && src == "_stop" && fast.Rows > 0 && ReferenceEquals(fast.Column("_stop"), fast.Column(dst)))
            {
                inPlace++; // one column object for both: the in-place path ran (the general loop builds each column)
            }
        }

        Assert.True(inPlace > 20, $"the in-place path ran {inPlace} times");
    }

    private static void AssertSame(Table want, Table got, string context)
    {
        Assert.True(want.Key.Equals(got.Key), $"{context}: key {got.Key} want {want.Key}");
        Assert.Equal(want.Rows, got.Rows);
        Assert.Equal(want.Columns, got.Columns);
        for (int c = 0; c < want.Columns.Length; c++)
        {
            for (int r = 0; r < want.Rows; r++)
            {
                Assert.True(want.Get(c, r).Equals(got.Get(c, r)), $"{context}: {want.Columns[c].Name} row {r}: {got.Get(c, r)} want {want.Get(c, r)}");
            }
        }
    }
}
