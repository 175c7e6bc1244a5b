// The entry form, keyboard first: Enter saves from any field (the tags list takes Enter only
// when a suggestion is chosen), Escape cancels an edit. Time is a duration ("30m", "1h15"),
// or a start and an end, or a start (until now); a duration with a start or an end places it.

import { field, h, select } from "../dom.js";
import { clearErrors, formAlert, onSubmit, showError, showErrors } from "../forms.js";
import {
  ACTIVITY_TYPES,
  IMPACT_LEVELS,
  VALUE_RATINGS,
  formatClock,
  label,
  parseClock,
  parseDuration,
  parseTags,
} from "../format.js";
import { tagsInput } from "./tags_input.js";

const MINUTE = 60_000;

function options(values) {
  return values.map((value) => [value, label(value)]);
}

/** Start and end instants from what was typed on `day`, or field errors. */
export function timesFrom({ start, end, duration }, day = new Date(), now = new Date()) {
  const errors = {};
  const startAt = start.trim() ? parseClock(start, day) : null;
  const endAt = end.trim() ? parseClock(end, day) : null;
  if (start.trim() && !startAt) errors.startTime = "Use a time like 9:30 or 14:05.";
  if (end.trim() && !endAt) errors.endTime = "Use a time like 10:15 or 17:00.";
  const minutes = duration.trim() ? parseDuration(duration) : null;
  if (duration.trim() && minutes === null) errors.duration = "Use a duration like 30m, 1h15 or 1:30.";
  if (Object.keys(errors).length) return { errors };
  if (minutes !== null) {
    if (startAt) return { startTime: startAt, endTime: new Date(startAt.getTime() + minutes * MINUTE) };
    const until = endAt || new Date(Math.floor(now.getTime() / MINUTE) * MINUTE);
    return { startTime: new Date(until.getTime() - minutes * MINUTE), endTime: until };
  }
  if (startAt && endAt) return { startTime: startAt, endTime: endAt };
  if (startAt) return { startTime: startAt, endTime: new Date(Math.floor(now.getTime() / MINUTE) * MINUTE) };
  return { errors: { duration: "Give a duration (30m, 1h15) or a start and an end." } };
}

/**
 * A form for a new entry or an existing one (`entry`). `projects()` and `tagNames()` give the
 * choices; `onSave(input)` stores it (throwing an ApiError keeps the form as typed);
 * `extraButtons` go after the save button.
 */
export function entryForm({ entry = null, projects, tagNames, onSave, onCancel = null, submitLabel = "Save entry", extraButtons = [] }) {
  const day = entry ? new Date(entry.startTime) : new Date();
  const title = h("input", { type: "text", maxLength: 200, required: true, autocomplete: "off", value: entry ? entry.title : "" });
  const type = select(options(ACTIVITY_TYPES), entry ? entry.type : "CODE");
  const project = select([["", "No project"], ...projects().map((p) => [p.id, p.name])], entry && entry.project ? entry.project.id : "");
  const tags = tagsInput(tagNames);
  if (entry) tags.input.value = entry.tags.map((tag) => tag.name).join(", ");
  const start = h("input", { type: "text", inputMode: "numeric", placeholder: "9:30", autocomplete: "off", size: 6, value: entry ? formatClock(entry.startTime) : "" });
  const end = h("input", { type: "text", inputMode: "numeric", placeholder: "10:15", autocomplete: "off", size: 6, value: entry ? formatClock(entry.endTime) : "" });
  const duration = h("input", { type: "text", placeholder: "30m", autocomplete: "off", size: 6 });
  const value = select(options(VALUE_RATINGS), entry ? entry.valueRating : "MEDIUM");
  const impact = select(options(IMPACT_LEVELS), entry ? entry.impactLevel : "TEAM");

  const save = h("button", { type: "submit", class: "primary" }, submitLabel);
  const form = h(
    "form",
    { class: entry ? "entry-form editing" : "entry-form", novalidate: true },
    formAlert(),
    h("div", { class: "row grow" }, field("What did you do?", title, { name: "title" })),
    h(
      "div",
      { class: "row" },
      field("Type", type, { name: "type" }),
      field("Project", project, { name: "projectId" }),
      field("Tags", tags.input, { name: "tags", element: tags.wrapper, hint: "Comma-separated; ↓ for suggestions." }),
    ),
    h(
      "div",
      { class: "row times" },
      field("Duration", duration, { name: "duration", hint: "30m, 1h15, 1:30" }),
      field("Start", start, { name: "startTime" }),
      field("End", end, { name: "endTime" }),
      field("Value", value, { name: "valueRating" }),
      field("Impact", impact, { name: "impactLevel" }),
    ),
    h(
      "div",
      { class: "actions" },
      save,
      ...extraButtons,
      onCancel ? h("button", { type: "button", onclick: () => onCancel() }, "Cancel") : null,
    ),
  );

  /**
   * What was typed, as a CreateLogEntryInput (or an UpdateLogEntryInput), or null after
   * showing errors; without `times` (a timer starting now) no start or end is asked for.
   */
  function input({ times: withTimes = true } = {}) {
    const errors = {};
    if (!title.value.trim()) errors.title = "Say what you did.";
    const times = withTimes ? timesFrom({ start: start.value, end: end.value, duration: duration.value }, day) : {};
    Object.assign(errors, times.errors || {});
    if (Object.keys(errors).length) {
      showErrors(form, { fields: errors });
      return null;
    }
    return {
      title: title.value.trim(),
      type: type.value,
      projectId: project.value || null,
      tags: parseTags(tags.input.value),
      startTime: times.startTime ? times.startTime.toISOString() : null,
      endTime: times.endTime ? times.endTime.toISOString() : null,
      valueRating: value.value,
      impactLevel: impact.value,
    };
  }

  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && onCancel) {
      event.preventDefault();
      onCancel();
    } else if (event.key === "Enter" && event.target instanceof HTMLSelectElement) {
      event.preventDefault(); // a select does not submit on Enter by itself
      form.requestSubmit();
    }
  });
  onSubmit(form, async () => {
    const data = input(); // null: what is wrong is shown already
    if (data) await onSave(data);
  });

  return {
    form,
    title,
    fields: { title, type, project, tags: tags.input, start, end, duration, value, impact },
    /** The fields the next entry starts afresh with; type, project, value and impact stay. */
    clear() {
      for (const control of [title, tags.input, start, end, duration]) control.value = "";
      clearErrors(form);
    },
    focus() {
      title.focus();
    },
    /** The values typed, or null after showing what is wrong (the timer starts from them). */
    collect: input,
    showError: (error) => showError(form, error),
  };
}
