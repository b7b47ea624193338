// The time shown on the map: every time, "now" (following the clock), or a moment picked on
// the slider, from 12 hours ago to 3 days ahead in 15-minute steps.

import { utc } from "./format.js";

const STEP_MS = 15 * 60_000;
const BEFORE_MS = 12 * 3600_000;
const AHEAD_MS = 72 * 3600_000;

export function timeBar({ all, now, slider, label, onTime }) {
  const origin = Math.floor((Date.now() - BEFORE_MS) / 3600_000) * 3600_000;
  slider.max = String((BEFORE_MS + AHEAD_MS) / STEP_MS);
  let mode = "all";
  let ticking = null;

  function set(nextMode, t) {
    mode = nextMode;
    all.setAttribute("aria-pressed", String(mode === "all"));
    now.setAttribute("aria-pressed", String(mode === "now"));
    clearInterval(ticking);
    if (mode === "now") ticking = setInterval(() => set("now", new Date()), 30_000);
    if (t) slider.value = String(Math.round((t - origin) / STEP_MS));
    label.value = mode === "all" ? "all times" : `${utc(t.toISOString())}${mode === "now" ? " (now)" : ""}`;
    slider.setAttribute("aria-valuetext", label.value);
    onTime(mode === "all" ? null : t);
  }

  all.addEventListener("click", () => set("all", null));
  now.addEventListener("click", () => set("now", new Date()));
  slider.addEventListener("input", () => set("moment", new Date(origin + Number(slider.value) * STEP_MS)));
  set("all", null);
}
