using System.Globalization;
using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Query.Runtime;
using InfluxLike.Query.Storage;
using InfluxLike.Storage.Engine;

namespace InfluxLike.Query.Tests.Execution;

/// <summary>
/// Every push-down rule gives the same tables as the general operators: each query runs twice on the same
/// random data, planned normally and with push-down turned off, and the results are compared by Flux's rules.
/// </summary>
public sealed class PushDownTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "influxlike-pushdown-" + Guid.NewGuid().ToString("N"));
    private StorageEngine _engine = null!;
    private const long T0 = 1_700_000_000_000_000_000;

    public async Task InitializeAsync()
    {
        _engine = StorageEngine.Open(_dir);
        var org = _engine.Catalog.GetOrCreateOrg("o");
        var bucket = _engine.Catalog.CreateBucket(org.Id, "b", TimeSpan.Zero);
        var random = new Random(1234);
        var sb = new StringBuilder();
        string[] hosts = ["h1", "h2", "h3", "h4"];
        string[] regions = ["eu", "us"];
        for (int i = 0; i < 3000; i++)
        {
            string m = random.Next(3) switch { 0 => "cpu", 1 => "mem", _ => "disk" };
            string host = hosts[random.Next(hosts.Length)];
            long t = T0 + (random.Next(0, 6 * 3600) * 1_000_000_000L) + random.Next(1000);
            sb.Append(m).Append(",host=").Append(host);
            if (random.Next(4) > 0)
            {
                sb.Append(",region=").Append(regions[random.Next(2)]);
            }

            sb.Append(' ');
            sb.Append("f=").Append((random.NextDouble() * 100).ToString("R", CultureInfo.InvariantCulture));
            sb.Append(",n=").Append(random.Next(-50, 50)).Append('i');
            if (m == "disk")
            {
                sb.Append(",ok=").Append(random.Next(2) == 0 ? "true" : "false");
                sb.Append(",s=\"v").Append(random.Next(5)).Append('"');
            }

            sb.Append(' ').Append(t).Append('\n');
        }

        var result = await _engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes(sb.ToString()), Precision.Nanoseconds, 0);
        Assert.True(result.Complete);
        // Half the data in TSM files, half in the cache: reads must merge both.
        await _engine.SnapshotAllAsync();
        var more = sb.ToString().Split('\n').Take(500).Select(l => l.Replace("f=", "f=1", StringComparison.Ordinal));
        await _engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes(string.Join('\n', more)), Precision.Nanoseconds, 0);

        // A second file overlapping the first in time (same timestamps, new values), then more in the cache:
        // reads merge several files and the cache, the newest value of a timestamp winning.
        await _engine.SnapshotAllAsync();
        var newest = sb.ToString().Split('\n').Skip(250).Take(500).Select(l => l.Replace(",n=", ",n=7", StringComparison.Ordinal));
        await _engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes(string.Join('\n', newest)), Precision.Nanoseconds, 0);
    }

    public async Task DisposeAsync()
    {
        await _engine.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    public static TheoryData<string> Queries()
    {
        const string Range = "from(bucket: \"b\") |> range(start: 2023-11-14T22:00:00Z, stop: 2023-11-15T02:00:00Z)";
        var data = new TheoryData<string>();
        foreach (string filter in new[]
        {
            "",
            " |> filter(fn: (r) => r._measurement == \"cpu\")",
            " |> filter(fn: (r) => r._measurement == \"cpu\" and r.host == \"h2\" and r._field == \"f\")",
            " |> filter(fn: (r) => r.host =~ /h[12]/ or r.region == \"us\")",
            " |> filter(fn: (r) => r.region != \"eu\" and r._field != \"s\")",
            " |> filter(fn: (r) => not (r._measurement == \"mem\") and exists r.region)",
            " |> filter(fn: (r) => r._measurement == \"disk\" and r._field == \"f\" and r._value > 50.0)",
            " |> filter(fn: (r) => r._field == \"n\") |> filter(fn: (r) => r.host == \"h3\")",
            // Filters the index answers exactly (no per-series test), next to near misses that must not be.
            " |> filter(fn: (r) => r.region == \"us\" and (r._field == \"f\" or r._field == \"s\"))",
            " |> filter(fn: (r) => r.region =~ /u/ and r._measurement =~ /^d/ and r._field == \"n\")",
            " |> filter(fn: (r) => r.region =~ /.*/ and r._measurement == \"mem\")",
            " |> filter(fn: (r) => r._field == \"f\" or r.host == \"h1\")",
            " |> filter(fn: (r) => r.region == \"\" or r.host == \"h4\")",
        })
        {
            data.Add(Range + filter);
            foreach (string fn in new[] { "count", "sum", "mean", "min", "max", "first", "last" })
            {
                if (filter.Length > 0 && !filter.Contains("_value", StringComparison.Ordinal))
                {
                    const string numeric = " |> filter(fn: (r) => r._field == \"f\" or r._field == \"n\")";
                    data.Add($"{Range}{filter}{numeric} |> aggregateWindow(every: 17m, fn: {fn})");
                    data.Add($"{Range}{filter}{numeric} |> aggregateWindow(every: 1h, offset: 5m, fn: {fn}, createEmpty: false)");
                }
            }
        }

        foreach (string filter in new[]
        {
            "",
            " |> filter(fn: (r) => r._measurement == \"cpu\")",
            " |> filter(fn: (r) => r.host =~ /h[12]/ and r._field != \"f\")",
            " |> filter(fn: (r) => r._measurement == \"disk\" and r._field == \"s\")",
        })
        {
            data.Add(Range + filter + " |> last()");
            data.Add(Range + filter + " |> first()");
        }

        // Selectors picked per table before group() merges the tables (as TSBS's groupby-orderby-limit).
        foreach (string fn in new[] { "max", "min", "first", "last" })
        {
            data.Add($"{Range} |> filter(fn: (r) => r._field == \"f\") |> group() |> aggregateWindow(every: 17m, fn: {fn}, createEmpty: false)");
            data.Add($"{Range} |> filter(fn: (r) => r._field == \"n\" and r._measurement != \"mem\") |> group() |> aggregateWindow(every: 1h, offset: 5m, fn: {fn}, createEmpty: false) |> sort(columns: [\"_time\"], desc: true) |> limit(n: 3)");
            data.Add($"{Range} |> filter(fn: (r) => r._field == \"f\" and r._value > 20.0) |> group() |> aggregateWindow(every: 23m, fn: {fn}, createEmpty: false)");
            data.Add($"{Range} |> filter(fn: (r) => r._field == \"s\") |> group() |> aggregateWindow(every: 40m, fn: {fn}, createEmpty: false)");
        }

        // Standard-library functions on a pushed read (the read is pushed; the function runs on its tables).
        const string Numeric = " |> filter(fn: (r) => r._field == \"f\" or r._field == \"n\")";
        foreach (string fn in new[]
        {
            "median()", "median(method: \"exact_mean\")", "quantile(q: 0.9, method: \"exact_selector\")", "spread()", "stddev()", "mode()",
            "integral(unit: 1m)", "top(n: 3)", "bottom(n: 2)", "distinct()", "unique()", "difference()", "difference(nonNegative: true, keepFirst: true)",
            "derivative(unit: 1m, nonNegative: true)", "cumulativeSum()", "movingAverage(n: 5)", "exponentialMovingAverage(n: 4)", "elapsed()",
            "increase()", "histogram(bins: linearBins(start: -50.0, width: 25.0, count: 7))", "timeShift(duration: 1h)", "truncateTimeColumn(unit: 1h)",
            "timedMovingAverage(every: 20m, period: 1h)", "aggregateWindow(every: 17m, fn: median)", "aggregateWindow(every: 1h, fn: spread, createEmpty: false)",
        })
        {
            data.Add($"{Range}{Numeric} |> {fn}");
        }

        // Selectors on a range cutting through the data, and on a window with nothing in it.
        data.Add("from(bucket: \"b\") |> range(start: 2023-11-14T23:13:00Z, stop: 2023-11-15T00:41:07Z) |> last()");
        data.Add("from(bucket: \"b\") |> range(start: 2023-11-14T23:13:00Z, stop: 2023-11-15T00:41:07Z) |> first()");
        data.Add("from(bucket: \"b\") |> range(start: 2030-01-01T00:00:00Z) |> last()");
        data.Add(Range + " |> filter(fn: (r) => r._field == \"s\") |> aggregateWindow(every: 30m, fn: last)");
        data.Add(Range + " |> filter(fn: (r) => r._field == \"ok\") |> aggregateWindow(every: 30m, fn: count)");
        return data;
    }

    [Theory]
    [InlineData("r._measurement == \"cpu\"", true, null)]
    [InlineData("r._measurement == \"cpu\" and (r._field == \"f\" or r._field == \"n\") and r.host == \"h1\"", true, "f,n")]
    [InlineData("(r._field == \"f\" or r._field == \"n\") and r._field == \"n\"", true, "n")]
    [InlineData("r.host =~ /h[12]/ or r.region == \"us\"", true, null)]
    [InlineData("r.region =~ /.*/", false, null)]
    [InlineData("r.region == \"\"", false, null)]
    [InlineData("r.region != \"eu\"", false, null)]
    [InlineData("r._field == \"f\" or r.host == \"h1\"", false, null)]
    [InlineData("exists r.region", false, null)]
    [InlineData("\"cpu\" == r._measurement", true, null)]
    public void Filters_the_index_answers_exactly_need_no_per_series_test(string predicate, bool exact, string? fields)
    {
        var prepared = QueryEngine.Prepare($"from(bucket: \"b\") |> range(start: 2023-11-14T22:00:00Z) |> filter(fn: (r) => {predicate})",
            new QueryContext { Storage = new EngineStorage(_engine) });
        var read = Assert.IsType<InfluxLike.Query.Planning.ReadRangeNode>(prepared.Results.Single().Plan);
        Assert.Equal(exact ? 0 : 1, read.Filters.Count);
        Assert.Equal(fields, read.Fields is null ? null : string.Join(",", read.Fields.Order(StringComparer.Ordinal)));
        Assert.Contains("filter: (", prepared.Explain(), StringComparison.Ordinal); // EXPLAIN shows it pushed, either way
    }

    [Fact]
    public void A_regex_on_the_left_of_a_match_fails_as_in_the_general_plan()
    {
        const string script = "from(bucket: \"b\") |> range(start: 2023-11-14T22:00:00Z) |> filter(fn: (r) => /h1/ =~ r.host)";
        foreach (bool disable in new[] { false, true })
        {
            var prepared = QueryEngine.Prepare(script, new QueryContext { Storage = new EngineStorage(_engine), DisablePushDown = disable });
            Assert.ThrowsAny<Exception>(() => prepared.Execute().ToList());
        }
    }

    [Fact]
    public void Two_field_tests_that_exclude_each_other_read_nothing()
    {
        var prepared = QueryEngine.Prepare("from(bucket: \"b\") |> range(start: 2023-11-14T22:00:00Z) |> filter(fn: (r) => r._field == \"f\" and r._field == \"n\")",
            new QueryContext { Storage = new EngineStorage(_engine) });
        var read = Assert.IsType<InfluxLike.Query.Planning.ReadRangeNode>(prepared.Results.Single().Plan);
        Assert.Empty(read.Fields!);
        Assert.Empty(prepared.Execute());
    }

    [Theory]
    [MemberData(nameof(Queries))]
    public void Pushed_and_unpushed_plans_give_identical_tables(string script)
    {
        var storage = new EngineStorage(_engine);
        long now = T0 + (10L * 3600 * 1_000_000_000);
        var pushed = QueryEngine.Prepare(script, new QueryContext { Storage = storage, Now = now });
        var general = QueryEngine.Prepare(script, new QueryContext { Storage = storage, Now = now, DisablePushDown = true });
        Assert.Matches("ReadRange|ReadWindowAggregate|ReadSelector|ReadWindowSelect", pushed.Explain());
        if (script.EndsWith("last()", StringComparison.Ordinal) || script.EndsWith("first()", StringComparison.Ordinal))
        {
            Assert.Contains("ReadSelector", pushed.Explain(), StringComparison.Ordinal);
        }

        if (script.Contains("group() |> aggregateWindow", StringComparison.Ordinal))
        {
            Assert.Matches("preselect|ReadWindowSelect", pushed.Explain());
        }

        Assert.DoesNotContain("Read", general.Explain(), StringComparison.Ordinal);
        var got = pushed.Execute().Select(r => r.Table).ToList();
        var want = general.Execute().Select(r => r.Table).ToList();
        if (script.Contains("2030-01-01", StringComparison.Ordinal))
        {
            Assert.Equal(0, got.Sum(t => t.Rows)); // a range with no data: nothing either way
            Assert.Equal(0, want.Sum(t => t.Rows));
            return;
        }

        Assert.NotEmpty(want);
        Assert.True(want.Sum(t => t.Rows) > 0);
        string? diff = TableComparer.Diff(got, want);
        Assert.True(diff is null, diff);
    }
}
