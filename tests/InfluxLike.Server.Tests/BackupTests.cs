using System.Net;
using System.Text;
using InfluxLike.Query.Csv;

namespace InfluxLike.Server.Tests;

/// <summary>Online backup during concurrent writes, restored on another server under a new name.</summary>
public sealed class BackupTests : IAsyncLifetime
{
    private readonly LiveServer _source = new();
    private readonly LiveServer _target = new();

    public async Task InitializeAsync()
    {
        await _source.InitializeAsync();
        await _target.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        await _target.DisposeAsync();
    }

    private static async Task<HashSet<long>> TimesAsync(HttpClient client, string bucket)
    {
        var r = await client.PostAsync("/api/v2/query?org=acme", new StringContent(
            $"from(bucket: \"{bucket}\") |> range(start: 2023-01-01T00:00:00Z) |> filter(fn: (r) => r.host == \"h0\")", Encoding.UTF8, "application/vnd.flux"));
        string csv = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, csv);
        return [.. AnnotatedCsvReader.Read(csv).SelectMany(t => Enumerable.Range(0, t.Table.Rows).Select(i => t.Table.Column("_time")!.Get(i).AsTime))];
    }

    [Fact]
    public async Task A_backup_taken_during_writes_restores_every_point_acknowledged_before_it()
    {
        // Batch b: 50 lines at seconds b·50 .. b·50+49, for two hosts. Snapshots happen along the way (small cache).
        var acked = new List<int>();
        using var stop = new CancellationTokenSource();
        Task writer = Task.Run(async () =>
        {
            for (int b = 0; !stop.IsCancellationRequested && b < 2000; b++)
            {
                string body = string.Concat(Enumerable.Range(0, 50).SelectMany(i => new[] { $"cpu,host=h0 v={b} {1_700_000_000 + (b * 50) + i}\n", $"cpu,host=h1 v={b} {1_700_000_000 + (b * 50) + i}\n" }));
                var r = await _source.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s", new StringContent(body));
                Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
                lock (acked)
                {
                    acked.Add(b);
                }
            }
        });

        while (true)
        {
            lock (acked)
            {
                if (acked.Count >= 20)
                {
                    break;
                }
            }

            await Task.Delay(10);
        }

        int[] before;
        lock (acked)
        {
            before = [.. acked];
        }

        var backup = await _source.Client.GetAsync("/api/v2/backup?org=acme&bucket=metrics");
        Assert.Equal(HttpStatusCode.OK, backup.StatusCode);
        Assert.Equal("application/x-tar", backup.Content.Headers.ContentType?.MediaType);
        byte[] archive = await backup.Content.ReadAsByteArrayAsync();
        await stop.CancelAsync();
        await writer;

        var restored = await _target.Client.PostAsync("/api/v2/restore?org=acme&bucket=restored", new ByteArrayContent(archive));
        Assert.True(restored.StatusCode == HttpStatusCode.Created, await restored.Content.ReadAsStringAsync());
        HashSet<long> times = await TimesAsync(_target.Client, "restored");
        foreach (int b in before)
        {
            for (int i = 0; i < 50; i++)
            {
                Assert.Contains((1_700_000_000L + (b * 50) + i) * 1_000_000_000L, times);
            }
        }

        // Everything restored was written on the source; the index was rebuilt (schema queries see the series).
        Assert.Subset(await TimesAsync(_source.Client, "metrics"), times);
        var tags = await _target.Client.PostAsync("/api/v2/query?org=acme", new StringContent(
            "import \"influxdata/influxdb/schema\"\nschema.tagValues(bucket: \"restored\", tag: \"host\", start: 2023-01-01T00:00:00Z)", Encoding.UTF8, "application/vnd.flux"));
        string csv = await tags.Content.ReadAsStringAsync();
        Assert.Contains(",h0", csv, StringComparison.Ordinal);
        Assert.Contains(",h1", csv, StringComparison.Ordinal);

        // A taken name is a conflict; something that is not a backup is refused and leaves no bucket behind.
        Assert.Equal((HttpStatusCode)422, (await _target.Client.PostAsync("/api/v2/restore?org=acme&bucket=restored", new ByteArrayContent(archive))).StatusCode);
        var junk = await _target.Client.PostAsync("/api/v2/restore?org=acme&bucket=junk", new ByteArrayContent(Encoding.UTF8.GetBytes("not a tar archive at all, just text")));
        Assert.Equal(HttpStatusCode.BadRequest, junk.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _target.Client.GetAsync("/api/v2/buckets?name=junk")).StatusCode);
        Assert.DoesNotContain("\"junk\"", await (await _target.Client.GetAsync("/api/v2/buckets?name=junk")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
