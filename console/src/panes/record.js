// The record: the party's copy of the ledger, newest first, whether the chain verifies (checked
// in the browser, see ledger.js) and an export in the format of `deconfliction ledger export`.

import { escapeHtml as h, utc } from "../format.js";

const SHOWN = 200;

export function recordPane(element, { state }) {
  element.innerHTML = `<h2>Record</h2>
    <div class="verdict" role="status" aria-live="polite" data-state="verifying">verifying…</div>
    <button type="button" class="export">Export ledger (JSON lines)</button>
    <ol class="timeline" reversed></ol>`;
  const verdict = element.querySelector(".verdict");
  const timeline = element.querySelector(".timeline");
  let ledger = null;

  element.querySelector(".export").addEventListener("click", () => {
    if (!ledger) return;
    const blob = new Blob([ledger.exportLines()], { type: "application/jsonl" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `ledger-${state.party || "party"}-to-${ledger.lastSeq}.jsonl`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 0);
  });

  function entry(item) {
    if (item.stub) {
      return `<li class="stub" value="${item.seq}"><span class="seq">#${item.seq}</span>
        <span>another party's entry</span> <code title="${item.hash}">${item.hash.slice(0, 12)}…</code></li>`;
    }
    return `<li value="${item.seq}" data-kind="${h(item.kind)}"><span class="seq">#${item.seq}</span>
      <span class="kind">${h(item.kind)}</span> <small>${utc(item.at)} · ${h(item.actor)}</small>
      <small class="what">${h(summary(item))}</small></li>`;
  }

  function showVerdict() {
    const v = ledger.verdict;
    verdict.dataset.state = v.state;
    verdict.textContent = {
      ok: `✓ chain verifies: ${v.checked} entries (${v.stubs} as stubs), up to #${ledger.lastSeq}`,
      verifying: `verifying… ${v.checked} of ${ledger.items.length}`,
      broken: `✗ chain broken at #${v.brokenAt}: ${v.reason}`,
      unavailable: `cannot verify here: ${v.reason}`,
    }[v.state];
  }

  return {
    render(current, fresh) {
      ledger = current;
      if (fresh.length) {
        const last = ledger.items.slice(-SHOWN).reverse();
        timeline.innerHTML = last.map(entry).join("");
      }
      showVerdict();
    },
  };
}

function summary(e) {
  const p = e.payload;
  switch (e.kind) {
    case "notice.filed":
    case "notice.amended":
      return `${p.ref} v${p.version} (${p.party}), ${p.features.length} volume(s)`;
    case "notice.cancelled":
    case "notice.superseded":
      return `${p.ref} v${p.version} (${p.party})`;
    case "conflict.found":
      return p.conflicts.map((c) => `${c.a.notice} × ${c.b.notice}`).join(", ");
    case "conflict.acknowledged":
      return `conflict ${p.id} by ${p.party}`;
    case "officer.added":
      return `${p.officer.name} (${p.officer.role})`;
    case "message.sent":
      return `#${p.id} ${p.precedence} ${p.from || "service"} → ${p.to}: ${p.text.slice(0, 80)}`;
    case "message.received":
      return `#${p.id} by ${p.party}`;
    case "message.acknowledged":
      return `#${p.id} ${p.reply}${p.comment ? `: ${p.comment.slice(0, 60)}` : ""}`;
    case "message.escalated":
      return `#${p.id} to level ${p.level}`;
    case "message.expired":
      return `#${p.id}`;
    case "channel.suspended":
    case "channel.resumed":
      return `${p.channel} (${p.parties.join(" – ")}) by ${p.party}`;
    case "encounter.opened":
    case "encounter.updated":
      return `${p.id}: ${p.a.track} × ${p.b.track}${p.los ? ", loss of separation" : `, in ${Math.round(p.tin_s)} s`}`;
    case "encounter.closed":
      return `${p.id}`;
    default:
      return "";
  }
}
