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

        int writers = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4;
        SoakResult r = await RunOnceAsync(seconds, writers, 2, TimeSpan.FromMilliseconds(200), maxQueries: 8);
        Console.WriteLine(r.Summary());
        Console.WriteLine("lost (acknowledged - counted): " + (r.LinesAcknowledged - r.LinesCounted));
        Console.WriteLine("(RSS above and below is RssAnon: the process's anonymous memory, without mapped files)");
        Console.WriteLine("seconds,lines,rss_anon_mib,heap_mib");
        foreach (SoakSample s in r.Samples)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.Seconds:0},{s.LinesAcknowledged},{s.Rss >> 20},{s.Heap >> 20}"));
        }
    }

    private static async Task<SoakResult> RunOnceAsync(int seconds, int writers, int queryLoops, TimeSpan queryPause, int maxQueries)
    {
        string data = Path.Combine(Path.GetTempPath(), "influxlike-soak-" + Guid.NewGuid().ToString("N"));
        const string Token = "soak-operator-token-0123456789abcdef";
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
            var options = new SoakOptions
            {
                Server = new Uri(InfluxLikeServer.ListeningAddresses(app)[0]),
                Token = Token,
                Duration = TimeSpan.FromSeconds(seconds),
                Writers = writers,
                QueryLoops = queryLoops,
                QueryPause = queryPause,
                SampleEvery = TimeSpan.FromSeconds(Math.Max(1, seconds / 120)),
                // RssAnon, not the working set: memory-mapped TSM and index files count in the working set as
                // file pages the kernel can reclaim, and grow with the data; anonymous memory is what a leak grows.
                Memory = () => (RssAnonBytes(), GC.GetTotalMemory(forceFullCollection: false)),
            };
            return await SoakDriver.RunAsync(options);
        }
        finally
        {
            await app.StopAsync();
            Directory.Delete(data, recursive: true);
        }
    }

    private static long RssAnonBytes()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
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
