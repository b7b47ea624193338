// Tabs as the WAI-ARIA pattern: one tab stop, arrow keys move between tabs, Enter/click shows.

export function tabs(list) {
  const all = [...list.querySelectorAll("[role=tab]")];
  const byName = (name) => all.find((t) => t.id === `tab-${name}`);

  function show(name) {
    for (const tab of all) {
      const on = tab === byName(name);
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      document.getElementById(tab.getAttribute("aria-controls")).hidden = !on;
    }
  }

  list.addEventListener("click", (event) => {
    const tab = event.target.closest("[role=tab]");
    if (tab) show(tab.id.slice(4));
  });
  list.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const at = all.indexOf(document.activeElement);
    const next = all[(at + step + all.length) % all.length];
    next.focus();
    show(next.id.slice(4));
  });
  return { show };
}
