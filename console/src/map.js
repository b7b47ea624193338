// The map: Natural Earth borders (world-atlas, bundled) drawn by Leaflet, the notices' volumes
// styled per party, conflicts outlined in red, live encounters between tracks, distress
// positions, a legend, drawing of a new outline and picking of a point.
// Nothing is fetched from the internet: there is no tile layer.

import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { feature } from "topojson-client";
import countries from "world-atlas/countries-50m.json";
import { describeVolume, escapeHtml } from "./format.js";

export const CONFLICT_COLOUR = "#d00000";
export const ENCOUNTER_COLOUR = "#e08a00";
/** An encounter is urgent (red) in loss of separation or when it is due within this. */
export const URGENT_TIN_S = 60;
const PALETTE = ["#1f5fbf", "#e07b00", "#7b3fb5", "#1b8a3a", "#8c564b", "#c2185b", "#00838f"];

export function partyColours(parties, own) {
  const others = parties.filter((p) => p !== own);
  return new Map([[own, PALETTE[0]], ...others.map((p, i) => [p, PALETTE[1 + (i % 6)]])]);
}

export class NoticeMap {
  constructor(element, { onSelect }) {
    this.map = L.map(element, {
      center: [35.2, 38.0],
      zoom: 6,
      worldCopyJump: true,
      attributionControl: true,
    });
    this.map.attributionControl.setPrefix(false);
    L.geoJSON(feature(countries, countries.objects.countries), {
      renderer: L.canvas({ padding: 0.5 }),
      interactive: false,
      style: { color: "#8a8a80", weight: 0.8, fillColor: "#efece3", fillOpacity: 1 },
      attribution: "Borders: Natural Earth (world-atlas)",
    }).addTo(this.map);
    // Overlays by name, so that later layers (agreed lines and zones, tracks and encounters)
    // slot in beside the notices without touching them.
    this.layers = {
      notices: L.layerGroup().addTo(this.map),
      encounters: L.layerGroup().addTo(this.map),
      marks: L.layerGroup().addTo(this.map),
      picked: L.layerGroup().addTo(this.map),
      draft: L.layerGroup().addTo(this.map),
    };
    this.encounters = [];
    this.legendArgs = [new Map(), null];
    this.onSelect = onSelect;
    this.drawing = false;
    this.volumes = []; // {key, layer, volume, style}
    this.selected = null;
    this.time = null;
    this.legend = L.control({ position: "bottomleft" });
    this.legend.onAdd = () => L.DomUtil.create("div", "legend");
    this.legend.addTo(this.map);
  }

  /** Draw `volumes`: [{key, noticeKey, party, own, ref, index, feature, conflicted, hidden}]. */
  show(volumes, colours, own) {
    this.layers.notices.clearLayers();
    this.volumes = volumes.map((v) => {
      const layer = outline(v.feature).addTo(this.layers.notices);
      layer.bindTooltip(() => tooltip(v), {
        sticky: true, direction: "top", offset: [0, -14], className: "volume-tip",
      });
      layer.on("click", (event) => {
        if (this.drawing) return; // the click is a vertex: let it reach the map
        L.DomEvent.stopPropagation(event);
        this.onSelect(v.noticeKey);
      });
      return { ...v, layer, colour: colours.get(v.party) || "#555" };
    });
    this.restyle();
    this.drawLegend(colours, own);
  }

  /** Draw the open encounters: a line between the two tracks' last reported positions, red in
   * loss of separation or within URGENT_TIN_S of it, amber otherwise; an end dot per party. */
  showEncounters(encounters, colours) {
    this.layers.encounters.clearLayers();
    this.encounters = encounters.filter((e) => !e.closed && at(e.a) && at(e.b));
    for (const e of this.encounters) {
      const urgent = isUrgent(e);
      const line = L.polyline([at(e.a), at(e.b)], {
        color: urgent ? CONFLICT_COLOUR : ENCOUNTER_COLOUR, weight: urgent ? 4 : 3,
        className: `encounter-line${urgent ? " urgent" : ""}`,
      }).addTo(this.layers.encounters);
      line.bindTooltip(encounterTip(e), { sticky: true, className: "volume-tip" });
      for (const side of [e.a, e.b]) {
        L.circleMarker(at(side), {
          radius: 5, color: "#222", weight: 1, fillColor: colours.get(side.party) || "#777",
          fillOpacity: 1,
        }).bindTooltip(`${escapeHtml(side.track)} · ${escapeHtml(side.party || "unattributed")}`)
          .addTo(this.layers.encounters);
      }
    }
    this.drawLegend(...this.legendArgs);
  }

  /** Mark positions (distress calls): [{lat, lon, label}]. */
  showMarks(marks) {
    this.layers.marks.clearLayers();
    for (const m of marks) {
      L.circleMarker([m.lat, m.lon], { radius: 8, color: CONFLICT_COLOUR, weight: 3, fillOpacity: 0 })
        .bindTooltip(escapeHtml(m.label)).addTo(this.layers.marks);
    }
  }

