// Time range (relative or absolute from/to) and auto-refresh controls.

import type { TimeRangeSpec } from "./api";
import { h, select } from "./dom";
import { durationMs, refreshIntervals, relativeRanges, toLocalInput, bounds } from "./time";

export interface TimePicker {
  element: HTMLElement;
  range(): TimeRangeSpec;
  refresh(): string;
  /** Stops the refresh timer (when the page goes away). */
  dispose(): void;
}

export function timePicker(initial: TimeRangeSpec, initialRefresh: string, onChange: () => void, onTick: () => void): TimePicker {
  let range = initial;
  let refresh = initialRefresh;
  let timer: number | undefined;
  const custom = !(range.start.startsWith("-") && !range.stop && relativeRanges.includes(range.start));
  const [a, b] = bounds(range);
  const from = h("input", { type: "datetime-local", class: "abs-from", "aria-label": "From", value: toLocalInput(a) });
  const to = h("input", { type: "datetime-local", class: "abs-to", "aria-label": "To", value: toLocalInput(b) });
  const applyAbs = h("button", { type: "button", class: "apply-abs" }, "Apply");
  const absolute = h("span", { class: "absolute", hidden: !custom }, from, to, applyAbs);
  const picker = select([...relativeRanges.map((r): [string, string] => [r, "Past " + r.slice(1)]), ["custom", "Custom…"]], custom ? "custom" : range.start,
    { class: "range", "aria-label": "Time range" });
  const refreshSelect = select(refreshIntervals.map((r): [string, string] => [r, r ? "Every " + r : "Refresh off"]), refresh, { class: "refresh", "aria-label": "Auto-refresh" });

  picker.addEventListener("change", () => {
    absolute.hidden = picker.value !== "custom";
    if (picker.value !== "custom") { range = { start: picker.value, stop: null }; onChange(); }
  });
  applyAbs.addEventListener("click", () => {
    if (!from.value || !to.value) return;
    range = { start: new Date(from.value).toISOString(), stop: new Date(to.value).toISOString() };
    onChange();
  });
  const arm = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = refresh ? window.setInterval(() => { if (document.visibilityState === "visible") onTick(); }, durationMs(refresh)) : undefined;
  };
  refreshSelect.addEventListener("change", () => { refresh = refreshSelect.value; arm(); onChange(); });
  arm();
  return {
    element: h("div", { class: "timepicker" }, picker, absolute, refreshSelect),
    range: () => range,
    refresh: () => refresh,
    dispose: () => { if (timer !== undefined) clearInterval(timer); },
  };
}
