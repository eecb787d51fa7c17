using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Query.Data;
using InfluxLike.Query.Runtime;
using InfluxLike.Query.Storage;
using InfluxLike.Storage.Engine;

namespace InfluxLike.Query.Tests.Execution;

/// <summary>
/// The standard-library functions that ../shared/conformance/flux has no case for, each checked against the
/// result Flux's documentation gives (or that its definition implies, worked out by hand in the comment).
/// A result is written as its rows, "column=value" joined by commas, tables one after another.
/// </summary>
public sealed class StandardLibraryTests
{
    private const string Series = """
        import "array"
        data = array.from(rows: [
            {_time: 1970-01-01T00:00:00Z, _value: 1.0, tag: "a"},
            {_time: 1970-01-01T00:00:10Z, _value: 2.0, tag: "a"},
            {_time: 1970-01-01T00:00:20Z, _value: 3.0, tag: "a"},
            {_time: 1970-01-01T00:00:30Z, _value: 4.0, tag: "a"},
            {_time: 1970-01-01T00:00:40Z, _value: 5.0, tag: "a"},
        ])

        """;

    private static List<string> Rows(string script, IQueryStorage? storage = null, string? orgId = null)
    {
        var query = QueryEngine.Prepare(script, new QueryContext { Now = 3_600_000_000_000, Storage = storage, OrgId = orgId });
        var rows = new List<string>();
        foreach (var (_, table) in query.Execute())
        {
            for (int r = 0; r < table.Rows; r++)
            {
                rows.Add(string.Join(",", table.Columns.Select((c, i) => $"{c.Name}={table.Data[i].Get(r)}")));
            }
        }

        return rows;
    }