  /** Show a picked point (a distress position being written), or none. */
  showPicked(latlng) {
    this.layers.picked.clearLayers();
    if (latlng) {
      L.circleMarker(latlng, { radius: 7, color: "#111", weight: 2, dashArray: "3 3", fillOpacity: 0 })
        .bindTooltip("picked position").addTo(this.layers.picked);
    }
  }

  /** Let the next click on the map pick a point: `onPick(latlng)`; Escape or `cancel()` ends. */
  pick(onPick) {
    this.cancelPick?.();
    const container = this.map.getContainer();
    const done = () => {
      this.map.off("click", clicked);
      container.classList.remove("drawing");
      this.drawing = false;
      this.cancelPick = null;
    };
    const clicked = (event) => {
      done();
      onPick(event.latlng);
    };
    this.drawing = true;
    container.classList.add("drawing");
    this.map.on("click", clicked);
    this.cancelPick = done;
    return done;
  }

  fitAll() {
    const group = L.featureGroup(this.volumes.map((v) => v.layer));
    if (this.volumes.length) this.map.fitBounds(group.getBounds(), { padding: [20, 20], maxZoom: 9 });
  }

  select(noticeKey, { zoom = false } = {}) {
    this.selected = noticeKey;
    this.restyle();
    const chosen = this.volumes.filter((v) => v.noticeKey === noticeKey);
    if (zoom && chosen.length) {
      this.map.fitBounds(L.featureGroup(chosen.map((v) => v.layer)).getBounds(), {
        padding: [60, 60], maxZoom: 9,
      });
    }
  }

  /** Show the time `t` (a Date), or every time when null: volumes outside it fade. */
  setTime(t) {
    this.time = t;
    this.restyle();
  }

  restyle() {
    for (const v of this.volumes) {
      const props = v.feature.properties;
      const inTime = !this.time
        || (new Date(props.start) <= this.time && this.time < new Date(props.end));
      const chosen = v.noticeKey === this.selected;
      v.layer.setStyle({
        color: v.conflicted ? CONFLICT_COLOUR : v.colour,
        weight: chosen ? 4 : v.conflicted ? 3 : 2,
        dashArray: v.own ? null : "6 4",
        fillColor: v.colour,
        opacity: inTime ? 1 : 0.2,
        fillOpacity: inTime ? (chosen ? 0.45 : v.own ? 0.25 : 0.12) : 0.03,
      });
      if (chosen) v.layer.bringToFront();
    }
  }

  drawLegend(colours, own) {
    this.legendArgs = [colours, own];
    const rows = [...colours].map(([party, colour]) => {
      const style = party === own ? "solid" : "dashed";
      const name = `${escapeHtml(party)}${party === own ? " (you)" : ""}`;
      return `<li><span class="swatch" style="border:2px ${style} ${colour};background:${colour}33"></span>${name}</li>`;
    });
    rows.push(`<li><span class="swatch" style="border:3px solid ${CONFLICT_COLOUR}"></span>in conflict</li>`);
    rows.push(`<li><span class="swatch faded"></span>outside the time shown</li>`);
    rows.push(`<li><span class="swatch line" style="border-color:${ENCOUNTER_COLOUR}"></span>encounter of live tracks</li>`);
    rows.push(`<li><span class="swatch line" style="border-color:${CONFLICT_COLOUR}"></span>encounter: loss of separation or ≤ ${URGENT_TIN_S} s</li>`);
    this.legend.getContainer().innerHTML = `<strong>Legend</strong><ul>${rows.join("")}</ul>`;
  }
}

const at = (side) => (Number.isFinite(side?.lat) && Number.isFinite(side?.lon) ? [side.lat, side.lon] : null);

export function isUrgent(e) {
  return Boolean(e.los) || (Number.isFinite(e.tin_s) && e.tin_s <= URGENT_TIN_S);
}

function encounterTip(e) {
  const side = (s) => `${escapeHtml(s.track)} (${escapeHtml(s.party || "unattributed")}${Number.isFinite(s.altitude_m) ? `, ${Math.round(s.altitude_m).toLocaleString("en-GB")} m` : ""})`;
  const state = e.los ? "<strong>loss of separation</strong>" : `loss of separation in ${Math.round(e.tin_s)} s`;
  return `<strong>Encounter ${e.id}</strong>: ${side(e.a)} × ${side(e.b)}<br>${state}<br>
    closest ${Math.round(e.dcpa_m).toLocaleString("en-GB")} m in ${Math.round(e.tcpa_s)} s`;
}

function outline(feature) {
  const g = feature.geometry;
  if (g.type === "Point") {
    return L.circle([g.coordinates[1], g.coordinates[0]], { radius: feature.properties.radius_m });
  }
  const ring = g.coordinates[0].map(([lon, lat]) => [lat, lon]);
  return L.polygon(ring.slice(0, -1));
}

