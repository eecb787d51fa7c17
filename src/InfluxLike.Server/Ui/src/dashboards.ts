// Dashboards: the list (create, import, delete) and one dashboard: a 12-column grid of cells (script +
// visualisation) with move and resize buttons, variables filled by queries and used as v.name or ${name},
// its own time range and refresh, saved on the server, exported and imported as JSON.

import { api, type ApiError, type Cell, type Dashboard, type Variable } from "./api";
import { render, visualisations } from "./charts";
import { download, field, h, message, select } from "./dom";
import { createEditor } from "./editor";
import type { Page } from "./explorer";
import { runScript, schemaSource, state, values } from "./state";
import { timePicker } from "./timepicker";

const Columns = 12;

export function dashboardsPage(navigate: (hash: string) => void): Page {
  const list = h("tbody");
  const status = h("div", { class: "message", role: "status" });
  const name = h("input", { id: "new-dashboard-name", placeholder: "Name", "aria-label": "New dashboard name", required: true });
  const importFile = h("input", { type: "file", id: "import-dashboard", accept: "application/json,.json", "aria-label": "Import dashboard JSON" });

  async function load(): Promise<void> {
    const body = await api<{ dashboards: Dashboard[] }>("GET", "/api/v2/dashboards?orgID=" + state.org!.id);
    list.replaceChildren(...body.dashboards.map((d) => h("tr", {},
      h("td", {}, h("a", { href: "#/dashboards/" + d.id, class: "dashboard-link" }, d.name)),
      h("td", {}, String(d.cells.length)),
      h("td", {}, d.updatedAt ? new Date(d.updatedAt).toLocaleString() : ""),
      h("td", {}, h("button", { type: "button", class: "danger", "aria-label": "Delete " + d.name, onclick: async () => {
        if (!confirm(`Delete dashboard "${d.name}"?`)) return;
        await api("DELETE", "/api/v2/dashboards/" + d.id);
        await load();
      } }, "Delete")))));
  }

  async function create(e: Event): Promise<void> {
    e.preventDefault();
    try {
      const d = await api<Dashboard>("POST", "/api/v2/dashboards", { orgID: state.org!.id, name: name.value, timeRange: { start: "-1h", stop: null }, refresh: "", variables: [], cells: [] });
      navigate("#/dashboards/" + d.id);
    } catch (err) {
      message(status, (err as Error).message, "error");
    }
  }

  importFile.addEventListener("change", async () => {
    const file = importFile.files?.[0];
    if (!file) return;
    try {
      const body = JSON.parse(await file.text()) as Dashboard;
      const d = await api<Dashboard>("POST", "/api/v2/dashboards", { ...body, orgID: state.org!.id });
      message(status, `Imported "${d.name}".`, "ok");
      await load();
    } catch (err) {
      message(status, "Import failed: " + (err as Error).message, "error");
    }
    importFile.value = "";
  });

  void load().catch((e) => message(status, (e as Error).message, "error"));
  return {
    element: h("section", { class: "page", "aria-label": "Dashboards" },
      h("h1", {}, "Dashboards"),
      h("form", { class: "toolbar", onsubmit: (e: Event) => void create(e) }, name, h("button", { type: "submit", class: "primary", id: "create-dashboard" }, "Create dashboard")),
      h("div", { class: "toolbar" }, field("Import JSON", importFile)),
      status,
      h("table", { class: "list" }, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Cells"), h("th", {}, "Updated"), h("th", {}, ""))), list)),
    dispose: () => undefined,
  };
}

export function dashboardPage(id: string): Page {
  let dashboard: Dashboard | null = null;
  let dirty = false;
  const root = h("section", { class: "page dashboard", "aria-label": "Dashboard" });
  const status = h("span", { class: "message", role: "status", id: "save-status" });
  const grid = h("div", { class: "grid", id: "grid" });
  const variableBar = h("div", { class: "variables", "aria-label": "Variables" });
  const selected: Record<string, string> = {};
  let picker: ReturnType<typeof timePicker> | null = null;

  const markDirty = () => { dirty = true; root.dataset.saved = "0"; message(status, "Unsaved changes"); };

  async function save(): Promise<void> {
    if (!dashboard) return;
    dashboard.timeRange = picker!.range();
    dashboard.refresh = picker!.refresh();
    dashboard.variables = dashboard.variables.map((v) => ({ ...v, selected: selected[v.name] ?? v.selected }));
    try {
      dashboard = await api<Dashboard>("PUT", "/api/v2/dashboards/" + dashboard.id, dashboard);
      dirty = false;
      root.dataset.saved = "1";
      message(status, "Saved", "ok");
    } catch (e) {
      message(status, (e as Error).message, "error");
    }
  }

  async function loadVariables(): Promise<void> {
    variableBar.replaceChildren();
    for (const v of dashboard!.variables) {
      const sel = h("select", { class: "variable", "data-name": v.name, "aria-label": "Variable " + v.name });
      variableBar.append(field(v.name, sel));
      try {
        const choices = await values(v.query);
        for (const c of choices) sel.append(h("option", { value: c }, c));
        const want = selected[v.name] ?? v.selected ?? choices[0] ?? "";
        sel.value = choices.includes(want) ? want : choices[0] ?? "";
        selected[v.name] = sel.value;
      } catch (e) {
        sel.append(h("option", { value: "" }, "error: " + (e as Error).message));
      }
      sel.addEventListener("change", () => { selected[v.name] = sel.value; markDirty(); refreshAll(); });
    }
  }

  function refreshAll(): void {
    for (const el of grid.querySelectorAll<HTMLElement>(".cell")) void runCell(el);
  }

  async function runCell(el: HTMLElement): Promise<void> {
    const cell = dashboard!.cells.find((c) => c.id === el.dataset.id);
    const body = el.querySelector<HTMLElement>(".cell-body")!;
    if (!cell) return;
    const startedAt = performance.now();
    try {
      const csv = await runScript(cell.query, picker!.range(), selected);
      render(body, cell.viz, csv, startedAt);
    } catch (e) {
      body.replaceChildren(h("div", { class: "message error", role: "alert" }, (e as ApiError).message));
    }
  }

  function move(cell: Cell, dx: number, dy: number, dw: number, dh: number): void {
    cell.w = Math.max(1, Math.min(Columns, cell.w + dw));
    cell.h = Math.max(1, Math.min(24, cell.h + dh));
    cell.x = Math.max(0, Math.min(Columns - cell.w, cell.x + dx));
    cell.y = Math.max(0, cell.y + dy);
    markDirty();
    drawGrid();
  }

  function drawGrid(): void {
    grid.replaceChildren();
    const cells = dashboard!.cells.slice().sort((a, b) => a.y - b.y || a.x - b.x);
    for (const cell of cells) {
      const btn = (label: string, text: string, fn: () => void) => h("button", { type: "button", class: "icon", title: label, "aria-label": `${label} (${cell.name || "cell"})`, onclick: fn }, text);
      const el = h("article", { class: "cell panel", "data-id": cell.id, style: `grid-column: ${cell.x + 1} / span ${cell.w}; grid-row: ${cell.y + 1} / span ${cell.h};` },
        h("header", { class: "cell-header" },
          h("h2", {}, cell.name || "Untitled"),
          h("div", { class: "cell-tools" },
            btn("Move left", "←", () => move(cell, -1, 0, 0, 0)), btn("Move right", "→", () => move(cell, 1, 0, 0, 0)),
            btn("Move up", "↑", () => move(cell, 0, -1, 0, 0)), btn("Move down", "↓", () => move(cell, 0, 1, 0, 0)),
            btn("Narrower", "⇤", () => move(cell, 0, 0, -1, 0)), btn("Wider", "⇥", () => move(cell, 0, 0, 1, 0)),
            btn("Shorter", "⤒", () => move(cell, 0, 0, 0, -1)), btn("Taller", "⤓", () => move(cell, 0, 0, 0, 1)),
            btn("Edit", "✎", () => editCell(cell)),
            btn("Remove", "✕", () => { dashboard!.cells = dashboard!.cells.filter((c) => c !== cell); markDirty(); drawGrid(); }))),
        h("div", { class: "cell-body" }));
      grid.append(el);
      void runCell(el);
    }
  }

  function editCell(cell: Cell | null): void {
    const isNew = cell === null;
    const draft: Cell = cell ? { ...cell } : { id: "", name: "", x: 0, y: dashboard!.cells.reduce((m, c) => Math.max(m, c.y + c.h), 0), w: 6, h: 4, query: "", viz: "line" };
    const name = h("input", { id: "cell-name-input", value: draft.name, "aria-label": "Cell name" });
    const viz = select(visualisations, draft.viz, { id: "cell-viz", "aria-label": "Visualisation" });
    const preview = h("div", { class: "result cell-preview" });
    const error = h("div", { class: "message" });
    const host = h("div", { class: "editor" });
    const dialog = h("dialog", { class: "cell-dialog", "aria-label": isNew ? "New cell" : "Edit cell" });
    const doPreview = async () => {
      try {
        editor.showError(null);
        message(error, "");
        render(preview, viz.value, await runScript(editor.text(), picker!.range(), selected));
      } catch (e) {
        const err = e as ApiError;
        message(error, err.message, "error");
        editor.showError(err.message, err.line, err.column);
      }
    };
    const editor = createEditor(host, draft.query, schemaSource(() => dashboard!.variables.map((v) => v.name)), () => void doPreview());
    const apply = () => {
      draft.name = name.value;
      draft.viz = viz.value;
      draft.query = editor.text();
      if (!draft.query.trim()) { message(error, "The cell needs a script.", "error"); return; }
      if (isNew) dashboard!.cells.push(draft);
      else Object.assign(cell!, draft);
      dialog.close();
      markDirty();
      drawGrid();
    };
    dialog.append(
      h("h2", {}, isNew ? "New cell" : "Edit cell"),
      h("div", { class: "toolbar" }, field("Name", name), field("Visualisation", viz)),
      host, error, preview,
      h("div", { class: "toolbar end" },
        h("button", { type: "button", onclick: () => void doPreview() }, "Preview"),
        h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
        h("button", { type: "button", class: "primary", id: "apply-cell", onclick: apply }, "Apply")));
    dialog.addEventListener("close", () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    name.focus();
  }

  function editVariables(): void {
    const rows = h("div", { class: "variable-rows" });
    const addRow = (v: Variable) => {
      const row = h("div", { class: "variable-row" },
        h("input", { class: "var-name", value: v.name, placeholder: "name", "aria-label": "Variable name" }),
        h("textarea", { class: "var-query", rows: 2, placeholder: "script whose _value column lists the choices", "aria-label": "Variable query" }, v.query),
        h("button", { type: "button", class: "danger", onclick: () => row.remove(), "aria-label": "Remove variable" }, "✕"));
      rows.append(row);
    };
    dashboard!.variables.forEach(addRow);
    const dialog = h("dialog", { class: "variables-dialog", "aria-label": "Variables" });
    const apply = () => {
      dashboard!.variables = [...rows.querySelectorAll(".variable-row")].map((r) => ({
        name: r.querySelector<HTMLInputElement>(".var-name")!.value.trim(),
        query: r.querySelector<HTMLTextAreaElement>(".var-query")!.value,
        selected: null,
      })).filter((v) => v.name);
      dialog.close();
      markDirty();
      void loadVariables().then(refreshAll);
    };
    dialog.append(
      h("h2", {}, "Variables"),
      h("p", { class: "hint" }, "Each variable's choices are the _value column of its script, e.g. ",
        h("code", {}, 'import "influxdata/influxdb/schema" schema.tagValues(bucket: "metrics", tag: "host")'),
        ". Cells use it as v.name or ${name}."),
      rows,
      h("div", { class: "toolbar end" },
        h("button", { type: "button", id: "add-variable", onclick: () => addRow({ name: "", query: "", selected: null }) }, "Add variable"),
        h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
        h("button", { type: "button", class: "primary", id: "apply-variables", onclick: apply }, "Apply")));
    dialog.addEventListener("close", () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  }

  async function open(): Promise<void> {
    dashboard = await api<Dashboard>("GET", "/api/v2/dashboards/" + id);
    for (const v of dashboard.variables) if (v.selected) selected[v.name] = v.selected;
    picker = timePicker(dashboard.timeRange, dashboard.refresh, () => { markDirty(); refreshAll(); }, refreshAll);
    const title = h("input", { class: "title", id: "dashboard-name", value: dashboard.name, "aria-label": "Dashboard name" });
    title.addEventListener("change", () => { dashboard!.name = title.value; markDirty(); });
    root.dataset.saved = "1";
    root.replaceChildren(
      h("div", { class: "toolbar dashboard-head" }, title, picker.element,
        h("button", { type: "button", id: "add-cell", onclick: () => editCell(null) }, "Add cell"),
        h("button", { type: "button", id: "edit-variables", onclick: editVariables }, "Variables"),
        h("button", { type: "button", id: "export-dashboard", onclick: () => download(`${dashboard!.name}.json`, JSON.stringify(dashboard, null, 2), "application/json") }, "Export"),
        h("button", { type: "button", class: "primary", id: "save-dashboard", onclick: () => void save() }, "Save"),
        status),
      variableBar, grid);
    await loadVariables();
    drawGrid();
  }

  const beforeUnload = (e: BeforeUnloadEvent) => { if (dirty) e.preventDefault(); };
  window.addEventListener("beforeunload", beforeUnload);
  void open().catch((e) => root.replaceChildren(h("div", { class: "message error", role: "alert" }, (e as Error).message)));
  return { element: root, dispose: () => { picker?.dispose(); window.removeEventListener("beforeunload", beforeUnload); } };
}
