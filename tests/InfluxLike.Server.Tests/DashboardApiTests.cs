using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using InfluxLike.Server.Dashboards;

namespace InfluxLike.Server.Tests;

/// <summary>
/// <c>/api/v2/dashboards</c> (the web UI's dashboards), <c>/api/v2/query/format</c> and <c>/suggestions</c> (its
/// editor), and the UI files themselves.
/// </summary>
public sealed class DashboardApiTests : IAsyncLifetime
{
    private readonly LiveServer _server = LiveServer.With(o => o with { TasksEnabled = false });

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    private static JsonObject Body(string name = "Hosts") => JsonNode.Parse($$"""
        {
          "name": "{{name}}",
          "timeRange": {"start": "-6h", "stop": null},
          "refresh": "30s",
          "variables": [{"name": "host", "query": "import \"influxdata/influxdb/schema\"\nschema.tagValues(bucket: \"metrics\", tag: \"host\")", "selected": "a"}],
          "cells": [
            {"name": "CPU", "x": 0, "y": 0, "w": 6, "h": 4, "query": "from(bucket: \"metrics\") |> range(start: v.timeRangeStart) |> filter(fn: (r) => r.host == v.host)", "viz": "line"},
            {"name": "Now", "x": 6, "y": 0, "w": 3, "h": 2, "query": "from(bucket: \"metrics\") |> range(start: -5m) |> last()", "viz": "stat"}
          ]
        }
        """)!.AsObject();

    private async Task<string> CreateTokenAsync(params (string Action, string Type)[] permissions)
    {
        string org = await _server.OrgIdAsync();
        var perms = new JsonArray([.. permissions.Select(p => (JsonNode)new JsonObject { ["action"] = p.Action, ["resource"] = new JsonObject { ["type"] = p.Type, ["orgID"] = org } })]);
        var node = await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/authorizations", new JsonObject { ["orgID"] = org, ["permissions"] = perms }), HttpStatusCode.Created);
        return (string)node["token"]!;
    }

    [Fact]
    public async Task Create_get_list_replace_and_delete_a_dashboard()
    {
        JsonNode created = await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/dashboards", Body()), HttpStatusCode.Created);
        string id = (string)created["id"]!;
        Assert.Equal(await _server.OrgIdAsync(), (string?)created["orgID"]);
        Assert.Equal("-6h", (string?)created["timeRange"]!["start"]);
        Assert.Equal("30s", (string?)created["refresh"]);
        Assert.Equal("a", (string?)created["variables"]![0]!["selected"]);
        JsonArray cells = created["cells"]!.AsArray();
        Assert.Equal(2, cells.Count);
        Assert.All(cells, c => Assert.False(string.IsNullOrEmpty((string?)c!["id"])));
        Assert.Equal("stat", (string?)cells[1]!["viz"]);

        JsonNode got = await LiveServer.JsonAsync(await _server.Client.GetAsync("/api/v2/dashboards/" + id), HttpStatusCode.OK);
        Assert.Equal(created.ToJsonString(), got.ToJsonString());
        JsonNode list = await LiveServer.JsonAsync(await _server.Client.GetAsync("/api/v2/dashboards"), HttpStatusCode.OK);
        Assert.Equal(id, (string?)list["dashboards"]![0]!["id"]);

        JsonObject changed = Body("Renamed");
        changed["cells"]!.AsArray().RemoveAt(1);
        changed["cells"]![0]!["id"] = (string)cells[0]!["id"]!;
        changed["cells"]![0]!["x"] = 3;
        JsonNode replaced = await LiveServer.JsonAsync(await _server.Client.PutAsJsonAsync("/api/v2/dashboards/" + id, changed), HttpStatusCode.OK);
        Assert.Equal("Renamed", (string?)replaced["name"]);
        Assert.Single(replaced["cells"]!.AsArray());
        Assert.Equal((string?)cells[0]!["id"], (string?)replaced["cells"]![0]!["id"]);
        Assert.Equal(3, (int)replaced["cells"]![0]!["x"]!);
        Assert.Equal((string?)created["createdAt"], (string?)replaced["createdAt"]);

        Assert.Equal(HttpStatusCode.NoContent, (await _server.Client.DeleteAsync("/api/v2/dashboards/" + id)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Client.GetAsync("/api/v2/dashboards/" + id)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Client.DeleteAsync("/api/v2/dashboards/" + id)).StatusCode);
    }

