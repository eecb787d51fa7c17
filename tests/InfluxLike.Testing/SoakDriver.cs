using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace InfluxLike.Testing;

/// <summary>What a soak run does; loopback servers only, and it stops by itself after <see cref="Duration"/>.</summary>
public sealed record SoakOptions
{
    public required Uri Server { get; init; }

    public required string Token { get; init; }

    public string Org { get; init; } = "acme";

    public string Bucket { get; init; } = "metrics";

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Concurrent writers, each like one Telegraf agent: gzip batches of <see cref="LinesPerBatch"/> cpu lines for 10 hosts.</summary>
    public int Writers { get; init; } = 4;

    public int LinesPerBatch { get; init; } = 1000;

    /// <summary>Pause between a writer's batches (Telegraf's flush interval, shortened); zero writes as fast as acknowledged.</summary>
    public TimeSpan WriterPause { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Concurrent dashboard loops (a panel query, then the next, without pause).</summary>
    public int QueryLoops { get; init; } = 2;

    /// <summary>Pause between a dashboard loop's queries.</summary>
    public TimeSpan QueryPause { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan SampleEvery { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The server's memory, sampled every <see cref="SampleEvery"/>.</summary>
    public Func<SoakMemory> Memory { get; init; } = () => default;

    /// <summary>
    /// The time range of the dashboard panels, ending at the newest written timestamp (as "past 6h" ends at now):
    /// a panel's cost stays the same however long the run, as a real dashboard's does.
    /// </summary>
    public TimeSpan DashboardRange { get; init; } = TimeSpan.FromHours(6);

    /// <summary>First timestamp, in seconds; writer w's batch b, line i is at Start + b·LinesPerBatch/10 + i/10 (hosts differ by writer).</summary>
    public long StartSeconds { get; init; } = 1_700_000_000;
}

/// <summary>
/// The server's memory at one moment: resident (anonymous where the platform tells it apart from mapped files), the
/// managed heap's bytes in use, and the bytes the GC holds committed (in use, free in its regions, or not yet returned).
/// </summary>
public readonly record struct SoakMemory(long Rss, long Heap, long Committed);

/// <summary>One sample of a soak run.</summary>
public sealed record SoakSample(double Seconds, long LinesAcknowledged, long Rss, long Heap, long Committed);

/// <summary>The outcome of a soak run. <see cref="LinesCounted"/> is the server's count of field usage_user at the end.</summary>
public sealed record SoakResult(
    TimeSpan Elapsed,
    long BatchesAcknowledged,
    long LinesAcknowledged,
    long LinesCounted,
    long Queries,
    long WriteBackPressure,
    long QueryRejections,
    long BackPressureWithoutRetryAfter,
    IReadOnlyList<string> Errors,
    IReadOnlyList<double> WriteLatenciesMs,
    IReadOnlyList<double> QueryLatenciesMs,
    IReadOnlyList<SoakSample> Samples)
{
    public double LinesPerSecond => LinesAcknowledged / Elapsed.TotalSeconds;

    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        double[] sorted = [.. values.Order()];
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)];
    }

    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"{Elapsed.TotalSeconds:0} s: {LinesAcknowledged} lines in {BatchesAcknowledged} batches acknowledged ({LinesPerSecond:0} lines/s), {LinesCounted} counted; "
        + $"write p50 {Percentile(WriteLatenciesMs, 50):0.0} ms p99 {Percentile(WriteLatenciesMs, 99):0.0} ms; {Queries} queries p50 {Percentile(QueryLatenciesMs, 50):0.0} ms p99 {Percentile(QueryLatenciesMs, 99):0.0} ms; "
        + $"back-pressure {WriteBackPressure} writes, {QueryRejections} queries (without Retry-After: {BackPressureWithoutRetryAfter}); errors {Errors.Count}; "
        + $"RSS {Samples.FirstOrDefault()?.Rss / (1 << 20)}→{Samples.LastOrDefault()?.Rss / (1 << 20)} MiB (max {Samples.Select(s => s.Rss).DefaultIfEmpty().Max() / (1 << 20)}), heap max {Samples.Select(s => s.Heap).DefaultIfEmpty().Max() / (1 << 20)} MiB, GC committed max {Samples.Select(s => s.Committed).DefaultIfEmpty().Max() / (1 << 20)} MiB");
}

