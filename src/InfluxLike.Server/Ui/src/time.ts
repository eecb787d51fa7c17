// Time ranges: relative ("-1h") or absolute (RFC 3339), their Flux literals and a window period that gives
// a chart a few hundred points.

import type { TimeRangeSpec } from "./api";

export const relativeRanges = ["-5m", "-15m", "-1h", "-3h", "-6h", "-12h", "-24h", "-2d", "-7d", "-30d"];
export const refreshIntervals = ["", "5s", "10s", "30s", "1m", "5m", "15m"];

const unitMs: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 };

export function durationMs(d: string): number {
  let total = 0;
  const re = /(\d+)(ms|s|m|h|d|w)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(d)) !== null) total += Number(m[1]) * unitMs[m[2]];
  return total;
}

export function rangeLabel(r: TimeRangeSpec): string {
  if (r.start.startsWith("-") && !r.stop) return "Past " + r.start.slice(1);
  return `${r.start} – ${r.stop ?? "now"}`;
}

/** [start, stop] in epoch milliseconds at time now. */
export function bounds(r: TimeRangeSpec, now = Date.now()): [number, number] {
  const at = (s: string | null): number => (!s || s === "now" ? now : s.startsWith("-") ? now - durationMs(s.slice(1)) : Date.parse(s));
  return [at(r.start), at(r.stop)];
}

const nice = [1e3, 5e3, 1e4, 3e4, 6e4, 3e5, 6e5, 18e5, 36e5, 108e5, 216e5, 864e5];

export function windowPeriod(r: TimeRangeSpec): string {
  const [a, b] = bounds(r);
  const wanted = Math.max(1000, (b - a) / 360);
  const ms = nice.find((n) => n >= wanted) ?? 864e5;
  return ms % 864e5 === 0 ? `${ms / 864e5}d` : ms % 36e5 === 0 ? `${ms / 36e5}h` : ms % 6e4 === 0 ? `${ms / 6e4}m` : `${ms / 1e3}s`;
}

function timeLiteral(s: string | null): string {
  if (!s || s === "now") return "now()";
  return s; // a duration like -1h or an RFC 3339 time: both are Flux literals as written
}

export function fluxString(s: string): string {
  return '"' + s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\$\{/g, "\\${") + '"';
}

/**
 * The line put before a script so that it may use v.timeRangeStart, v.timeRangeStop, v.windowPeriod and the
 * dashboard's variables (v.host). It goes after the imports (Flux wants those first); the caller shifts error
 * lines after it by one.
 */
export function withPrelude(script: string, range: TimeRangeSpec, variables: Record<string, string> = {}): { script: string; insertedAt: number } {
  const fields = [`timeRangeStart: ${timeLiteral(range.start)}`, `timeRangeStop: ${timeLiteral(range.stop)}`, `windowPeriod: ${windowPeriod(range)}`];
  for (const [k, v] of Object.entries(variables)) fields.push(`${k}: ${fluxString(v)}`);
  // ${name} in the text is replaced by the value as it is (Grafana's way), for places a v.name cannot go.
  const text = script.replace(/\$\{(\w+)\}/g, (whole, name: string) => (name in variables ? variables[name] : whole));
  const lines = text.split("\n");
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t.startsWith("import ") || t.startsWith("package ")) at = i + 1;
    else if (t !== "" && !t.startsWith("//")) break;
  }
  lines.splice(at, 0, `v = {${fields.join(", ")}}`);
  return { script: lines.join("\n"), insertedAt: at + 1 };
}

export function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}