    [Fact]
    public async Task Dashboards_survive_a_restart_and_an_export_imports_as_a_new_dashboard()
    {
        JsonNode created = await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/dashboards", Body()), HttpStatusCode.Created);
        string id = (string)created["id"]!;
        await _server.StopAsync();
        Assert.True(File.Exists(Path.Combine(_server.DataDir, DashboardStore.FileName)));
        await _server.StartAsync();

        JsonNode exported = await LiveServer.JsonAsync(await _server.Client.GetAsync("/api/v2/dashboards/" + id), HttpStatusCode.OK);
        Assert.Equal(created.ToJsonString(), exported.ToJsonString());

        JsonNode imported = await LiveServer.JsonAsync(await _server.Client.PostAsync("/api/v2/dashboards",
            new StringContent(exported.ToJsonString(), Encoding.UTF8, "application/json")), HttpStatusCode.Created);
        Assert.NotEqual(id, (string?)imported["id"]);
        Assert.Equal(exported["cells"]!.ToJsonString(), imported["cells"]!.ToJsonString());
        Assert.Equal(exported["variables"]!.ToJsonString(), imported["variables"]!.ToJsonString());
        JsonNode list = await LiveServer.JsonAsync(await _server.Client.GetAsync("/api/v2/dashboards"), HttpStatusCode.OK);
        Assert.Equal(2, list["dashboards"]!.AsArray().Count);
    }

