using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using InfluxLike.Server.Tests;
using Microsoft.Playwright;

namespace InfluxLike.Ui.Tests;

/// <summary>
/// The web UI in headless Chromium against a real server: sign in, explore, chart, table, dashboards with a
/// variable surviving a reload, buckets and tokens pages, the editor's errors and formatter, themes and a
/// narrow screen. Every test also checks the browser logged no error.
/// </summary>
public sealed class ExplorerAndDashboardTests(Browser browser, LiveServer server) : IClassFixture<Browser>, IClassFixture<LiveServer>
{
    // Host a: 60 points, usage = i * 1.5; host b: 40 points, usage = 100 + i. Every 30 s ending at the start of
    // the minute before the class was loaded, so all are inside "past 1h" while the tests run, and each test's
    // write rewrites the same points (whichever test runs first).
    private const int PointsA = 60;
    private const int PointsB = 40;
    private static readonly long End = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 * 60) - 60;

    private async Task WriteCpuAsync()
    {
        long end = End;
        var lines = new StringBuilder();
        for (int i = 0; i < PointsA; i++)
        {
            lines.Append(CultureInfo.InvariantCulture, $"cpu,host=a usage={i * 1.5} {end - ((PointsA - 1 - i) * 30)}\n");
        }

        for (int i = 0; i < PointsB; i++)
        {
            lines.Append(CultureInfo.InvariantCulture, $"cpu,host=b usage={100 + i} {end - ((PointsB - 1 - i) * 30)}\n");
        }

        HttpResponseMessage r = await server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics&precision=s", new StringContent(lines.ToString()));
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
    }

    private static async Task SelectAndWaitAsync(IPage page, string selector, string value)
    {
        await Assertions.Expect(page.Locator($"{selector} option[value='{value}']")).ToHaveCountAsync(1);
        await page.SelectOptionAsync(selector, value);
    }

    [Fact]
    public async Task Sign_in_build_a_query_in_the_explorer_see_the_chart_points_and_the_table_values()
    {
        await WriteCpuAsync();
        await using UiPage ui = await UiPage.OpenAsync(browser, server.BaseAddress, token: null);
        IPage page = ui.Page;

        await ui.GotoAsync();
        await page.FillAsync("#token", LiveServer.Token);
        await page.ClickAsync("#sign-in");
        await page.WaitForSelectorAsync(".explorer");
        await Assertions.Expect(page.Locator(".org")).ToHaveTextAsync(LiveServer.Org);

        await SelectAndWaitAsync(page, "#bucket", LiveServer.Bucket);
        await SelectAndWaitAsync(page, "#measurement", "cpu");
        await SelectAndWaitAsync(page, "#fields", "usage");
        await SelectAndWaitAsync(page, "#tag-key", "host");
        await SelectAndWaitAsync(page, "#tag-values", "a");
        await page.SelectOptionAsync("#aggregate", "none");
        string script = await ui.ScriptAsync();
        Assert.Contains("r._measurement == \"cpu\"", script, StringComparison.Ordinal);
        Assert.Contains("r.host == \"a\"", script, StringComparison.Ordinal);
        Assert.DoesNotContain("aggregateWindow", script, StringComparison.Ordinal);

        // Ctrl+Enter in the editor runs the script
        await page.Locator(".explorer .cm-content").ClickAsync();
        await page.Keyboard.PressAsync("Control+Enter");
        ILocator result = page.Locator("#result");
        await Assertions.Expect(result).ToHaveAttributeAsync("data-drawn", "1");
        await Assertions.Expect(result).ToHaveAttributeAsync("data-points", PointsA.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(1, await result.Locator("canvas").CountAsync());
        await ui.ScreenshotAsync("explorer-line");

        await page.SelectOptionAsync("#viz", "table");
        await Assertions.Expect(result).ToHaveAttributeAsync("data-rows", PointsA.ToString(CultureInfo.InvariantCulture));
        var values = await result.Locator("table.result-table tbody tr").EvaluateAllAsync<string[]>(
            "rows => rows.map(r => r.children[[...r.closest('table').querySelectorAll('th')].findIndex(th => th.textContent === '_value')].textContent)");
        Assert.Equal(Enumerable.Range(0, PointsA).Select(i => (i * 1.5).ToString(CultureInfo.InvariantCulture)), values);
        await ui.ScreenshotAsync("explorer-table");

        // the aggregate builder: host a's 29.5 minutes of data fall into 2 or 3 windows of 15 minutes
        await page.SelectOptionAsync("#aggregate", "mean");
        await page.SelectOptionAsync("#every", "15m");
        await page.SelectOptionAsync("#viz", "line");
        await page.ClickAsync("#run");
        await Assertions.Expect(result).ToHaveAttributeAsync("data-drawn", "1");
        int windows = int.Parse((await result.GetAttributeAsync("data-points"))!, CultureInfo.InvariantCulture);
        Assert.InRange(windows, 2, 3);
        Assert.Contains("aggregateWindow(every: 15m, fn: mean, createEmpty: false)", await ui.ScriptAsync(), StringComparison.Ordinal);

        Assert.Empty(ui.ConsoleErrors);
    }

    [Fact]
    public async Task A_dashboard_with_a_variable_and_a_moved_cell_is_intact_after_a_reload_and_exports_and_imports()
    {
        await WriteCpuAsync();
        await using UiPage ui = await UiPage.OpenAsync(browser, server.BaseAddress, LiveServer.Token);
        IPage page = ui.Page;
        await ui.GotoAsync("#/dashboards");
        string name = "Hosts " + Guid.NewGuid().ToString("N")[..6];
        await page.FillAsync("#new-dashboard-name", name);
        await page.ClickAsync("#create-dashboard");
        await page.WaitForSelectorAsync("#add-cell");

        await page.ClickAsync("#edit-variables");
        await page.ClickAsync("#add-variable");
        await page.FillAsync(".variable-row .var-name", "host");
        await page.FillAsync(".variable-row .var-query", "import \"influxdata/influxdb/schema\"\nschema.tagValues(bucket: \"metrics\", tag: \"host\")");
        await page.ClickAsync("#apply-variables");
        ILocator variable = page.Locator("select.variable[data-name='host']");
        await Assertions.Expect(variable.Locator("option")).ToHaveCountAsync(2);

        await page.ClickAsync("#add-cell");
        await page.FillAsync("#cell-name-input", "CPU by host");
        await ui.SetScriptAsync("from(bucket: \"metrics\")\n|> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n|> filter(fn: (r) => r._measurement == \"cpu\" and r.host == v.host)", ".cell-dialog");
        await page.ClickAsync("#apply-cell");
        ILocator body = page.Locator(".cell .cell-body").First;
        await Assertions.Expect(body).ToHaveAttributeAsync("data-points", PointsA.ToString(CultureInfo.InvariantCulture));

        await variable.SelectOptionAsync("b");
        await Assertions.Expect(body).ToHaveAttributeAsync("data-points", PointsB.ToString(CultureInfo.InvariantCulture));

        await page.ClickAsync("button[aria-label='Move right (CPU by host)']");
        await page.ClickAsync("button[aria-label='Taller (CPU by host)']");
        await page.SelectOptionAsync(".dashboard-head select.range", "-6h");
        await page.ClickAsync("#save-dashboard");
        await Assertions.Expect(page.Locator(".dashboard")).ToHaveAttributeAsync("data-saved", "1");
        await ui.ScreenshotAsync("dashboard");

        await page.ReloadAsync();
        await page.WaitForSelectorAsync(".cell .cell-body[data-drawn='1']");
        await Assertions.Expect(page.Locator("#dashboard-name")).ToHaveValueAsync(name);
        await Assertions.Expect(page.Locator("select.variable[data-name='host']")).ToHaveValueAsync("b");
        await Assertions.Expect(page.Locator(".dashboard-head select.range")).ToHaveValueAsync("-6h");
        await Assertions.Expect(page.Locator(".cell .cell-body").First).ToHaveAttributeAsync("data-points", PointsB.ToString(CultureInfo.InvariantCulture));
        string style = (await page.Locator(".cell").First.GetAttributeAsync("style"))!;
        Assert.Contains("grid-column: 2 / span 6", style, StringComparison.Ordinal);
        Assert.Contains("grid-row: 1 / span 5", style, StringComparison.Ordinal);

        // the server holds what the page shows
        string id = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        JsonNode stored = await LiveServer.JsonAsync(await server.Client.GetAsync("/api/v2/dashboards/" + id), HttpStatusCode.OK);
        Assert.Equal("b", (string?)stored["variables"]![0]!["selected"]);
        Assert.Equal(1, (int)stored["cells"]![0]!["x"]!);

        // export, then import the file: a second dashboard of the same name and cells
        IDownload download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#export-dashboard"));
        string exported = Path.Combine(Browser.ArtifactsDir, "dashboard-export.json");
        await download.SaveAsAsync(exported);
        Assert.Equal(name, (string?)JsonNode.Parse(await File.ReadAllTextAsync(exported))!["name"]);
        await ui.GotoAsync("#/dashboards");
        await page.SetInputFilesAsync("#import-dashboard", exported);
        await Assertions.Expect(page.Locator("a.dashboard-link", new PageLocatorOptions { HasText = name })).ToHaveCountAsync(2);

        Assert.Empty(ui.ConsoleErrors);
    }

    [Fact]
    public async Task Script_errors_are_marked_at_their_line_and_column_and_format_rewrites_the_script()
    {
        await using UiPage ui = await UiPage.OpenAsync(browser, server.BaseAddress, LiveServer.Token);
        IPage page = ui.Page;
        await ui.GotoAsync("#/explorer");

        // the time-range line the UI puts before the script must not shift the reported line
        await ui.SetScriptAsync("from(bucket: \"metrics\")\n    |> range(start: -1h)\n    |> filter(fn: (r) => r._value > )");
        await page.ClickAsync("#run");
        await Assertions.Expect(page.Locator(".explorer .message.error")).ToContainTextAsync("error @3:");
        await Assertions.Expect(page.Locator(".explorer .cm-lintRange-error")).ToHaveCountAsync(1);
        Assert.Equal(3, await page.EvaluateAsync<int>("() => [...document.querySelectorAll('.explorer .cm-line')].findIndex(l => l.querySelector('.cm-lintRange-error')) + 1"));

        await ui.SetScriptAsync("from(bucket:\"metrics\")|>range(start:-1h)|>last()");
        await page.ClickAsync("#format");
        await Assertions.Expect(page.Locator(".explorer .message.ok")).ToHaveTextAsync("Formatted.");
        Assert.Equal("from(bucket: \"metrics\")\n    |> range(start: -1h)\n    |> last()", await ui.ScriptAsync());

        // the browser reports the refused query as a failed resource load; nothing else may be logged
        Assert.All(ui.ConsoleErrors, e => Assert.Contains("status of 400", e, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Text_typed_while_the_builder_loads_its_schema_is_kept_and_not_run()
    {
        await WriteCpuAsync();
        await using UiPage ui = await UiPage.OpenAsync(browser, server.BaseAddress, LiveServer.Token);
        IPage page = ui.Page;
        // hold the builder's schema query until the user has typed
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int held = 0, runs = 0;
        await page.RouteAsync("**/api/v2/query?*", async route =>
        {
            string body = route.Request.PostData ?? "";
            if (body.Contains("schema.measurements", StringComparison.Ordinal) && Interlocked.Increment(ref held) == 1)
            {
                await release.Task;
            }
            else if (!body.Contains("schema.", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref runs);
            }

            await route.ContinueAsync();
        });
        await ui.GotoAsync("#/explorer");
        await ui.SetScriptAsync("from(bucket: \"metrics\") |> range(start: -1h) |> coun");
        release.SetResult();
        await Assertions.Expect(page.Locator("#measurement option", new PageLocatorOptions { HasText = "cpu" })).ToBeAttachedAsync();
        // the builder's remaining schema queries, then whatever it would do after them
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        Assert.Equal(1, held);
        Assert.Equal("from(bucket: \"metrics\") |> range(start: -1h) |> coun", await ui.ScriptAsync());
        Assert.Equal(0, runs);
    }

    private static ILocator Completion(IPage page, string label) =>
        page.Locator(".cm-tooltip-autocomplete .cm-completionLabel").Filter(new LocatorFilterOptions { HasTextRegex = new Regex("^" + Regex.Escape(label) + "$") });

    [Fact]
    public async Task Completion_offers_functions_their_arguments_and_schema_names()
    {
        await WriteCpuAsync();
        await using UiPage ui = await UiPage.OpenAsync(browser, server.BaseAddress, LiveServer.Token);
        IPage page = ui.Page;
        await ui.GotoAsync("#/explorer");

        await ui.SetScriptAsync("aggregateW");
        await page.Keyboard.PressAsync("Control+Space");
        await Assertions.Expect(Completion(page, "aggregateWindow")).ToHaveCountAsync(1);
        // inside the call's parentheses: its arguments (set as text: accepting with Enter races the list's
        // updates on a loaded machine, and accepting is CodeMirror's, not ours)
        await ui.SetScriptAsync("aggregateWindow(");
        await page.Keyboard.PressAsync("Control+Space");
        await Assertions.Expect(Completion(page, "every")).ToHaveCountAsync(1);

        await ui.SetScriptAsync("from(bucket: \"metrics\") |> filter(fn: (r) => r._measurement == \"c");
        await page.Keyboard.PressAsync("Control+Space");
        await Assertions.Expect(Completion(page, "cpu")).ToHaveCountAsync(1);
        await ui.ScreenshotAsync("completion");
        Assert.Empty(ui.ConsoleErrors);
    }

    [Fact]
    public async Task Buckets_page_creates_changes_retention_and_deletes_and_tokens_page_creates_a_read_token()
    {
        await using UiPage ui = await UiPage.OpenAsync(browser, server.BaseAddress, LiveServer.Token);
        IPage page = ui.Page;
        page.Dialog += async (_, d) => await d.AcceptAsync();
        await ui.GotoAsync("#/buckets");

        await page.FillAsync("#bucket-name", "logs");
        await page.FillAsync("#bucket-retention", "7d");
        await page.ClickAsync("#create-bucket");
        ILocator row = page.Locator("tr[data-bucket='logs']");
        await Assertions.Expect(row.Locator("input.retention")).ToHaveValueAsync("7d");
        await row.Locator("input.retention").FillAsync("30d");
        await row.Locator("button.save-retention").ClickAsync();
        await Assertions.Expect(page.Locator(".page > .message.ok")).ToContainTextAsync("30d");
        JsonNode buckets = await LiveServer.JsonAsync(await server.Client.GetAsync("/api/v2/buckets?name=logs"), HttpStatusCode.OK);
        Assert.Equal(30 * 86400, (long)buckets["buckets"]![0]!["retentionRules"]![0]!["everySeconds"]!);
        await ui.ScreenshotAsync("buckets");
        await row.Locator("button.danger").ClickAsync();
        await Assertions.Expect(row).ToHaveCountAsync(0);

        await ui.GotoAsync("#/tokens");
        await page.FillAsync("#token-description", "reader");
        await page.CheckAsync("input.perm[aria-label='read bucket metrics']");
        await page.ClickAsync("#create-token");
        string token = (await page.Locator("#new-token").TextContentAsync())!;
        Assert.False(string.IsNullOrEmpty(token));
        await Assertions.Expect(page.Locator("#tokens td", new PageLocatorOptions { HasText = "read metrics" })).ToHaveCountAsync(1);
        await ui.ScreenshotAsync("tokens");

        using HttpClient reader = server.WithToken(token);
        var read = await reader.PostAsJsonAsync("/api/v2/query?org=acme", new { query = "from(bucket: \"metrics\") |> range(start: -1h) |> count()" });
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var write = await reader.PostAsync("/api/v2/write?org=acme&bucket=metrics", new StringContent("cpu,host=z usage=1"));
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);

        Assert.Empty(ui.ConsoleErrors);
    }

    [Fact]
    public async Task Theme_choice_survives_a_reload_and_a_phone_sized_screen_has_no_sideways_scrolling()
    {
        await WriteCpuAsync();
        await using UiPage ui = await UiPage.OpenAsync(browser, server.BaseAddress, LiveServer.Token, width: 390, height: 844);
        IPage page = ui.Page;
        await ui.GotoAsync("#/explorer");
        string before = (await page.EvaluateAsync<string>("() => document.documentElement.dataset.theme"))!;
        await page.ClickAsync("#theme");
        string after = before == "dark" ? "light" : "dark";
        await page.ReloadAsync();
        await page.WaitForSelectorAsync("body[data-ready='1']");
        Assert.Equal(after, await page.EvaluateAsync<string>("() => document.documentElement.dataset.theme"));

        // the explorer picks the first bucket and runs its script on opening
        await Assertions.Expect(page.Locator("#result")).ToHaveAttributeAsync("data-drawn", "1");
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways at 390 px");
        await ui.ScreenshotAsync("phone-" + after);
        Assert.Empty(ui.ConsoleErrors);
    }
}
