using InfluxLike.Query.Data;
using InfluxLike.Query.Runtime;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Tests.Execution;

/// <summary>
/// The pivot fast path (storage-shaped tables: constant key columns, a time row key) gives exactly what the
/// general path gives on the same data held in ordinary columns.
/// </summary>
public sealed class PivotTests
{
    // Float values, or (strings) the same numbers as text, a null cell where nulls says so.
    private static Table Series(string field, long[] times, double[] values, bool[]? nulls, bool strings, bool constant)
    {
        var key = new GroupKey([new ColumnMeta("_field", Kind.String), new ColumnMeta("_measurement", Kind.String)], [Value.String(field), Value.String("m")]);
        int n = times.Length;
        ColumnData Str(string s) => constant ? ColumnData.Constant(Kind.String, Value.String(s), n) : new ColumnData(Kind.String, null, [.. Enumerable.Repeat(s, n)], null);
        return new Table(
            key,
            [new ColumnMeta("_time", Kind.Time), new ColumnMeta("_value", strings ? Kind.String : Kind.Float), new ColumnMeta("_field", Kind.String), new ColumnMeta("_measurement", Kind.String)],
            [
                new ColumnData(Kind.Time, times, null, null),
                strings
                    ? new ColumnData(Kind.String, null, [.. values.Select((v, i) => nulls is not null && nulls[i] ? null : v.ToString(System.Globalization.CultureInfo.InvariantCulture))], null)
                    : new ColumnData(Kind.Float, [.. values.Select(BitConverter.DoubleToInt64Bits)], null, nulls),
                Str(field),
                Str("m"),
            ],
            n);
    }

    [Fact]
    public void Fast_and_general_pivots_agree_on_random_tables()
    {
        var random = new Random(11);
        for (int round = 0; round < 120; round++)
        {
            // often every series shares its times (one point per field per timestamp, as stored)
            bool strings = random.Next(3) == 0;
            long[]? shared = random.Next(2) == 0 ? [.. Enumerable.Range(0, random.Next(0, 30)).Select(_ => (long)random.Next(0, 40)).Distinct().Order()] : null;
            var specs = Enumerable.Range(0, random.Next(1, 6)).Select(i =>
            {
                string field = "f" + random.Next(4); // repeated names: later tables win a cell
                long[] times = shared ?? [.. Enumerable.Range(0, random.Next(0, 30)).Select(_ => (long)random.Next(0, 40)).Distinct().Order()];
                double[] values = [.. times.Select(_ => random.NextDouble())];
                bool[]? nulls = random.Next(3) == 0 ? [.. times.Select(_ => random.Next(4) == 0)] : null;
                return (field, times, values, nulls);
            }).ToList();

            var context = new QueryContext();
            var fast = Grouping.Pivot([.. specs.Select(s => Series(s.field, s.times, s.values, s.nulls, strings, constant: true))], ["_time"], ["_field"], "_value", context).ToList();
            var general = Grouping.Pivot([.. specs.Select(s => Series(s.field, s.times, s.values, s.nulls, strings, constant: false))], ["_time"], ["_field"], "_value", context).ToList();
            string? diff = TableComparer.Diff(fast, general);
            Assert.True(diff is null, diff);
            Assert.Equal(fast.Sum(t => t.Rows), general.Sum(t => t.Rows));
        }
    }
}