    public static TheoryData<string, string[]> Cases() => new()
    {
        // mode: the most frequent value.
        { "import \"array\"\narray.from(rows: [{_value: 1}, {_value: 2}, {_value: 2}, {_value: 3}]) |> mode()", ["_value=2"] },
        { "import \"array\"\narray.from(rows: [{_value: \"b\"}, {_value: \"a\"}, {_value: \"b\"}, {_value: \"a\"}, {_value: \"c\"}]) |> mode()", ["_value=a", "_value=b"] },

        // integral: trapezoids (1+2)/2·10 + (2+3)/2·10 + (3+4)/2·10 + (4+5)/2·10 = 15 + 25 + 35 + 45 = 120 (per second).
        { Series + "data |> integral(unit: 1s)", ["_value=120"] },
        { Series + "data |> integral(unit: 10s)", ["_value=12"] },

        // exponentialMovingAverage(n: 3): mean of the first 3 (2), then α = 0.5: 4·0.5 + 2·0.5 = 3, 5·0.5 + 3·0.5 = 4.
        { Series + "data |> exponentialMovingAverage(n: 3) |> keep(columns: [\"_value\"])", ["_value=2", "_value=3", "_value=4"] },

        // timedMovingAverage(every: 10s, period: 20s): windows [stop − 20s, stop) at every 10 s holding a point.
        {
            Series + "data |> timedMovingAverage(every: 10s, period: 20s) |> keep(columns: [\"_time\", \"_value\"])",
            [
                "_time=1970-01-01T00:00:10Z,_value=1", "_time=1970-01-01T00:00:20Z,_value=1.5", "_time=1970-01-01T00:00:30Z,_value=2.5",
                "_time=1970-01-01T00:00:40Z,_value=3.5", "_time=1970-01-01T00:00:50Z,_value=4.5", "_time=1970-01-01T00:01:00Z,_value=5",
            ]
        },

        // histogramQuantile: rank 0.5·4 = 2 falls in (1, 2] holding counts 1..3: 1 + (2 − 1)·(2 − 1)/(3 − 1) = 1.5.
        {
            "import \"array\"\narray.from(rows: [{le: 1.0, _value: 1.0}, {le: 2.0, _value: 3.0}, {le: 3.0, _value: 4.0}, {le: float(v: \"+Inf\"), _value: 4.0}]) |> histogramQuantile(quantile: 0.5)",
            ["_value=1.5"]
        },
        { "import \"array\"\nb = linearBins(start: 0.0, width: 10.0, count: 3)\narray.from(rows: [{n: length(arr: b), last: b[3], second: b[1]}])", ["n=4,last=+Inf,second=10"] },
        { "import \"array\"\nb = logarithmicBins(start: 1.0, factor: 2.0, count: 3, infinity: false)\narray.from(rows: [{a: b[0], b: b[1], c: b[2]}])", ["a=1,b=2,c=4"] },

        // skew of 1, 2, 3, 10: mean 4, m2 = (9 + 4 + 1 + 36)/4 = 12.5, m3 = (−27 − 8 − 1 + 216)/4 = 45, 45 / 12.5^1.5 = 1.018.
        { "import \"array\"\narray.from(rows: [{_value: 1.0}, {_value: 2.0}, {_value: 3.0}, {_value: 10.0}]) |> skew() |> map(fn: (r) => ({r with _value: float(v: int(v: r._value * 1000.0))}))", ["_value=1018"] },

        // count and sum over another column than _value.
        { Series + "data |> count(column: \"tag\")", ["tag=5"] },
        { "import \"array\"\narray.from(rows: [{x: 2, _value: 1.0}, {x: 5, _value: 1.0}]) |> sum(column: \"x\")", ["x=7"] },

        // aggregate.rate: per-second non-negative derivative (1, 2, 3 at 10 s, 20 s, 30 s), averaged per 20 s window.
        {
            "import \"array\"\nimport \"experimental/aggregate\"\narray.from(rows: [{_time: 1970-01-01T00:00:00Z, _value: 0.0}, {_time: 1970-01-01T00:00:10Z, _value: 10.0}, {_time: 1970-01-01T00:00:20Z, _value: 30.0}, {_time: 1970-01-01T00:00:30Z, _value: 60.0}])\n"
                + "|> range(start: 1970-01-01T00:00:00Z, stop: 1970-01-01T00:00:40Z) |> aggregate.rate(every: 20s) |> keep(columns: [\"_time\", \"_value\"])",
            ["_value=1,_time=1970-01-01T00:00:20Z", "_value=2.5,_time=1970-01-01T00:00:40Z"]
        },

        // Tables into values.
        {
            Series + "v = data |> findColumn(fn: (key) => true, column: \"_value\")\nr = data |> findRecord(fn: (key) => true, idx: 1)\narray.from(rows: [{n: length(arr: v), last: v[4], tag: r.tag, value: r._value}])",
            ["n=5,last=5,tag=a,value=2"]
        },
        {
            Series + "t = data |> tableFind(fn: (key) => true)\nc = t |> getColumn(column: \"tag\")\nr = t |> getRecord(idx: 0)\narray.from(rows: [{n: length(arr: c), v: r._value}])",
            ["n=5,v=1"]
        },
        { Series + "none = data |> findColumn(fn: (key) => false, column: \"_value\")\narray.from(rows: [{n: length(arr: none)}])", ["n=0"] },
        { Series + "data |> columns()", ["_value=_time", "_value=_value", "_value=tag"] },
        { Series + "data |> group(columns: [\"tag\"]) |> keys(column: \"k\")", ["tag=a,k=tag"] },
        { Series + "data |> group(columns: [\"tag\"]) |> keyValues(keyColumns: [\"tag\"]) |> keep(columns: [\"_key\", \"_value\"])", ["_key=tag,_value=a"] },

        // date, strings, math, regexp, types inside map.
        {
            "import \"array\"\nimport \"date\"\narray.from(rows: [{t: 2020-01-31T13:45:07.123Z}]) |> map(fn: (r) => ({h: date.hour(t: r.t), wd: date.weekDay(t: r.t), yd: date.yearDay(t: r.t), ms: date.millisecond(t: r.t), q: date.quarter(t: r.t), tr: date.truncate(t: r.t, unit: 1mo), add: date.add(d: 1mo, to: r.t)}))",
            ["h=13,wd=5,yd=31,ms=123,q=1,tr=2020-01-01T00:00:00Z,add=2020-02-29T13:45:07.123Z"]
        },
        {
            "import \"array\"\nimport \"strings\"\narray.from(rows: [{s: \"hello world\"}]) |> map(fn: (r) => ({t: strings.title(v: r.s), p: strings.trimPrefix(v: r.s, prefix: \"hello \"), c: strings.countStr(v: r.s, substr: \"o\"), x: strings.replace(v: r.s, t: \"o\", u: \"0\", i: 1), i: strings.index(v: r.s, substr: \"w\"), rep: strings.repeat(v: \"ab\", i: 2)}))",
            ["t=Hello World,p=world,c=2,x=hell0 world,i=6,rep=abab"]
        },
        {
            "import \"array\"\nimport \"math\"\narray.from(rows: [{x: 7.0}]) |> map(fn: (r) => ({m: math.mod(x: r.x, y: 3.0), l: math.log10(x: 100.0), t: math.trunc(x: -2.7), e: math.isNaN(f: math.NaN())}))",
            ["m=1,l=2,t=-2,e=true"]
        },
        {
            "import \"array\"\nimport \"regexp\"\nimport \"types\"\narray.from(rows: [{s: \"baaad\"}]) |> map(fn: (r) => ({f: regexp.findString(r: /a+/, v: r.s), n: length(arr: regexp.splitRegexp(r: /a/, v: r.s, i: -1)), i: types.isType(v: 1, type: \"int\"), num: types.isNumeric(v: r.s)}))",
            ["f=aaa,n=4,i=true,num=false"]
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Function_gives_the_documented_result(string script, string[] expected) => Assert.Equal(expected, Rows(script));

    [Theory]
    [InlineData("import \"array\"\narray.from(rows: [{_value: 1.0}]) |> quantile(q: 1.5)", "q must be between 0 and 1")]
    [InlineData("import \"array\"\narray.from(rows: [{_value: 1.0}]) |> quantile(q: 0.5, method: \"nope\")", "unknown method")]
    [InlineData("import \"array\"\narray.from(rows: [{_value: \"x\"}]) |> stddev()", "stddev needs int, uint or float")]
    [InlineData("import \"array\"\narray.from(rows: [{_value: 1.0}]) |> fill(value: \"x\")", "fill: the value is string but column \"_value\" is float")]
    [InlineData("import \"array\"\narray.from(rows: [{_value: 1.0}]) |> movingAverage(n: 0)", "n must be positive")]
    [InlineData("import \"array\"\narray.from(rows: [{_value: 1.0}]) |> tableFind(fn: (key) => false)", "no table found")]
    public void Bad_arguments_are_refused_with_a_clear_error(string script, string message)
    {
        var e = Assert.Throws<QueryException>(() => Rows(script));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task To_writes_rows_into_a_bucket_and_passes_them_on()
    {
        string dir = Path.Combine(Path.GetTempPath(), "influxlike-to-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var engine = StorageEngine.Open(dir);
            var org = engine.Catalog.GetOrCreateOrg("o");
            var source = engine.Catalog.CreateBucket(org.Id, "raw", TimeSpan.Zero);
            engine.Catalog.CreateBucket(org.Id, "rollup", TimeSpan.Zero);
            string lines = string.Concat(Enumerable.Range(0, 60).Select(i => $"cpu,host=h{i % 2} usage={i} {i * 10}\n"));
            await engine.WriteLineProtocolAsync(source, Encoding.UTF8.GetBytes(lines), Precision.Seconds, 0);
            var storage = new EngineStorage(engine, canWrite: b => b.Name != "raw");

            // A 1-minute mean per host written to another bucket; the tables come out unchanged too.
            List<string> passed = Rows("""
                from(bucket: "raw") |> range(start: 0, stop: 600) |> aggregateWindow(every: 1m, fn: mean, createEmpty: false) |> to(bucket: "rollup")
                """, storage, org.Id);
            Assert.Equal(20, passed.Count); // 10 one-minute windows of each of the 2 hosts
            List<string> back = Rows("from(bucket: \"rollup\") |> range(start: 0, stop: 600) |> filter(fn: (r) => r.host == \"h0\") |> keep(columns: [\"_time\", \"_value\"])", storage, org.Id);
            Assert.Equal("_time=1970-01-01T00:01:00Z,_value=2", back[0]); // h0's points 0, 2, 4 at 0 s, 20 s, 40 s
            Assert.Equal(9, back.Count); // the 10th window's point is at 600 s, the range's (exclusive) stop

            // fieldFn builds the fields; an unwritable bucket looks absent.
            Rows("import \"array\"\narray.from(rows: [{_time: 1970-01-01T00:00:05Z, _measurement: \"m\", a: 1, b: \"x\"}]) |> to(bucket: \"rollup\", fieldFn: (r) => ({a: r.a, b: r.b}))", storage, org.Id);
            Assert.Equal(["_value=1"], Rows("from(bucket: \"rollup\") |> range(start: 0) |> filter(fn: (r) => r._measurement == \"m\" and r._field == \"a\") |> keep(columns: [\"_value\"])", storage, org.Id));
            // The v1 package's schema functions see what to() wrote.
            Assert.Equal(["_value=cpu", "_value=m"], Rows("import \"influxdata/influxdb/v1\"\nv1.measurements(bucket: \"rollup\")", storage, org.Id));
            Assert.Equal(["_value=h0", "_value=h1"], Rows("import \"influxdata/influxdb/v1\"\nv1.tagValues(bucket: \"rollup\", tag: \"host\")", storage, org.Id));

            var e = Assert.Throws<QueryException>(() => Rows("from(bucket: \"raw\") |> range(start: 0) |> to(bucket: \"raw\")", storage, org.Id));
            Assert.Contains("bucket \"raw\" not found", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