/// <summary>
/// Drives a server like a small fleet: Telegraf-shaped gzip writers and dashboard queries, for a fixed time.
/// A refused batch (429/503/507 with Retry-After) is retried after the pause asked for, the same batch again
/// (same timestamps, so a retry of a batch partly stored overwrites rather than adds). At the end every
/// writer finishes its batch in flight, then the server's count of lines must equal the acknowledged ones.
/// </summary>
public static class SoakDriver
{
    private const string CountScript = "from(bucket: \"{0}\") |> range(start: 2000-01-01T00:00:00Z) |> filter(fn: (r) => r._measurement == \"cpu\" and r._field == \"usage_user\") |> count() |> group() |> sum()";

    public static async Task<SoakResult> RunAsync(SoakOptions o, CancellationToken cancel = default)
    {
        using var http = new HttpClient { BaseAddress = o.Server, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Token", o.Token);
        var errors = new List<string>();
        var writeLatencies = new List<double>();
        var queryLatencies = new List<double>();
        var samples = new List<SoakSample>();
        long batches = 0, lines = 0, queries = 0, backPressure = 0, rejections = 0, noRetryAfter = 0, newestBatch = 0;
        var watch = Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        stop.CancelAfter(o.Duration);

        void Error(string message)
        {
            lock (errors)
            {
                if (errors.Count < 100)
                {
                    errors.Add(message);
                }
            }
        }

        async Task WriterAsync(int w)
        {
            for (long b = 0; !stop.IsCancellationRequested; b++)
            {
                byte[] body = Gzip(Batch(o, w, b));
                // Retried until acknowledged, even past the end: a batch partly stored must end acknowledged.
                for (int attempt = 0; ; attempt++)
                {
                    using var content = new ByteArrayContent(body);
                    content.Headers.ContentEncoding.Add("gzip");
                    long start = Stopwatch.GetTimestamp();
                    using HttpResponseMessage r = await http.PostAsync($"/api/v2/write?org={o.Org}&bucket={o.Bucket}&precision=s", content, CancellationToken.None).ConfigureAwait(false);
                    double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    if (r.StatusCode == HttpStatusCode.NoContent)
                    {
                        lock (writeLatencies)
                        {
                            writeLatencies.Add(ms);
                        }

                        Interlocked.Increment(ref batches);
                        Interlocked.Add(ref lines, o.LinesPerBatch);
                        for (long seen = Interlocked.Read(ref newestBatch); b > seen; seen = Interlocked.Read(ref newestBatch))
                        {
                            if (Interlocked.CompareExchange(ref newestBatch, b, seen) == seen)
                            {
                                break;
                            }
                        }
                        break;
                    }

                    if (r.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable or (HttpStatusCode)507 && attempt < 1000)
                    {
                        Interlocked.Increment(ref backPressure);
                        TimeSpan wait = r.Headers.RetryAfter?.Delta ?? TimeSpan.Zero;
                        if (wait == TimeSpan.Zero)
                        {
                            Interlocked.Increment(ref noRetryAfter);
                            wait = TimeSpan.FromSeconds(1);
                        }

                        await Task.Delay(wait, CancellationToken.None).ConfigureAwait(false);
                        continue;
                    }

                    Error($"write w{w} b{b}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync(CancellationToken.None).ConfigureAwait(false)}");
                    return;
                }

                await Pause(o.WriterPause, stop.Token).ConfigureAwait(false);
            }
        }

        async Task DashboardAsync(int q)
        {
            for (long i = 0; !stop.IsCancellationRequested; i++)
            {
                string host = $"w{(q + i) % o.Writers}h{i % 10}";
                long newest = o.StartSeconds + ((Interlocked.Read(ref newestBatch) + 1) * (o.LinesPerBatch / 10));
                string range = $"range(start: {Rfc3339(newest - (long)o.DashboardRange.TotalSeconds)}, stop: {Rfc3339(newest + 1)})";
                string script = (i % 3) switch
                {
                    0 => $"from(bucket: \"{o.Bucket}\") |> {range} |> filter(fn: (r) => r._measurement == \"cpu\" and r._field == \"usage_user\" and r.host == \"{host}\") |> aggregateWindow(every: 1m, fn: mean)",
                    1 => $"from(bucket: \"{o.Bucket}\") |> {range} |> filter(fn: (r) => r._measurement == \"cpu\" and r._field == \"usage_system\") |> last()",
                    _ => $"from(bucket: \"{o.Bucket}\") |> {range} |> filter(fn: (r) => r._measurement == \"cpu\" and r.host =~ /^w{q % o.Writers}h[0-4]$/ and r._field == \"usage_idle\") |> aggregateWindow(every: 10m, fn: max)",
                };
                long start = Stopwatch.GetTimestamp();
                try
                {
                    using var content = new StringContent(script, Encoding.UTF8, "application/vnd.flux");
                    using HttpResponseMessage r = await http.PostAsync($"/api/v2/query?org={o.Org}", content, stop.Token).ConfigureAwait(false);
                    string text = await r.Content.ReadAsStringAsync(stop.Token).ConfigureAwait(false);
                    if (r.StatusCode == HttpStatusCode.OK)
                    {
                        lock (queryLatencies)
                        {
                            queryLatencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                        }

                        Interlocked.Increment(ref queries);
                    }
                    else if (r.StatusCode == HttpStatusCode.TooManyRequests)
                    {
                        Interlocked.Increment(ref rejections);
                        if (r.Headers.RetryAfter is null)
                        {
                            Interlocked.Increment(ref noRetryAfter);
                        }
                    }
                    else
                    {
                        Error($"query {i}: {(int)r.StatusCode} {text}");
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }

                await Pause(o.QueryPause, stop.Token).ConfigureAwait(false);
            }
        }

        async Task SamplerAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                SoakMemory m = o.Memory();
                lock (samples)
                {
                    samples.Add(new SoakSample(watch.Elapsed.TotalSeconds, Interlocked.Read(ref lines), m.Rss, m.Heap, m.Committed));
                }

                await Pause(o.SampleEvery, stop.Token).ConfigureAwait(false);
            }
        }

        var tasks = new List<Task> { SamplerAsync() };
        tasks.AddRange(Enumerable.Range(0, o.Writers).Select(w => Task.Run(() => WriterAsync(w), CancellationToken.None)));
        tasks.AddRange(Enumerable.Range(0, o.QueryLoops).Select(q => Task.Run(() => DashboardAsync(q), CancellationToken.None)));
        await Task.WhenAll(tasks).ConfigureAwait(false);
        TimeSpan elapsed = watch.Elapsed;

        long counted = await CountAsync(http, o).ConfigureAwait(false);
        return new SoakResult(elapsed, batches, lines, counted, queries, backPressure, rejections, noRetryAfter, errors, writeLatencies, queryLatencies, samples);
    }

