// The live feed: GET /v1/feed read as a fetch stream, so the bearer token goes in the
// Authorization header (EventSource cannot send headers). Server-sent events are parsed here;
// a dropped or silent connection is retried with backoff, resuming after the last sequence
// number received, so no entry is lost or repeated.

const SILENCE_MS = 40_000; // the service pings every 15 s; this long without a byte means lost
const RETRY_MS = [500, 1000, 2000, 4000, 8000];

/**
 * Follow the feed from `after`. `onItem(item)` gets each entry or stub in order; `onState(state,
 * detail)` gets "connecting", "live", "lost" (with the retry delay and the last seq) and
 * "unauthorised". Returns a function that stops following.
 */
export function follow({ after, headers, onItem, onState }) {
  let cursor = after;
  let stopped = false;
  let controller = null;
  let attempt = 0;

  async function connect() {
    onState("connecting", { cursor });
    controller = new AbortController();
    let silence = setTimeout(() => controller.abort(), SILENCE_MS);
    const heard = () => {
      clearTimeout(silence);
      silence = setTimeout(() => controller.abort(), SILENCE_MS);
    };
    try {
      const response = await fetch(`/v1/feed?after=${cursor}`, {
        headers: { ...headers(), Accept: "text/event-stream" },
        signal: controller.signal,
        cache: "no-store",
      });
      if (response.status === 401) {
        stopped = true;
        onState("unauthorised", {});
        return;
      }
      if (!response.ok) throw new Error(`feed answered ${response.status}`);
      onState("live", { cursor });
      attempt = 0;
      await readEvents(response.body, heard, (event) => {
        if (event.event !== "entry" && event.event !== "stub") return;
        const item = JSON.parse(event.data);
        if (item.seq <= cursor) return; // already had it
        cursor = item.seq;
        onItem(item);
      });
      throw new Error("the feed ended");
    } catch (error) {
      if (stopped) return;
      const delay = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)];
      attempt += 1;
      onState("lost", { cursor, delay, reason: String(error.message || error) });
      setTimeout(() => stopped || connect(), delay);
    } finally {
      clearTimeout(silence);
    }
  }

  connect();
  return () => {
    stopped = true;
    controller?.abort();
  };
}

/** Parse a text/event-stream body into {event, data, id} objects (the WHATWG rules we need). */
async function readEvents(body, heard, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = { event: "message", data: [], id: null };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    heard();
    buffer += value;
    // a CR at the very end may be the first half of a CRLF: it waits with the incomplete line
    const lines = buffer.split(/\r\n|\r(?!$)|\n/);
    buffer = lines.pop();
    for (const line of lines) {
      if (line === "") {
        if (event.data.length) onEvent({ ...event, data: event.data.join("\n") });
        event = { event: "message", data: [], id: null };
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "data") event.data.push(value);
        else if (field === "event") event.event = value;
        else if (field === "id") event.id = value;
      }
    }
  }
}
