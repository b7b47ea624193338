// The hotline pane: the party's channels (suspend, resume), its messages by precedence with a
// live countdown to each deadline, receipt, answer and escalations, ROGER/WILCO/UNABLE for what
// is addressed to the party, and a form to send text, line checks, objections (from a notice's
// "Object" button) and distress calls (a position picked on the map).
//
// The views are folded by the service (GET /v1/messages, /v1/channels): a message.* or channel.*
// entry on the feed refetches them. The page posts receipts for messages to its party that are
// still `sent`, so the sender sees them arrive. An open FLASH to the party raises the alarm in
// the header (and a sound, see alarm.js) until it is answered.

import { soundAlarm } from "../alarm.js";
import { clock, countdown, escapeHtml as h } from "../format.js";

const PRECEDENCES = ["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"];
const RANK = Object.fromEntries(PRECEDENCES.map((p, i) => [p, i]));
const OPEN = new Set(["sent", "received", "escalated"]);
const KINDS = { text: "text", line_check: "line check", objection: "objection", distress: "distress" };
const FORCED_FLASH = new Set(["objection", "distress"]);
const SERVICE_KINDS = { conflict: "conflict", late_notice: "late notice", encounter: "encounter" };
const REPLIES = { ROGER: "understood", WILCO: "will comply", UNABLE: "cannot comply" };
const OBJECTION_REPLIES = { ROGER: "understood", WILCO: "halt confirmed", UNABLE: "halt refused" };

