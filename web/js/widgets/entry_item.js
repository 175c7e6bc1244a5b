// One entry of a list: what, when, how long, its tags, the tags the enrichment suggests (one
// click adds one), and inline edit and delete.

import { h, replace } from "../dom.js";
import { formatClock, formatMinutes, label } from "../format.js";
import { entryForm } from "./entry_form.js";

export const ENTRY_FIELDS = `id title description type startTime endTime durationMinutes valueRating impactLevel
  project { id name color } tags { id name } suggestedTags`;

/** The suggested tags the entry does not carry yet. */
export function newSuggestions(entry) {
  const carried = new Set(entry.tags.map((tag) => tag.name.toLowerCase()));
  return (entry.suggestedTags || []).filter((name) => !carried.has(name.toLowerCase()));
}

/**
 * An <li> for `entry`. `actions`: { update(id, input), remove(id), addTag(entry, name) },
 * `choices`: { projects(), tagNames() } for the edit form.
 */
export function entryItem(entry, actions, choices) {
  const item = h("li", { class: "entry", dataset: { id: entry.id } });

  function view() {
    const suggestions = newSuggestions(entry);
    replace(
      item,
      h(
        "div",
        { class: "when" },
        h("span", { class: "range" }, `${formatClock(entry.startTime)}–${formatClock(entry.endTime)}`),
        h("span", { class: "duration" }, formatMinutes(entry.durationMinutes)),
      ),
      h(
        "div",
        { class: "what" },
        h("p", { class: "title" }, entry.title),
        h(
          "p",
          { class: "meta" },
          [label(entry.type), entry.project ? entry.project.name : null, `${label(entry.valueRating)} value`, `${label(entry.impactLevel)} impact`]
            .filter(Boolean)
            .join(" · "),
        ),
        entry.tags.length ? h("ul", { class: "chips", "aria-label": "Tags" }, entry.tags.map((tag) => h("li", { class: "chip" }, tag.name))) : null,
        suggestions.length
          ? h(
              "div",
              { class: "suggested" },
              h("span", { class: "muted" }, "Suggested:"),
              suggestions.map((name) =>
                h("button", { type: "button", class: "chip add", "aria-label": `Add suggested tag ${name}`, onclick: () => actions.addTag(entry, name) }, `+ ${name}`),
              ),
            )
          : null,
      ),
      h(
        "div",
        { class: "item-actions" },
        h("button", { type: "button", class: "link", onclick: edit, "aria-label": `Edit “${entry.title}”` }, "Edit"),
        h("button", { type: "button", class: "link danger", onclick: confirmDelete, "aria-label": `Delete “${entry.title}”` }, "Delete"),
      ),
    );
  }

  function edit() {
    const editor = entryForm({
      entry,
      ...choices,
      submitLabel: "Save changes",
      onCancel: () => {
        view();
        item.querySelector("button").focus();
      },
      onSave: async (input) => {
        await actions.update(entry.id, input);
      },
    });
    replace(item, editor.form);
    editor.focus();
  }

  function confirmDelete() {
    const keep = h("button", { type: "button", onclick: () => { view(); item.querySelector(".danger").focus(); } }, "Keep");
    const message = h("p", { class: "form-error", role: "alert", hidden: true });
    replace(
      item,
      h(
        "div",
        { class: "confirm", role: "group", "aria-label": "Confirm delete" },
        h("p", {}, "Delete “", entry.title, "”?"),
        h(
          "button",
          {
            type: "button",
            class: "danger",
            onclick: async () => {
              try {
                await actions.remove(entry.id);
              } catch (error) {
                message.textContent = error.summary || String(error);
                message.hidden = false;
              }
            },
          },
          "Delete",
        ),
        keep,
        message,
      ),
    );
    keep.focus();
  }

  view();
  return {
    element: item,
    /** Shows a newer version of the entry unless it is being edited (typing is never lost). */
    update(next) {
      entry = next;
      if (!item.querySelector("form, .confirm")) view();
    },
    /** Shows the entry as saved, closing its edit form. */
    show(next) {
      entry = next;
      view();
    },
  };
}
