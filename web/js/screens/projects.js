// Projects and tags: create, rename, colour, archive (a project's status) and delete after a
// confirmation, each with how many entries use it. Tags count themselves (Tag.usageCount);
// Project has no such field, so a project's count is logEntries' totalCount for it, fifteen
// projects a request (the API's alias limit).

import * as api from "../api.js";
import { h, replace, statusLine } from "../dom.js";
import { label } from "../format.js";
import { confirmDialog } from "../widgets/confirm_dialog.js";
import { swatch, thingForm } from "../widgets/thing_form.js";

const PROJECT = "id name description status color";
const TAG = "id name category color usageCount";
const LOAD = `query ProjectsAndTags { projects { ${PROJECT} } tags { ${TAG} } }`;
const ALIASES = 15; // ENGLOG_MAX_QUERY_ALIASES' default
const STATUSES = ["ACTIVE", "ON_HOLD", "COMPLETED", "CANCELLED"];
const ARCHIVED = "COMPLETED"; // "Archive" finishes a project; any status but ACTIVE is archived

/** One document counting the entries of each of `ids`: p0: logEntries(filter: …) … */
function usageQuery(ids) {
  const signature = ids.map((_, index) => `$p${index}: ID!`).join(", ");
  const fields = ids.map((_, index) => `p${index}: logEntries(filter: { projectIds: [$p${index}] }, first: 1) { totalCount }`).join(" ");
  return [`query ProjectUsage(${signature}) { ${fields} }`, Object.fromEntries(ids.map((id, index) => [`p${index}`, id]))];
}

function entriesText(count) {
  if (count === undefined) return "Counting entries…";
  return count === 1 ? "1 entry" : `${count} entries`;
}

const KINDS = {
  project: {
    title: "Projects",
    noun: "project",
    fields: [
      { key: "name", label: "Name", kind: "text", maxLength: 200, required: true },
      { key: "status", label: "Status", kind: "select", options: STATUSES.map((s) => [s, label(s)]) },
      { key: "description", label: "Description", kind: "textarea", maxLength: 2000 },
      { key: "color", label: "Colour", kind: "color" },
    ],
    create: `mutation CreateProject($input: CreateProjectInput!) { createProject(input: $input) { ${PROJECT} } }`,
    update: `mutation UpdateProject($id: ID!, $input: UpdateProjectInput!) { updateProject(id: $id, input: $input) { ${PROJECT} } }`,
    remove: "mutation DeleteProject($id: ID!) { deleteProject(id: $id) }",
    // Active ones first; otherwise newest first, as the API lists them.
    order: (a, b) => (b.status === "ACTIVE") - (a.status === "ACTIVE"),
    empty: "No projects yet: create one above to group your entries.",
    detail: (thing, usage) => {
      if (usage === 0) return "It has no entries.";
      return `${usage === undefined ? "Its entries" : `Its ${entriesText(usage)}`} stay, without a project.`;
    },
  },
  tag: {
    title: "Tags",
    noun: "tag",
    fields: [
      { key: "name", label: "Name", kind: "text", maxLength: 50, required: true },
      { key: "category", label: "Category", kind: "text", maxLength: 50, hint: "Optional, e.g. skill." },
      { key: "color", label: "Colour", kind: "color" },
    ],
    create: `mutation CreateTag($input: CreateTagInput!) { createTag(input: $input) { ${TAG} } }`,
    update: `mutation UpdateTag($id: ID!, $input: UpdateTagInput!) { updateTag(id: $id, input: $input) { ${TAG} } }`,
    remove: "mutation DeleteTag($id: ID!) { deleteTag(id: $id) }",
    order: (a, b) => a.name.localeCompare(b.name),
    empty: "No tags yet: they are made when an entry names one, or here.",
    detail: (thing) => {
      const one = thing.usageCount === 1;
      return `It is taken off ${entriesText(thing.usageCount)} that ${one ? "carries" : "carry"} it; ${one ? "the entry stays" : "the entries stay"}.`;
    },
  },
};

/**
 * One section (projects or tags): its create form and its list. `usage(thing)` is the count
 * of entries using it (undefined while unknown); `status` the screen's status line.
 */
