using InfluxLike.Server.Tests;
using Microsoft.Playwright;

namespace InfluxLike.Ui.Tests;

/// <summary>A new server: the UI offers first-run setup, which signs the user in with the operator token it makes.</summary>
public sealed class SetupTests(Browser browser) : IClassFixture<Browser>, IAsyncLifetime
{
    private readonly LiveServer _server = LiveServer.With(o => o with { InitOrg = null, InitBucket = null, InitToken = null });

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task First_run_setup_creates_the_organization_and_bucket_and_signs_in()
    {
        await using UiPage ui = await UiPage.OpenAsync(browser, _server.BaseAddress, token: null);
        IPage page = ui.Page;
        await ui.GotoAsync();
        await page.FillAsync("#setup-org", "initech");
        await page.FillAsync("#setup-bucket", "telemetry");
        await ui.ScreenshotAsync("setup");
        await page.ClickAsync("form.signin button[type='submit']");
        await Assertions.Expect(page.Locator(".org")).ToHaveTextAsync("initech");
        await Assertions.Expect(page.Locator("#bucket option[value='telemetry']")).ToHaveCountAsync(1);

        // a second visit finds the stored token; signing out asks for one
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator(".org")).ToHaveTextAsync("initech");
        await page.ClickAsync("#sign-out");
        await Assertions.Expect(page.Locator("#token")).ToBeVisibleAsync();
        Assert.Empty(ui.ConsoleErrors);
    }
}
