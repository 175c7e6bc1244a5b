// The entries screen's list: entries grouped by the day they start on (in the user's time
// zone), newest first, each with a checkbox for bulk actions beside the shared entry item.

import { h, uid } from "../dom.js";
import { formatMinutes } from "../format.js";
import { entryItem } from "./entry_item.js";
import { dayOf, formatCalendarDay } from "./zoned.js";

/** Newest first, as the API orders them: startTime, then id, descending. */
export function newerFirst(a, b) {
  const byTime = Date.parse(b.startTime) - Date.parse(a.startTime);
  if (byTime) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

/** One document deleting `ids` by aliases (d0: deleteLogEntry(id: $i0) …) and its variables. */
export function bulkDelete(ids) {
  const signature = ids.map((_, index) => `$i${index}: ID!`).join(", ");
  const fields = ids.map((_, index) => `d${index}: deleteLogEntry(id: $i${index})`).join(" ");
  const variables = Object.fromEntries(ids.map((id, index) => [`i${index}`, id]));
  return [`mutation DeleteEntries(${signature}) { ${fields} }`, variables];
}

/**
 * A row for `entry`: the entry item (inline edit and delete through `actions`) and a checkbox
 * (`onToggle(id, checked)`). The entry item is an <li>: it sits in a presentational list of
 * one, so the row stays one list item to assistive technology.
 */
export function selectableEntry(entry, { actions, choices, selected, onToggle }) {
  const view = entryItem(entry, actions, choices);
  const box = h("input", { type: "checkbox", class: "select", checked: selected });
  box.addEventListener("change", () => onToggle(entry.id, box.checked));
  const row = h(
    "li",
    { class: "entry-row", dataset: { id: entry.id } },
    h("div", { class: "pick" }, box),
    h("ul", { class: "entry-host", role: "none" }, view.element),
  );
  const item = {
    entry,
    view,
    row,
    box,
    /** A newer version from elsewhere (an edit being typed is kept). */
    update(next) {
      item.entry = next;
      view.update(next);
      label();
    },
    /** The version just saved here (the edit form closes). */
    show(next) {
      item.entry = next;
      view.show(next);
      label();
    },
  };
  function label() {
    box.setAttribute("aria-label", `Select “${item.entry.title}”`);
  }
  label();
  return item;
}

/** Fills `container` with a section a day of `items` (each with its day's total). */
export function renderDays(container, items, { zone, thisYear }) {
  const active = document.activeElement;
  const groups = new Map();
  for (const item of [...items].sort((a, b) => newerFirst(a.entry, b.entry))) {
    const day = dayOf(item.entry.startTime, zone);
    if (!groups.has(day)) groups.set(day, []);
    groups.get(day).push(item);
  }
  container.replaceChildren(
    ...[...groups].map(([day, group]) => {
      const minutes = group.reduce((sum, item) => sum + item.entry.durationMinutes, 0);
      const title = h(
        "h3",
        { class: "day-heading", id: uid("day") },
        h("span", {}, formatCalendarDay(day, thisYear)),
        h("span", { class: "muted" }, formatMinutes(minutes)),
      );
      return h("section", { class: "day", "aria-labelledby": title.id }, title, h("ol", { class: "entries" }, group.map((item) => item.row)));
    }),
  );
  // Rows moved between days lose the focus on the way: give it back.
  if (active instanceof HTMLElement && active.isConnected && document.activeElement !== active) active.focus({ preventScroll: true });
}
