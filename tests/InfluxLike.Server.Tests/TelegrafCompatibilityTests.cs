using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using InfluxLike.Query.Csv;

namespace InfluxLike.Server.Tests;

/// <summary>
/// Replays what Telegraf's <c>outputs.influxdb_v2</c> and <c>outputs.influxdb</c> send (headers, gzip, batch
/// sizes, database creation) and how they react to each answer: 413 splits the batch in half and resends
/// both halves; 429 and 503 wait the integer Retry-After and resend; other 4xx drop the batch; v1's 404
/// "database not found" creates the database and resends.
/// </summary>
public sealed class TelegrafCompatibilityTests
{
    private const string UserAgent = "Telegraf/1.28.5 Go/1.21.6";

    private sealed class Replay(HttpClient client, string writePath)
    {
        public List<int> Statuses { get; } = [];

        public int Dropped { get; private set; }

        public Func<Task>? OnDatabaseNotFound { get; init; }

        public async Task SendAsync(IReadOnlyList<string> batch)
        {
            for (int attempt = 0; attempt < 200; attempt++)
            {
                byte[] body = Gzip(string.Join("\n", batch) + "\n");
                var request = new HttpRequestMessage(HttpMethod.Post, writePath) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("text/plain; charset=utf-8");
                request.Content.Headers.ContentEncoding.Add("gzip");
                request.Headers.UserAgent.ParseAdd(UserAgent);
                using var response = await client.SendAsync(request);
                int status = (int)response.StatusCode;
                Statuses.Add(status);
                switch (status)
                {
                    case 204:
                        return;
                    case 413 when batch.Count > 1:
                        await SendAsync([.. batch.Take(batch.Count / 2)]);
                        await SendAsync([.. batch.Skip(batch.Count / 2)]);
                        return;
                    case 429 or 503:
                        // Telegraf reads Retry-After as whole seconds.
                        string retry = response.Headers.RetryAfter?.Delta is { } d ? ((int)d.TotalSeconds).ToString(CultureInfo.InvariantCulture) : "";
                        Assert.True(int.TryParse(retry, CultureInfo.InvariantCulture, out int seconds) && seconds >= 1, "Retry-After must be an integer number of seconds");
                        await Task.Delay(TimeSpan.FromMilliseconds(200)); // bounded for the test; Telegraf waits until its next flush
                        continue;
                    case 404 when OnDatabaseNotFound is not null:
                        string error = (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
                        Assert.StartsWith("database not found", error, StringComparison.Ordinal);
                        await OnDatabaseNotFound();
                        continue;
                    case >= 400 and < 500:
                        Dropped += batch.Count;
                        return;
                    default:
                        continue; // 5xx: retried
                }
            }

            Assert.Fail("the batch was never accepted");
        }
    }

    private static byte[] Gzip(string text)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(Encoding.UTF8.GetBytes(text));
        }