export function hotlinePane(element, { state, api, noticeMap, drawing, tabs, alarm }) {
  element.innerHTML = `<h2>Hotline</h2>
    <section class="channels" aria-labelledby="channels-title">
      <h3 id="channels-title">Channels</h3><ul class="channel-list"></ul>
    </section>
    <details class="compose-box">
      <summary>New message</summary>
      ${composeForm()}
    </details>
    <h3>Messages</h3>
    <div class="message-list" role="list" aria-live="polite"></div>
    <p class="error list-error" role="alert"></p>`;
  const $ = (selector) => element.querySelector(selector);
  const form = $(".compose");
  const list = $(".message-list");
  const counter = document.getElementById("hotline-count");
  const acts = () => state.me?.role !== "observer";

  let messages = [];
  let channels = [];
  let loaded = false;
  let generation = 0;
  const cards = new Map(); // id -> {key, el}
  const asked = new Set(); // ids whose receipt this page has posted
  const alarmed = new Set(); // FLASH ids (and escalations) already sounded
  const fresh = new Set(); // ids escalated while this page watched: highlighted
  let objecting = null; // {id, ref, party}: the notice an objection is about
  let precedence = "ROUTINE"; // the officer's choice, kept while a kind forces FLASH
  let cancelPick = null;

  // ---- loading ---------------------------------------------------------------------------

  async function load() {
    const mine = ++generation;
    try {
      const [m, c] = await Promise.all([api.messages(), api.channels()]);
      if (mine !== generation) return; // a newer load is on its way
      [messages, channels] = [m, c];
      $(".list-error").textContent = "";
    } catch (error) {
      $(".list-error").textContent = `Cannot read the hotline: ${error.message}`;
      return;
    }
    renderChannels();
    renderMessages();
    raiseAlarm();
    noticeMap.showMarks(messages.filter((x) => x.position).map((x) => ({
      ...x.position, label: `distress #${x.id} from ${x.from || "the service"}: ${x.text}`,
    })));
    loaded = true;
    postReceipts();
  }

  let timer = null;
  function scheduleLoad() {
    clearTimeout(timer);
    timer = setTimeout(load, 60);
  }

  /** Receipts for what reached this page and is still `sent`: the sender sees it arrive. */
  async function postReceipts() {
    const ids = messages.filter((m) => m.to === state.party && m.status === "sent" && !asked.has(m.id))
      .map((m) => m.id);
    if (!ids.length) return;
    ids.forEach((id) => asked.add(id));
    try {
      await api.receipts(ids);
    } catch (error) {
      ids.forEach((id) => asked.delete(id)); // tried again at the next load
      console.warn("receipts failed:", error.message);
    }
  }

  // ---- channels --------------------------------------------------------------------------

  function renderChannels() {
    $(".channel-list").innerHTML = channels.map((c) => {
      const suspended = c.suspended_by !== null;
      const by = c.suspended_by === state.party ? "by you" : `by ${h(c.suspended_by)}`;
      const action = suspended ? "resume" : "suspend";
      return `<li class="channel" data-channel="${h(c.channel)}" data-with="${h(c.with)}" data-state="${suspended ? "suspended" : "open"}">
        <strong>${h(c.channel)}</strong> with ${h(c.with)}
        <span class="chan-state">${suspended ? `suspended ${by}: FLASH and distress only` : "open"}</span>
        ${acts() ? `<button type="button" class="chan-action" data-action="${action}"
          aria-label="${action === "suspend" ? "Suspend" : "Resume"} ${h(c.channel)} with ${h(c.with)}">${action === "suspend" ? "Suspend" : "Resume"}</button>` : ""}
      </li>`;
    }).join("") || '<li class="empty">No channel: the agreement names none for this party.</li>';
    fillRecipients();
  }

  $(".channel-list").addEventListener("click", async (event) => {
    const button = event.target.closest(".chan-action");
    if (!button) return;
    const row = button.closest(".channel");
    button.disabled = true;
    try {
      await api.setChannel(row.dataset.with, row.dataset.channel, button.dataset.action);
      await load();
    } catch (error) {
      $(".list-error").textContent = error.message;
      button.disabled = false;
    }
  });

  // ---- messages --------------------------------------------------------------------------

  /** 0: waiting for this party's answer (an expired one can still be answered); 1: waiting
   * for the other party's; 2: closed. */
  function group(m) {
    if (m.to === state.party && (OPEN.has(m.status) || m.status === "expired")) return 0;
    return OPEN.has(m.status) ? 1 : 2;
  }

  function order(a, b) {
    const [ga, gb] = [group(a), group(b)];
    if (ga !== gb) return ga - gb;
    if (ga === 2) return b.seq - a.seq;
    return RANK[a.precedence] - RANK[b.precedence] || a.deadline.localeCompare(b.deadline);
  }

  function renderMessages() {
    const sorted = [...messages].sort(order);
    const els = sorted.map((m) => {
      const key = JSON.stringify([m, fresh.has(m.id)]);
      let card = cards.get(m.id);
      if (!card || card.key !== key) {
        const holder = document.createElement("div");
        holder.innerHTML = messageCard(m);
        const el = holder.firstElementChild;
        if (card) keepReason(card.el, el);
        card = { key, el };
        cards.set(m.id, card);
      }
      return card.el;
    });
    const same = els.length === list.children.length && els.every((el, i) => list.children[i] === el);
    if (!same) list.replaceChildren(...els);
    if (!els.length) list.innerHTML = '<p class="empty">No messages yet.</p>';
    const waiting = messages.filter((m) => m.to === state.party && group(m) === 0).length;
    counter.textContent = waiting ? String(waiting) : "";
    counter.title = `${waiting} awaiting your answer`;
    tick();
  }

  /** An UNABLE reason being typed, and what was said about it, survive a re-render of its card
   * (a receipt or an escalation arriving on the feed re-renders it). */
  function keepReason(from, to) {
    const before = from.querySelector(".unable-form");
    const after = to.querySelector(".unable-form");
    if (!before || !after || before.hidden) return;
    after.hidden = false;
    after.reason.value = before.reason.value;
    const said = from.querySelector(".error")?.textContent;
    const error = to.querySelector(".error");
    if (said && error && !error.textContent) error.textContent = said;
  }

  function messageCard(m) {
    const from = m.from === null ? "the service" : m.from;
    const kind = KINDS[m.kind] || SERVICE_KINDS[m.kind] || m.kind;
    const towards = m.to === state.party ? "to you" : `to ${h(m.to)}`;
    const canAnswer = m.to === state.party && m.status !== "acknowledged" && acts();
    const open = OPEN.has(m.status);
    return `<article role="listitem" class="message${open ? " open" : ""}${fresh.has(m.id) ? " escalated-now" : ""}"
        data-id="${m.id}" data-precedence="${m.precedence}" data-status="${m.status}" data-kind="${h(m.kind)}">
      <header><span class="prec prec-${m.precedence}">${m.precedence}</span>
        <span class="route">from ${h(from)} ${towards}</span>
        <span class="status status-${m.status}">${statusWords(m)}</span>
        <small class="meta">${h(m.channel ? `${m.channel} channel` : "service traffic")} · ${h(kind)} · #${m.id}${m.signed ? " · signed" : ""}</small></header>
      <p class="text">${h(m.text)}</p>
      ${m.translation ? `<p class="translation"><small>translation:</small> ${h(m.translation)}</p>` : ""}
      ${about(m)}
      ${open ? `<p class="clock"><span class="countdown" data-deadline="${h(m.deadline)}">${countdown(m.deadline)}</span>
        <small>deadline ${clock(m.deadline)}, level ${m.level}</small></p>` : ""}
      <ul class="trail">${trail(m)}</ul>
      ${canAnswer ? answerButtons(m) : ""}
      <p class="error" role="alert"></p>
    </article>`;
  }

  function statusWords(m) {
    if (m.status === "acknowledged") return `${m.acknowledged.reply}`;
    if (m.status === "escalated") return `escalated to level ${m.level}`;
    return m.status;
  }

  function about(m) {
    const bits = [];
    if (m.notice !== undefined && m.notice !== null) {
      const n = state.notices.find((x) => x.id === m.notice);
      bits.push(`about notice <strong>${h(n ? n.ref : `#${m.notice}`)}</strong>${n ? ` (${h(n.party)})` : ""}`);
    }
    if (m.position) {
      bits.push(`position ${m.position.lat.toFixed(4)}, ${m.position.lon.toFixed(4)}
        <button type="button" class="show-position" data-lat="${m.position.lat}" data-lon="${m.position.lon}">Show on map</button>`);
    }
    if (m.conflicts?.length) bits.push(`about conflict${m.conflicts.length > 1 ? "s" : ""} ${m.conflicts.map((id) => `#${id}`).join(", ")}`);
    if (m.channel_suspended_by) bits.push(`on a channel suspended by ${h(m.channel_suspended_by)}`);
    return bits.length ? `<p class="about">${bits.join(" · ")}</p>` : "";
  }

  function trail(m) {
    const rows = [`<li>sent ${clock(m.sent_at)}${m.sent_by ? ` by officer ${m.sent_by}` : ""}</li>`];
    if (m.received) rows.push(`<li>received ${clock(m.received.at)} (officer ${m.received.officer})</li>`);
    for (const e of m.escalations) rows.push(`<li class="escalation">escalated to level ${e.level} at ${clock(e.at)}</li>`);
    if (m.status === "expired") rows.push('<li class="bad">expired: no level of the roster left</li>');
    if (m.acknowledged) {
      const a = m.acknowledged;
      const words = (m.kind === "objection" ? OBJECTION_REPLIES : REPLIES)[a.reply] || "";
      rows.push(`<li class="answer"><strong>${a.reply}</strong> (${words}) by officer ${a.officer} at ${clock(a.at)}${a.comment ? `: “${h(a.comment)}”` : ""}</li>`);
    }
    return rows.join("");
  }

  function answerButtons(m) {
    const words = m.kind === "objection" ? OBJECTION_REPLIES : REPLIES;
    return `<div class="actions answers">
        ${["ROGER", "WILCO"].map((r) => `<button type="button" class="answer" data-reply="${r}" title="${words[r]}">${r}</button>`).join("")}
        <button type="button" class="answer-unable" title="${words.UNABLE}: give the reason">UNABLE…</button>
      </div>
      <form class="unable-form" novalidate hidden>
        <label>Reason for UNABLE <input name="reason" required maxlength="4000"></label>
        <button type="submit" class="danger">Send UNABLE</button>
        <button type="button" class="unable-cancel">Cancel</button>
      </form>`;
  }

  async function answer(card, reply, comment) {
    const error = card.querySelector(".error");
    error.textContent = "";
    card.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      await api.answer(Number(card.dataset.id), reply, comment);
      await load();
    } catch (e) {
      error.textContent = e.message;
      card.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }
  }

  list.addEventListener("click", (event) => {
    const card = event.target.closest(".message");
    if (!card) return;
    const button = event.target.closest("button");
    if (button?.classList.contains("answer")) answer(card, button.dataset.reply);
    if (button?.classList.contains("answer-unable")) {
      const unable = card.querySelector(".unable-form");
      unable.hidden = false;
      unable.reason.focus();
    }
    if (button?.classList.contains("unable-cancel")) card.querySelector(".unable-form").hidden = true;
    if (button?.classList.contains("show-position")) {
      noticeMap.map.setView([Number(button.dataset.lat), Number(button.dataset.lon)], 9);
    }
  });
  list.addEventListener("submit", (event) => {
    event.preventDefault();
    const card = event.target.closest(".message");
    const reason = event.target.reason.value.trim();
    if (!reason) {
      card.querySelector(".error").textContent = "UNABLE needs a reason.";
      return;
    }
    answer(card, "UNABLE", reason);
  });

  // ---- the clocks and the alarm ----------------------------------------------------------

  function tick() {
    const now = Date.now();
    for (const el of document.querySelectorAll(".countdown[data-deadline]")) {
      const left = new Date(el.dataset.deadline).getTime() - now;
      el.textContent = countdown(el.dataset.deadline, now);
      el.classList.toggle("urgent", left < 60_000);
    }
  }
  setInterval(tick, 1000);

  /** The header alarm: open FLASH traffic to the party, the most pressing first. */
  function raiseAlarm() {
    const flashes = messages.filter((m) => m.to === state.party && m.precedence === "FLASH" && OPEN.has(m.status))
      .sort((a, b) => a.deadline.localeCompare(b.deadline));
    alarm.hidden = !flashes.length;
    if (flashes.length) {
      const m = flashes[0];
      const more = flashes.length > 1 ? ` (+${flashes.length - 1} more)` : "";
      alarm.innerHTML = `<span class="alarm-text"><strong>FLASH</strong> from ${h(m.from || "the service")}: ${h(m.text.slice(0, 120))}</span>${more}
        <span class="countdown" data-deadline="${h(m.deadline)}">${countdown(m.deadline)}</span>
        <button type="button" class="alarm-open" data-id="${m.id}">Answer</button>`;
    }
    const news = flashes.filter((m) => !alarmed.has(`${m.id}/${m.level}`));
    news.forEach((m) => alarmed.add(`${m.id}/${m.level}`));
    if (loaded && news.length) alarm.dataset.sounded = String(soundAlarm());
  }

  alarm.addEventListener("click", (event) => {
    const open = event.target.closest(".alarm-open");
    if (!open) return;
    tabs.show("hotline");
    const card = list.querySelector(`.message[data-id="${open.dataset.id}"]`);
    card?.scrollIntoView({ block: "center" });
    card?.querySelector("button.answer")?.focus();
  });

  // ---- composing -------------------------------------------------------------------------

  function fillRecipients() {
    const parties = [...new Set(channels.map((c) => c.with))];
    const chosen = form.to.value;
    form.to.innerHTML = parties.map((p) => `<option>${h(p)}</option>`).join("");
    if (parties.includes(chosen)) form.to.value = chosen;
    fillChannels();
  }

  function fillChannels() {
    const chosen = form.channel.value;
    const mine = channels.filter((c) => c.with === form.to.value);
    form.channel.innerHTML = mine.map((c) => `<option value="${h(c.channel)}">${h(c.channel)}${c.suspended_by ? " (suspended: FLASH and distress only)" : ""}</option>`).join("");
    if (mine.some((c) => c.channel === chosen)) form.channel.value = chosen;
  }

  function showKind() {
    const kind = form.kind.value;
    form.precedence.value = FORCED_FLASH.has(kind) ? "FLASH" : precedence;
    form.precedence.disabled = FORCED_FLASH.has(kind);
    $(".objection-about").hidden = kind !== "objection";
    $(".objection-about").innerHTML = objecting
      ? `Objection to <strong>${h(objecting.ref)}</strong> (${h(objecting.party)}): always FLASH, answered WILCO (halt) or UNABLE (refused).`
      : "Choose <em>Object</em> on another party's notice in the Notices pane.";
    $(".distress-where").hidden = kind !== "distress";
    if (kind !== "distress") stopPicking();
  }

  function stopPicking() {
    cancelPick?.();
    cancelPick = null;
    $(".pick").setAttribute("aria-pressed", "false");
  }

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && cancelPick) stopPicking();
  });
  form.lat.addEventListener("input", () => noticeMap.showPicked(null));
  form.lon.addEventListener("input", () => noticeMap.showPicked(null));

  form.to.addEventListener("change", () => {
    fillChannels();
    if (objecting && objecting.party !== form.to.value) objecting = null;
    showKind();
  });
  form.kind.addEventListener("change", showKind);
  form.precedence.addEventListener("change", () => { precedence = form.precedence.value; });
  $(".pick").addEventListener("click", () => {
    drawing.stop();
    $(".pick").setAttribute("aria-pressed", "true");
    cancelPick = noticeMap.pick((latlng) => {
      form.lat.value = latlng.lat.toFixed(5);
      form.lon.value = latlng.wrap().lng.toFixed(5);
      noticeMap.showPicked(latlng);
      stopPicking();
    });
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = form.querySelector(".error");
    error.textContent = "";
    let body;
    try {
      body = draft();
    } catch (e) {
      error.textContent = e.message;
      return;
    }
    const send = form.querySelector(".send");
    send.disabled = true;
    try {
      const sent = await api.send(body);
      form.text.value = "";
      form.translation.value = "";
      $(".sent").textContent = `Sent #${sent.id} (${sent.precedence}), deadline ${clock(sent.deadline)}.`;
      objecting = null;
      noticeMap.showPicked(null);
      form.kind.value = "text";
      showKind();
      await load();
    } catch (e) {
      error.textContent = e.message;
    } finally {
      send.disabled = false;
    }
  });

  /** The message the form says, or an Error naming what is missing. */
  function draft() {
    const kind = form.kind.value;
    const text = form.text.value.trim();
    if (!text) throw new Error("Write the message (text).");
    const body = { to: form.to.value, channel: form.channel.value, kind, text,
      precedence: form.precedence.value };
    if (form.translation.value.trim()) body.translation = form.translation.value.trim();
    if (kind === "objection") {
      if (!objecting) throw new Error("An objection is about a notice: choose Object on one in the Notices pane.");
      body.notice = objecting.id;
    }
    if (kind === "distress") {
      const [lat, lon] = [Number(form.lat.value), Number(form.lon.value)];
      if (form.lat.value === "" || form.lon.value === "" || Number.isNaN(lat) || Number.isNaN(lon)) {
        throw new Error("A distress call gives a position: pick it on the map or type it.");
      }
      body.position = { lat, lon };
    }
    return body;
  }

  /** Start an objection to another party's notice (its "Object" button). */
  function object(notice) {
    objecting = { id: notice.id, ref: notice.ref, party: notice.party };
    $(".compose-box").open = true;
    form.to.value = notice.party;
    fillChannels();
    form.kind.value = "objection";
    if (!form.text.value.trim()) form.text.value = `Own forces present in the area of ${notice.ref}: halt.`;
    showKind();
    tabs.show("hotline");
    form.text.focus();
  }

  document.addEventListener("object", (event) => object(event.detail));
  showKind();

  return {
    load,
    onEntry(item) {
      if (!/^(message|channel)\./.test(item.kind || "")) return;
      if (item.kind === "message.escalated") fresh.add(item.payload.id);
      scheduleLoad();
    },
  };
}

function composeForm() {
  const options = (values, labels = {}) => values.map((v) => `<option value="${v}">${labels[v] || v}</option>`).join("");
  return `<form class="compose" novalidate>
    <div class="grid">
      <label>To <select name="to"></select></label>
      <label>Channel <select name="channel"></select></label>
      <label>Kind <select name="kind">${options(Object.keys(KINDS), KINDS)}</select></label>
      <label>Precedence <select name="precedence">${options(PRECEDENCES)}</select></label>
    </div>
    <p class="objection-about hint" hidden></p>
    <div class="distress-where row" hidden>
      <label>Latitude <input name="lat" type="number" step="any" min="-90" max="90"></label>
      <label>Longitude <input name="lon" type="number" step="any" min="-180" max="180"></label>
      <button type="button" class="pick" aria-pressed="false">Pick on map</button>
    </div>
    <label class="block">Text <textarea name="text" rows="2" maxlength="4000"></textarea></label>
    <label class="block">Translation (optional) <textarea name="translation" rows="2" maxlength="4000"></textarea></label>
    <div class="row"><button type="submit" class="primary send">Send</button> <span class="sent hint" aria-live="polite"></span></div>
    <p class="error" role="alert"></p>
  </form>`;
}
