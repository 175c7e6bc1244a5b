// The form that asks for an insight: its kind, a period (presets that fit the kind, or any
// two days), optionally some projects and focus areas. Days are the user's days: "today"
// is today in the account's time zone, whatever this browser's zone is.

import { field, h, replace, select } from "../dom.js";
import { label } from "../format.js";
import { busy, clearErrors, formAlert, showError } from "../forms.js";

export const KINDS = [
  ["DAILY_SUMMARY", "Daily summary"],
  ["WEEKLY_REPORT", "Weekly report"],
  ["SPRINT_ANALYSIS", "Sprint analysis"],
  ["MONTHLY_INSIGHTS", "Monthly insights"],
  ["QUARTERLY_REVIEW", "Quarterly review"],
  ["ANNUAL_ASSESSMENT", "Annual assessment"],
  ["PERFORMANCE_REVIEW", "Performance review"],
];
const MAX_FOCUS_AREAS = 10;
const CUSTOM = "custom";

/** "Weekly report" for "WEEKLY_REPORT". */
export function kindLabel(kind) {
  return (KINDS.find(([value]) => value === kind) || [kind, kind])[1];
}

// Calendar days as "YYYY-MM-DD", computed in UTC so that no browser zone shifts them.
const toDay = (date) => date.toISOString().slice(0, 10);
const fromDay = (day) => new Date(`${day}T00:00:00Z`);
function addDays(day, days) {
  const date = fromDay(day);
  date.setUTCDate(date.getUTCDate() + days);
  return toDay(date);
}
function addMonths(day, months) {
  const date = fromDay(day);
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() + months);
  return toDay(date);
}
const monday = (day) => addDays(day, -((fromDay(day).getUTCDay() + 6) % 7));
const monthStart = (day) => `${day.slice(0, 8)}01`;
const quarterStart = (day) => {
  const month = Number(day.slice(5, 7));
  return `${day.slice(0, 5)}${String(month - ((month - 1) % 3)).padStart(2, "0")}-01`;
};
const yearStart = (day) => `${day.slice(0, 4)}-01-01`;
const month = (start) => [start, addDays(addMonths(start, 1), -1)];
const quarter = (start) => [start, addDays(addMonths(start, 3), -1)];
const year = (start) => [start, addDays(addMonths(start, 12), -1)];

/** Today in `timezone` (an IANA name), as "YYYY-MM-DD". */
export function todayIn(timezone) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: timezone || undefined, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  } catch {
    return new Intl.DateTimeFormat("en-CA").format(new Date());
  }
}

/** The periods offered for each kind, first the default: [label, today → [start, end]]. */
const PRESETS = {
  DAILY_SUMMARY: [
    ["Today", (t) => [t, t]],
    ["Yesterday", (t) => [addDays(t, -1), addDays(t, -1)]],
  ],
  WEEKLY_REPORT: [
    ["This week", (t) => [monday(t), addDays(monday(t), 6)]],
    ["Last week", (t) => [addDays(monday(t), -7), addDays(monday(t), -1)]],
  ],
  SPRINT_ANALYSIS: [
    ["This and last week", (t) => [addDays(monday(t), -7), addDays(monday(t), 6)]],
    ["The two weeks before this one", (t) => [addDays(monday(t), -14), addDays(monday(t), -1)]],
  ],
  MONTHLY_INSIGHTS: [
    ["This month", (t) => month(monthStart(t))],
    ["Last month", (t) => month(addMonths(monthStart(t), -1))],
  ],
  QUARTERLY_REVIEW: [
    ["This quarter", (t) => quarter(quarterStart(t))],
    ["Last quarter", (t) => quarter(addMonths(quarterStart(t), -3))],
  ],
  ANNUAL_ASSESSMENT: [
    ["This year", (t) => year(yearStart(t))],
    ["Last year", (t) => year(addMonths(yearStart(t), -12))],
  ],
  PERFORMANCE_REVIEW: [
    ["Last 6 months", (t) => [addDays(addMonths(t, -6), 1), t]],
    ["Last 12 months", (t) => [addDays(addMonths(t, -12), 1), t]],
  ],
};

/** 32 random hex digits (crypto.randomUUID needs a secure context; this does not). */
function idempotencyKey() {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Focus areas typed one a line: trimmed, no empty lines. */
function parseFocusAreas(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean);
}