        return ms.ToArray();
    }

    /// <summary>Telegraf's cpu input: one line per cpu per interval, ns timestamps.</summary>
    private static List<string> CpuMetrics(int intervals, int cpus, long start = 1_700_000_000_000_000_000)
    {
        var lines = new List<string>();
        for (int t = 0; t < intervals; t++)
        {
            for (int c = 0; c < cpus; c++)
            {
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"cpu,cpu=cpu{c},host=edge-01 usage_user={(t * 7 + c) % 100}.25,usage_system={c}.5,usage_idle={100 - ((t + c) % 100)}.125,usage_iowait=0 {start + (t * 10_000_000_000L)}"));
            }
        }

        return lines;
    }

    private static async Task<long> CountAsync(LiveServer server, string bucket)
    {
        var r = await server.Client.PostAsync("/api/v2/query?org=acme", new StringContent(
            $"from(bucket: \"{bucket}\") |> range(start: 0) |> count() |> group() |> sum()", Encoding.UTF8, "application/vnd.flux"));
        string body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, body);
        var tables = AnnotatedCsvReader.Read(body);
        return tables.Count == 0 ? 0 : tables[0].Table.Column("_value")!.Get(0).AsInt;
    }

    [Fact]
    public async Task V2_output_halves_batches_on_413_until_everything_is_stored()
    {
        await using var server = await AsyncServer.StartAsync(LiveServer.With(o => o with { MaxBodySize = 120_000 }));
        var lines = CpuMetrics(500, 10); // 5,000 lines, ~600 KB: Telegraf's metric_batch_size
        var replay = new Replay(server.Server.Client, "/api/v2/write?bucket=metrics&org=acme");
        await replay.SendAsync(lines);
        Assert.Contains(413, replay.Statuses);
        Assert.Equal(0, replay.Dropped);
        Assert.Equal(lines.Count * 4L, await CountAsync(server.Server, "metrics"));
    }

    [Fact]
    public async Task V2_output_under_back_pressure_gets_503_with_retry_after_and_loses_nothing()
    {
        // A tiny cache: writes outrun snapshots, so some batches are refused (never partly stored) and resent.
        await using var server = await AsyncServer.StartAsync(LiveServer.With(o => o with { CacheMaxMemorySize = 1 << 20, CacheSnapshotMemorySize = 256 << 10 }));
        var lines = CpuMetrics(2_000, 8);
        var replay = new Replay(server.Server.Client, "/api/v2/write?bucket=metrics&org=acme");
        await Parallel.ForEachAsync(lines.Chunk(1000).Select((b, i) => (b, i)), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (x, _) =>
        {
            var one = new Replay(server.Server.Client, "/api/v2/write?bucket=metrics&org=acme");
            await one.SendAsync(x.b);
            lock (replay.Statuses)
            {
                replay.Statuses.AddRange(one.Statuses);
            }
        });
        Assert.DoesNotContain(replay.Statuses, s => s is 400 or 422 or 500);
        Assert.Equal(lines.Count * 4L, await CountAsync(server.Server, "metrics"));
    }

    [Fact]
    public async Task V1_output_creates_its_database_and_recreates_it_after_404()
    {
        await using var server = await AsyncServer.StartAsync(new LiveServer());
        using var client = new HttpClient { BaseAddress = server.Server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("telegraf:" + LiveServer.Token)));
        client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);

        async Task CreateDatabase()
        {
            var r = await client.PostAsync("/query", new FormUrlEncodedContent([new KeyValuePair<string, string>("q", "CREATE DATABASE \"telegraf\"")]));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("""{"results":[{"statement_id":0}]}""", await r.Content.ReadAsStringAsync());
        }

        await CreateDatabase(); // Telegraf's Connect()
        var replay = new Replay(client, "/write?db=telegraf") { OnDatabaseNotFound = CreateDatabase };
        var lines = CpuMetrics(100, 10);
        await replay.SendAsync(lines[..500]);
        Assert.Equal(500 * 4L, await CountAsync(server.Server, "telegraf"));

        var drop = await client.PostAsync("/query", new FormUrlEncodedContent([new KeyValuePair<string, string>("q", "DROP DATABASE telegraf")]));
        Assert.Equal(HttpStatusCode.OK, drop.StatusCode);
        await replay.SendAsync(lines[500..]);
        Assert.Contains(404, replay.Statuses);
        Assert.Equal(500 * 4L, await CountAsync(server.Server, "telegraf"));
    }

    [Fact]
    public void The_sample_telegraf_config_points_at_this_server()
    {
        string conf = File.ReadAllText(Path.Combine(Testing.RepoPaths.Root, "samples", "telegraf.conf"));
        Assert.Contains("[[outputs.influxdb_v2]]", conf, StringComparison.Ordinal);
        Assert.Contains("urls = [\"http://127.0.0.1:8086\"]", conf, StringComparison.Ordinal);
        Assert.Contains("content_encoding = \"gzip\"", conf, StringComparison.Ordinal);
        Assert.Contains("[[outputs.influxdb]]", conf, StringComparison.Ordinal);
    }

    private sealed class AsyncServer(LiveServer server) : IAsyncDisposable
    {
        public LiveServer Server => server;

        public static async Task<AsyncServer> StartAsync(LiveServer server)
        {
            await server.InitializeAsync();
            return new AsyncServer(server);
        }

        public async ValueTask DisposeAsync() => await server.DisposeAsync();
    }
}
