using System.Diagnostics;
using System.Net;
using InfluxLike.Testing;
using Xunit.Abstractions;

namespace InfluxLike.Server.Tests;

/// <summary>
/// The CI variants of the soak and overload runs (<see cref="SoakDriver"/>; the long runs are
/// <c>perf/InfluxLike.Benchmarks -- soak</c>, recorded in docs/RELIABILITY.md). Every acknowledged line is counted
/// back exactly; the only refusals allowed are back-pressure answers that carry Retry-After.
/// </summary>
public sealed class SoakTests(ITestOutputHelper output)
{
    private static SoakMemory Memory()
    {
        using var self = Process.GetCurrentProcess();
        return new SoakMemory(self.WorkingSet64, GC.GetTotalMemory(forceFullCollection: false), GC.GetGCMemoryInfo().TotalCommittedBytes);
    }

    private static async Task<SoakResult> RunAsync(LiveServer server, SoakOptions options)
    {
        await server.InitializeAsync();
        try
        {
            return await SoakDriver.RunAsync(options with { Server = server.BaseAddress, Token = LiveServer.Token, Memory = Memory });
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_short_soak_acknowledges_every_line_it_stores_and_errors_only_with_back_pressure()
    {
        SoakResult r = await RunAsync(new LiveServer(), new SoakOptions { Server = null!, Token = "", Duration = TimeSpan.FromSeconds(20), Writers = 4, QueryLoops = 2 });
        output.WriteLine(r.Summary());
        Assert.True(r.Errors.Count == 0, string.Join('\n', r.Errors));
        Assert.True(r.LinesAcknowledged > 20_000, r.Summary());
        Assert.Equal(r.LinesAcknowledged, r.LinesCounted);
        Assert.True(r.Queries > 20, r.Summary());
        Assert.Equal(0, r.BackPressureWithoutRetryAfter);
    }

    [Fact]
    public async Task Overload_answers_with_retry_after_loses_no_acknowledged_line_and_recovers_without_restart()
    {
        // A 512 KiB cache (about five batches) against six writers without pause: snapshots cannot keep up, so
        // writes get 503 + Retry-After; one query slot against eight dashboards without pause: 429 + Retry-After.
        var server = LiveServer.With(o => o with { CacheMaxMemorySize = 512L << 10, CacheSnapshotMemorySize = 128L << 10, MaxConcurrentQueries = 1 });
        await server.InitializeAsync();
        try
        {
            var options = new SoakOptions
            {
                Server = server.BaseAddress, Token = LiveServer.Token, Memory = Memory, Duration = TimeSpan.FromSeconds(15),
                Writers = 6, WriterPause = TimeSpan.Zero, QueryLoops = 8, QueryPause = TimeSpan.Zero,
            };
            SoakResult r = await SoakDriver.RunAsync(options);
            output.WriteLine(r.Summary());
            // Writers finish their batch in flight after the end: with a shard stuck full (bug 10) that took 10 minutes.
            Assert.True(r.Elapsed < options.Duration + TimeSpan.FromSeconds(30), "the run did not end in time: " + r.Summary());
            Assert.True(r.Errors.Count == 0, string.Join('\n', r.Errors));
            Assert.True(r.WriteBackPressure > 0, "the writers never met back-pressure: " + r.Summary());
            Assert.True(r.QueryRejections > 0, "the dashboards were never refused: " + r.Summary());
            Assert.Equal(0, r.BackPressureWithoutRetryAfter);
            Assert.Equal(r.LinesAcknowledged, r.LinesCounted);

            // Recovered without a restart: a write right after is acknowledged.
            using var write = await server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s", new StringContent("after v=1 1700000000"));
            Assert.Equal(HttpStatusCode.NoContent, write.StatusCode);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
