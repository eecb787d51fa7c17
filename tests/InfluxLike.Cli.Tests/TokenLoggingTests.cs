using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using InfluxLike.Testing;

namespace InfluxLike.Cli.Tests;

/// <summary>
/// Tokens never reach the log: the server runs at the most verbose level while requests carry tokens in every
/// place a client may put them (Token and Bearer headers, HTTP Basic, v1 <c>u</c>/<c>p</c>), right and wrong, on
/// requests that succeed and fail; then the whole output is searched for every token.
/// </summary>
public sealed class TokenLoggingTests
{
    private const string Operator = "operator-token-that-must-never-be-logged-4711";

    [Fact]
    public async Task No_token_appears_in_the_log_at_verbose_level()
    {
        string dataDir = Path.Combine(Path.GetTempPath(), "influxlike-tokenlog-" + Guid.NewGuid().ToString("N"));
        await using var server = await ServerProcess.StartAsync([
            "--http-bind-address", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "verbose",
            "--init-org", "acme", "--init-bucket", "metrics", "--init-token", Operator]);
        try
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            var secrets = new List<string> { Operator, "wrong-token-that-must-never-be-logged-0815" };

            // A new token, created and used.
            using var orgs = new HttpRequestMessage(HttpMethod.Get, "/api/v2/orgs?org=acme");
            orgs.Headers.Authorization = new AuthenticationHeaderValue("Token", Operator);
            using var orgsResponse = await http.SendAsync(orgs);
            string org = (string)JsonNode.Parse(await orgsResponse.Content.ReadAsStringAsync())!["orgs"]![0]!["id"]!;
            using var create = new HttpRequestMessage(HttpMethod.Post, "/api/v2/authorizations")
            {
                Content = new StringContent($$$"""{"orgID":"{{{org}}}","permissions":[{"action":"write","resource":{"type":"buckets"}}]}""", Encoding.UTF8, "application/json"),
            };
            create.Headers.Authorization = new AuthenticationHeaderValue("Token", Operator);
            using var created = await http.SendAsync(create);
            string body = await created.Content.ReadAsStringAsync();
            Assert.True(created.StatusCode == HttpStatusCode.Created, body);
            secrets.Add((string)JsonNode.Parse(body)!["token"]!);

            foreach (string token in secrets)
            {
                string basic = Convert.ToBase64String(Encoding.UTF8.GetBytes("user:" + token));
                (string Scheme, string Value)[] headers = [("Token", token), ("Bearer", token), ("Basic", basic)];
                foreach (var (scheme, value) in headers)
                {
                    foreach (string lines in new[] { "m f=1 1", "m f=" }) // accepted, and a syntax error
                    {
                        using var v2 = new HttpRequestMessage(HttpMethod.Post, "/api/v2/write?org=acme&bucket=metrics") { Content = new StringContent(lines) };
                        v2.Headers.Authorization = new AuthenticationHeaderValue(scheme, value);
                        (await http.SendAsync(v2)).Dispose();
                        using var v1 = new HttpRequestMessage(HttpMethod.Post, "/write?db=metrics") { Content = new StringContent(lines) };
                        v1.Headers.Authorization = new AuthenticationHeaderValue(scheme, value);
                        (await http.SendAsync(v1)).Dispose();
                    }

                    using var query = new HttpRequestMessage(HttpMethod.Post, "/api/v2/query?org=acme") { Content = new StringContent("from(bucket: \"nope\") |> range(start: -1h)", Encoding.UTF8, "application/vnd.flux") };
                    query.Headers.Authorization = new AuthenticationHeaderValue(scheme, value);
                    (await http.SendAsync(query)).Dispose();
                }

                (await http.PostAsync($"/write?db=metrics&u=user&p={Uri.EscapeDataString(token)}", new StringContent("m f=1 2"))).Dispose();
                (await http.PostAsync($"/write?db=missing&u=user&p={Uri.EscapeDataString(token)}", new StringContent("m f="))).Dispose();
                (await http.GetAsync($"/query?q=SHOW%20DATABASES&u=user&p={Uri.EscapeDataString(token)}")).Dispose();
                (await http.GetAsync($"/api/v2/no-such-endpoint?token={Uri.EscapeDataString(token)}")).Dispose();
            }

            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
            string log = server.Output;
            Assert.Contains("HTTP POST /api/v2/write responded 204", log, StringComparison.Ordinal); // requests were logged
            foreach (string secret in secrets)
            {
                Assert.DoesNotContain(secret, log, StringComparison.Ordinal);
            }
        }
        finally
        {
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }
}
