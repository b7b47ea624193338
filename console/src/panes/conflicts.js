// Conflicts that involve the party: both sides, the overlap window, the distances, each
// party's acknowledgement and a button to acknowledge for one's own.

import { escapeHtml as h, window_ } from "../format.js";

export function conflictsPane(element, { state, api, select, refresh }) {
  element.innerHTML = `<h2>Conflicts</h2><div class="conflict-list" role="list"></div>
    <p class="error" role="alert"></p>`;
  const list = element.querySelector(".conflict-list");
  const error = element.querySelector(".error");
  const counter = document.getElementById("conflict-count");

  const side = (ref) => `<span class="cside" style="border-color:${state.colours.get(ref.party) || "#555"}">${h(ref.notice)}/${ref.volume} <small>${h(ref.party)}</small></span>`;

  function item(c) {
    const mine = c.a.party === state.party ? c.a : c.b;
    const acks = [c.a.party, c.b.party].map((p) => `${h(p)} ${c.acknowledged[p] ? "✓" : "…"}`).join(" · ");
    const pending = !c.acknowledged[state.party];
    return `<div role="listitem" class="conflict${pending ? " pending" : ""}" data-conflict-id="${c.id}">
      <div>${side(c.a)} × ${side(c.b)}</div>
      <small>${window_(c.start, c.end)} · horizontal ${Math.round(c.horizontal_m)} m · vertical ${Math.round(c.vertical_m)} m · time gap ${Math.round(c.time_gap_s)} s</small>
      <div class="actions"><span class="acks">acknowledged: ${acks}</span>
        <button type="button" class="show" data-ref="${h(mine.notice)}">Show</button>
        ${pending ? `<button type="button" class="ack" data-id="${c.id}">Acknowledge</button>` : ""}</div>
    </div>`;
  }

  element.addEventListener("click", async (event) => {
    const show = event.target.closest("button.show");
    if (show) {
      const own = state.notices.find((n) => n.party === state.party && n.ref === show.dataset.ref && n.status === "active");
      if (own) select(own.id, { zoom: true });
    }
    const ack = event.target.closest("button.ack");
    if (ack) {
      try {
        await api.acknowledge(Number(ack.dataset.id));
        await refresh();
      } catch (e) {
        error.textContent = e.message;
      }
    }
  });

  return {
    render() {
      const newest = [...state.conflicts].sort((a, b) => b.id - a.id);
      list.innerHTML = newest.length ? newest.map(item).join("") : '<p class="empty">No conflicts.</p>';
      const pending = state.conflicts.filter((c) => !c.acknowledged[state.party]).length;
      counter.textContent = pending ? String(pending) : "";
      counter.title = `${pending} not acknowledged`;
    },
  };
}
