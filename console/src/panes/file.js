// Filing a notice: draw a polygon or a circle on the map (or type its coordinates), set the
// altitude band in feet or metres and the UTC window; "Read back" asks the service
// (POST /v1/readback) to say it back — MGRS, degrees and minutes, distance and bearing from a
// named place, band and window — with its conflicts against the notices the party sees, and only
// then "Confirm filing" files it. Any change after the read-back asks for a new one. Amending
// loads one volume of an own notice into the same form.

import { band, escapeHtml as h, FT_PER_M, readBack, window_ } from "../format.js";
import { featureShape, shapeFeature } from "../map.js";

const ACTIVITIES = ["air", "ground", "uav", "maritime", "humanitarian"];

export function filePane(element, { state, api, drawing, select, refresh }) {
  element.innerHTML = `
    <h2 class="file-title">File a notice</h2>
    <p class="amending" hidden></p>
    <form class="file-form" novalidate>
      <fieldset class="outline">
        <legend>Outline</legend>
        <div class="row">
          <button type="button" data-draw="polygon">Draw polygon</button>
          <button type="button" data-draw="circle">Draw circle</button>
          <button type="button" class="finish" disabled>Finish polygon</button>
          <button type="button" class="clear">Clear</button>
        </div>
        <p class="hint draw-hint">Polygon: click each vertex, then Finish (or double-click).
          Circle: click the centre, then a point on its edge.</p>
        <label for="coords">…or type it (lon lat pairs, or lon lat radius_km)</label>
        <div class="row"><input id="coords" name="coords" placeholder="38.1 35.2, 38.6 35.2, 38.6 35.6">
          <button type="button" class="use-coords">Use</button></div>
      </fieldset>
      <div class="grid">
        <label>Reference <input name="ref" required maxlength="64"></label>
        <label>Activity <select name="activity">${ACTIVITIES.map((a) => `<option>${a}</option>`).join("")}</select></label>
        <label>Altitude unit <select name="unit"><option value="ft">ft</option><option value="m">m</option></select></label>
        <label class="half">Lower <input name="lower" type="number" step="any" value="10000" required></label>
        <label class="half">Upper <input name="upper" type="number" step="any" value="20000" required></label>
        <label class="half">Start (UTC) <input name="start" type="datetime-local" required></label>
        <label class="half">End (UTC) <input name="end" type="datetime-local" required></label>
      </div>
      <p class="drawn" aria-live="polite"><em>Draw or type an outline.</em></p>
      <div class="row"><button type="submit" class="primary file-submit">Read back</button>
        <button type="button" class="stop-amending" hidden>Back to a new notice</button></div>
      <p class="error" role="alert"></p>
      <section class="readback" aria-live="polite" aria-label="The service's read-back" hidden></section>
    </form>
    <div class="result" aria-live="polite"></div>`;
  const form = element.querySelector("form");
  const $ = (selector) => element.querySelector(selector);
  const finish = $(".finish");
  let shape = null;
  let amending = null; // {notice, index}
  let checked = null; // the JSON of the body the shown read-back is of

  function defaults() {
    const start = new Date(Math.ceil(Date.now() / 3600_000) * 3600_000 + 2 * 3600_000);
    form.start.value = localUtc(start);
    form.end.value = localUtc(new Date(start.getTime() + 2 * 3600_000));
    form.ref.value = `${(state.party || "X").slice(0, 1).toUpperCase()}-${start.toISOString().slice(5, 16).replace(/[-T:]/g, "")}`;
  }

  element.addEventListener("click", (event) => {
    const mode = event.target.dataset?.draw;
    if (mode) {
      drawing.start(mode);
      finish.disabled = mode !== "polygon";
      $(".draw-hint").classList.add("active");
    }
  });
  finish.addEventListener("click", () => {
    if (drawing.finish()) finish.disabled = true;
  });
  $(".clear").addEventListener("click", () => {
    drawing.stop();
    drawing.clear();
  });
  $(".use-coords").addEventListener("click", () => {
    try {
      drawing.stop();
      drawing.setShape(parseCoordinates(form.coords.value));
      $(".error").textContent = "";
    } catch (error) {
      $(".error").textContent = error.message;
    }
  });
  document.addEventListener("keydown", (event) => {
    if (!drawing.mode) return;
    if (event.key === "Escape") drawing.stop();
    if (event.key === "Enter" && drawing.finish()) finish.disabled = true;
  });
  form.addEventListener("input", () => {
    showReadBack();
    forget();
  });
  $(".stop-amending").addEventListener("click", () => startNew());

  function volumeProperties() {
    const unit = form.unit.value;
    const lower = Number(form.lower.value);
    const upper = Number(form.upper.value);
    return {
      notice: form.ref.value.trim(),
      activity: form.activity.value,
      start: `${form.start.value}:00Z`,
      end: `${form.end.value}:00Z`,
      [`lower_${unit}`]: lower,
      [`upper_${unit}`]: upper,
    };
  }

  /** The shown read-back no longer says what the form holds: filing needs a new one. */
  function forget() {
    checked = null;
    $(".readback").hidden = true;
    $(".readback").innerHTML = "";
  }

  function showReadBack() {
    const out = $(".drawn");
    if (!shape) {
      out.innerHTML = "<em>Draw or type an outline.</em>";
      return;
    }
    const p = volumeProperties();
    const factor = form.unit.value === "ft" ? 1 / FT_PER_M : 1;
    const fine = form.start.value && form.end.value && form.lower.value && form.upper.value;
    out.innerHTML = `<strong>Drawn:</strong> ${h(readBack(shape))}
      ${fine ? `<br>${band(Number(form.lower.value) * factor, Number(form.upper.value) * factor)}, ${window_(p.start, p.end)}` : ""}`;
  }

  /** The notice the form holds, as GeoJSON for the read-back and for filing. */
  function collection() {
    const drawn = shapeFeature(shape, volumeProperties());
    let features = [drawn];
    if (amending) {
      features = amending.notice.features.map((f, i) => (i === amending.index ? drawn : {
        ...f, properties: { ...f.properties, notice: drawn.properties.notice, activity: drawn.properties.activity },
      }));
    }
    const body = { type: "FeatureCollection", features };
    if (amending?.notice.shared_with) body.shared_with = amending.notice.shared_with;
    return body;
  }

  async function busy(button, work) {
    $(".error").textContent = "";
    button.disabled = true;
    try {
      await work();
    } catch (error) {
      $(".error").textContent = error.message;
    } finally {
      button.disabled = false;
    }
  }

  // step 1: the service reads the notice back; nothing is stored
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!shape) {
      $(".error").textContent = "Draw or type an outline first.";
      return;
    }
    const body = collection();
    busy($(".file-submit"), async () => {
      forget();
      const answer = await api.readback(body);
      checked = JSON.stringify(body);
      showServiceReadBack(answer);
    });
  });

  // step 2: the officer has read it, and files exactly what was read back
  element.addEventListener("click", (event) => {
    const confirm = event.target.closest("button.confirm-file");
    if (!confirm) return;
    const body = collection();
    if (JSON.stringify(body) !== checked) {
      forget();
      $(".error").textContent = "The notice changed since its read-back: read it back again.";
      return;
    }
    busy(confirm, async () => {
      const filed = amending ? await api.amend(amending.notice.id, body) : await api.file(body);
      showResult(filed);
      startNew();
      await refresh();
      select(filed.notice.id);
    });
  });

  function showServiceReadBack({ readback, conflicts }) {
    const volumes = readback.map((r, i) => `<li class="rb-volume">${readBackVolume(r, i)}</li>`).join("");
    const list = conflicts.map((c) => {
      const other = c.a.party === state.party ? c.b : c.a;
      return `<li>with <strong>${h(other.notice)}</strong>/${other.volume} (${h(other.party)}), ${window_(c.start, c.end)},
        horizontal ${Math.round(c.horizontal_m).toLocaleString("en-GB")} m, vertical ${Math.round(c.vertical_m).toLocaleString("en-GB")} m</li>`;
    }).join("");
    const verdict = conflicts.length
      ? `<p class="rb-conflicts"><strong class="bad">${conflicts.length} conflict${conflicts.length > 1 ? "s" : ""}</strong> with notices you see:</p><ul class="rb-conflict-list">${list}</ul>`
      : '<p class="rb-conflicts">No conflict with the notices you see.</p>';
    const gazetteer = readback[0]?.place.gazetteer || "GeoNames";
    const out = $(".readback");
    out.innerHTML = `<h3>Read-back by the service</h3>
      <ul class="rb-volumes">${volumes}</ul>
      ${verdict}
      <p class="hint">Notices not shared with you are checked when you file.</p>
      <p class="credit">Place names: <a href="https://www.geonames.org/" target="_blank" rel="noopener">GeoNames</a>,
        <a href="https://creativecommons.org/licenses/by/4.0/" target="_blank" rel="noopener">CC BY 4.0</a>
        <small>(${h(gazetteer)})</small></p>
      <div class="row"><button type="button" class="primary confirm-file">Confirm filing</button>
        <span class="hint">or change the form and read it back again</span></div>`;
    out.hidden = false;
    out.querySelector(".confirm-file").focus();
  }

  function showResult({ notice, conflicts }) {
    const list = conflicts.map((c) => {
      const other = c.a.party === state.party ? c.b : c.a;
      return `<li>with <strong>${h(other.notice)}</strong>/${other.volume} (${h(other.party)}), ${window_(c.start, c.end)}</li>`;
    }).join("");
    $(".result").innerHTML = `<p class="filed" data-ref="${h(notice.ref)}">Filed <strong>${h(notice.ref)}</strong> v${notice.version}${notice.late ? " (late)" : ""}:
      ${conflicts.length ? `<strong class="bad">${conflicts.length} conflict${conflicts.length > 1 ? "s" : ""}</strong>` : "no conflict"}.</p>
      ${list ? `<ul class="result-conflicts">${list}</ul>` : ""}`;
  }

  function startNew() {
    amending = null;
    $(".file-title").textContent = "File a notice";
    $(".amending").hidden = true;
    $(".stop-amending").hidden = true;
    $(".file-submit").textContent = "Read back";
    form.ref.readOnly = false;
    forget();
    drawing.stop();
    drawing.clear();
    defaults();
  }

  function amend(notice, index = 0) {
    amending = { notice, index };
    const f = notice.features[index];
    const p = f.properties;
    $(".file-title").textContent = `Amend ${notice.ref}`;
    const choices = notice.features.map((_, i) => `<option value="${i}"${i === index ? " selected" : ""}>volume ${i}</option>`).join("");
    $(".amending").innerHTML = `Amending <strong>${h(notice.ref)}</strong> v${notice.version}:
      <label>edit <select class="volume-choice">${choices}</select></label>; the other volumes stay as they are.`;
    $(".amending").hidden = false;
    $(".volume-choice").addEventListener("change", (e) => amend(notice, Number(e.target.value)));
    $(".stop-amending").hidden = false;
    $(".file-submit").textContent = "Read back amendment";
    forget();
    form.ref.value = notice.ref;
    form.ref.readOnly = true;
    form.activity.value = notice.activity;
    form.unit.value = "m";
    form.lower.value = String(p.lower_m);
    form.upper.value = String(p.upper_m);
    form.start.value = p.start.slice(0, 16);
    form.end.value = p.end.slice(0, 16);
    drawing.stop();
    drawing.setShape(featureShape(f));
  }

  document.addEventListener("amend", (event) => amend(event.detail));
  defaults();

  return {
    onShape(next) {
      shape = next;
      forget();
      if (next) form.coords.value = coordinatesText(next);
      showReadBack();
    },
  };
}

