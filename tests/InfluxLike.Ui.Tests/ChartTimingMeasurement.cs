using System.Globalization;
using System.Net;
using System.Text;
using InfluxLike.Server.Tests;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace InfluxLike.Ui.Tests;

/// <summary>
/// A measurement, not a test: the time from clicking Run to the line chart drawn for 100,000 points (one
/// series), as the page itself measures it (click handler to uPlot's draw hook: query, transfer, CSV parse,
/// series build, draw). Nothing is asserted about the time; it is printed for perf/RESULTS.md. Excluded from
/// scripts/test.sh; run with
/// <c>dotnet test tests/InfluxLike.Ui.Tests -c Release --filter Category=Measurement --logger "console;verbosity=detailed"</c>.
/// </summary>
[Trait("Category", "Measurement")]
public sealed class ChartTimingMeasurement(Browser browser, LiveServer server, ITestOutputHelper output) : IClassFixture<Browser>, IClassFixture<LiveServer>
{
    private const int Points = 100_000;
    private const int Runs = 5;

    [Fact]
    public async Task Run_to_chart_drawn_for_100k_points()
    {
        // one point every 30 ms over the last 50 minutes: all inside "past 1h"
        long endNs = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000) * 1_000_000;
        var lines = new StringBuilder();
        for (int i = 0; i < Points; i++)
        {
            lines.Append(CultureInfo.InvariantCulture, $"perf,host=a value={Math.Sin(i / 500.0) * 50 + 50:F3} {endNs - ((long)(Points - 1 - i) * 30_000_000)}\n");
        }

        HttpResponseMessage written = await server.Client.PostAsync("/api/v2/write?org=acme&bucket=metrics", new StringContent(lines.ToString()));
        Assert.Equal(HttpStatusCode.NoContent, written.StatusCode);

        await using UiPage ui = await UiPage.OpenAsync(browser, server.BaseAddress, LiveServer.Token);
        IPage page = ui.Page;
        await ui.GotoAsync("#/explorer");
        await ui.SetScriptAsync("from(bucket: \"metrics\")\n    |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n    |> filter(fn: (r) => r._measurement == \"perf\")");
        ILocator result = page.Locator("#result");

        var drawn = new List<int>();
        for (int run = 0; run <= Runs; run++)
        {
            await page.ClickAsync("#run");
            await Assertions.Expect(result).ToHaveAttributeAsync("data-drawn", "1", new LocatorAssertionsToHaveAttributeOptions { Timeout = 60_000 });
            Assert.Equal(Points.ToString(CultureInfo.InvariantCulture), await result.GetAttributeAsync("data-points"));
            int total = int.Parse((await result.GetAttributeAsync("data-drawn-ms"))!, CultureInfo.InvariantCulture);
            string query = (await result.GetAttributeAsync("data-query-ms"))!;
            output.WriteLine($"run {run}{(run == 0 ? " (warm-up, not counted)" : "")}: Run → chart drawn {total} ms (of which query and transfer {query} ms)");
            if (run > 0)
            {
                drawn.Add(total);
            }
        }

        await ui.ScreenshotAsync("chart-100k");
        drawn.Sort();
        output.WriteLine($"median of {Runs}: {drawn[Runs / 2]} ms; all: {string.Join(", ", drawn)} ms");
        Assert.Empty(ui.ConsoleErrors);
    }
}
