using System.Text.Json;
using InfluxLike.Query.Csv;
using InfluxLike.Query.Data;
using InfluxLike.Query.Planning;
using InfluxLike.Query.Runtime;
using InfluxLike.Testing;

namespace InfluxLike.Query.Tests.Execution;

/// <summary>
/// Runs one case of ../shared/conformance/flux: binds the inputs (annotated CSV) to names, runs the pipeline or
/// program with the case's options, and compares the result with expected.csv by Flux's testing.diff rules.
/// Reused by the standard-library tests: widen <see cref="Implemented"/> as functions land.
/// </summary>
public static class FluxConformance
{
    /// <summary>Functions the engine implements; a case runs when every function it uses is here.</summary>
    public static readonly HashSet<string> Implemented =
    [
        "from", "range", "filter", "map", "aggregateWindow", "window", "mean", "sum", "count", "min", "max", "first", "last",
        "group", "keep", "drop", "rename", "set", "pivot", "sort", "limit", "tail", "yield", "union", "duplicate",
        "float", "int", "uint", "string", "bool", "time", "contains", "length", "strings.toUpper", "math.pow", "regexp.compile",
        "spread", "stddev", "median", "quantile", "top", "bottom", "distinct", "unique", "difference", "increase", "derivative",
        "cumulativeSum", "movingAverage", "elapsed", "fill", "timeShift", "truncateTimeColumn", "histogram", "join", "join.tables", "get_input",
    ];

    /// <summary>Cases that use implemented functions but differ on purpose, with the reason (also in the README).</summary>
    public static readonly Dictionary<string, string> Deviations = new()
    {
    };

    public static string Root => RepoPaths.Conformance("flux");

    public static IEnumerable<string> CaseIds()
    {
        foreach (var meta in Directory.EnumerateFiles(Root, "meta.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var dir = Path.GetDirectoryName(meta)!;
            yield return Path.GetRelativePath(Root, dir).Replace('\\', '/');
        }
    }

    public static IEnumerable<string> RunnableCaseIds() => CaseIds().Where(id =>
    {
        using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, id, "meta.json")));
        return meta.RootElement.GetProperty("functions_used").EnumerateArray().All(f => Implemented.Contains(f.GetString()!));
    });

    /// <summary>Runs the case; returns null when the result matches, else a description of the difference.</summary>
    public static string? Run(string id)
    {
        string dir = Path.Combine(Root, id);
        using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "meta.json")));
        var root = meta.RootElement;
        string kind = root.GetProperty("kind").GetString()!;
        var options = root.TryGetProperty("options", out var o) ? o : default;
        long now = AnnotatedCsvReader.ParseTime("2030-01-01T00:00:00Z");
        string prelude = "";
        if (options.ValueKind == JsonValueKind.Object)
        {
            if (options.TryGetProperty("now", out var n))
            {
                now = AnnotatedCsvReader.ParseTime(n.GetString()!);
            }

            if (options.TryGetProperty("location", out var loc))
            {
                prelude += "import \"timezone\"\noption location = " + loc.GetString() + "\n";
            }
        }

        var imports = root.TryGetProperty("imports", out var im) && im.ValueKind == JsonValueKind.Array
            ? string.Concat(im.EnumerateArray().Select(i => $"import \"{i.GetString()}\"\n"))
            : "";
        if (prelude.StartsWith("import", StringComparison.Ordinal))
        {
            imports += prelude[..(prelude.IndexOf('\n') + 1)];
            prelude = prelude[(prelude.IndexOf('\n') + 1)..];
        }

        var inputs = new Dictionary<string, PlanNode>();
        string pipeline = File.ReadAllText(Path.Combine(dir, "pipeline.flux"));
        string script;
        if (kind == "pipeline")
        {
            inputs["testdata"] = Load(Path.Combine(dir, "input.csv"));
            script = imports + prelude + "testdata\n" + pipeline;
        }
        else
        {
            foreach (var input in root.GetProperty("inputs").EnumerateObject())
            {
                inputs[input.Name] = Load(Path.Combine(dir, input.Value.GetString()!));
            }

            script = imports + prelude + pipeline;
        }

        var context = new QueryContext { Now = now };
        var prepared = QueryEngine.Prepare(script, context, inputs);
        var got = prepared.Execute().Select(r => r.Table).ToList();
        var want = AnnotatedCsvReader.Read(File.ReadAllText(Path.Combine(dir, "expected.csv"))).Select(r => r.Table).ToList();
        return TableComparer.Diff(got, want);
    }

    private static SourceNode Load(string path)
    {
        var tables = AnnotatedCsvReader.Read(File.ReadAllText(path)).Select(t => t.Table).ToList();
        return new SourceNode("testdata", _ => tables);
    }
}

public class FluxConformanceTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var id in FluxConformance.RunnableCaseIds().Where(id => !FluxConformance.Deviations.ContainsKey(id)))
        {
            data.Add(id);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_matches_expected_output(string id)
    {
        string? diff = FluxConformance.Run(id);
        Assert.True(diff is null, $"{id}:\n{diff}");
    }

    [Fact]
    public void The_conformance_cases_for_the_core_functions_are_found_and_none_is_dropped_silently()
    {
        var runnable = FluxConformance.RunnableCaseIds().ToList();
        Assert.True(runnable.Count >= 88, $"only {runnable.Count} cases are runnable: is ../shared/conformance/flux complete?");
        Assert.All(FluxConformance.Deviations.Keys, id => Assert.Contains(id, runnable));
    }
}