// The API names a focus area's error "focusAreas.2": shown at the text box, with its line.
function placed(error) {
  const fields = {};
  for (const [name, message] of Object.entries(error.fields || {})) {
    const item = /^focusAreas\.(\d+)$/.exec(name);
    if (item) fields.focusAreas ??= `line ${Number(item[1]) + 1}: ${message}`;
    else fields[name] = message;
  }
  return { fields, summary: error.summary || String(error.message || error) };
}

/**
 * The request form. `timezone()` is the account's zone; `onRequest(input, key)` sends it
 * (an idempotency key that stays the same while the same request is tried again).
 */
export function insightForm({ timezone, onRequest }) {
  const kind = select(KINDS, "WEEKLY_REPORT", { name: "kind" });
  const preset = h("select", { name: "preset" });
  const start = h("input", { type: "date", name: "periodStart", required: true });
  const end = h("input", { type: "date", name: "periodEnd", required: true });
  const projects = h("select", { name: "projectIds", multiple: true, size: 3 });
  const noProjects = h("p", { class: "muted no-projects", hidden: true }, "No projects yet: the report covers all of your work.");
  const focus = h("textarea", { name: "focusAreas", rows: 2, maxlength: 1100 });
  const alert = formAlert();
  let attempt = null; // { body, key } of the last request that did not get an answer

  function presets() {
    return PRESETS[kind.value] || PRESETS.WEEKLY_REPORT;
  }

  function applyPreset() {
    const chosen = presets().find(([name]) => name === preset.value);
    if (!chosen) return;
    const [from, to] = chosen[1](todayIn(timezone()));
    start.value = from;
    end.value = to;
  }

  function offerPresets() {
    const custom = preset.value === CUSTOM;
    replace(preset, ...presets().map(([name]) => h("option", { value: name }, name)), h("option", { value: CUSTOM }, "Custom dates"));
    preset.value = custom ? CUSTOM : presets()[0][0];
    applyPreset();
  }

  kind.addEventListener("change", offerPresets);
  preset.addEventListener("change", applyPreset);
  for (const input of [start, end]) input.addEventListener("input", () => (preset.value = CUSTOM));

  const form = h(
    "form",
    { class: "insight-form", novalidate: true, "aria-label": "Request an insight" },
    alert,
    h(
      "div",
      { class: "row" },
      field("Kind", kind, { name: "kind" }),
      field("Period", preset),
      field("From", start, { name: "periodStart" }),
      field("To (included)", end, { name: "periodEnd" }),
    ),
    h(
      "div",
      { class: "row insight-scope" },
      field("Projects (optional)", projects, { name: "projectIds", hint: "None chosen: all of your work. Ctrl or ⌘ chooses several.", element: h("div", {}, projects, noProjects) }),
      field("Focus areas (optional)", focus, { name: "focusAreas", hint: `What the report should pay attention to, one a line (up to ${MAX_FOCUS_AREAS}).` }),
    ),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Request insight")),
  );

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = {
      kind: kind.value,
      periodStart: start.value,
      periodEnd: end.value,
      projectIds: [...projects.selectedOptions].map((option) => option.value),
      focusAreas: parseFocusAreas(focus.value),
    };
    const missing = {};
    if (!input.periodStart) missing.periodStart = "choose the first day";
    if (!input.periodEnd) missing.periodEnd = "choose the last day";
    if (Object.keys(missing).length) {
      showError(form, { fields: missing, summary: "" });
      return;
    }
    const body = JSON.stringify(input);
    if (!attempt || attempt.body !== body) attempt = { body, key: idempotencyKey() };
    busy(form, async () => {
      clearErrors(form);
      try {
        await onRequest(input, attempt.key);
        attempt = null;
      } catch (error) {
        if (error.code !== "NETWORK") attempt = null; // only an unanswered request is tried again
        showError(form, placed(error));
      }
    });
  });

  offerPresets();
  return {
    form,
    /** The user's projects to choose from (archived ones too: their past work counts). */
    setProjects(list) {
      const chosen = new Set([...projects.selectedOptions].map((option) => option.value));
      replace(projects, ...list.map((project) => h("option", { value: project.id, selected: chosen.has(project.id) }, project.status === "ACTIVE" ? project.name : `${project.name} (${label(project.status).toLowerCase()})`)));
      projects.size = Math.min(5, Math.max(2, list.length));
      projects.hidden = list.length === 0;
      noProjects.hidden = list.length > 0;
      const hint = form.querySelector(`#${CSS.escape(projects.id)}-hint`);
      if (hint) hint.hidden = list.length === 0;
    },
    focus: () => kind.focus(),
  };
}