    [Theory]
    // a field of Body() set to a bad value (JSON) → the start of the message, naming the field
    [InlineData("name", "\"\"", "name: is required")]
    [InlineData("refresh", "\"soon\"", "refresh: \"soon\" is not a duration")]
    [InlineData("refresh", "\"100ms\"", "refresh: \"100ms\" is shorter than 1s")]
    [InlineData("timeRange", "{\"start\": \"yesterday\"}", "timeRange.start: \"yesterday\" is neither")]
    [InlineData("timeRange", "{\"start\": \"-1h\", \"stop\": \"-1x\"}", "timeRange.stop: \"1x\" is not a duration")]
    [InlineData("variables", "[{\"name\": \"1host\", \"query\": \"x\"}]", "variables[0].name: \"1host\" is not an identifier")]
    [InlineData("variables", "[{\"name\": \"h\", \"query\": \"x\"}, {\"name\": \"h\", \"query\": \"y\"}]", "variables[1].name: \"h\" is used twice")]
    [InlineData("variables", "[{\"name\": \"h\"}]", "variables[0].query: is required")]
    [InlineData("cells", "[{\"query\": \"x\", \"viz\": \"pie\"}]", "cells[0].viz: \"pie\" is not one of line, area, scatter, stat, gauge, table, csv")]
    [InlineData("cells", "[{\"query\": \"x\"}, {\"viz\": \"line\"}]", "cells[1].query: is required")]
    [InlineData("cells", "[{\"query\": \"x\", \"w\": 13}]", "cells[0].w: 13 is not between 1 and 12")]
    [InlineData("cells", "[{\"query\": \"x\", \"x\": 8, \"w\": 6}]", "cells[0].x: 8 puts the cell outside the 12 columns")]
    [InlineData("cells", "[{\"query\": \"x\", \"h\": 0}]", "cells[0].h: 0 is not between 1 and 24")]
    [InlineData("cells", "[{\"id\": \"c\", \"query\": \"x\"}, {\"id\": \"c\", \"query\": \"y\"}]", "cells[1].id: \"c\" is used twice")]
    public async Task Bad_dashboards_are_refused_with_a_message_naming_the_field(string property, string json, string message)
    {
        JsonObject body = Body();
        body[property] = JsonNode.Parse(json);
        HttpResponseMessage r = await _server.Client.PostAsJsonAsync("/api/v2/dashboards", body);
        JsonNode error = await LiveServer.JsonAsync(r, HttpStatusCode.BadRequest);
        Assert.Equal("invalid", (string?)error["code"]);
        Assert.StartsWith(message, (string?)error["message"], StringComparison.Ordinal);

        // the same check guards a replacement, and a refused one changes nothing
        string id = (string)(await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/dashboards", Body()), HttpStatusCode.Created))["id"]!;
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Client.PutAsJsonAsync("/api/v2/dashboards/" + id, body)).StatusCode);
        JsonNode kept = await LiveServer.JsonAsync(await _server.Client.GetAsync("/api/v2/dashboards/" + id), HttpStatusCode.OK);
        Assert.Equal("Hosts", (string?)kept["name"]);
        Assert.Equal(2, kept["cells"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_value_of_the_wrong_JSON_type_is_refused_naming_its_path()
    {
        JsonObject body = Body();
        body["cells"]![0]!["w"] = "wide";
        JsonNode error = await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/dashboards", body), HttpStatusCode.BadRequest);
        Assert.StartsWith("the request body is not valid JSON: ", (string?)error["message"], StringComparison.Ordinal);
        Assert.Contains("$.cells[0].w", (string?)error["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboards_follow_the_tokens_dashboard_permissions()
    {
        string id = (string)(await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/dashboards", Body()), HttpStatusCode.Created))["id"]!;
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Anonymous.GetAsync("/api/v2/dashboards")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Anonymous.PostAsJsonAsync("/api/v2/dashboards", Body())).StatusCode);

        using HttpClient reader = _server.WithToken(await CreateTokenAsync(("read", "dashboards")));
        JsonNode list = await LiveServer.JsonAsync(await reader.GetAsync("/api/v2/dashboards"), HttpStatusCode.OK);
        Assert.Single(list["dashboards"]!.AsArray());
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/v2/dashboards/" + id)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync("/api/v2/dashboards", Body())).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PutAsJsonAsync("/api/v2/dashboards/" + id, Body("x"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.DeleteAsync("/api/v2/dashboards/" + id)).StatusCode);

        // a token without dashboard permissions sees none: the list is empty and the dashboard is not found
        using HttpClient other = _server.WithToken(await CreateTokenAsync(("read", "buckets")));
        JsonNode none = await LiveServer.JsonAsync(await other.GetAsync("/api/v2/dashboards"), HttpStatusCode.OK);
        Assert.Empty(none["dashboards"]!.AsArray());
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/api/v2/dashboards/" + id)).StatusCode);

        using HttpClient writer = _server.WithToken(await CreateTokenAsync(("read", "dashboards"), ("write", "dashboards")));
        Assert.Equal(HttpStatusCode.OK, (await writer.PutAsJsonAsync("/api/v2/dashboards/" + id, Body("Mine"))).StatusCode);
    }

    [Fact]
    public async Task Format_returns_the_canonical_script_or_the_error_position()
    {
        JsonNode formatted = await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/query/format", new { query = "from(bucket:\"metrics\")|>range(start:-1h)|>last()" }), HttpStatusCode.OK);
        Assert.Equal("from(bucket: \"metrics\")\n    |> range(start: -1h)\n    |> last()\n", (string?)formatted["query"]);

        JsonNode error = await LiveServer.JsonAsync(await _server.Client.PostAsJsonAsync("/api/v2/query/format", new { query = "x = 1\ny = (2" }), HttpStatusCode.BadRequest);
        Assert.StartsWith("error @2:", (string?)error["message"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Anonymous.PostAsJsonAsync("/api/v2/query/format", new { query = "x = 1" })).StatusCode);
    }

    [Fact]
    public async Task Suggestions_list_functions_with_their_parameters()
    {
        JsonNode body = await LiveServer.JsonAsync(await _server.Client.GetAsync("/api/v2/query/suggestions"), HttpStatusCode.OK);
        JsonNode window = body["funcs"]!.AsArray().Single(f => (string?)f!["name"] == "aggregateWindow" && (string?)f["package"] == "")!;
        JsonNode every = window["params"]!.AsArray().Single(p => (string?)p!["name"] == "every")!;
        Assert.Equal("duration", (string?)every["type"]);
        Assert.True((bool)every["required"]!);
        Assert.DoesNotContain(window["params"]!.AsArray(), p => (string?)p!["name"] == "tables");
        Assert.Contains(body["funcs"]!.AsArray(), f => (string?)f!["name"] == "tagValues" && (string?)f["package"] == "influxdata/influxdb/schema");
    }

    [Fact]
    public async Task The_ui_is_served_from_the_binary_with_a_policy_that_allows_nothing_from_elsewhere()
    {
        HttpResponseMessage page = await _server.Anonymous.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("ui/app.js", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        string csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);

        HttpResponseMessage script = await _server.Anonymous.GetAsync("/ui/app.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.True((await script.Content.ReadAsByteArrayAsync()).Length > 100_000);

        using var again = new HttpRequestMessage(HttpMethod.Get, "/ui/app.js");
        again.Headers.IfNoneMatch.Add(script.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await _server.Anonymous.SendAsync(again)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _server.Anonymous.GetAsync("/ui/app.css")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Anonymous.GetAsync("/ui/nothing.js")).StatusCode);
    }
}
