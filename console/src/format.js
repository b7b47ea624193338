// Words and numbers for people: altitude bands in metres and feet, UTC times, and the
// read-back of an outline (its location said in other words, to catch a misplotted point).

export const FT_PER_M = 1 / 0.3048;

const int = (x) => Math.round(x).toLocaleString("en-GB");

export function band(lower_m, upper_m) {
  return `${int(lower_m)}–${int(upper_m)} m (${int(lower_m * FT_PER_M)}–${int(upper_m * FT_PER_M)} ft)`;
}

/** "25 Nov 06:00Z" */
export function utc(iso) {
  const d = new Date(iso);
  const day = d.toLocaleDateString("en-GB", { day: "2-digit", month: "short", timeZone: "UTC" });
  return `${day} ${d.toISOString().slice(11, 16)}Z`;
}

export function window_(start, end) {
  return `${utc(start)} – ${utc(end)}`;
}

export function describeVolume(p) {
  const lower = p.lower_m ?? p.lower_ft / FT_PER_M;
  const upper = p.upper_m ?? p.upper_ft / FT_PER_M;
  return `${band(lower, upper)}<br>${window_(p.start, p.end)}`;
}

/** Degrees, minutes and seconds with the hemisphere: 35°12′00″N. */
export function dms(value, positive, negative) {
  const hemisphere = value >= 0 ? positive : negative;
  let seconds = Math.round(Math.abs(value) * 3600);
  const degrees = Math.floor(seconds / 3600);
  seconds -= degrees * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  const two = (n) => String(n).padStart(2, "0");
  return `${degrees}°${two(minutes)}′${two(seconds)}″${hemisphere}`;
}

export function position([lon, lat]) {
  return `${dms(lat, "N", "S")} ${dms(lon, "E", "W")}`;
}

const R_M = 6_371_008.8; // mean Earth radius: enough for words, the service measures exactly

function distanceBearing([lon1, lat1], [lon2, lat2]) {
  const rad = Math.PI / 180;
  const [p1, p2, dl] = [lat1 * rad, lat2 * rad, (lon2 - lon1) * rad];
  const a = Math.sin((p2 - p1) / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2;
  const d = 2 * R_M * Math.asin(Math.sqrt(a));
  const y = Math.sin(dl) * Math.cos(p2);
  const x = Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl);
  return [d, (Math.atan2(y, x) / rad + 360) % 360];
}

/** The read-back of a drawn shape: where it is and how big, in words and DMS. */
export function readBack(shape) {
  if (shape.type === "circle") {
    return `Circle of radius ${(shape.radius_m / 1000).toFixed(1)} km (${(shape.radius_m / 1852).toFixed(1)} NM) centred at ${position(shape.centre)}.`;
  }
  const ring = shape.ring.slice(0, -1);
  const corners = ring.map((p, i) => `${i + 1}: ${position(p)}`).join("; ");
  const centre = [ring.reduce((s, p) => s + p[0], 0) / ring.length,
    ring.reduce((s, p) => s + p[1], 0) / ring.length];
  const far = Math.max(...ring.map((p) => distanceBearing(centre, p)[0]));
  return `Polygon of ${ring.length} vertices around ${position(centre)}, reaching ${(far / 1000).toFixed(1)} km from its centre. Vertices ${corners}.`;
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/** "12:03:05Z": the time of day to the second, for hotline traffic. */
export function clock(iso) {
  return `${new Date(iso).toISOString().slice(11, 19)}Z`;
}

/** A time left as "9:41" or "2:59:07" (hours, minutes, seconds). */
export function duration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const [hours, minutes, seconds] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const two = (n) => String(n).padStart(2, "0");
  return hours ? `${hours}:${two(minutes)}:${two(seconds)}` : `${minutes}:${two(seconds)}`;
}

/** The words of a countdown to `deadline` (RFC 3339) at `now` (ms). */
export function countdown(deadline, now = Date.now()) {
  const left = new Date(deadline).getTime() - now;
  return left >= 0 ? `${duration(left)} to answer` : `overdue ${duration(-left)}: escalating`;
}