/** One volume's read-back: where (MGRS, degrees and minutes, from a named place), how big,
 * how high and when. */
function readBackVolume(r, index) {
  const km = (m) => (m / 1000).toFixed(1);
  const outline = r.outline.kind === "circle"
    ? `circle of radius ${km(r.outline.radius_m)} km`
    : `polygon of ${r.outline.vertices} vertices reaching ${km(r.outline.radius_m)} km from its centre`;
  const bearing = String(Math.round(r.place.bearing_deg) % 360).padStart(3, "0");
  return `<strong>Volume ${index}</strong>: ${outline}<br>
    centre <span class="mgrs">MGRS ${h(spacedMgrs(r.centre.mgrs))}</span> · <span class="dm">${h(r.centre.lat_dm)} ${h(r.centre.lon_dm)}</span><br>
    <span class="place">${h(r.place.phrase)}</span>, ${h(r.place.country)} <small>(bearing ${bearing}° true from ${h(r.place.name)})</small><br>
    ${band(r.altitude.lower_m, r.altitude.upper_m)} · ${window_(r.time.start, r.time.end)}`;
}

/** "37SDU08969568" as "37S DU 0896 9568". */
export function spacedMgrs(mgrs) {
  const m = /^(\d{1,2}[A-Z])([A-Z]{2})(\d*)$/.exec(mgrs);
  if (!m) return mgrs;
  const half = m[3].length / 2;
  return [m[1], m[2], m[3].slice(0, half), m[3].slice(half)].filter(Boolean).join(" ");
}

