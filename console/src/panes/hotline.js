// The hotline pane: channels and messages with their precedence and deadlines, once the
// service offers them (issue 4). Until then it shows an empty state. The console hands every
// feed entry to `onEntry`, so hotline entries can be shown here without touching the rest.

export function hotlinePane(element) {
  element.innerHTML = `<h2>Hotline</h2>
    <div class="empty-state">
      <p>No hotline yet.</p>
      <p class="hint">Messages between the parties' duty officers (FLASH, IMMEDIATE, PRIORITY,
        ROUTINE), their deadlines and acknowledgements will be listed here once the service
        offers them.</p>
    </div>
    <div class="message-list" role="list"></div>`;
  return {
    onEntry() {}, // hotline entries (message.*) will be listed here
  };
}
