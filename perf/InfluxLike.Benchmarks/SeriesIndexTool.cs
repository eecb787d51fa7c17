using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using InfluxLike.Storage.Index;

namespace InfluxLike.Benchmarks;

/// <summary>
/// Macro measurement of the series index at TSBS devops shape (measurement cpu, 10 tags, one hostname per
/// series): indexing time, on-disk bytes, start-up time and resident memory after a restart (measured in
/// a fresh process), and lookup latencies.
/// <c>dotnet InfluxLike.Benchmarks.dll series-index SERIES [DIR]</c>
/// </summary>
internal static class SeriesIndexTool
{
    private static readonly string[] Regions = ["us-east-1", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1"];
    private static readonly string[] Os = ["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"];
    private static readonly string[] Arch = ["x64", "x86"];
    private static readonly string[] Team = ["SF", "NYC", "LON", "CHI"];
    private static readonly string[] Env = ["production", "staging", "test"];

    public static void Run(string[] args)
    {
        if (args[0] == "open")
        {
            Open(args[1]);
            return;
        }

        int n = int.Parse(args[0], CultureInfo.InvariantCulture);
        string dir = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "influxlike-series-" + Environment.ProcessId);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        var rng = new Random(1);
        var sw = Stopwatch.StartNew();
        using (var index = SeriesIndex.Open(dir))
        {
            for (int i = 0; i < n; i++)
            {
                index.GetOrAddSeries(Key(i, rng));
            }

            index.Flush();
            Console.WriteLine($"indexed       {n:N0} series in {sw.Elapsed.TotalSeconds:F2} s ({n / sw.Elapsed.TotalSeconds / 1000:F0} k series/s)");
        }

        long disk = Directory.GetFiles(dir).Sum(f => new FileInfo(f).Length);
        Console.WriteLine($"on disk       {disk:N0} bytes = {disk / (double)n:F1} bytes/series ({string.Join(", ", Directory.GetFiles(dir).Select(f => $"{Path.GetFileName(f)} {new FileInfo(f).Length / (double)n:F1}"))})");

        // Restart in a fresh process so the figures are those of a server that just started.
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(typeof(SeriesIndexTool).Assembly.Location);
        psi.ArgumentList.Add("series-index");
        psi.ArgumentList.Add("open");
        psi.ArgumentList.Add(dir);
        using var child = Process.Start(psi)!;
        Console.Write(child.StandardOutput.ReadToEnd());
        child.WaitForExit();
        Directory.Delete(dir, recursive: true);
    }

    private static byte[] Key(int i, Random rng)
    {
        // TSBS devops cpu tags, sorted by key.
        string tags = string.Create(CultureInfo.InvariantCulture,
            $"cpu,arch={Arch[rng.Next(Arch.Length)]},datacenter={Regions[i % Regions.Length]}{(char)('a' + rng.Next(3))},hostname=host_{i},os={Os[rng.Next(Os.Length)]},rack={rng.Next(100)},region={Regions[i % Regions.Length]},service={rng.Next(20)},service_environment={Env[rng.Next(Env.Length)]},service_version={rng.Next(2)},team={Team[rng.Next(Team.Length)]}");
        return Encoding.ASCII.GetBytes(tags);
    }

    private static void Open(string dir)
    {
        GC.Collect();
        long rssBefore = Rss();
        long heapBefore = GC.GetTotalMemory(true);
        var sw = Stopwatch.StartNew();
        using var index = SeriesIndex.Open(dir);
        double openMs = sw.Elapsed.TotalMilliseconds;
        long count = index.SeriesCount;
        long rssAfter = Rss();
        long heapAfter = GC.GetTotalMemory(true);
        Console.WriteLine($"start-up      {openMs:F1} ms to open {count:N0} series ({index.MappedSeries:N0} mapped, index file {index.IndexFileBytes:N0} bytes)");
        Console.WriteLine($"memory        RSS {rssBefore / 1048576.0:F1} MiB before open, {rssAfter / 1048576.0:F1} MiB after: {(rssAfter - rssBefore) / (double)count:F1} bytes/series; managed heap +{(heapAfter - heapBefore) / (double)count:F1} bytes/series");

        // Lookups: single tag (a random host), two tags, and a regex over hostnames.
        var rng = new Random(2);
        var single = new List<double>();
        for (int i = 0; i < 2000; i++)
        {
            var p = new SeriesPredicate.TagEquals("hostname", $"host_{rng.Next((int)count)}");
            long t = Stopwatch.GetTimestamp();
            ulong[] ids = index.Find(p);
            single.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            if (ids.Length != 1)
            {
                throw new InvalidOperationException($"{p} found {ids.Length} series");
            }
        }

        var measurementAndTag = new List<double>();
        for (int i = 0; i < 200; i++)
        {
            var p = new SeriesPredicate.MeasurementEquals("cpu") & new SeriesPredicate.TagEquals("hostname", $"host_{rng.Next((int)count)}");
            long t = Stopwatch.GetTimestamp();
            index.Find(p);
            measurementAndTag.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
        }

        var regex = new List<double>();
        int matched = 0;
        for (int i = 0; i < 5; i++)
        {
            var p = new SeriesPredicate.TagMatches("hostname", new Regex($"^host_{rng.Next(10)}{rng.Next(10)}{rng.Next(10)}$", RegexOptions.CultureInvariant));
            long t = Stopwatch.GetTimestamp();
            matched = index.Find(p).Length;
            regex.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }

        var scan = new List<double>();
        int scanned = 0;
        for (int i = 0; i < 3; i++)
        {
            var p = new SeriesPredicate.TagMatches("hostname", new Regex($"_{rng.Next(10)}{rng.Next(10)}{rng.Next(10)}{rng.Next(10)}{rng.Next(10)}$", RegexOptions.CultureInvariant));
            long t = Stopwatch.GetTimestamp();
            scanned = index.Find(p).Length;
            scan.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }

        Console.WriteLine($"lookup        hostname == x: median {Median(single):F1} µs (p99 {Percentile(single, 0.99):F1} µs); _measurement == cpu and hostname == x: median {Median(measurementAndTag):F1} µs");
        Console.WriteLine($"regex         hostname =~ /^host_NNN$/ (anchored: binary search): median {Median(regex):F1} ms ({matched} match); hostname =~ /_NNNNN$/ (every value scanned): median {Median(scan):F1} ms ({scanned} match)");
    }

    private static double Median(List<double> v) => Percentile(v, 0.5);

    private static double Percentile(List<double> v, double p)
    {
        var sorted = v.Order().ToList();
        return sorted[(int)Math.Min(sorted.Count - 1, Math.Round(p * (sorted.Count - 1)))];
    }

    private static long Rss()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }
}
