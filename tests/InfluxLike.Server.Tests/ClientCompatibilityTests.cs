using System.Diagnostics;
using System.Text.Json.Nodes;
using InfluxDB.Client;
using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Core.Exceptions;
using InfluxDB.Client.Writes;
using InfluxLike.Testing;

namespace InfluxLike.Server.Tests;

/// <summary>The official client libraries (not imitations) against a live server.</summary>
public sealed class ClientCompatibilityTests : IAsyncLifetime
{
    private readonly LiveServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    private string Url => _server.BaseAddress.ToString().TrimEnd('/');

    [Fact]
    public async Task Csharp_client_manages_buckets_writes_batched_gzip_and_queries()
    {
        using var client = new InfluxDBClient(new InfluxDBClientOptions(Url) { Token = LiveServer.Token, Org = LiveServer.Org });
        client.EnableGzip();

        var org = (await client.GetOrganizationsApi().FindOrganizationsAsync(org: LiveServer.Org)).Single();
        var bucket = await client.GetBucketsApi().CreateBucketAsync("csharp", new BucketRetentionRules(BucketRetentionRules.TypeEnum.Expire, 30 * 86400), org.Id);
        Assert.Equal("csharp", bucket.Name);
        Assert.Equal(30 * 86400, bucket.RetentionRules[0].EverySeconds);
        var found = await client.GetBucketsApi().FindBucketByNameAsync("csharp");
        Assert.Equal(bucket.Id, found.Id);

        // The batching WriteApi flushes in the background; disposing it flushes the rest. Points from the
        // last day: the bucket keeps 30 days.
        long start = DateTimeOffset.UtcNow.AddDays(-1).ToUnixTimeSeconds();
        using (var write = client.GetWriteApi(new WriteOptions { BatchSize = 400, FlushInterval = 60_000 }))
        {
            for (int i = 0; i < 1000; i++)
            {
                write.WritePoint(PointData.Measurement("sensor").Tag("id", $"s{i % 4}").Field("temp", i * 0.5).Timestamp(start + i, WritePrecision.S), "csharp", LiveServer.Org);
            }
        }

        var tables = await client.GetQueryApi().QueryAsync("from(bucket: \"csharp\") |> range(start: -2d) |> count()", LiveServer.Org);
        Assert.Equal(4, tables.Count);
        Assert.All(tables, t => Assert.Equal(250L, t.Records[0].GetValue()));

        var error = await Assert.ThrowsAsync<BadRequestException>(() => client.GetQueryApi().QueryAsync("from(bucket: \"csharp\") |> range(start: -1h) |> nosuch()", LiveServer.Org));
        Assert.Contains("nosuch", error.Message, StringComparison.Ordinal);

        await client.GetBucketsApi().DeleteBucketAsync(bucket.Id);
        Assert.Null(await client.GetBucketsApi().FindBucketByNameAsync("csharp"));
    }

    [Fact]
    public async Task Javascript_client_writes_chunked_gzip_and_queries()
    {
        string dir = Path.Combine(RepoPaths.Root, "tests", "clients", "js");
        if (!System.IO.File.Exists(Path.Combine(dir, "node_modules", "@influxdata", "influxdb-client", "package.json")))
        {
            var (code, output) = await RunAsync("npm", dir, "ci", "--no-audit", "--no-fund", "--loglevel=error");
            Assert.True(code == 0, "npm ci failed:\n" + output);
        }

        var (exit, stdout) = await RunAsync("node", dir, "client.mjs", Url, LiveServer.Token, LiveServer.Org, LiveServer.Bucket);
        Assert.True(exit == 0, stdout);
        string json = stdout.Split('\n').Last(l => l.StartsWith('{'));
        var result = JsonNode.Parse(json)!;

        // 300 points over 3 hosts: host i%3 gets the sum of its values.
        for (int h = 0; h < 3; h++)
        {
            double expected = Enumerable.Range(0, 300).Where(i => i % 3 == h).Sum(i => (double)i);
            Assert.Equal(expected, (double)result["sums"]![$"h{h}"]!);
        }

        Assert.Equal("number", (string)result["valueType"]!);
        Assert.Equal(404, (int)result["missingBucket"]!["status"]!);
        Assert.Equal("not found", (string)result["missingBucket"]!["code"]!);
        Assert.Equal(400, (int)result["badWrite"]!["status"]!);
        Assert.Contains("line 1", (string)result["badWrite"]!["message"]!, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string directory, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
