// The app shell: first-run setup or sign-in with a token, navigation between pages (hash routes, so the
// back button works and a reload stays on the page), light and dark themes.

import { api, ApiError, setToken, token, type FunctionSuggestion, type Org } from "./api";
import { bucketsPage, tokensPage } from "./admin";
import { dashboardPage, dashboardsPage } from "./dashboards";
import { h, message } from "./dom";
import { setFunctions } from "./editor";
import { explorerPage, type Page } from "./explorer";
import { loadBuckets, schema, state } from "./state";

const ThemeKey = "influxlike.theme";
const app = document.getElementById("app")!;
let page: Page | null = null;

function applyTheme(theme: string): void {
  document.documentElement.dataset.theme = theme;
  localStorage.setItem(ThemeKey, theme);
}

function navigate(hash: string): void {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function setupForm(): HTMLElement {
  const status = h("div", { class: "message", role: "status" });
  const input = (id: string, label: string, attrs: Record<string, string | boolean> = {}) => h("label", { class: "field" }, h("span", {}, label), h("input", { id, name: id, required: true, ...attrs }));
  const form = h("form", { class: "panel signin", "aria-label": "First-run setup" },
    h("h1", {}, "Welcome to InfluxLike"),
    h("p", {}, "Set up the first user, organization and bucket. The operator token made here signs you in."),
    input("setup-username", "User name", { value: "admin" }),
    input("setup-org", "Organization"),
    input("setup-bucket", "Bucket"),
    input("setup-retention", "Retention (e.g. 30d, 0 for forever)", { value: "0", required: false }),
    h("button", { type: "submit", class: "primary" }, "Set up"), status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = (id: string) => (form.querySelector<HTMLInputElement>("#" + id)!).value;
    try {
      const days = /^(\d+)d$/.exec(v("setup-retention"));
      const body = await api<{ auth: { token: string } }>("POST", "/api/v2/setup",
        { username: v("setup-username"), org: v("setup-org"), bucket: v("setup-bucket"), retentionPeriodSeconds: days ? Number(days[1]) * 86400 : 0 }, false);
      setToken(body.auth.token);
      await start();
    } catch (err) {
      message(status, (err as Error).message, "error");
    }
  });
  return form;
}

function signInForm(reason = ""): HTMLElement {
  const status = h("div", { class: "message" + (reason ? " error" : ""), role: "status" }, reason);
  const input = h("input", { id: "token", type: "password", autocomplete: "current-password", required: true, "aria-label": "API token" });
  const form = h("form", { class: "panel signin", "aria-label": "Sign in" },
    h("h1", {}, "Sign in to InfluxLike"),
    h("label", { class: "field" }, h("span", {}, "API token"), input),
    h("button", { type: "submit", class: "primary", id: "sign-in" }, "Sign in"), status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    setToken(input.value.trim());
    await start();
  });
  setTimeout(() => input.focus());
  return form;
}

function shell(): HTMLElement {
  const link = (hash: string, label: string) => h("a", { href: hash, class: "nav-link", "data-route": hash }, label);
  const theme = h("button", { type: "button", id: "theme", "aria-label": "Switch between light and dark theme",
    onclick: () => applyTheme(document.documentElement.dataset.theme === "dark" ? "light" : "dark") }, "◐");
  return h("div", { class: "shell" },
    h("header", { class: "topbar" },
      h("a", { href: "#/explorer", class: "brand" }, "InfluxLike"),
      h("nav", { "aria-label": "Main" }, link("#/explorer", "Explore"), link("#/dashboards", "Dashboards"), link("#/buckets", "Buckets"), link("#/tokens", "Tokens")),
      h("span", { class: "org" }, state.org?.name ?? ""),
      theme,
      h("button", { type: "button", id: "sign-out", onclick: () => { setToken(null); void start(); } }, "Sign out")),
    h("main", { id: "main" }));
}

function route(): void {
  const main = document.getElementById("main");
  if (!main) return;
  page?.dispose();
  document.querySelectorAll("dialog").forEach((d) => d.remove());
  const hash = location.hash || "#/explorer";
  const dash = /^#\/dashboards\/(\w+)$/.exec(hash);
  page = dash ? dashboardPage(dash[1])
    : hash === "#/dashboards" ? dashboardsPage(navigate)
    : hash === "#/buckets" ? bucketsPage()
    : hash === "#/tokens" ? tokensPage()
    : explorerPage();
  main.replaceChildren(page.element);
  for (const a of document.querySelectorAll<HTMLAnchorElement>(".nav-link")) {
    if (hash.startsWith(a.dataset.route!)) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.body.dataset.ready = "1";
}

async function start(): Promise<void> {
  page?.dispose();
  page = null;
  document.body.dataset.ready = "0";
  const setup = await api<{ allowed: boolean }>("GET", "/api/v2/setup", undefined, false);
  if (setup.allowed) { app.replaceChildren(setupForm()); document.body.dataset.ready = "1"; return; }
  if (!token()) { app.replaceChildren(signInForm()); document.body.dataset.ready = "1"; return; }
  try {
    const orgs = await api<{ orgs: Org[] }>("GET", "/api/v2/orgs");
    if (orgs.orgs.length === 0) throw new ApiError("this token sees no organization", 403);
    state.org = orgs.orgs[0];
    schema.clear();
    const [, suggestions] = await Promise.all([loadBuckets(), api<{ funcs: FunctionSuggestion[] }>("GET", "/api/v2/query/suggestions")]);
    setFunctions(suggestions.funcs);
  } catch (e) {
    setToken(null);
    app.replaceChildren(signInForm(e instanceof ApiError && e.status === 401 ? "That token is not valid." : (e as Error).message));
    document.body.dataset.ready = "1";
    return;
  }
  app.replaceChildren(shell());
  route();
}

applyTheme(localStorage.getItem(ThemeKey) ?? (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"));
window.addEventListener("hashchange", route);
void start().catch((e) => { app.replaceChildren(h("div", { class: "message error", role: "alert" }, (e as Error).message)); });