function tooltip(v) {
  const whose = v.own ? "own" : escapeHtml(v.party);
  const hidden = v.hidden ? "<br><em>not shared: seen through the conflict</em>" : "";
  const title = `<strong>${escapeHtml(v.ref)}</strong> · volume ${v.index} · ${whose}`;
  return `${title}<br>${describeVolume(v.feature.properties)}${hidden}`;
}

/**
 * Drawing a new outline with the mouse: a polygon is clicked vertex by vertex and finished
 * with `finish()` (the Finish button, Enter or a double click); a circle is a click on its
 * centre and a click at its radius. `onChange(shape)` gets {type: "polygon", ring} (closed,
 * [lon, lat]) or {type: "circle", centre, radius_m}, or null while incomplete.
 */
export class Drawing {
  constructor(noticeMap, onChange) {
    this.nm = noticeMap;
    this.map = noticeMap.map;
    this.onChange = onChange;
    this.mode = null;
    this.points = [];
    this.shape = null;
    this._click = (e) => this.click(e.latlng);
    this._move = (e) => this.move(e.latlng);
    this._dbl = (e) => {
      L.DomEvent.stop(e);
      this.finish();
    };
  }

  start(mode) {
    this.stop();
    this.clear();
    this.mode = mode;
    this.nm.drawing = true;
    this.map.doubleClickZoom.disable();
    this.map.getContainer().classList.add("drawing");
    this.map.on("click", this._click).on("mousemove", this._move).on("dblclick", this._dbl);
  }

  stop() {
    this.mode = null;
    this.nm.drawing = false;
    this.map.off("click", this._click).off("mousemove", this._move).off("dblclick", this._dbl);
    this.map.doubleClickZoom.enable();
    this.map.getContainer().classList.remove("drawing");
  }

  clear() {
    this.points = [];
    this.shape = null;
    this.nm.layers.draft.clearLayers();
    this.onChange(null);
  }

  click(latlng) {
    if (this.mode === "polygon") {
      this.points.push(latlng);
      this.render(this.points);
    } else if (this.mode === "circle") {
      if (!this.points.length) {
        this.points = [latlng];
        this.render(this.points, latlng);
      } else {
        this.setShape(circleShape(this.points[0], this.map.distance(this.points[0], latlng)));
        this.stop();
      }
    }
  }

  move(latlng) {
    if (this.mode === "circle" && this.points.length) this.render(this.points, latlng);
  }

  finish() {
    if (this.mode !== "polygon" || this.points.length < 3) return false;
    // a double click also clicked twice: drop repeated vertices
    const ring = this.points
      .map((p) => [round(p.lng), round(p.lat)])
      .filter((p, i, all) => i === 0 || p[0] !== all[i - 1][0] || p[1] !== all[i - 1][1]);
    if (ring.length < 3) return false;
    this.setShape({ type: "polygon", ring: [...ring, ring[0]] });
    this.stop();
    return true;
  }

  /** Show an outline made elsewhere (typed coordinates, or a notice being amended). */
  setShape(shape) {
    this.shape = shape;
    this.nm.layers.draft.clearLayers();
    if (shape) {
      const f = shapeFeature(shape, {});
      outline(f).setStyle(DRAFT).addTo(this.nm.layers.draft);
    }
    this.onChange(shape);
  }

  render(points, cursor) {
    const draft = this.nm.layers.draft;
    draft.clearLayers();
    for (const p of points) L.circleMarker(p, { radius: 4, ...DRAFT }).addTo(draft);
    if (this.mode === "polygon" && points.length > 1) L.polygon(points, DRAFT).addTo(draft);
    if (this.mode === "circle" && cursor && points.length) {
      L.circle(points[0], { radius: this.map.distance(points[0], cursor), ...DRAFT }).addTo(draft);
    }
  }
}

const DRAFT = { color: "#111", weight: 2, dashArray: "4 4", fillColor: "#111", fillOpacity: 0.1 };

const round = (x) => Math.round(x * 1e6) / 1e6;

function circleShape(centre, radius) {
  return { type: "circle", centre: [round(centre.lng), round(centre.lat)], radius_m: Math.round(radius) };
}

/** A GeoJSON Feature for `shape` with `properties`. */
export function shapeFeature(shape, properties) {
  if (shape.type === "circle") {
    return {
      type: "Feature",
      geometry: { type: "Point", coordinates: shape.centre },
      properties: { ...properties, radius_m: shape.radius_m },
    };
  }
  return { type: "Feature", geometry: { type: "Polygon", coordinates: [shape.ring] }, properties };
}

/** The outline of a stored feature as a shape (to amend it). */
export function featureShape(feature) {
  const g = feature.geometry;
  if (g.type === "Point") {
    return { type: "circle", centre: g.coordinates, radius_m: feature.properties.radius_m };
  }
  return { type: "polygon", ring: g.coordinates[0] };
}
