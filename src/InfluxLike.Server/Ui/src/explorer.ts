// Data explorer: bucket → measurement → fields → tag filters → aggregate window and function, read live
// from the schema, producing a script in the editor; or the script written by hand. Run with the button or
// Ctrl+Enter; the result drawn as the chosen visualisation.

import { api, ApiError, type Dashboard } from "./api";
import { render, visualisations } from "./charts";
import { clear, field, h, message, select } from "./dom";
import { createEditor, type ScriptEditor } from "./editor";
import { runScript, schema, schemaSource, state } from "./state";
import { timePicker } from "./timepicker";
import { fluxString } from "./time";

const ScriptKey = "influxlike.explorer.script";
const aggregates = ["none", "mean", "median", "max", "min", "sum", "count", "last", "first"];

export interface Page { element: HTMLElement; dispose(): void }

export function explorerPage(): Page {
  let editor: ScriptEditor;
  let running = 0;
  const status = h("div", { class: "message", role: "status" });
  const result = h("div", { class: "result", id: "result" });
  const viz = select(visualisations, "line", { id: "viz", "aria-label": "Visualisation" });
  const picker = timePicker({ start: "-1h", stop: null }, "", () => void run(), () => void run());

  // ---- builder
  const bucket = select([], "", { id: "bucket", "aria-label": "Bucket" });
  const measurement = select([], "", { id: "measurement", "aria-label": "Measurement" });
  const fields = h("select", { id: "fields", multiple: true, size: 5, "aria-label": "Fields" });
  const tagKey = select([], "", { id: "tag-key", "aria-label": "Tag" });
  const tagValues = h("select", { id: "tag-values", multiple: true, size: 5, "aria-label": "Tag values" });
  const aggregate = select(aggregates, "mean", { id: "aggregate", "aria-label": "Aggregate function" });
  const every = select([["auto", "auto (v.windowPeriod)"], "10s", "1m", "5m", "15m", "1h", "1d"], "auto", { id: "every", "aria-label": "Window" });
  const builderStatus = h("div", { class: "message" });

  const fill = (el: HTMLSelectElement, items: string[], keepEmpty = false) => {
    const old = new Set([...el.selectedOptions].map((o) => o.value));
    clear(el);
    if (keepEmpty) el.append(h("option", { value: "" }, "—"));
    for (const i of items) el.append(h("option", { value: i, selected: old.has(i) }, i));
  };
  const guard = async (work: () => Promise<void>) => {
    try { await work(); message(builderStatus, ""); } catch (e) { message(builderStatus, (e as Error).message, "error"); }
  };
  const loadMeasurements = () => guard(async () => {
    fill(measurement, bucket.value ? await schema.measurements(bucket.value) : [], true);
    await loadMeasurement();
  });
  const loadMeasurement = () => guard(async () => {
    const m = measurement.value;
    fill(fields, m ? await schema.fields(bucket.value, m) : []);
    fill(tagKey, m ? await schema.tagKeys(bucket.value, m) : [], true);
    await loadTagValues();
  });
  const loadTagValues = () => guard(async () => {
    fill(tagValues, tagKey.value ? await schema.tagValues(bucket.value, measurement.value, tagKey.value) : []);
  });
  bucket.addEventListener("change", () => void loadMeasurements().then(build));
  measurement.addEventListener("change", () => void loadMeasurement().then(build));
  tagKey.addEventListener("change", () => void loadTagValues().then(build));
  for (const el of [fields, tagValues, aggregate, every]) el.addEventListener("change", build);

  function build(): void {
    if (!bucket.value) return;
    const any = (col: string, vals: string[]) => vals.map((v) => `${col} == ${fluxString(v)}`).join(" or ");
    const lines = [`from(bucket: ${fluxString(bucket.value)})`, "    |> range(start: v.timeRangeStart, stop: v.timeRangeStop)"];
    if (measurement.value) lines.push(`    |> filter(fn: (r) => r._measurement == ${fluxString(measurement.value)})`);
    const f = [...fields.selectedOptions].map((o) => o.value);
    if (f.length) lines.push(`    |> filter(fn: (r) => ${any("r._field", f)})`);
    const tv = [...tagValues.selectedOptions].map((o) => o.value);
    if (tagKey.value && tv.length) lines.push(`    |> filter(fn: (r) => ${any(`r.${tagKey.value}`, tv)})`);
    if (aggregate.value !== "none") {
      const w = every.value === "auto" ? "v.windowPeriod" : every.value;
      lines.push(`    |> aggregateWindow(every: ${w}, fn: ${aggregate.value}, createEmpty: false)`);
      lines.push(`    |> yield(name: ${fluxString(aggregate.value)})`);
    }
    editor.setText(lines.join("\n"));
  }

  // ---- running
  async function run(): Promise<void> {
    const startedAt = performance.now();
    const mine = ++running;
    delete result.dataset.drawn; // set again once this run's result is drawn
    const script = editor.text();
    localStorage.setItem(ScriptKey, script);
    editor.showError(null);
    if (!script.trim()) { message(status, "Write a script or pick a bucket first.", "error"); return; }
    message(status, "Running…");
    result.setAttribute("aria-busy", "true");
    try {
      const csv = await runScript(script, picker.range());
      if (mine !== running) return;
      result.dataset.queryMs = String(Math.round(performance.now() - startedAt));
      const parsed = render(result, viz.value, csv, startedAt);
      const rows = parsed.tables.reduce((n, t) => n + t.rows, 0);
      message(status, parsed.error ? "" : `${parsed.tables.length} tables, ${rows} rows in ${Math.round(performance.now() - startedAt)} ms`, parsed.error ? "error" : "ok");
      lastCsv = csv;
    } catch (e) {
      if (mine !== running) return;
      const err = e as ApiError;
      message(status, err.message, "error");
      editor.showError(err.message, err.line, err.column);
      result.replaceChildren();
    } finally {
      result.removeAttribute("aria-busy");
    }
  }
  let lastCsv: string | null = null;
  viz.addEventListener("change", () => { if (lastCsv !== null) render(result, viz.value, lastCsv); });

  async function format(): Promise<void> {
    try {
      const body = await api<{ query: string }>("POST", "/api/v2/query/format", { query: editor.text() });
      editor.setText(body.query.trimEnd());
      editor.showError(null);
      message(status, "Formatted.", "ok");
    } catch (e) {
      const err = e as ApiError;
      message(status, err.message, "error");
      editor.showError(err.message, err.line, err.column);
    }
  }

  // ---- save to a dashboard
  const target = select([], "", { id: "target-dashboard", "aria-label": "Dashboard to add to" });
  const cellName = h("input", { id: "cell-name", placeholder: "Cell name", "aria-label": "Cell name" });
  const saveStatus = h("span", { class: "message" });
  void api<{ dashboards: Dashboard[] }>("GET", "/api/v2/dashboards?orgID=" + state.org!.id)
    .then((d) => { clear(target); for (const x of d.dashboards) target.append(h("option", { value: x.id }, x.name)); })
    .catch(() => undefined);
  async function addToDashboard(): Promise<void> {
    try {
      const d = await api<Dashboard>("GET", "/api/v2/dashboards/" + target.value);
      const y = d.cells.reduce((m, c) => Math.max(m, c.y + c.h), 0);
      d.cells.push({ id: "", name: cellName.value || "Cell", x: 0, y, w: 6, h: 4, query: editor.text(), viz: viz.value });
      await api("PUT", "/api/v2/dashboards/" + d.id, d);
      message(saveStatus, `Added to ${d.name}.`, "ok");
    } catch (e) {
      message(saveStatus, (e as Error).message, "error");
    }
  }

  const editorHost = h("div", { class: "editor" });
  editor = createEditor(editorHost, localStorage.getItem(ScriptKey) ?? "", schemaSource(), () => void run());
  void (async () => {
    fill(bucket, state.buckets.map((b) => b.name), true);
    // a script kept from last time: show its bucket in the builder, without rewriting the script
    let initial = editor.text();
    const kept = /from\s*\(\s*bucket\s*:\s*"([^"]*)"/.exec(initial)?.[1];
    if (kept && state.buckets.some((b) => b.name === kept)) { bucket.value = kept; await loadMeasurements(); }
    else if (!initial && state.buckets.length) {
      bucket.value = state.buckets[0].name;
      await loadMeasurements();
      // the user may have started typing while the schema loaded: their text wins over the builder's
      if (!editor.text()) { build(); initial = editor.text(); }
    }
    // run the script the page opened with, not one the user is half-way through typing
    if (initial.trim() && editor.text() === initial) await run();
  })();

  const element = h("section", { class: "page explorer", "aria-label": "Data explorer" },
    h("h1", {}, "Data explorer"),
    h("div", { class: "explorer-grid" },
      h("aside", { class: "builder panel", "aria-label": "Query builder" },
        field("Bucket", bucket), field("Measurement", measurement), field("Fields", fields),
        field("Filter by tag", tagKey), field("Tag values", tagValues),
        field("Aggregate", aggregate), field("Window", every), builderStatus),
      h("div", { class: "work" },
        h("div", { class: "toolbar" },
          picker.element, viz,
          h("button", { type: "button", id: "format", onclick: () => void format() }, "Format"),
          h("button", { type: "button", id: "run", class: "primary", title: "Ctrl+Enter", onclick: () => void run() }, "Run")),
        editorHost, status, result,
        h("div", { class: "toolbar save-cell" }, cellName, target, h("button", { type: "button", id: "add-to-dashboard", onclick: () => void addToDashboard() }, "Add to dashboard"), saveStatus))));
  return { element, dispose: () => picker.dispose() };
}
