// Visualisations of a query result: line, stacked area and scatter through uPlot (canvas; 100k+ points),
// single stat, gauge, table and the raw CSV. Each sets data-points (values drawn) or data-rows on its
// container, and data-drawn-ms (Run click to drawn) when the caller gave a start time.

import uPlot from "uplot";
import { column, isNumeric, parseCsv, parseTime, seriesLabel, type ParsedCsv, type Table } from "./csv";
import { download, h } from "./dom";

export const visualisations: [string, string][] = [
  ["line", "Line"], ["area", "Stacked area"], ["scatter", "Scatter"], ["stat", "Single stat"],
  ["gauge", "Gauge"], ["table", "Table"], ["csv", "Raw CSV"],
];

interface Series { label: string; x: Float64Array; y: Float64Array }

const palette = ["#2f7ed8", "#e4572e", "#29a36a", "#f2a541", "#8e5cc4", "#17becf", "#d6467a", "#7f7f7f"];

function numericSeries(tables: Table[]): Series[] {
  const out: Series[] = [];
  for (const t of tables) {
    const time = column(t, "_time");
    const value = column(t, "_value");
    if (!time || !isNumeric(value)) continue;
    const n = t.rows;
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    const tv = time.values;
    const vv = value!.values;
    for (let i = 0; i < n; i++) {
      x[i] = parseTime(tv[i]) / 1000;
      y[i] = vv[i] === "" ? NaN : +vv[i];
    }
    out.push({ label: seriesLabel(t), x, y });
  }
  return out;
}

// uPlot wants one x array for all series: share it when equal (aggregateWindow output), otherwise outer-join.
function aligned(series: Series[]): uPlot.AlignedData {
  const same = series.every((s) => s.x.length === series[0].x.length && s.x.every((v, i) => v === series[0].x[i]));
  if (same) return [series[0].x, ...series.map((s) => Array.from(s.y, (v) => (Number.isNaN(v) ? null : v)))] as uPlot.AlignedData;
  return uPlot.join(series.map((s) => [s.x, Array.from(s.y)] as uPlot.AlignedData));
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

function plot(container: HTMLElement, series: Series[], kind: string, startedAt?: number): void {
  let data = aligned(series);
  if (kind === "area") {
    // Stacked: each series shows the running sum; drawn from the top so lower areas paint over higher ones.
    const sums: (number | null)[][] = [];
    let acc = new Array<number>(data[0].length).fill(0);
    for (let s = 1; s < data.length; s++) {
      acc = acc.map((a, i) => a + ((data[s] as (number | null)[])[i] ?? 0));
      sums.push(acc.slice());
    }
    data = [data[0], ...sums.reverse()] as uPlot.AlignedData;
    series = series.slice().reverse();
  }
  const points = series.reduce((n, s) => n + s.y.reduce((c, v) => (Number.isNaN(v) ? c : c + 1), 0), 0);
  const axis = { stroke: cssVar("--fg-muted"), grid: { stroke: cssVar("--grid"), width: 1 }, ticks: { stroke: cssVar("--grid") } };
  const width = Math.max(200, container.clientWidth || 600);
  const height = Math.max(120, (container.clientHeight || 300) - 40);
  const opts: uPlot.Options = {
    width,
    height,
    legend: { show: series.length <= 12 },
    cursor: { drag: { x: true, y: false } },
    axes: [axis, axis],
    series: [
      {},
      ...series.map((s, i) => {
        const color = palette[i % palette.length];
        return kind === "scatter"
          ? { label: s.label, stroke: color, paths: () => null, points: { show: true, size: 4, fill: color } }
          : { label: s.label, stroke: color, width: 1.5, fill: kind === "area" ? color + "99" : undefined, points: { show: false } };
      }),
    ],
    hooks: {
      draw: [() => {
        container.dataset.points = String(points);
        if (startedAt !== undefined) container.dataset.drawnMs = String(Math.round(performance.now() - startedAt));
        container.dataset.drawn = "1";
      }],
    },
  };
  const chart = new uPlot(opts, data, container);
  const resize = new ResizeObserver(() => {
    const w = container.clientWidth;
    if (w > 0 && Math.abs(w - chart.width) > 4) chart.setSize({ width: w, height: chart.height });
  });
  resize.observe(container);
}

function lastValue(series: Series[]): { value: number; label: string } | null {
  for (const s of series) {
    for (let i = s.y.length - 1; i >= 0; i--) if (!Number.isNaN(s.y[i])) return { value: s.y[i], label: s.label };
  }
  return null;
}

function formatNumber(v: number): string {
  return Math.abs(v) >= 1e6 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : String(Math.round(v * 1000) / 1000);
}

function stat(container: HTMLElement, series: Series[]): void {
  const last = lastValue(series);
  container.append(h("div", { class: "stat" }, h("div", { class: "stat-value" }, last ? formatNumber(last.value) : "–"), h("div", { class: "stat-label" }, last?.label ?? "no data")));
  container.dataset.points = last ? "1" : "0";
}

function gauge(container: HTMLElement, series: Series[]): void {
  const last = lastValue(series);
  const value = last?.value ?? 0;
  const max = value <= 100 && value >= 0 ? 100 : Math.pow(10, Math.ceil(Math.log10(Math.abs(value) || 1)));
  const fraction = Math.max(0, Math.min(1, value / max));
  const angle = Math.PI * (1 - fraction);
  const x = 100 + 80 * Math.cos(angle);
  const y = 100 - 80 * Math.sin(angle);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 200 120");
  svg.setAttribute("class", "gauge");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `gauge ${last ? formatNumber(value) : "no data"} of ${max}`);
  const track = document.createElementNS(ns, "path");
  track.setAttribute("d", "M20 100 A80 80 0 0 1 180 100");
  track.setAttribute("class", "gauge-track");
  const bar = document.createElementNS(ns, "path");
  bar.setAttribute("d", `M20 100 A80 80 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`);
  bar.setAttribute("class", "gauge-bar");
  const text = document.createElementNS(ns, "text");
  text.setAttribute("x", "100");
  text.setAttribute("y", "95");
  text.setAttribute("class", "gauge-text");
  text.textContent = last ? formatNumber(value) : "–";
  svg.append(track, bar, text);
  container.append(svg, h("div", { class: "stat-label" }, `${last?.label ?? "no data"} (0 – ${max})`));
  container.dataset.points = last ? "1" : "0";
}

