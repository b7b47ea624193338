// Notices the party may see: its own first, then the others' shared with it. The selected one
// shows its volumes (altitude band, window) and, if it is the party's and active, Amend/Cancel;
// if it is another party's and active, Object (a FLASH objection on the hotline).

import { band, escapeHtml as h, window_ } from "../format.js";

export function noticesPane(element, { state, api, noticeMap, select, refresh, tabs }) {
  element.innerHTML = `
    <h2>Notices</h2>
    <div class="notice-list" role="list"></div>
    <div class="notice-detail" aria-live="polite"></div>
    <details class="inactive"><summary>Cancelled and superseded</summary>
      <div class="inactive-list" role="list"></div></details>`;
  const list = element.querySelector(".notice-list");
  const detail = element.querySelector(".notice-detail");
  const inactive = element.querySelector(".inactive-list");

  function item(n) {
    const colour = state.colours.get(n.party) || "#555";
    const first = n.features[0].properties;
    const last = n.features[n.features.length - 1].properties;
    const chosen = n.id === state.selected ? ' aria-current="true"' : "";
    return `<button type="button" role="listitem" class="notice" data-id="${n.id}" data-ref="${h(n.ref)}"${chosen}>
      <span class="dot" style="background:${colour}"></span>
      <strong>${h(n.ref)}</strong> v${n.version} · ${h(n.party)}${n.status === "active" ? "" : ` · ${n.status}`}
      <small>${n.features.length} volume${n.features.length > 1 ? "s" : ""} · ${window_(first.start, last.end)}</small>
    </button>`;
  }

  function showDetail(n) {
    if (!n) {
      detail.innerHTML = "";
      return;
    }
    const own = n.party === state.party && n.status === "active";
    const theirs = n.party !== state.party && n.status === "active" && state.me?.role !== "observer";
    const volumes = n.features.map((f, i) => {
      const p = f.properties;
      const shape = f.geometry.type === "Point" ? `circle ${(p.radius_m / 1000).toFixed(1)} km` : "polygon";
      return `<li>volume ${i}: ${shape}, ${band(p.lower_m, p.upper_m)}, ${window_(p.start, p.end)}</li>`;
    }).join("");
    detail.innerHTML = `<h3>${h(n.ref)} <small>v${n.version}, ${h(n.activity)}, ${h(n.status)}${n.late ? ", late" : ""}</small></h3>
      <ul class="volumes">${volumes}</ul>
      ${n.remarks ? `<p class="remarks">${h(n.remarks)}</p>` : ""}
      ${own ? `<div class="actions"><button type="button" class="amend">Amend</button>
               <button type="button" class="cancel danger">Cancel notice</button></div>` : ""}
      ${theirs ? `<div class="actions"><button type="button" class="object danger"
        title="Own forces present: ask ${h(n.party)} to halt (FLASH)">Object…</button></div>` : ""}
      <p class="error" role="alert"></p>`;
    if (theirs) {
      detail.querySelector(".object").addEventListener("click", () => {
        element.dispatchEvent(new CustomEvent("object", { bubbles: true, detail: n }));
      });
    }
    if (!own) return;
    detail.querySelector(".amend").addEventListener("click", () => {
      tabs.show("file");
      element.dispatchEvent(new CustomEvent("amend", { bubbles: true, detail: n }));
    });
    detail.querySelector(".cancel").addEventListener("click", async () => {
      if (!confirm(`Cancel ${n.ref}? Its conflicts stay on record.`)) return;
      try {
        await api.cancel(n.id);
        await refresh();
      } catch (error) {
        detail.querySelector(".error").textContent = error.message;
      }
    });
  }

  element.addEventListener("click", (event) => {
    const button = event.target.closest("button.notice");
    if (button) select(Number(button.dataset.id), { zoom: true });
  });

  return {
    render() {
      const ordered = [...state.notices].sort((a, b) =>
        (b.party === state.party) - (a.party === state.party) || a.ref.localeCompare(b.ref));
      const active = ordered.filter((n) => n.status === "active");
      list.innerHTML = active.length ? active.map(item).join("")
        : '<p class="empty">No notices yet. File one from the File tab.</p>';
      inactive.innerHTML = ordered.filter((n) => n.status !== "active").map(item).join("");
      showDetail(state.notices.find((n) => n.id === state.selected));
      noticeMap.restyle();
    },
  };
}
