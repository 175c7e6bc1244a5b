// The entries screen's filters: a period (presets in the user's time zone, or custom days),
// project, type, tag, value, impact and a full-text search; kept in the URL's query string
// (?period=week&type=CODE&q=…) so a reload, a bookmark and Back show the same list.

import { field, h, replace, select, uid } from "../dom.js";
import { clearErrors, showErrors } from "../forms.js";
import { ACTIVITY_TYPES, IMPACT_LEVELS, VALUE_RATINGS, label } from "../format.js";
import { addDays, dayOf, formatShortDay, isDay, mondayOf, monthOf, nextMonth, startOf } from "./zoned.js";

export const PERIODS = [
  ["today", "Today"],
  ["week", "This week"],
  ["last-week", "Last week"],
  ["month", "This month"],
  ["all", "All time"],
  ["custom", "Custom"],
];
const DEFAULT_PERIOD = "week";
const SEARCH_MAX = 200;
const CHOICES = { type: ACTIVITY_TYPES, value: VALUE_RATINGS, impact: IMPACT_LEVELS };
const KEYS = ["period", "from", "to", "project", "type", "tag", "value", "impact", "q"];

/** The filters a query string names (anything unknown or malformed is left out). */
export function readFilters(params) {
  const state = Object.fromEntries(KEYS.map((key) => [key, (params.get(key) || "").trim()]));
  if (!PERIODS.some(([value]) => value === state.period)) state.period = DEFAULT_PERIOD;
  for (const [key, allowed] of Object.entries(CHOICES)) if (!allowed.includes(state[key])) state[key] = "";
  if (state.period !== "custom") state.from = state.to = "";
  for (const key of ["from", "to"]) if (state[key] && !isDay(state[key])) state[key] = "";
  state.q = state.q.slice(0, SEARCH_MAX);
  state.tag = state.tag.slice(0, 50);
  return state;
}