const MaxTableRows = 1000;

function tableView(container: HTMLElement, tables: Table[]): void {
  let total = 0;
  const wrap = h("div", { class: "tables" });
  for (const t of tables) {
    const shown = Math.min(t.rows, MaxTableRows);
    const rows: HTMLTableRowElement[] = [];
    for (let i = 0; i < shown; i++) rows.push(h("tr", {}, ...t.columns.map((c) => h("td", {}, c.values[i]))));
    wrap.append(
      h("table", { class: "result-table" },
        h("caption", {}, `${seriesLabel(t)} — ${t.rows} rows${t.rows > shown ? ` (first ${shown} shown)` : ""}`),
        h("thead", {}, h("tr", {}, ...t.columns.map((c) => h("th", { scope: "col", title: c.type }, c.name)))),
        h("tbody", {}, ...rows)));
    total += t.rows;
  }
  container.append(wrap);
  container.dataset.rows = String(total);
}

function csvView(container: HTMLElement, csv: string): void {
  const shown = csv.length > 1_000_000 ? csv.slice(0, 1_000_000) + "\n… (cut; download for all of it)" : csv;
  container.append(
    h("div", { class: "toolbar" }, h("button", { type: "button", class: "download-csv", onclick: () => download("result.csv", csv, "text/csv") }, "Download CSV")),
    h("pre", { class: "csv" }, shown));
  container.dataset.rows = String(csv.split("\n").length);
}

/** Draws <paramref name="csv"/> as <paramref name="viz"/> into <paramref name="container"/> (emptied first). */
export function render(container: HTMLElement, viz: string, csv: string, startedAt?: number): ParsedCsv {
  container.replaceChildren();
  for (const k of ["points", "rows", "drawn", "drawnMs"]) delete container.dataset[k];
  container.dataset.viz = viz;
  const parsed = parseCsv(csv);
  if (parsed.error) {
    container.append(h("div", { class: "message error", role: "alert" }, parsed.error));
    return parsed;
  }
  container.dataset.drawn = "1"; // the canvas charts set it again once drawn
  if (viz === "csv") { csvView(container, csv); return parsed; }
  if (viz === "table") { tableView(container, parsed.tables); return parsed; }
  const series = numericSeries(parsed.tables);
  if (series.length === 0) {
    container.append(h("div", { class: "empty" }, parsed.tables.length === 0 ? "No data in this time range." : "No numeric _time/_value columns to draw: try the table view."));
    container.dataset.points = "0";
    return parsed;
  }
  if (viz === "stat") stat(container, series);
  else if (viz === "gauge") gauge(container, series);
  else { delete container.dataset.drawn; plot(container, series, viz, startedAt); }
  return parsed;
}
