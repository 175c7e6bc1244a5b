// Entries: every entry of a period (presets in the user's time zone), narrowed by project,
// type, tag, value, impact and a full-text search, the filters kept in the URL; pages of 50
// by cursor ("Load more"); inline edit and delete; bulk delete after a confirmation. Kept
// current by logEntryEvents: a change from another tab or device lands at its place.

import * as api from "../api.js";
import { h, statusLine, uid } from "../dom.js";
import * as live from "../live.js";
import { confirmDialog } from "../widgets/confirm_dialog.js";
import { apiFilter, filterForm, filterSearch, matches, readFilters } from "../widgets/entry_filters.js";
import { ENTRY_FIELDS } from "../widgets/entry_item.js";
import { bulkDelete, newerFirst, plural, renderDays, selectableEntry } from "../widgets/entry_list.js";
import { dayOf } from "../widgets/zoned.js";

const PAGE = 50;
// The API refuses a document with more than 15 aliases (ENGLOG_MAX_QUERY_ALIASES' default):
// a bulk delete sends its deletions 15 to a request.
const ALIASES = 15;
const PAGE_FIELDS = `totalCount pageInfo { hasNextPage endCursor } edges { node { ${ENTRY_FIELDS} } }`;
const FIRST = `query Entries($filter: LogEntryFilter!, $first: Int!) {
  projects { id name status }
  tags { id name }
  logEntries(filter: $filter, first: $first) { ${PAGE_FIELDS} }
}`;
const MORE = `query MoreEntries($filter: LogEntryFilter!, $first: Int!, $after: String) {
  logEntries(filter: $filter, first: $first, after: $after) { ${PAGE_FIELDS} }
}`;
const COUNT = "query CountEntries($filter: LogEntryFilter!) { logEntries(filter: $filter, first: 1) { totalCount } }";
const EVENTS = `subscription EntriesEvents($since: String) {
  logEntryEvents(since: $since) { cursor action entryId entry { ${ENTRY_FIELDS} } }
}`;
const UPDATE = `mutation UpdateEntry($id: ID!, $input: UpdateLogEntryInput!) {
  updateLogEntry(id: $id, input: $input) { ${ENTRY_FIELDS} }
}`;