    /// <summary>The server's count of cpu lines (field usage_user) in the bucket.</summary>
    public static async Task<long> CountAsync(HttpClient http, SoakOptions o)
    {
        HttpResponseMessage r;
        for (int attempt = 0; ; attempt++)
        {
            // Dashboard queries abandoned at the end may still hold every query slot for a moment.
            using var content = new StringContent(string.Format(CultureInfo.InvariantCulture, CountScript, o.Bucket), Encoding.UTF8, "application/vnd.flux");
            r = await http.PostAsync($"/api/v2/query?org={o.Org}", content).ConfigureAwait(false);
            if (r.StatusCode != HttpStatusCode.TooManyRequests || attempt == 60)
            {
                break;
            }

            r.Dispose();
            await Task.Delay(500).ConfigureAwait(false);
        }

        using HttpResponseMessage response = r;
        string csv = await r.Content.ReadAsStringAsync().ConfigureAwait(false);
        if (r.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"count query: {(int)r.StatusCode} {csv}");
        }

        // One table, one row: the last cell of the row that is not an annotation or the header.
        string? row = csv.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0 && !l.StartsWith('#')).Skip(1).FirstOrDefault();
        return row is null ? 0 : long.Parse(row[(row.LastIndexOf(',') + 1)..], CultureInfo.InvariantCulture);
    }

    // Telegraf's cpu input: one line per host, 5 fields.
    private static byte[] Batch(SoakOptions o, int w, long b)
    {
        var sb = new StringBuilder(o.LinesPerBatch * 160);
        long baseTime = o.StartSeconds + (b * (o.LinesPerBatch / 10)); // all writers in the same shards, as a fleet's agents are
        for (int i = 0; i < o.LinesPerBatch; i++)
        {
            double v = ((b * 31) + (i * 7)) % 1000 / 10.0;
            sb.Append(CultureInfo.InvariantCulture,
                $"cpu,cpu=cpu-total,host=w{w}h{i % 10},datacenter=dc{w % 2} usage_user={v},usage_system={v / 2},usage_idle={100 - v},usage_iowait=0.5,usage_steal=0 {baseTime + (i / 10)}\n");
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static string Rfc3339(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(data);
        }

        return ms.ToArray();
    }

    private static async Task Pause(TimeSpan pause, CancellationToken cancel)
    {
        if (pause <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            await Task.Delay(pause, cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
