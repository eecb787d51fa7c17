using System.Diagnostics;
using System.Globalization;
using InfluxLike.Server;
using InfluxLike.Testing;
using Microsoft.AspNetCore.Builder;

namespace InfluxLike.Benchmarks;

/// <summary>
/// <c>soak SECONDS [WRITERS]</c>: a server on 127.0.0.1 (temporary data folder) under Telegraf-shaped gzip
/// writers and dashboard queries for SECONDS, then the exact count of acknowledged lines; prints throughput,
/// latency percentiles and RSS/heap samples (CSV on stdout after the summary).
/// <c>flood SECONDS</c>: the same offered write load twice, alone and under a query flood (16 dashboards
/// without pause against 2 query slots), and the ratio of ingest throughput between the two.
/// Loopback only; both stop by themselves.
/// </summary>
internal static class SoakTool
{
    public static async Task RunAsync(string[] args)
    {
        int seconds = int.Parse(args[1], CultureInfo.InvariantCulture);
        if (args[0] == "flood")
        {
            SoakResult alone = await RunOnceAsync(seconds, 4, 1, TimeSpan.FromMilliseconds(200), maxQueries: 2);
            Console.WriteLine("alone: " + alone.Summary());
            SoakResult flooded = await RunOnceAsync(seconds, 4, 16, TimeSpan.Zero, maxQueries: 2);
            Console.WriteLine("flood: " + flooded.Summary());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ingest under the flood: {flooded.LinesPerSecond / alone.LinesPerSecond:P1} of alone; lost: {alone.LinesAcknowledged - alone.LinesCounted + flooded.LinesAcknowledged - flooded.LinesCounted}"));
            return;
        }

        string? exe = null;
        int at = Array.IndexOf(args, "--exe");
        if (at >= 0)
        {
            exe = args[at + 1];
            args = [.. args[..at], .. args[(at + 2)..]];
        }

        int writers = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4;
        SoakResult r = exe is null
            ? await RunOnceAsync(seconds, writers, 2, TimeSpan.FromMilliseconds(200), maxQueries: 8)
            : await RunProcessAsync(exe, seconds, writers);
        Console.WriteLine(r.Summary());
        Console.WriteLine("lost (acknowledged - counted): " + (r.LinesAcknowledged - r.LinesCounted));
        Console.WriteLine("(RSS above and below is RssAnon: the server's anonymous memory, without mapped files)");
        Console.WriteLine(Flatness(r.Samples));
        Console.WriteLine("seconds,lines,rss_anon_mib,heap_mib,gc_committed_mib");
        foreach (SoakSample s in r.Samples)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.Seconds:0},{s.LinesAcknowledged},{s.Rss >> 20},{s.Heap >> 20},{s.Committed >> 20}"));
        }
    }

    /// <summary>
    /// Whether memory stayed flat after warm-up: medians of the samples in the window after the first tenth of the
    /// run (the warm-up) and in the last tenth, for RssAnon and the GC's committed bytes.
    /// </summary>
    private static string Flatness(IReadOnlyList<SoakSample> samples)
    {
        if (samples.Count < 20)
        {
            return "flatness: too few samples";
        }

        double end = samples[^1].Seconds;
        static double Median(IEnumerable<long> values)
        {
            long[] sorted = [.. values.Order()];
            return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2] / 1048576.0;
        }

        SoakSample[] early = [.. samples.Where(s => s.Seconds >= end * 0.1 && s.Seconds < end * 0.2)];
        SoakSample[] late = [.. samples.Where(s => s.Seconds >= end * 0.9)];
        double rssEarly = Median(early.Select(s => s.Rss)), rssLate = Median(late.Select(s => s.Rss));
        double gcEarly = Median(early.Select(s => s.Committed)), gcLate = Median(late.Select(s => s.Committed));
        return string.Create(CultureInfo.InvariantCulture,
            $"flatness: RssAnon median {rssEarly:0} MiB after warm-up (10-20 % of the run) vs {rssLate:0} MiB in the last 10 % ({rssLate / rssEarly:0.00}x); GC committed {gcEarly:0} vs {gcLate:0} MiB ({gcLate / gcEarly:0.00}x)");
    }

    private const string Token = "soak-operator-token-0123456789abcdef";

    /// <summary>
    /// The server as its own process (<paramref name="exe"/>: the published executable, or <c>influxlike.dll</c> run
    /// with dotnet), so that its memory is measured apart from the load driver's: RssAnon from /proc, the heap and
    /// the GC's committed bytes from its /metrics.
    /// </summary>
    private static async Task<SoakResult> RunProcessAsync(string exe, int seconds, int writers)
    {
        string data = Path.Combine(Path.GetTempPath(), "influxlike-soak-" + Guid.NewGuid().ToString("N"));
        string[] serve = ["serve", "--data-dir", data, "--http-bind-address", "127.0.0.1:0", "--init-org", "acme", "--init-bucket", "metrics", "--init-token", Token, "--max-concurrent-queries", "8"];
        await using ServerProcess server = exe.EndsWith(".dll", StringComparison.Ordinal)
            ? await ServerProcess.StartProgramAsync("dotnet", [exe, .. serve])
            : await ServerProcess.StartProgramAsync(exe, serve);
        using var metrics = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            return await SoakDriver.RunAsync(Options(server.BaseAddress, seconds, writers) with
            {
                Memory = () =>
                {
                    using HttpResponseMessage r = metrics.Send(new HttpRequestMessage(HttpMethod.Get, "/metrics"));
                    using var reader = new StreamReader(r.Content.ReadAsStream());
                    string text = reader.ReadToEnd();
                    return new SoakMemory(RssAnonBytes($"/proc/{server.Pid}/status"), Metric(text, "dotnet_total_memory_bytes"), Metric(text, "system_runtime_dotnet_gc_last_collection_memory_committed_size"));
                },
            });
        }
        finally
        {
            await server.TerminateAsync(TimeSpan.FromMinutes(2));
            Directory.Delete(data, recursive: true);
        }
    }

    private static long Metric(string exposition, string name)
    {
        foreach (string line in exposition.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
            {
                return (long)double.Parse(line.AsSpan(name.Length + 1), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    private static SoakOptions Options(Uri server, int seconds, int writers) => new()
    {
        Server = server,
        Token = Token,
        Duration = TimeSpan.FromSeconds(seconds),
        Writers = writers,
        QueryLoops = 2,
        QueryPause = TimeSpan.FromMilliseconds(200),
        SampleEvery = TimeSpan.FromSeconds(Math.Max(1, seconds / 120)),
    };

    private static async Task<SoakResult> RunOnceAsync(int seconds, int writers, int queryLoops, TimeSpan queryPause, int maxQueries)
    {
        string data = Path.Combine(Path.GetTempPath(), "influxlike-soak-" + Guid.NewGuid().ToString("N"));
        await using WebApplication app = InfluxLikeServer.Build(new ServerOptions
        {
            HttpBindAddress = "127.0.0.1:0",
            DataDir = data,
            LogLevel = "warning",
            InitOrg = "acme",
            InitBucket = "metrics",
            InitToken = Token,
            MaxConcurrentQueries = maxQueries,
        });
        await app.StartAsync();
        try
        {
            var options = Options(new Uri(InfluxLikeServer.ListeningAddresses(app)[0]), seconds, writers) with
            {
                QueryLoops = queryLoops,
                QueryPause = queryPause,
                // RssAnon, not the working set: memory-mapped TSM and index files count in the working set as
                // file pages the kernel can reclaim, and grow with the data; anonymous memory is what a leak grows.
                Memory = () => new SoakMemory(RssAnonBytes("/proc/self/status"), GC.GetTotalMemory(forceFullCollection: false), GC.GetGCMemoryInfo().TotalCommittedBytes),
            };
            return await SoakDriver.RunAsync(options);
        }
        finally
        {
            await app.StopAsync();
            Directory.Delete(data, recursive: true);
        }
    }

    private static long RssAnonBytes(string status)
    {
        foreach (string line in File.ReadLines(status))
        {
            if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(8).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }

        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64; // not Linux
    }
}
