using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using InfluxLike.LineProtocol;
using InfluxLike.Query;
using InfluxLike.Query.Runtime;
using InfluxLike.Query.Storage;
using InfluxLike.Query.Values;
using InfluxLike.Storage.Engine;

namespace InfluxLike.Benchmarks;

/// <summary>
/// Macro measurement of the TSBS query set (issue 7) in process: loads the workload (snapshotted to TSM files),
/// then runs each of ../shared/perf's Flux queries 1 + 10 times through the query engine, pulling every table,
/// and prints the median and the row count. The texts and windows are the harness's (make_queries).
/// <c>dotnet InfluxLike.Benchmarks.dll query-tsbs FILE [runs] [query name]</c> (a name runs that query only; a Flux
/// text runs that text, with <c>$T0</c> and <c>$TP</c> standing for the workload's start and its last hour's start).
/// With <c>--engine DIR</c> after them, the queries run against a copy of an already loaded engine folder (a server's
/// <c>DATA/engine</c>, bucket "bench" of org "o") instead of loading FILE, which then only gives the windows.
/// </summary>
internal static class QueryTsbsTool
{
    public static async Task RunAsync(string[] args)
    {
        string? engineDir = null;
        int at = Array.IndexOf(args, "--engine");
        if (at >= 0)
        {
            if (at + 1 >= args.Length)
            {
                throw new ArgumentException("--engine needs a folder: a loaded server's DATA/engine");
            }

            engineDir = args[at + 1];
            args = [.. args[..at], .. args[(at + 2)..]];
        }

        string file = args[0];
        int runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
        using var meta = JsonDocument.Parse(File.ReadAllText(file + ".meta.json"));
        long t0 = meta.RootElement.GetProperty("start_ns").GetInt64() / 1_000_000_000;
        long te = meta.RootElement.GetProperty("end_ns_exclusive").GetInt64() / 1_000_000_000;
        string dir = Path.Combine(Path.GetTempPath(), "influxlike-query-" + Environment.ProcessId);
        if (engineDir is not null)
        {
            CopyFolder(engineDir, dir);
        }

        var engine = StorageEngine.Open(dir);
        try
        {
            if (engineDir is null)
            {
                BucketInfo bucket = engine.Catalog.CreateBucket(engine.Catalog.GetOrCreateOrg("o").Id, "bench", TimeSpan.Zero);
                await LoadAsync(engine, bucket, file);
                await engine.SnapshotAllAsync();
            }

            Console.WriteLine($"{Directory.GetFiles(dir, "*.tsm", SearchOption.AllDirectories).Length} TSM files");
            var queries = args.Length > 2 && args[2].Contains('(', StringComparison.Ordinal)
                ? [("custom", args[2].Replace("$T0", Iso(t0), StringComparison.Ordinal).Replace("$TP", Iso(te - 3600), StringComparison.Ordinal))]
                : Queries(t0, te, "host_0", "host_0").Where(q => args.Length < 3 || q.Item1 == args[2]).ToList();
            var storage = new EngineStorage(engine);
            using var scripts = new ScriptCache(); // as the server holds one: repeated texts are parsed once
            Console.WriteLine($"{"query",-24} {"median ms",10} {"min ms",8} {"prepare ms",10} {"rows",8} {"KB/run",8} {"gen2",5}");
            foreach (var (name, text) in queries)
            {
                var times = new List<double>();
                var prepareTimes = new List<double>();
                long rows = 0;
                long allocated = 0;
                int gen2 = 0;
                for (int i = 0; i <= runs; i++)
                {
                    long bytes = GC.GetAllocatedBytesForCurrentThread();
                    int collections = GC.CollectionCount(2);
                    var sw = Stopwatch.StartNew();
                    var prepared = QueryEngine.Prepare(text, new QueryContext { Storage = storage, Scripts = scripts });
                    double prepareMs = sw.Elapsed.TotalMilliseconds;
                    rows = prepared.Execute().Sum(r => (long)r.Table.Rows);
                    if (i > 0)
                    {
                        times.Add(sw.Elapsed.TotalMilliseconds);
                        prepareTimes.Add(prepareMs);
                        allocated += GC.GetAllocatedBytesForCurrentThread() - bytes;
                        gen2 += GC.CollectionCount(2) - collections;
                    }
                }

                times.Sort();
                prepareTimes.Sort();
                Console.WriteLine($"{name,-24} {times[times.Count / 2],10:F3} {times[0],8:F3} {prepareTimes[prepareTimes.Count / 2],10:F3} {rows,8} {allocated / runs / 1e3,8:F1} {gen2,5}");
            }
        }
        finally
        {
            await engine.DisposeAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (string path in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, path));
            if (Path.GetFileName(path) != "LOCK")
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(path, target);
            }
        }
    }

    private static async Task LoadAsync(StorageEngine engine, BucketInfo bucket, string file)
    {
        foreach (var batch in Workloads.Batches(File.ReadAllBytes(file)))
        {
            await engine.WriteLineProtocolAsync(bucket, batch, Precision.Nanoseconds, 0);
        }
    }

    private static string Iso(long seconds) => Formats.Time(seconds * 1_000_000_000);

    // Same texts as ../shared/perf/harness.py make_queries (Flux style).
    private static List<(string, string)> Queries(long t0, long te, string host, string highCpuHost)
    {
        var w1 = (t0 + 3600, t0 + 7200);
        var w12 = (t0, Math.Min(t0 + (12 * 3600), te));
        long tp = te - 3600;
        string[] five = ["usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait"];
        string F0(long a, long b) => $"from(bucket: \"bench\") |> range(start: {Iso(a)}, stop: {Iso(b)})";
        return
        [
            ("single-groupby-1-1-1", F0(w1.Item1, w1.Item2) + $" |> filter(fn: (r) => r._measurement == \"cpu\" and r._field == \"usage_user\" and r.hostname == \"{host}\") |> aggregateWindow(every: 1m, fn: max, createEmpty: false)"),
            ("single-groupby-5-1-12", F0(w12.Item1, w12.Item2) + " |> filter(fn: (r) => r._measurement == \"cpu\" and (" + string.Join(" or ", five.Select(f => $"r._field == \"{f}\"")) + $") and r.hostname == \"{host}\") |> aggregateWindow(every: 1m, fn: max, createEmpty: false)"),
            ("double-groupby-1", F0(w12.Item1, w12.Item2) + " |> filter(fn: (r) => r._measurement == \"cpu\" and r._field == \"usage_user\") |> aggregateWindow(every: 1h, fn: mean, createEmpty: false)"),
            ("high-cpu-1", F0(w12.Item1, w12.Item2) + $" |> filter(fn: (r) => r._measurement == \"cpu\" and r.hostname == \"{highCpuHost}\") |> pivot(rowKey: [\"_time\"], columnKey: [\"_field\"], valueColumn: \"_value\") |> filter(fn: (r) => r.usage_user > 90.0)"),
            ("lastpoint", "from(bucket: \"bench\") |> range(start: 0) |> filter(fn: (r) => r._measurement == \"cpu\") |> last()"),
            ("groupby-orderby-limit", F0(t0, tp) + " |> filter(fn: (r) => r._measurement == \"cpu\" and r._field == \"usage_user\") |> group() |> aggregateWindow(every: 1m, fn: max, createEmpty: false) |> sort(columns: [\"_time\"], desc: true) |> limit(n: 5)"),
        ];
    }
}
