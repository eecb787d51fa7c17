using BenchmarkDotNet.Attributes;
using InfluxLike.Query.Semantics;
using InfluxLike.Query.Syntax;

namespace InfluxLike.Benchmarks;

/// <summary>Parse, and parse + semantic check, of a 50-line dashboard-style script (issue 6 goal: ≤ 1 ms warm).</summary>
[MemoryDiagnoser]
[MedianColumn]
public class QueryFrontEndBenchmarks
{
    internal const string Script = """
        import "strings"
        import "math"

        option now = () => 2030-01-01T00:00:00Z

        // CPU dashboard: usage per host, with a threshold alert series.
        threshold = 90.0
        hosts = ["host_0", "host_1", "host_2"]

        usage = (tables=<-, field="usage_user") =>
            tables
                |> filter(fn: (r) => r._measurement == "cpu" and r._field == field)
                |> filter(fn: (r) => contains(value: r.hostname, set: hosts))

        raw = from(bucket: "telegraf")
            |> range(start: -12h, stop: now())
            |> usage(field: "usage_user")

        mean1m = raw
            |> aggregateWindow(every: 1m, fn: mean, createEmpty: false)
            |> map(fn: (r) => ({r with _value: math.round(x: r._value * 100.0) / 100.0}))
            |> yield(name: "mean")

        peaks = raw
            |> window(every: 1h)
            |> max()
            |> duplicate(column: "_stop", as: "_time")
            |> window(every: inf)
            |> yield(name: "peaks")

        alerts = raw
            |> filter(fn: (r) => r._value > threshold)
            |> map(fn: (r) => ({
                _time: r._time,
                host: strings.toUpper(v: r.hostname),
                level: if r._value > 95.0 then "critical" else "warning",
                message: "cpu ${r.hostname} at ${string(v: r._value)}",
            }))
            |> group(columns: ["host", "level"])
            |> count(column: "message")
            |> yield(name: "alerts")

        memory = from(bucket: "telegraf")
            |> range(start: -1h)
            |> filter(fn: (r) => r._measurement == "mem" and r._field =~ /^(used|free)$/)
            |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
            |> map(fn: (r) => ({r with used_percent: r.used / (r.used + r.free) * 100.0}))
            |> keep(columns: ["_time", "host", "used_percent"])
            |> sort(columns: ["_time"], desc: true)
            |> limit(n: 100)
            |> yield(name: "memory")
        """;

    [GlobalSetup]
    public void Setup()
    {
        int lines = Script.Split('\n').Length;
        var diagnostics = ScriptChecker.ParseAndCheck(Script).Diagnostics;
        if (diagnostics.Count > 0)
        {
            throw new InvalidOperationException(string.Join("\n", diagnostics));
        }

        Console.WriteLine($"// script: {lines} lines, {Script.Length} characters, checks clean");
    }

    [Benchmark(Baseline = true)]
    public object Parse() => ScriptParser.Parse(Script);

    [Benchmark]
    public object ParseAndCheck() => ScriptChecker.ParseAndCheck(Script);
}