function thingSection(kind, { host, usage, status, onChange }) {
  const spec = KINDS[kind];
  const rows = new Map(); // id → { thing, element, view }
  const list = h("ul", { class: "things", "aria-label": spec.title });
  const empty = h("p", { class: "empty", hidden: true }, spec.empty);
  const headingId = `${kind}-heading`;

  async function save(id, input) {
    const data = await api.request(spec.update, { id, input });
    const thing = Object.values(data)[0];
    show(thing);
    onChange();
    return thing;
  }

  const creator = thingForm({
    fields: spec.fields,
    label: `New ${spec.noun}`,
    submitLabel: `Create ${spec.noun}`,
    onSave: async (input) => {
      const data = await api.request(spec.create, { input });
      const thing = Object.values(data)[0];
      show(thing);
      creator.clear();
      creator.focus();
      status.textContent = `Created ${spec.noun} “${thing.name}”.`;
      onChange(thing);
    },
  });

  function row(thing) {
    const element = h("li", { class: "thing", dataset: { id: thing.id } });
    const item = { thing, element };

    function view() {
      const current = item.thing;
      const archived = kind === "project" && current.status !== "ACTIVE";
      element.classList.toggle("archived", archived);
      const badges = [];
      if (kind === "project") badges.push(h("span", { class: `badge status-${current.status.toLowerCase()}` }, label(current.status)));
      if (current.category) badges.push(h("span", { class: "badge" }, current.category));
      const actions = [h("button", { type: "button", class: "link", "aria-label": `Edit ${spec.noun} “${current.name}”`, onclick: edit }, "Edit")];
      if (kind === "project") {
        const next = archived ? "ACTIVE" : ARCHIVED;
        actions.push(
          h(
            "button",
            { type: "button", class: "link", "aria-label": `${archived ? "Reactivate" : "Archive"} ${spec.noun} “${current.name}”`, onclick: () => setStatus(next) },
            archived ? "Reactivate" : "Archive",
          ),
        );
      }
      actions.push(h("button", { type: "button", class: "link danger", "aria-label": `Delete ${spec.noun} “${current.name}”`, onclick: remove }, "Delete"));
      replace(
        element,
        swatch(current.color),
        h(
          "div",
          { class: "what" },
          h("p", { class: "name" }, h("span", { class: "title" }, current.name), ...badges),
          current.description ? h("p", { class: "description muted" }, current.description) : null,
          h("p", { class: "usage muted" }, entriesText(usage(current))),
        ),
        h("div", { class: "item-actions" }, actions),
      );
    }

    function edit() {
      const editor = thingForm({
        fields: spec.fields,
        values: item.thing,
        label: `Edit ${spec.noun} “${item.thing.name}”`,
        submitLabel: "Save changes",
        onCancel: () => {
          view();
          element.querySelector("button").focus();
        },
        onSave: async (input) => {
          const thing = await save(item.thing.id, input);
          element.querySelector("button")?.focus();
          status.textContent = `Saved ${spec.noun} “${thing.name}”.`;
        },
      });
      replace(element, editor.form);
      editor.focus();
    }

    async function setStatus(next) {
      try {
        const thing = await save(item.thing.id, { status: next });
        status.textContent = next === "ACTIVE" ? `Reactivated “${thing.name}”.` : `Archived “${thing.name}” (${label(next).toLowerCase()}).`;
        rows.get(thing.id)?.element.querySelector(".item-actions button:nth-child(2)")?.focus();
      } catch (error) {
        status.textContent = error.summary || String(error);
      }
    }

    async function remove() {
      const gone = await confirmDialog(host, {
        question: `Delete ${spec.noun} “${item.thing.name}”?`,
        detail: spec.detail(item.thing, usage(item.thing)),
        confirmLabel: `Delete ${spec.noun}`,
        run: async () => {
          await api.request(spec.remove, { id: item.thing.id });
        },
      });
      if (!gone) return;
      rows.delete(item.thing.id);
      render();
      status.textContent = `Deleted ${spec.noun} “${item.thing.name}”.`;
      creator.focus();
      onChange();
    }

    item.view = () => {
      if (!element.querySelector("form")) view(); // an edit being typed is never replaced
    };
    item.show = view;
    view();
    return item;
  }

  function show(thing) {
    const known = rows.get(thing.id);
    if (known) {
      known.thing = thing;
      known.show();
    } else {
      const others = [...rows];
      rows.clear();
      rows.set(thing.id, row(thing)); // the newest first, as the API lists them
      for (const [id, item] of others) rows.set(id, item);
    }
    render();
  }

  function render() {
    const ordered = [...rows.values()].sort((a, b) => spec.order(a.thing, b.thing));
    list.replaceChildren(...ordered.map((item) => item.element));
    empty.hidden = rows.size > 0;
  }

  const element = h(
    "section",
    { class: "things-section", "aria-labelledby": headingId },
    h("h2", { id: headingId }, spec.title),
    h("div", { class: "card" }, h("h3", { class: "form-title" }, `New ${spec.noun}`), creator.form),
    empty,
    list,
  );

  return {
    element,
    /** Shows `things` (the API's order kept, active projects first). */
    set(things) {
      rows.clear();
      for (const thing of things) rows.set(thing.id, row(thing));
      render();
    },
    /** Redraws the counts (a row being edited keeps its form). */
    refreshUsage() {
      for (const item of rows.values()) item.view();
    },
    ids: () => [...rows.keys()],
  };
}

export function mount(root) {
  const counts = new Map(); // project id → entries
  const status = statusLine();
  let live = true;

  async function countProjects(ids) {
    for (let start = 0; start < ids.length && live; start += ALIASES) {
      const chunk = ids.slice(start, start + ALIASES);
      const data = await api.request(...usageQuery(chunk));
      chunk.forEach((id, index) => counts.set(id, data[`p${index}`].totalCount));
    }
    if (live) projects.refreshUsage();
  }

  const projects = thingSection("project", {
    host: root,
    status,
    usage: (project) => counts.get(project.id),
    onChange: (created) => {
      if (created) countProjects([created.id]).catch(() => {});
    },
  });
  const tags = thingSection("tag", {
    host: root,
    status,
    usage: (tag) => tag.usageCount,
    onChange: () => {},
  });

  root.append(
    h("header", { class: "screen-header" }, h("h1", {}, "Projects and tags"), h("p", { class: "muted" }, "What your entries are grouped and labelled by.")),
    status,
    h("div", { class: "things-columns" }, projects.element, tags.element),
  );

  api
    .request(LOAD)
    .then(async (data) => {
      if (!live) return;
      projects.set(data.projects);
      tags.set(data.tags);
      await countProjects(data.projects.map((project) => project.id));
    })
    .catch((error) => {
      status.textContent = error.summary || String(error);
    });

  return () => {
    live = false;
  };
}
