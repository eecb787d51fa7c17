using Microsoft.Playwright;

namespace InfluxLike.Ui.Tests;

/// <summary>
/// One headless Chromium for a test class: the system browser (<c>/usr/bin/chromium</c>, or <c>CHROMIUM_PATH</c>)
/// driven by Playwright, which never downloads one.
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Chromium { get; private set; } = null!;

    /// <summary>Screenshots go here (beside the test binaries, kept as the run's artifacts).</summary>
    public static string ArtifactsDir { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName;

    public async Task InitializeAsync()
    {
        string path = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium";
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"Chromium not found at {path}: run scripts/setup.sh (installs Debian's chromium) or set CHROMIUM_PATH");
        }

        _playwright = await Playwright.CreateAsync();
        Chromium = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = path,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Chromium is not null)
        {
            await Chromium.CloseAsync();
        }

        _playwright?.Dispose();
    }
}

/// <summary>A page of the UI on one server, recording what the browser logs as errors.</summary>
public sealed class UiPage : IAsyncDisposable
{
    private readonly IBrowserContext _context;

    private UiPage(IBrowserContext context, IPage page, Uri baseAddress)
    {
        _context = context;
        Page = page;
        BaseAddress = baseAddress;
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                ConsoleErrors.Add(m.Text);
            }
        };
        page.PageError += (_, e) => ConsoleErrors.Add("uncaught: " + e);
    }

    public IPage Page { get; }

    public Uri BaseAddress { get; }

    public List<string> ConsoleErrors { get; } = [];

    /// <summary>A fresh browser context (own storage); signed in with <paramref name="token"/> when given.</summary>
    public static async Task<UiPage> OpenAsync(Browser browser, Uri baseAddress, string? token, int width = 1280, int height = 900)
    {
        IBrowserContext context = await browser.Chromium.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            AcceptDownloads = true,
        });
        if (token is not null)
        {
            await context.AddInitScriptAsync($"localStorage.getItem('influxlike.token') === null && localStorage.setItem('influxlike.token', '{token}')");
        }

        var page = new UiPage(context, await context.NewPageAsync(), baseAddress);
        page.Page.SetDefaultTimeout(15_000);
        return page;
    }

    public async Task GotoAsync(string hash = "")
    {
        await Page.GotoAsync(new Uri(BaseAddress, "/" + hash).ToString());
        await Page.WaitForSelectorAsync("body[data-ready='1']");
    }

    public Task ScreenshotAsync(string name) =>
        Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Browser.ArtifactsDir, name + ".png"), FullPage = true });

    /// <summary>Replaces the text of the CodeMirror editor inside <paramref name="scope"/>.</summary>
    public async Task SetScriptAsync(string text, string scope = ".explorer")
    {
        ILocator content = Page.Locator(scope + " .cm-content").First;
        await content.ClickAsync();
        await Page.Keyboard.PressAsync("Control+A");
        await Page.Keyboard.PressAsync("Delete");
        await Page.Keyboard.InsertTextAsync(text);
    }

    public Task<string> ScriptAsync(string scope = ".explorer") =>
        Page.EvaluateAsync<string>($"() => [...document.querySelectorAll('{scope} .cm-line')].map(l => l.textContent).join('\\n')");

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}
