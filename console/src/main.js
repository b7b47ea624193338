// The console: log in with an officer's token, learn who it is (GET /v1/me), load the party's
// view of the ledger, notices, conflicts and encounters, then follow the live feed. Panes
// render from one shared state; every feed entry also goes to each pane's `onEntry`.

import "./style.css";
import { armSound } from "./alarm.js";
import { api, ApiError, authHeaders, token } from "./api.js";
import { follow } from "./feed.js";
import { Ledger } from "./ledger.js";
import { Drawing, NoticeMap, partyColours } from "./map.js";
import { conflictsPane } from "./panes/conflicts.js";
import { filePane } from "./panes/file.js";
import { hotlinePane } from "./panes/hotline.js";
import { noticesPane } from "./panes/notices.js";
import { recordPane } from "./panes/record.js";
import { timeBar } from "./timebar.js";
import { tabs } from "./tabs.js";

const $ = (id) => document.getElementById(id);

const state = {
  me: null,         // the officer (GET /v1/me)
  party: null,      // the officer's party
  parties: [],      // every party of the agreement (agreement.recorded)
  colours: new Map(),
  notices: [],
  conflicts: [],
  encounters: [],
  selected: null,   // id of the selected notice
};

let stopFeed = null;

function showLogin(message = "") {
  stopFeed?.();
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("token").focus();
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  token.set($("token").value.trim());
  $("token").value = "";
  start();
});

$("logout").addEventListener("click", () => {
  token.clear();
  location.reload();
});

async function start() {
  const ledger = new Ledger((fresh) => panes.record.render(ledger, fresh));
  try {
    state.me = await api.me();
    state.party = state.me.party;
    await loadLedger(ledger);
  } catch (error) {
    token.clear();
    showLogin(error instanceof ApiError && error.status === 401
      ? "That token is not valid (or was revoked)." : `Cannot reach the service: ${error.message}`);
    return;
  }
  $("login").hidden = true;
  $("app").hidden = false;
  learnParties(ledger.items);
  $("who").textContent = `officer of ${state.party}`;
  $("who").title = `${state.me.name}, ${state.me.role}, roster level ${state.me.level}`;
  noticeMap.map.invalidateSize();
  await Promise.all([refresh(), refreshEncounters(), panes.hotline.load()]);
  noticeMap.fitAll();
  stopFeed = follow({
    after: ledger.lastSeq,
    headers: authHeaders,
    onItem: (item) => {
      ledger.add([item]);
      if (/^(notice|conflict)\./.test(item.kind || "")) scheduleRefresh();
      if (/^encounter\./.test(item.kind || "")) scheduleEncounters();
      for (const pane of Object.values(panes)) pane.onEntry?.(item);
    },
    onState: showConnection,
  });
}

/** Every entry after 0, a page at a time: the party's in full, the others as stubs. */
async function loadLedger(ledger) {
  for (;;) {
    const page = await api.events(ledger.lastSeq);
    if (!page.length) return;
    await ledger.add(page);
    if (page.length < 1000) return;
  }
}

function learnParties(items) {
  for (const e of items) {
    if (e.kind === "agreement.recorded") state.parties = e.payload.parties;
  }
  state.colours = partyColours(state.parties, state.party);
}

function showConnection(kind, detail) {
  const el = $("connection");
  el.dataset.state = kind;
  if (kind === "live") el.textContent = "live";
  else if (kind === "connecting") el.textContent = `connecting… (after #${detail.cursor})`;
  else if (kind === "lost") {
    el.textContent = `connection lost — resuming after #${detail.cursor} in ${Math.round(detail.delay / 100) / 10} s`;
  } else if (kind === "unauthorised") showLogin("The token is no longer valid.");
}

let refreshTimer = null;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 150);
}

async function refresh() {
  try {
    [state.notices, state.conflicts] = await Promise.all([api.notices(), api.conflicts()]);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return showLogin("The token is no longer valid.");
    console.warn("refresh failed:", error.message); // the feed will bring the next change
    return;
  }
  drawMap();
  panes.notices.render();
  panes.conflicts.render();
}

let encounterTimer = null;
function scheduleEncounters() {
  clearTimeout(encounterTimer);
  encounterTimer = setTimeout(refreshEncounters, 150);
}

async function refreshEncounters() {
  try {
    state.encounters = await api.encounters();
  } catch (error) {
    console.warn("encounters failed:", error.message);
    return;
  }
  noticeMap.showEncounters(state.encounters, state.colours);
}

/** The volumes on the map: active notices, and others' volumes known only through a conflict. */
function drawMap() {
  const active = state.notices.filter((n) => n.status === "active");
  const visible = new Set(active.map((n) => `${n.party}|${n.ref}`));
  const conflicted = new Set();
  const hidden = [];
  for (const c of state.conflicts) {
    for (const side of ["a", "b"]) {
      const ref = c[side];
      conflicted.add(`${ref.party}|${ref.notice}|${ref.volume}`);
      const extra = c[`${side}_volume`];
      if (extra && !visible.has(`${ref.party}|${ref.notice}`)) hidden.push({ ref, feature: extra });
    }
  }
  const volumes = active.flatMap((n) => n.features.map((feature, index) => ({
    noticeKey: n.id, party: n.party, own: n.party === state.party, ref: n.ref, index, feature,
    conflicted: conflicted.has(`${n.party}|${n.ref}|${index}`), hidden: false,
  })));
  for (const { ref, feature } of hidden) {
    volumes.push({ noticeKey: null, party: ref.party, own: false, ref: ref.notice,
      index: ref.volume, feature, conflicted: true, hidden: true });
  }
  noticeMap.show(volumes, state.colours, state.party);
  noticeMap.select(state.selected);
}

function select(noticeId, { zoom = false } = {}) {
  state.selected = noticeId;
  noticeMap.select(noticeId, { zoom });
  panes.notices.render();
}

const noticeMap = new NoticeMap($("map"), {
  onSelect: (id) => {
    if (id === null) return;
    select(id);
    paneTabs.show("notices");
  },
});
const drawing = new Drawing(noticeMap, (shape) => panes.file.onShape(shape));
const paneTabs = tabs(document.querySelector(".tabs"));
const context = { state, api, noticeMap, drawing, select, refresh, tabs: paneTabs,
  alarm: $("alarm") };
const panes = {
  notices: noticesPane($("pane-notices"), context),
  file: filePane($("pane-file"), context),
  conflicts: conflictsPane($("pane-conflicts"), context),
  record: recordPane($("pane-record"), context),
  hotline: hotlinePane($("pane-hotline"), context),
};
timeBar({
  all: $("time-all"), now: $("time-now"), slider: $("time-slider"), label: $("time-label"),
  onTime: (t) => noticeMap.setTime(t),
});

armSound();
if (token.get()) start();
else showLogin();