/** "2026-11-25T06:00" for a datetime-local input that holds UTC. */
function localUtc(date) {
  return date.toISOString().slice(0, 16);
}

function parseCoordinates(text) {
  const numbers = text.split(/[\s,;]+/).filter(Boolean).map(Number);
  if (numbers.some(Number.isNaN)) throw new Error("Coordinates must be numbers: lon lat, lon lat, …");
  if (numbers.length === 3) {
    return { type: "circle", centre: [numbers[0], numbers[1]], radius_m: numbers[2] * 1000 };
  }
  if (numbers.length < 6 || numbers.length % 2) {
    throw new Error("Give at least three lon lat pairs, or lon lat radius_km for a circle.");
  }
  const ring = [];
  for (let i = 0; i < numbers.length; i += 2) ring.push([numbers[i], numbers[i + 1]]);
  const [first, last] = [ring[0], ring[ring.length - 1]];
  if (ring.length > 3 && first[0] === last[0] && first[1] === last[1]) ring.pop(); // typed closed
  return { type: "polygon", ring: [...ring, ring[0]] };
}

function coordinatesText(shape) {
  if (shape.type === "circle") return `${shape.centre[0]} ${shape.centre[1]} ${shape.radius_m / 1000}`;
  return shape.ring.slice(0, -1).map(([lon, lat]) => `${lon} ${lat}`).join(", ");
}