export function mount(root, context) {
  const zone = (api.user() && api.user().timezone) || Intl.DateTimeFormat().resolvedOptions().timeZone;
  const thisYear = Number(dayOf(new Date(), zone).slice(0, 4));
  let state = readFilters(context.params);
  let filter = {};
  let projects = [];
  let tags = [];
  let needChoices = true;
  const items = new Map(); // id → { entry, view, row, box }
  const selected = new Set();
  let total = 0;
  let hasNext = false;
  let after = null; // the cursor of the last edge the server sent
  let lastEdge = null; // that edge's entry: anything newer is inside the loaded range
  let generation = 0;
  let loading = false;
  let unseen = 0; // created entries a search matches, not shown until asked
  let countTimer = null;
  let typingPushed = false;

  const heading = h("h1", {}, "Entries");
  const periodText = h("p", { class: "muted period-label" });
  const status = statusLine();
  const totalText = h("p", { class: "total", id: uid("total") });
  const selectAll = h("input", { type: "checkbox", class: "select" });
  const deleteButton = h("button", { type: "button", class: "danger", disabled: true }, "Delete selected (0)");
  const notice = h("button", { type: "button", class: "notice", hidden: true });
  const empty = h("p", { class: "empty", hidden: true }, "No entries match: choose another period or clear the filters.");
  const days = h("div", { class: "days" });
  const loadMore = h("button", { type: "button", class: "load-more", hidden: true, "aria-describedby": totalText.id }, "Load more");
  const choices = { projects: () => projects, tagNames: () => tags.map((tag) => tag.name) };

  const filters = filterForm(state, { zone, onChange: changed });

  function learnTags(entry) {
    let grew = false;
    for (const tag of entry.tags) {
      if (!tags.some((known) => known.id === tag.id)) {
        tags.push(tag);
        grew = true;
      }
    }
    if (grew) {
      tags.sort((a, b) => a.name.localeCompare(b.name));
      filters.setChoices(projects, tags);
    }
  }

  function toggle(id, on) {
    if (on) selected.add(id);
    else selected.delete(id);
    updateCounts();
  }

  function add(entry) {
    learnTags(entry);
    const item = selectableEntry(entry, { actions, choices, selected: selected.has(entry.id), onToggle: toggle });
    items.set(entry.id, item);
    return item;
  }

  function drop(id) {
    selected.delete(id);
    return items.delete(id);
  }

  function renderList() {
    renderDays(days, [...items.values()], { zone, thisYear });
    updateCounts();
  }

  function updateCounts() {
    const shown = items.size;
    totalText.textContent = shown < total ? `Showing ${shown} of ${plural(total, "entry", "entries")}` : plural(total, "entry", "entries");
    empty.hidden = shown > 0 || loading;
    const left = Math.max(0, total - shown);
    loadMore.hidden = !hasNext;
    loadMore.textContent = left ? `Load more (${left} left)` : "Load more";
    for (const id of selected) if (!items.has(id)) selected.delete(id);
    for (const item of items.values()) item.box.checked = selected.has(item.entry.id);
    deleteButton.textContent = `Delete selected (${selected.size})`;
    deleteButton.disabled = selected.size === 0;
    selectAll.checked = shown > 0 && selected.size === shown;
    selectAll.indeterminate = selected.size > 0 && selected.size < shown;
    selectAll.disabled = shown === 0;
    notice.hidden = unseen === 0;
    notice.textContent = `${plural(unseen, "new entry", "new entries")} — show`;
  }

  /** Whether `entry` sorts inside what is loaded (so the next page would not bring it). */
  function withinLoaded(entry) {
    return !hasNext || !lastEdge || newerFirst(entry, lastEdge) < 0;
  }

  /** The server's count for the filter, after a burst of events has settled. */
  function recount() {
    clearTimeout(countTimer);
    countTimer = setTimeout(async () => {
      const ticket = generation;
      try {
        const data = await api.request(COUNT, { filter });
        if (ticket !== generation) return;
        const count = data.logEntries.totalCount;
        // A search only the server can match: what it counts beyond the list is new.
        if (filter.search && count > total) unseen += count - total;
        total = count;
        updateCounts();
      } catch {
        // The count stays as it was; the next event or reload asks again.
      }
    }, 250);
  }

  async function load({ reset }) {
    if (!reset && (loading || !hasNext)) return;
    const ticket = reset ? ++generation : generation;
    const withChoices = reset && needChoices;
    loading = true;
    loadMore.disabled = true;
    days.setAttribute("aria-busy", "true");
    try {
      const data = await api.request(withChoices ? FIRST : MORE, { filter, first: PAGE, after: reset ? null : after });
      if (ticket !== generation) return;
      if (withChoices) {
        projects = data.projects;
        tags = data.tags;
        needChoices = false;
        filters.setChoices(projects, tags);
      }
      if (reset) {
        items.clear();
        selected.clear();
        unseen = 0;
      }
      const page = data.logEntries;
      const before = new Set(items.keys());
      for (const { node } of page.edges) {
        const known = items.get(node.id);
        if (known) known.update(node);
        else add(node);
      }
      total = page.totalCount;
      hasNext = page.pageInfo.hasNextPage;
      after = page.pageInfo.endCursor;
      if (page.edges.length) lastEdge = page.edges[page.edges.length - 1].node;
      loading = false;
      renderList();
      if (!reset && loadMore.hidden && document.activeElement === loadMore) {
        const first = page.edges.map((edge) => edge.node.id).find((id) => !before.has(id));
        (first ? items.get(first).box : heading).focus();
      }
      status.textContent = reset ? "" : `${plural(page.edges.length, "more entry", "more entries")} shown.`;
    } catch (error) {
      if (ticket !== generation) return;
      if (error.fields && error.fields["filter.projectIds"] && state.project) {
        // A project that no longer exists (an old link): show the rest of the filter.
        state = { ...state, project: "" };
        history.replaceState(null, "", location.pathname + filterSearch(state));
        loading = false;
        filters.setChoices(projects, tags);
        apply();
        return;
      }
      if (error.fields && Object.keys(error.fields).length) filters.showErrors(error.fields, error.summary);
      status.textContent = error.summary || String(error);
    } finally {
      if (ticket === generation) {
        loading = false;
        loadMore.disabled = false;
        days.removeAttribute("aria-busy");
        updateCounts();
      }
    }
  }

  function apply() {
    const built = apiFilter(state, zone);
    if (built.errors || built.incomplete) {
      // The list shown stays until the range is one.
      if (built.errors) filters.showErrors(built.errors);
      periodText.textContent = "Choose the first and the last day";
      return;
    }
    filter = built.filter;
    periodText.textContent = built.label;
    hasNext = false;
    lastEdge = null;
    load({ reset: true });
  }

  function changed(next, { typing }) {
    state = next;
    const url = location.pathname + filterSearch(state);
    if (url !== location.pathname + location.search) {
      // A search being typed is one history step, not one a key press.
      history[typing && typingPushed ? "replaceState" : "pushState"](null, "", url);
    }
    typingPushed = typing;
    apply();
  }

  const actions = {
    async update(id, input) {
      const data = await api.request(UPDATE, { id, input });
      const entry = data.updateLogEntry;
      const item = items.get(id);
      if (item) item.show(entry); // the edit form closes
      if (matches(entry, filter) === false && drop(id)) total = Math.max(0, total - 1);
      renderList();
      const row = items.get(id);
      (row ? row.view.element.querySelector("button") : heading).focus();
      status.textContent = row ? "Saved." : "Saved: it no longer matches the filters, so it left the list.";
    },
    async remove(id) {
      await api.request("mutation DeleteEntry($id: ID!) { deleteLogEntry(id: $id) }", { id });
      if (drop(id)) total = Math.max(0, total - 1);
      renderList();
      status.textContent = "Deleted.";
      heading.focus();
    },
    async addTag(entry, name) {
      try {
        const input = { tags: [...entry.tags.map((tag) => tag.name), name] };
        const data = await api.request(UPDATE, { id: entry.id, input });
        const item = items.get(entry.id);
        if (item) item.update(data.updateLogEntry);
        learnTags(data.updateLogEntry);
        status.textContent = `Tagged “${name}”.`;
      } catch (error) {
        status.textContent = error.summary || String(error);
      }
    },
  };

  async function deleteSelected() {
    const ids = [...selected];
    if (!ids.length) return;
    const count = plural(ids.length, "entry", "entries");
    const deleted = await confirmDialog(root, {
      question: `Delete ${count}?`,
      detail: "They are deleted for good: this cannot be undone.",
      confirmLabel: `Delete ${count}`,
      run: async () => {
        for (let start = 0; start < ids.length; start += ALIASES) {
          const chunk = ids.slice(start, start + ALIASES);
          await api.request(...bulkDelete(chunk));
          for (const id of chunk) if (drop(id)) total = Math.max(0, total - 1);
          renderList();
        }
      },
    });
    if (deleted) {
      status.textContent = `Deleted ${count}.`;
      (selectAll.disabled ? heading : selectAll).focus();
    }
  }

  selectAll.addEventListener("change", () => {
    for (const id of items.keys()) {
      if (selectAll.checked) selected.add(id);
      else selected.delete(id);
    }
    updateCounts();
  });
  deleteButton.addEventListener("click", deleteSelected);
  loadMore.addEventListener("click", () => load({ reset: false }));
  notice.addEventListener("click", () => {
    heading.focus();
    apply();
  });

  root.append(
    h("header", { class: "screen-header" }, heading, periodText),
    filters.form,
    status,
    h(
      "section",
      { class: "entries-list", "aria-labelledby": "entries-list-heading" },
      h(
        "div",
        { class: "list-header" },
        h("h2", { id: "entries-list-heading", class: "visually-hidden" }, "Matching entries"),
        totalText,
        h("div", { class: "bulk" }, h("label", { class: "select-all" }, selectAll, h("span", {}, "Select all shown")), deleteButton),
      ),
      notice,
      empty,
      days,
      loadMore,
    ),
  );

  // Subscribed before the first page is asked for: a change made meanwhile arrives too.
  const stopFeed = live.feed(EVENTS, "logEntryEvents", (event) => {
    if (event.action === "DELETED" || !event.entry) {
      if (drop(event.entryId)) {
        total = Math.max(0, total - 1);
        renderList();
      }
      recount();
      return;
    }
    const entry = event.entry;
    const fits = matches(entry, filter);
    const known = items.get(entry.id);
    if (known && fits === false) {
      drop(entry.id);
      total = Math.max(0, total - 1);
    } else if (known) {
      known.update(entry);
      learnTags(entry);
    } else if (fits === true && withinLoaded(entry)) {
      add(entry);
      if (event.action === "CREATED") total += 1;
    }
    renderList();
    recount();
  }, { onResync: () => load({ reset: true }) });

  if (filterSearch(state) !== location.search) history.replaceState(null, "", location.pathname + filterSearch(state));
  apply();

  return () => {
    generation += 1;
    clearTimeout(countTimer);
    filters.cancelTyping();
    stopFeed();
  };
}
