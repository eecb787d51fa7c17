using BenchmarkDotNet.Attributes;
using InfluxLike.Query;
using InfluxLike.Query.Data;
using InfluxLike.Query.Runtime;
using InfluxLike.Query.Values;

namespace InfluxLike.Benchmarks;

/// <summary>
/// The heavy standard-library operators on 1 M rows (issue 10): quantile (exact and t-digest), histogram,
/// pivot (10 fields into rows) and join (two streams on _time). Each benchmark consumes 1,000,000 input
/// rows: 100 series tables of 10,000 rows (join: 50 + 50 tables). Rows/s = 1 M / the mean time.
/// <c>dotnet run -c Release --project perf/InfluxLike.Benchmarks -- --filter '*StdlibBenchmarks*'</c>
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class StdlibBenchmarks
{
    private const int Tables = 100;
    private const int RowsPerTable = 10_000;
    private static readonly double[] Bins = [.. Enumerable.Range(0, 20).Select(i => i * 5.0)];
    private List<Table> _series = [];
    private List<Table> _left = [];
    private List<Table> _right = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _series = [.. Enumerable.Range(0, Tables).Select(t => Series($"h{t / 10}", $"f{t % 10}", random))];
        _left = [.. Enumerable.Range(0, Tables / 2).Select(t => Series($"h{t}", "f", random))];
        _right = [.. Enumerable.Range(0, Tables / 2).Select(t => Series($"h{t}", "g", random))];
    }

    private static Table Series(string host, string field, Random random)
    {
        var key = new GroupKey(
            [new ColumnMeta("_field", Kind.String), new ColumnMeta("_measurement", Kind.String), new ColumnMeta("host", Kind.String)],
            [Value.String(field), Value.String("cpu"), Value.String(host)]);
        long[] times = [.. Enumerable.Range(0, RowsPerTable).Select(i => 1_700_000_000_000_000_000L + (i * 10_000_000_000L))];
        long[] values = [.. Enumerable.Range(0, RowsPerTable).Select(_ => BitConverter.DoubleToInt64Bits(Math.Round(random.NextDouble() * 100, 2)))];
        return new Table(
            key,
            [new ColumnMeta("_time", Kind.Time), new ColumnMeta("_value", Kind.Float), new ColumnMeta("_field", Kind.String), new ColumnMeta("_measurement", Kind.String), new ColumnMeta("host", Kind.String)],
            [
                new ColumnData(Kind.Time, times, null, null), new ColumnData(Kind.Float, values, null, null),
                ColumnData.Constant(Kind.String, Value.String(field), RowsPerTable), ColumnData.Constant(Kind.String, Value.String("cpu"), RowsPerTable),
                ColumnData.Constant(Kind.String, Value.String(host), RowsPerTable),
            ],
            RowsPerTable);
    }

    [Benchmark]
    public int QuantileExactMean() => _series.Sum(t => Statistics.Quantile(t, "_value", 0.99, "exact_mean", 1000, "quantile").Rows);

    [Benchmark]
    public int QuantileTDigest() => _series.Sum(t => Statistics.Quantile(t, "_value", 0.99, "estimate_tdigest", 1000, "quantile").Rows);

    [Benchmark]
    public int Histogram() => _series.Sum(t => Transforms.Histogram(t, "_value", "le", "_value", Bins, normalize: false).Rows);

    [Benchmark]
    public int Pivot() => Grouping.Pivot(_series, ["_time"], ["_field"], "_value", new QueryContext()).Sum(t => t.Rows);

    [Benchmark]
    public int Join() => Joins.Universe("l", _left, "r", _right, ["_time", "host"], "inner").Sum(t => t.Rows);
}
