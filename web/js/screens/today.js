// Today: log work in seconds (keyboard first), run the server's timer, and see today's
// entries, kept current by logEntryEvents (another tab's or device's changes appear; the
// enrichment's suggested tags arrive as chips). On load: one query, one websocket.

import * as api from "../api.js";
import { h, replace, statusLine } from "../dom.js";
import { dayBounds, formatDay, formatMinutes } from "../format.js";
import * as live from "../live.js";
import { ENTRY_FIELDS, entryItem } from "../widgets/entry_item.js";
import { entryForm } from "../widgets/entry_form.js";
import { RUNNING_TIMER, timerBar } from "../widgets/timer.js";

const PAGE = 100;
const TODAY = `query Today($filter: LogEntryFilter!, $first: Int!) {
  projects { id name status }
  tags { id name usageCount }
  logEntries(filter: $filter, first: $first) { totalCount edges { node { ${ENTRY_FIELDS} } } }
  ${RUNNING_TIMER}
}`;
const EVENTS = `subscription TodayEntries($since: String) {
  logEntryEvents(since: $since) { cursor action entryId entry { ${ENTRY_FIELDS} } }
}`;
const ENTRY_MUTATION = (name, signature, call) =>
  `mutation ${name}(${signature}) { ${call} { ${ENTRY_FIELDS} } }`;

export function mount(root) {
  const [from, to] = dayBounds();
  let projects = [];
  let tags = [];
  const items = new Map(); // id → { entry, view }
  const status = statusLine();
  const total = h("p", { class: "total" });
  const list = h("ol", { class: "entries", "aria-label": "Today's entries" });
  const empty = h("p", { class: "empty" }, "Nothing logged yet today. Type what you did above and press Enter.");
  const choices = { projects: () => projects.filter((p) => p.status === "ACTIVE"), tagNames: () => tags.map((t) => t.name) };

  function isToday(entry) {
    const start = new Date(entry.startTime);
    return start >= from && start < to;
  }

  function learnTags(entry) {
    for (const tag of entry.tags) if (!tags.some((known) => known.id === tag.id)) tags.push(tag);
  }

  function renderList() {
    const ordered = [...items.values()].sort((a, b) => new Date(b.entry.startTime) - new Date(a.entry.startTime));
    list.replaceChildren(...ordered.map((item) => item.view.element));
    const minutes = ordered.reduce((sum, item) => sum + item.entry.durationMinutes, 0);
    total.textContent = ordered.length ? `${formatMinutes(minutes)} logged in ${ordered.length} ${ordered.length === 1 ? "entry" : "entries"}` : "";
    empty.hidden = ordered.length > 0;
  }

  /** Adds, replaces or drops the entry as its newest version says. */
  function upsert(entry) {
    if (!isToday(entry)) return remove(entry.id);
    learnTags(entry);
    const known = items.get(entry.id);
    if (known) {
      known.entry = entry;
      known.view.update(entry);
    } else {
      items.set(entry.id, { entry, view: entryItem(entry, actions, choices) });
    }
    return renderList();
  }

  function remove(id) {
    if (items.delete(id)) renderList();
  }

  const actions = {
    async update(id, input) {
      const data = await api.request(ENTRY_MUTATION("UpdateEntry", "$id: ID!, $input: UpdateLogEntryInput!", "updateLogEntry(id: $id, input: $input)"), { id, input });
      items.get(id)?.view.show(data.updateLogEntry); // the edit form closes
      upsert(data.updateLogEntry);
      list.querySelector(`[data-id="${CSS.escape(id)}"] button`)?.focus();
      status.textContent = "Saved.";
    },
    async remove(id) {
      await api.request("mutation DeleteEntry($id: ID!) { deleteLogEntry(id: $id) }", { id });
      remove(id);
      status.textContent = "Deleted.";
      form.focus();
    },
    async addTag(entry, name) {
      try {
        const input = { tags: [...entry.tags.map((tag) => tag.name), name] };
        const data = await api.request(ENTRY_MUTATION("TagEntry", "$id: ID!, $input: UpdateLogEntryInput!", "updateLogEntry(id: $id, input: $input)"), { id: entry.id, input });
        upsert(data.updateLogEntry);
        status.textContent = `Tagged “${name}”.`;
      } catch (error) {
        status.textContent = error.summary;
      }
    },
  };

  const form = entryForm({
    ...choices,
    onSave: async (input) => {
      const data = await api.request(ENTRY_MUTATION("CreateEntry", "$input: CreateLogEntryInput!", "createLogEntry(input: $input)"), { input });
      upsert(data.createLogEntry);
      form.clear();
      form.focus();
      const logged = data.createLogEntry;
      status.textContent = isToday(logged)
        ? `Logged “${logged.title}”.`
        : `Logged “${logged.title}”: it starts on another day, so it is not in today's list.`;
    },
  });

  async function tagIds(names) {
    const ids = [];
    for (const name of names) {
      let tag = tags.find((known) => known.name.toLowerCase() === name.toLowerCase());
      if (!tag) {
        const data = await api.request("mutation NewTag($input: CreateTagInput!) { createTag(input: $input) { id name usageCount } }", { input: { name } });
        tag = data.createTag;
        tags.push(tag);
      }
      ids.push(tag.id);
    }
    return ids;
  }

  const timer = timerBar({
    collect: () => form.collect({ times: false }),
    tagIds,
    onStopped: (entry) => {
      form.clear();
      status.textContent = "Timer stopped: entry logged.";
      if (entry && entry.id) refreshEntry(entry.id);
    },
    onError: (error) => form.showError(error),
  });

  async function refreshEntry(id) {
    const data = await api.request(`query Entry($id: ID!) { logEntry(id: $id) { ${ENTRY_FIELDS} } }`, { id });
    if (data.logEntry) upsert(data.logEntry);
  }

  root.append(
    h("header", { class: "screen-header" }, h("h1", {}, "Today"), h("p", { class: "muted" }, formatDay(from))),
    h("section", { class: "card", "aria-labelledby": "log-heading" }, h("h2", { id: "log-heading", class: "visually-hidden" }, "Log work"), form.form, timer.element),
    status,
    h("section", { "aria-labelledby": "entries-heading" }, h("div", { class: "list-header" }, h("h2", { id: "entries-heading" }, "Entries"), total), empty, list),
  );
  form.focus();

  // Subscribed before the query is sent: a change made meanwhile arrives as an event too.
  const stopFeed = live.feed(
    EVENTS,
    "logEntryEvents",
    (event) => {
      if (event.action === "DELETED" || !event.entry) remove(event.entryId);
      else upsert(event.entry);
    },
    { onResync: () => load({ again: true }) },
  );

  /** Today's data; `again`: after a drop with nothing to resume from, the list is read anew. */
  function load({ again = false } = {}) {
    return api
      .request(TODAY, { filter: { from: from.toISOString(), to: to.toISOString() }, first: PAGE })
      .then((data) => {
        projects = data.projects;
        tags = data.tags;
        replace(form.fields.project, h("option", { value: "" }, "No project"), ...choices.projects().map((p) => h("option", { value: p.id }, p.name)));
        const current = new Set(data.logEntries.edges.map((edge) => edge.node.id));
        if (again) for (const id of [...items.keys()]) if (!current.has(id)) items.delete(id);
        for (const edge of data.logEntries.edges) if (again || !items.has(edge.node.id)) upsert(edge.node);
        renderList();
        if (!again) timer.show(data.runningTimer);
      })
      .catch((error) => {
        status.textContent = error.summary || String(error);
      });
  }
  load();

  return () => {
    stopFeed();
    timer.unmount();
  };
}
