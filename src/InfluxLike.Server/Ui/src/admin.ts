// Buckets (list, create, change retention, delete) and tokens (list, create with permissions, activate or
// deactivate, delete) through /api/v2/buckets and /api/v2/authorizations.

import { api, type Authorization, type Bucket, type Permission } from "./api";
import { field, h, message } from "./dom";
import type { Page } from "./explorer";
import { loadBuckets, schema, state } from "./state";
import { durationMs } from "./time";

function retentionText(b: Bucket): string {
  const s = b.retentionRules[0]?.everySeconds ?? 0;
  if (s === 0) return "forever";
  return s % 86400 === 0 ? `${s / 86400}d` : s % 3600 === 0 ? `${s / 3600}h` : `${s}s`;
}

function retentionSeconds(text: string): number {
  const t = text.trim();
  if (t === "" || t === "0" || t === "forever") return 0;
  const ms = durationMs(t);
  if (ms === 0) throw new Error(`"${text}" is not a duration (like 30d, 12h) or 0 for forever`);
  return ms / 1000;
}

export function bucketsPage(): Page {
  const rows = h("tbody");
  const status = h("div", { class: "message", role: "status" });
  const name = h("input", { id: "bucket-name", placeholder: "Name", "aria-label": "Bucket name", required: true });
  const retention = h("input", { id: "bucket-retention", placeholder: "Retention: 30d, or 0", "aria-label": "Retention" });
  const guard = async (work: () => Promise<void>) => {
    try { await work(); } catch (e) { message(status, (e as Error).message, "error"); }
  };

  async function load(): Promise<void> {
    const buckets = await loadBuckets();
    rows.replaceChildren(...buckets.map((b) => {
      const input = h("input", { class: "retention", value: retentionText(b), "aria-label": `Retention of ${b.name}`, size: 8 });
      return h("tr", { "data-bucket": b.name },
        h("td", {}, b.name), h("td", {}, input),
        h("td", {},
          h("button", { type: "button", class: "save-retention", onclick: () => void guard(async () => {
            await api("PATCH", "/api/v2/buckets/" + b.id, { retentionRules: [{ type: "expire", everySeconds: retentionSeconds(input.value) }] });
            message(status, `Retention of ${b.name} is now ${input.value || "forever"}.`, "ok");
            await load();
          }) }, "Change retention"),
          " ",
          h("button", { type: "button", class: "danger", onclick: () => void guard(async () => {
            if (!confirm(`Delete bucket "${b.name}" and all its data?`)) return;
            await api("DELETE", "/api/v2/buckets/" + b.id);
            message(status, `Deleted ${b.name}.`, "ok");
            schema.clear();
            await load();
          }) }, "Delete")));
    }));
  }

  const create = (e: Event) => {
    e.preventDefault();
    void guard(async () => {
      await api("POST", "/api/v2/buckets", { orgID: state.org!.id, name: name.value, retentionRules: [{ type: "expire", everySeconds: retentionSeconds(retention.value) }] });
      message(status, `Created ${name.value}.`, "ok");
      name.value = "";
      retention.value = "";
      await load();
    });
  };
  void guard(load);
  return {
    element: h("section", { class: "page", "aria-label": "Buckets" },
      h("h1", {}, "Buckets"),
      h("form", { class: "toolbar", onsubmit: create }, name, retention, h("button", { type: "submit", class: "primary", id: "create-bucket" }, "Create bucket")),
      status,
      h("table", { class: "list", id: "buckets" }, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Retention"), h("th", {}, ""))), rows)),
    dispose: () => undefined,
  };
}

const orgWide = ["buckets", "dashboards", "tasks", "orgs", "authorizations"];

export function tokensPage(): Page {
  const rows = h("tbody");
  const status = h("div", { class: "message", role: "status" });
  const created = h("div", { class: "created-token", hidden: true });
  const description = h("input", { id: "token-description", placeholder: "Description", "aria-label": "Token description" });
  const grid = h("tbody");
  const guard = async (work: () => Promise<void>) => {
    try { await work(); } catch (e) { message(status, (e as Error).message, "error"); }
  };

  const check = (action: string, type: string, id?: string) => h("input", { type: "checkbox", class: "perm", "data-action": action, "data-type": type, "data-id": id ?? "", "aria-label": `${action} ${id ? "bucket " + state.buckets.find((b) => b.id === id)?.name : "all " + type}` });
  function drawGrid(): void {
    grid.replaceChildren(
      ...orgWide.map((t) => h("tr", {}, h("td", {}, `all ${t}`), h("td", {}, check("read", t)), h("td", {}, check("write", t)))),
      ...state.buckets.map((b) => h("tr", {}, h("td", {}, `bucket ${b.name}`), h("td", {}, check("read", "buckets", b.id)), h("td", {}, check("write", "buckets", b.id)))));
  }

  function summary(p: Permission[]): string {
    return p.map((x) => `${x.action} ${x.resource.id ? (state.buckets.find((b) => b.id === x.resource.id)?.name ?? x.resource.id) : x.resource.type}`).join(", ");
  }

  async function load(): Promise<void> {
    const body = await api<{ authorizations: Authorization[] }>("GET", "/api/v2/authorizations?orgID=" + state.org!.id);
    rows.replaceChildren(...body.authorizations.map((a) => h("tr", {},
      h("td", {}, a.description || a.id), h("td", {}, a.status),
      h("td", { class: "perms" }, a.permissions.length > 12 ? `${a.permissions.length} permissions (all access)` : summary(a.permissions)),
      h("td", {},
        h("button", { type: "button", onclick: () => void guard(async () => {
          await api("PATCH", "/api/v2/authorizations/" + a.id, { status: a.status === "active" ? "inactive" : "active" });
          await load();
        }) }, a.status === "active" ? "Deactivate" : "Activate"),
        " ",
        h("button", { type: "button", class: "danger", onclick: () => void guard(async () => {
          if (!confirm(`Delete token "${a.description || a.id}"?`)) return;
          await api("DELETE", "/api/v2/authorizations/" + a.id);
          await load();
        }) }, "Delete")))));
  }

  const create = (e: Event) => {
    e.preventDefault();
    void guard(async () => {
      const permissions: Permission[] = [...grid.querySelectorAll<HTMLInputElement>("input.perm:checked")].map((c) => ({
        action: c.dataset.action as "read" | "write",
        resource: { type: c.dataset.type!, orgID: state.org!.id, ...(c.dataset.id ? { id: c.dataset.id } : {}) },
      }));
      if (permissions.length === 0) throw new Error("Tick at least one permission.");
      const a = await api<Authorization>("POST", "/api/v2/authorizations", { orgID: state.org!.id, description: description.value, permissions });
      created.hidden = false;
      created.replaceChildren(h("p", {}, "The new token, shown this once: "), h("code", { id: "new-token" }, a.token ?? ""));
      description.value = "";
      drawGrid();
      await load();
    });
  };

  void guard(async () => { await loadBuckets(); drawGrid(); await load(); });
  return {
    element: h("section", { class: "page", "aria-label": "Tokens" },
      h("h1", {}, "API tokens"),
      h("form", { class: "panel token-form", onsubmit: create },
        field("Description", description),
        h("table", { class: "list perms-grid" }, h("thead", {}, h("tr", {}, h("th", {}, "Resource"), h("th", {}, "Read"), h("th", {}, "Write"))), grid),
        h("button", { type: "submit", class: "primary", id: "create-token" }, "Create token")),
      created, status,
      h("table", { class: "list", id: "tokens" }, h("thead", {}, h("tr", {}, h("th", {}, "Description"), h("th", {}, "Status"), h("th", {}, "Permissions"), h("th", {}, ""))), rows)),
    dispose: () => undefined,
  };
}