/** "?period=month&type=CODE" for `state` (the default period and empty filters left out). */
export function filterSearch(state) {
  const params = new URLSearchParams();
  for (const key of KEYS) {
    if (!state[key] || (key === "period" && state[key] === DEFAULT_PERIOD)) continue;
    params.set(key, state[key]);
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Whether any filter beyond the period is set. */
export function narrowed(state) {
  return KEYS.slice(3).some((key) => state[key]);
}

/**
 * The period's days, [fromDay, toDay) in `zone` (both null for all time), and a label; or
 * `errors` (field → message) for a custom range that is not one, `incomplete` for one
 * whose days are still to be chosen.
 */
export function period(state, zone, now = new Date()) {
  const today = dayOf(now, zone);
  const year = Number(today.slice(0, 4));
  let fromDay = null;
  let toDay = null;
  switch (state.period) {
    case "today":
      [fromDay, toDay] = [today, addDays(today, 1)];
      break;
    case "week":
      fromDay = mondayOf(today);
      toDay = addDays(fromDay, 7);
      break;
    case "last-week":
      toDay = mondayOf(today);
      fromDay = addDays(toDay, -7);
      break;
    case "month":
      [fromDay, toDay] = [monthOf(today), nextMonth(today)];
      break;
    case "custom":
      if (!state.from || !state.to) return { incomplete: true };
      if (state.to < state.from) return { errors: { to: "The last day cannot be before the first." } };
      [fromDay, toDay] = [state.from, addDays(state.to, 1)];
      break;
    default:
      return { fromDay, toDay, label: "All time" };
  }
  const last = addDays(toDay, -1);
  const withYear = fromDay.slice(0, 4) !== String(year) || last.slice(0, 4) !== String(year);
  const text = fromDay === last
    ? formatShortDay(fromDay, { year: withYear })
    : `${formatShortDay(fromDay, { year: withYear })} – ${formatShortDay(last, { year: withYear })}`;
  return { fromDay, toDay, label: text };
}

/** The LogEntryFilter for `state`, or { errors } / { incomplete } as `period` says. */
export function apiFilter(state, zone, now = new Date()) {
  const range = period(state, zone, now);
  if (range.errors || range.incomplete) return range;
  const filter = {};
  if (range.fromDay) filter.from = startOf(range.fromDay, zone).toISOString();
  if (range.toDay) filter.to = startOf(range.toDay, zone).toISOString();
  if (state.project) filter.projectIds = [state.project];
  if (state.type) filter.types = [state.type];
  if (state.tag) filter.tags = [state.tag];
  if (state.value) filter.valueRatings = [state.value];
  if (state.impact) filter.impactLevels = [state.impact];
  if (state.q) filter.search = state.q;
  return { filter, label: range.label };
}

/**
 * Whether `entry` is in the list `filter` asks for: true or false; null when only the server
 * can tell (a full-text search).
 */
export function matches(entry, filter) {
  const start = Date.parse(entry.startTime);
  if (filter.from && start < Date.parse(filter.from)) return false;
  if (filter.to && start >= Date.parse(filter.to)) return false;
  if (filter.projectIds && !(entry.project && filter.projectIds.includes(entry.project.id))) return false;
  if (filter.types && !filter.types.includes(entry.type)) return false;
  if (filter.valueRatings && !filter.valueRatings.includes(entry.valueRating)) return false;
  if (filter.impactLevels && !filter.impactLevels.includes(entry.impactLevel)) return false;
  if (filter.tags) {
    const wanted = new Set(filter.tags.map((name) => name.toLowerCase()));
    if (!entry.tags.some((tag) => wanted.has(tag.name.toLowerCase()))) return false;
  }
  return filter.search ? null : true;
}

function anyOf(values, anyLabel) {
  return [["", anyLabel], ...values.map((value) => [value, label(value)])];
}

/**
 * The filter form for `state`. `onChange(state, { typing })` runs on every change (`typing`:
 * the search box, debounced); `zone` is the user's time zone. `setChoices(projects, tags)`
 * fills the project and tag lists.
 */
export function filterForm(state, { zone, onChange }) {
  let current = { ...state };
  const name = uid("period");
  const radios = PERIODS.map(([value, text]) => {
    const input = h("input", { type: "radio", name, value, checked: value === current.period });
    return h("label", { class: "segment" }, input, h("span", {}, text));
  });
  const from = h("input", { type: "date", value: current.from, max: "2999-12-31", min: "1900-01-01" });
  const to = h("input", { type: "date", value: current.to, max: "2999-12-31", min: "1900-01-01" });
  const custom = h("div", { class: "row custom-range", hidden: current.period !== "custom" }, field("From", from, { name: "from" }), field("To", to, { name: "to" }));
  const project = select([["", "Any project"]], "");
  const tag = select([["", "Any tag"]], "");
  const type = select(anyOf(ACTIVITY_TYPES, "Any type"), current.type);
  const value = select(anyOf(VALUE_RATINGS, "Any value"), current.value);
  const impact = select(anyOf(IMPACT_LEVELS, "Any impact"), current.impact);
  const search = h("input", { type: "search", value: current.q, maxLength: SEARCH_MAX, autocomplete: "off", placeholder: "words, \"a phrase\", -excluded" });
  const reset = h("button", { type: "button", class: "link", hidden: !narrowed(current) }, "Clear filters");

  // On a narrow screen the filters start folded (unless one is set), so the list shows.
  const summary = h("summary", {}, "Filters");
  const more = h(
    "details",
    { class: "more-filters", open: narrowed(current) || window.matchMedia("(min-width: 34rem)").matches },
    summary,
    h(
      "div",
      { class: "row" },
      field("Project", project, { name: "projectIds" }),
      field("Type", type, { name: "types" }),
      field("Tag", tag, { name: "tags" }),
      field("Value", value, { name: "valueRatings" }),
      field("Impact", impact, { name: "impactLevels" }),
    ),
    h("div", { class: "row search-row" }, field("Search", search, { name: "search", hint: "Title and description." }), h("div", { class: "reset" }, reset)),
  );
  function summarise(state) {
    const set = KEYS.slice(3).filter((key) => state[key]).length;
    summary.textContent = set ? `Filters (${set} set)` : "Filters";
  }
  summarise(current);

  const form = h(
    "form",
    { class: "filters card", role: "search", "aria-label": "Filter entries", novalidate: true },
    h("p", { class: "form-error", role: "alert", hidden: true }),
    h("fieldset", { class: "periods" }, h("legend", {}, "Period"), h("div", { class: "segments" }, radios)),
    custom,
    more,
  );

  function read() {
    const checked = radios.map((radio) => radio.querySelector("input")).find((input) => input.checked);
    return {
      period: checked ? checked.value : DEFAULT_PERIOD,
      from: from.value,
      to: to.value,
      project: project.value,
      type: type.value,
      tag: tag.value,
      value: value.value,
      impact: impact.value,
      q: search.value.trim(),
    };
  }

  function changed({ typing = false } = {}) {
    const next = read();
    if (next.period === "custom" && current.period !== "custom" && !next.from && !next.to) {
      // Custom starts from the period shown so far, so there is something to narrow.
      const shown = period(current, zone);
      if (shown.fromDay) {
        from.value = next.from = shown.fromDay;
        to.value = next.to = addDays(shown.toDay, -1);
      }
    }
    if (next.period !== "custom") next.from = next.to = "";
    custom.hidden = next.period !== "custom";
    reset.hidden = !narrowed(next);
    summarise(next);
    clearErrors(form);
    current = next;
    onChange({ ...next }, { typing });
  }

  let typingTimer = null;
  form.addEventListener("change", (event) => {
    if (event.target === search) return;
    changed();
  });
  search.addEventListener("input", () => {
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => changed({ typing: true }), 350);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault(); // Enter in the search box: search now
    clearTimeout(typingTimer);
    if (search.value.trim() !== current.q) changed();
  });
  reset.addEventListener("click", () => {
    for (const control of [project, type, tag, value, impact]) control.value = "";
    search.value = "";
    changed();
    radios.find((radio) => radio.querySelector("input").checked)?.querySelector("input").focus();
  });

  return {
    form,
    /** Fills the project and tag choices (keeping the chosen ones, even when unknown). */
    setChoices(projects, tags) {
      const projectOptions = projects.map((p) => [p.id, p.status === "ACTIVE" ? p.name : `${p.name} (${label(p.status).toLowerCase()})`]);
      replace(project, ...select([["", "Any project"], ...projectOptions], current.project).children);
      const names = tags.map((t) => t.name);
      if (current.tag && !names.some((n) => n.toLowerCase() === current.tag.toLowerCase())) names.push(current.tag);
      replace(tag, ...select([["", "Any tag"], ...names.map((n) => [n, n])], current.tag).children);
      project.value = current.project;
      tag.value = current.tag;
    },
    /** Shows `fields` (the API's names, "filter." taken off) at their controls. */
    showErrors(fields, summary = "") {
      const named = Object.fromEntries(Object.entries(fields).map(([key, message]) => [key.replace(/^filter\./, ""), message]));
      showErrors(form, { fields: named, summary });
    },
    clearErrors: () => clearErrors(form),
    cancelTyping: () => clearTimeout(typingTimer),
  };
}
