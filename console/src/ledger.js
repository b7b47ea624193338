// The party's copy of the ledger, checked here in the browser exactly as
// src/deconfliction/ledger does it: an entry's hash is the SHA-256 (WebCrypto) of the RFC 8785
// canonical JSON (npm `canonicalize`) of its body (BODY_KEYS); each entry's `prev` is the hash
// of the one before, the first one's is 64 zeros. A stub (another party's entry) carries only
// seq, prev and hash: its links are checked, its content cannot be.

import canonicalize from "canonicalize";

export const GENESIS = "0".repeat(64);

export async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The hashed body: these fields only (not `hash`, nor what is added outside it, such as the
 * service's `countersig`), as BODY_KEYS in src/deconfliction/ledger/entry.py. */
export const BODY_KEYS = ["seq", "at", "actor", "kind", "payload", "audience", "prev"];

/** The hash an entry must carry: SHA-256 over the canonical JSON of its body. */
export function entryHash(entry) {
  const body = Object.fromEntries(BODY_KEYS.map((key) => [key, entry[key]]));
  return sha256Hex(canonicalize(body));
}

/**
 * An append-only copy of the ledger as this party sees it, verified as items arrive (in order,
 * one at a time, because digests are asynchronous). `verdict` is {state: "verifying" | "ok" |
 * "broken" | "unavailable", checked, stubs, brokenAt, reason}.
 */
export class Ledger {
  constructor(onChange) {
    this.items = [];
    this.onChange = onChange;
    this.verdict = { state: "ok", checked: 0, stubs: 0, brokenAt: null, reason: "" };
    this._queue = Promise.resolve();
    if (!globalThis.crypto?.subtle) {
      this.verdict = { ...this.verdict, state: "unavailable",
        reason: "WebCrypto needs a secure context (https or localhost)" };
    }
  }

  get lastSeq() {
    return this.items.length ? this.items[this.items.length - 1].seq : 0;
  }

  add(items) {
    const fresh = items.filter((item) => item.seq > this.lastSeq);
    for (const item of fresh) this.items.push(item);
    if (this.verdict.state === "ok") this.verdict = { ...this.verdict, state: "verifying" };
    this._queue = this._queue.then(() => this._check(fresh));
    this.onChange(fresh);
    return this._queue;
  }

  async _check(items) {
    for (const item of items) {
      if (this.verdict.state === "broken" || this.verdict.state === "unavailable") break;
      const reason = await this._fault(item);
      if (reason) {
        this.verdict = { ...this.verdict, state: "broken", brokenAt: item.seq, reason };
        break;
      }
      this.verdict.checked += 1;
      if (item.stub) this.verdict.stubs += 1;
      this._prev = item;
    }
    if (this.verdict.state === "verifying") this.verdict = { ...this.verdict, state: "ok" };
    this.onChange([]);
  }

  async _fault(item) {
    const before = this._prev;
    if (item.seq !== (before ? before.seq + 1 : 1)) {
      return `entry ${item.seq} follows ${before ? before.seq : "nothing"}: a gap`;
    }
    if (item.prev !== (before ? before.hash : GENESIS)) {
      return `entry ${item.seq}: prev is not the hash of entry ${before ? before.seq : "0"}`;
    }
    if (!item.stub && (await entryHash(item)) !== item.hash) {
      return `entry ${item.seq}: its content does not match its hash`;
    }
    return "";
  }

  /** The export: one canonical JSON line per item, as `deconfliction ledger export` writes. */
  exportLines() {
    return this.items.map((item) => `${canonicalize(item)}\n`).join("");
  }
}
