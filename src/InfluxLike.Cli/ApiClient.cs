using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace InfluxLike.Cli;

/// <summary>
/// What the client commands share: --host, --token and --org (or INFLUXLIKE_HOST, INFLUXLIKE_TOKEN,
/// INFLUXLIKE_ORG), one HTTP call with the token, and the exit codes: 0 done, 1 the server refused (its
/// message printed), 2 bad usage or an unreachable server.
/// </summary>
internal sealed class ApiClient
{
    public static readonly Option<string?> Host = new("--host") { Description = "server URL (env INFLUXLIKE_HOST; default http://127.0.0.1:8086)", Recursive = true };
    public static readonly Option<string?> Token = new("--token") { Description = "API token (env INFLUXLIKE_TOKEN)", Recursive = true };
    public static readonly Option<string?> Org = new("--org") { Description = "organization name (env INFLUXLIKE_ORG)", Recursive = true };

    public static void AddOptions(Command command)
    {
        command.Options.Add(Host);
        command.Options.Add(Token);
        command.Options.Add(Org);
    }

    public static string? Value(ParseResult r, Option<string?> option, string env) =>
        r.GetValue(option) ?? (Environment.GetEnvironmentVariable(env) is { Length: > 0 } v ? v : null);

    public static string? OrgName(ParseResult r) => Value(r, Org, "INFLUXLIKE_ORG");

    public static HttpClient Http(ParseResult r)
    {
        var http = new HttpClient { BaseAddress = new Uri(Value(r, Host, "INFLUXLIKE_HOST") ?? "http://127.0.0.1:8086"), Timeout = TimeSpan.FromMinutes(10) };
        if (Value(r, Token, "INFLUXLIKE_TOKEN") is { } t)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Token", t);
        }

        return http;
    }

    public static async Task<int> UsageAsync(string message)
    {
        await Console.Error.WriteLineAsync("error: " + message).ConfigureAwait(false);
        return 2;
    }

    /// <summary>Sends one JSON request; prints the answer with <paramref name="print"/>, or the server's error.</summary>
    public static async Task<int> CallAsync(ParseResult r, HttpMethod method, string path, JsonObject? body, Action<JsonNode> print, CancellationToken ct)
    {
        using HttpClient http = Http(r);
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            return await UsageAsync($"cannot reach {http.BaseAddress}: {e.Message}").ConfigureAwait(false);
        }

        using (response)
        {
            string text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                await Console.Error.WriteLineAsync($"error: {(int)response.StatusCode} {ErrorMessage(text)}").ConfigureAwait(false);
                return 1;
            }

            if (text.Length > 0)
            {
                print(JsonNode.Parse(text)!);
            }

            return 0;
        }
    }

    public static string ErrorMessage(string text)
    {
        try
        {
            return text.Length > 0 && JsonNode.Parse(text) is JsonObject o && o["message"] is { } m ? m.ToString() : text;
        }
        catch (System.Text.Json.JsonException)
        {
            return text;
        }
    }

    public static bool Transient(HttpStatusCode status) => status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable;
}
