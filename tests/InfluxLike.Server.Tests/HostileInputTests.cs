using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace InfluxLike.Server.Tests;

/// <summary>
/// Requests built to hurt: gzip bombs, slow senders, scripts nested or long enough to overflow a recursive
/// parser, regular expressions with catastrophic backtracking, file names that climb out of a folder, header
/// injection. Each must end in a clear 4xx (or a dropped connection, for slow senders) and leave the server serving.
/// </summary>
public sealed class HostileInputTests : IAsyncLifetime
{
    private readonly LiveServer _server = LiveServer.With(o => o with { MaxBodySize = 8L << 20 });

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    private Task<HttpResponseMessage> FluxAsync(string script) =>
        _server.Client.PostAsync("/api/v2/query?org=acme", new StringContent(script, Encoding.UTF8, "application/vnd.flux"));

    private async Task AssertStillServesAsync()
    {
        using var ping = await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s", new StringContent("alive f=1 1700000000"));
        Assert.Equal(HttpStatusCode.NoContent, ping.StatusCode);
    }

    [Fact]
    public async Task A_gzip_bomb_of_one_gibibyte_is_refused_after_the_body_limit_without_inflating_it()
    {
        // Sixteen gzip members of 64 MiB of zeros each: 1 GiB inflated from about 1 MiB on the wire.
        byte[] member;
        using (var ms = new MemoryStream())
        {
            using (var gz = new GZipStream(ms, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                byte[] zeros = new byte[1 << 20];
                for (int i = 0; i < 64; i++)
                {
                    gz.Write(zeros);
                }
            }

            member = ms.ToArray();
        }

        byte[] bomb = [.. Enumerable.Repeat(member, 16).SelectMany(m => m)];
        Assert.True(bomb.Length < 2 << 20, $"the bomb is {bomb.Length} bytes on the wire");
        foreach (string path in new[] { "/api/v2/write?org=acme&bucket=metrics", "/write?db=metrics", "/api/v2/query?org=acme" })
        {
            var content = new ByteArrayContent(bomb);
            content.Headers.ContentEncoding.Add("gzip");
            content.Headers.ContentType = new("text/plain");
            var watch = Stopwatch.StartNew();
            using var response = await _server.Client.PostAsync(path, content);
            Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"{path} took {watch.Elapsed}");
        }

        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Damaged_gzip_bodies_get_a_4xx_never_a_5xx_or_a_hang()
    {
        // The gzip write path fuzzed: gzip'd batches with bytes flipped, cut, duplicated or zeroed (seeded, so a
        // failure replays). INFLUXLIKE_FUZZ_ITERATIONS raises the count.
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("INFLUXLIKE_FUZZ_ITERATIONS"), out int n) ? n : 300;
        var random = new Random(1234);
        byte[] seed;
        using (var ms = new MemoryStream())
        {
            using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
            {
                gz.Write(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 200).Select(i => $"cpu,host=h{i % 7} v={i}i,s=\"x{i}\" {1_700_000_000 + i}\n"))));
            }

            seed = ms.ToArray();
        }

        var seen = new Dictionary<int, int>();
        for (int i = 0; i < iterations; i++)
        {
            byte[] body = [.. seed];
            switch (i % 4)
            {
                case 0:
                    body[random.Next(body.Length)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    body = body[..random.Next(body.Length)];
                    break;
                case 2:
                    body = [.. body, .. body[..random.Next(body.Length)]]; // trailing garbage or a second member
                    break;
                default:
                    Array.Clear(body, random.Next(body.Length), 4);
                    break;
            }

            var content = new ByteArrayContent(body);
            content.Headers.ContentEncoding.Add("gzip");
            using var response = await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s", content);
            int status = (int)response.StatusCode;
            Assert.True(status is 204 or 400 or 413 or 422, $"input {i} ({Convert.ToBase64String(body)}): {status} {await response.Content.ReadAsStringAsync()}");
            seen[status] = seen.GetValueOrDefault(status) + 1;
        }

        Assert.True(seen.ContainsKey(400) && seen.ContainsKey(204), "both damaged and still-valid bodies were tried: " + string.Join(", ", seen));
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Scripts_nested_too_deeply_or_chained_too_long_are_clear_400s_not_stack_overflows()
    {
        string[] scripts =
        [
            new string('(', 100_000) + "1" + new string(')', 100_000),
            new string('[', 100_000) + new string(']', 100_000),
            "x = " + string.Concat(Enumerable.Repeat("{a: ", 50_000)) + "1" + new string('}', 50_000),
            "x = 1" + string.Concat(Enumerable.Repeat(" + 1", 100_000)),
            "x = " + string.Concat(Enumerable.Repeat("-", 100_000)) + "1",
            "x = " + string.Concat(Enumerable.Repeat("not ", 100_000)) + "true",
            "from(bucket: \"metrics\")" + string.Concat(Enumerable.Repeat(" |> limit(n: 1)", 50_000)),
            "x = " + string.Concat(Enumerable.Repeat("(r) => ", 50_000)) + "1",
            "x = \"" + string.Concat(Enumerable.Repeat("${\"", 50_000)) + new string('"', 1) + "\"",
        ];
        foreach (string script in scripts)
        {
            var watch = Stopwatch.StartNew();
            using var response = await FluxAsync(script);
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{script[..40]}…: {(int)response.StatusCode} {body[..Math.Min(300, body.Length)]}");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"{script[..40]}… took {watch.Elapsed}");
            Assert.Contains("error @", body, StringComparison.Ordinal); // names where
        }

        await AssertStillServesAsync();
    }

    [Theory]
    [InlineData("r.host =~ /^(a+)+$/")]
    [InlineData("r.host =~ /^(a|aa)+$/")]
    [InlineData("r.host !~ /^(a|a?)+$/")]
    [InlineData("r._measurement =~ /^(([a-z])+.)+[A-Z]([a-z])+$/")]
    [InlineData("regexp.matchRegexpString(r: /^(a+)+$/, v: r.host)")]
    public async Task Regexes_with_catastrophic_backtracking_answer_in_time(string predicate)
    {
        // A tag value of 5000 a's and a !: a backtracking engine tries about 2^5000 ways to match (a+)+.
        string evil = new string('a', 5000) + "!";
        using var write = await _server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s", new StringContent($"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!,host={evil} f=1 1700000000"));
        Assert.Equal(HttpStatusCode.NoContent, write.StatusCode);

        var watch = Stopwatch.StartNew();
        using var response = await FluxAsync($"import \"regexp\"\nfrom(bucket: \"metrics\") |> range(start: 2023-01-01T00:00:00Z) |> filter(fn: (r) => {predicate}) |> count()");
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {body}");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        Assert.Equal(predicate.Contains("!~", StringComparison.Ordinal), body.Contains(evil, StringComparison.Ordinal)); // only !~ matches
    }

    [Fact]
    public async Task A_body_trickled_slower_than_the_minimum_rate_is_dropped()
    {
        // Slowloris on the body: headers promise 1 MB, then one byte a second. Kestrel's minimum body rate
        // (240 bytes/s after a 5 s grace period) must close the connection rather than hold it forever.
        string head = $"POST /api/v2/write?org=acme&bucket=metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Token {LiveServer.Token}\r\nContent-Length: 1000000\r\n\r\n";
        TimeSpan? closedAfter = await TrickleUntilClosedAsync(head, _ => "m");
        Assert.True(closedAfter is not null, "the connection was still open after 25 s of trickling");
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Headers_trickled_slower_than_the_header_timeout_are_dropped()
    {
        // Slowloris on the headers: one header line every second, never the blank line that ends them.
        TimeSpan? closedAfter = await TrickleUntilClosedAsync("GET /ping HTTP/1.1\r\nHost: x\r\n", i => $"X-Slow-{i}: 1\r\n");
        Assert.True(closedAfter is not null, "the connection was still open after 25 s of header lines");
        Assert.True(closedAfter < TimeSpan.FromSeconds(15), $"closed only after {closedAfter}");
    }

    /// <summary>Sends <paramref name="head"/>, then a piece a second; how long until the server closed the connection (null: not within 25 s).</summary>
    private async Task<TimeSpan?> TrickleUntilClosedAsync(string head, Func<int, string> piece)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(_server.BaseAddress.Host, _server.BaseAddress.Port);
        NetworkStream stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        var watch = Stopwatch.StartNew();
        for (int i = 0; watch.Elapsed < TimeSpan.FromSeconds(25); i++)
        {
            try
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(piece(i)));
                await Task.Delay(1000);
                if (socket.Client.Poll(0, SelectMode.SelectRead) && (socket.Available == 0 || await ReadsResponseAsync(stream)))
                {
                    return watch.Elapsed;
                }
            }
            catch (IOException)
            {
                return watch.Elapsed;
            }
        }

        return null;
    }

    // A 408 (request timeout) or the end of the stream.
    private static async Task<bool> ReadsResponseAsync(NetworkStream stream)
    {
        byte[] buffer = new byte[4096];
        int n = await stream.ReadAsync(buffer);
        return n == 0 || Encoding.ASCII.GetString(buffer, 0, n).StartsWith("HTTP/1.1 408", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("shards/0/../../../../tmp/escaped.tsm")]
    [InlineData("shards/0/..")]
    [InlineData("shards/../x.tsm")]
    [InlineData("../../x.tsm")]
    [InlineData("/etc/x.tsm")]
    [InlineData("shards/0/.tsm")]
    [InlineData("shards/0/..tsm")]
    [InlineData("shards/99999999999999999999/x.tsm")]
    [InlineData("shards/20_10/000000001-000000001-1-0.tsm")] // a shard whose range ends before it starts
    [InlineData("shards/0_1/000000001-000000001-1-0.tsm", "shards/1_2/000000001-000000001-1-0.tsm")] // shards that overlap
    [InlineData("shards/0_9/000000001-000000001-1-0.tsm", "shards/0_5/000000002-000000002-1-0.tsm")] // one start, two ranges
    public async Task Restore_refuses_file_names_that_leave_the_bucket(params string[] names)
    {
        using var archive = new MemoryStream();
        using (var tar = new TarWriter(archive, TarEntryFormat.Pax, leaveOpen: true))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "manifest.json") { DataStream = new MemoryStream("""{"version":1,"bucket":"x","retentionSeconds":0,"shardGroupDurationSeconds":604800}"""u8.ToArray()) });
            foreach (string name in names)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream("not a tsm file"u8.ToArray()) });
            }
        }

        using var response = await _server.Client.PostAsync("/api/v2/restore?org=acme&bucket=restored", new ByteArrayContent(archive.ToArray()));
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {body}");
        if (names.Length > 1)
        {
            Assert.Contains("overlaps another shard", body, StringComparison.Ordinal); // refused for that, before any file is opened
        }

        Assert.False(File.Exists("/tmp/escaped.tsm"));
        Assert.Empty(Directory.EnumerateFiles(_server.DataDir, "*.restore", SearchOption.AllDirectories));
        using var buckets = await _server.Client.GetAsync("/api/v2/buckets?name=restored");
        Assert.Empty((await LiveServer.JsonAsync(buckets, HttpStatusCode.OK))["buckets"]!.AsArray());
    }

    [Theory]
    [InlineData("""{"version":1}""")]
    [InlineData("""{"version":1,"retentionSeconds":"x","shardGroupDurationSeconds":1}""")]
    [InlineData("""{"version":1,"retentionSeconds":-1,"shardGroupDurationSeconds":604800}""")]
    [InlineData("""{"version":1,"retentionSeconds":9223372036854775807,"shardGroupDurationSeconds":604800}""")]
    [InlineData("""{"version":1,"retentionSeconds":0,"shardGroupDurationSeconds":0}""")]
    [InlineData("""[1,2]""")]
    [InlineData("""{""")]
    public async Task Restore_answers_a_bad_manifest_with_a_400(string manifest)
    {
        using var archive = new MemoryStream();
        using (var tar = new TarWriter(archive, TarEntryFormat.Pax, leaveOpen: true))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "manifest.json") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(manifest)) });
        }

        using var response = await _server.Client.PostAsync("/api/v2/restore?org=acme&bucket=restored", new ByteArrayContent(archive.ToArray()));
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {body}");
        Assert.Contains("backup", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("evil\r\nSet-Cookie: a=b")]
    [InlineData("quote\"d; filename=\"other.exe")]
    [InlineData("métriques-日本")]
    public async Task A_bucket_name_cannot_inject_headers_into_the_backup_response(string name)
    {
        var create = new JsonObject { ["orgID"] = await _server.OrgIdAsync(), ["name"] = name, ["retentionRules"] = new JsonArray() };
        using var created = await _server.Client.PostAsJsonAsync("/api/v2/buckets", create);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        using var response = await _server.Client.GetAsync($"/api/v2/backup?org=acme&bucket={Uri.EscapeDataString(name)}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.False(response.Headers.Contains("Set-Cookie"));
        var disposition = response.Content.Headers.ContentDisposition!;
        Assert.Equal("attachment", disposition.DispositionType);
        Assert.Equal(name + ".tar", disposition.FileNameStar);
        Assert.DoesNotContain(disposition.Parameters, p => p.Name != "filename" && p.Name != "filename*");
    }

    [Fact]
    public async Task Control_characters_in_request_headers_and_query_are_harmless()
    {
        // Kestrel refuses CR/LF inside header values itself; a percent-encoded CR LF in the query string must not
        // reach a response header either.
        using var response = await _server.Client.PostAsync("/api/v2/write?org=acme%0d%0aX-Injected:%201&bucket=metrics", new StringContent("m f=1 1"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Injected"));
        await AssertStillServesAsync();
    }
}
