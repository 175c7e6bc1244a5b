// Dashboard: where the time of a period went (timeAllocation: by type, project, value and
// impact), how productive it was (productivityMetrics) and a week day by day. Periods are
// the user's own days (their time zone, not necessarily this browser's). Every figure is the
// API's, shown as text beside its chart; a change to any entry (logEntryEvents, from any tab
// or device) refreshes them, debounced.

import * as api from "../api.js";
import { field, h, statusLine } from "../dom.js";
import { busy, clearErrors, formAlert, showError, showErrors } from "../forms.js";
import * as live from "../live.js";
import { allocationPanel, metricsList, weekPanel } from "../widgets/figures.js";
import { PRESETS, formatDay, period } from "../widgets/periods.js";
import { addDays, dayOf, isDay, mondayOf, startOf } from "../widgets/zoned.js";

const SHARE = "key minutes percent";
const FIGURES = `query Dashboard($from: DateTime!, $to: DateTime!) {
  timeAllocation(from: $from, to: $to) {
    totalMinutes byType { ${SHARE} } byProject { ${SHARE} } byValue { ${SHARE} } byImpact { ${SHARE} }
  }
  productivityMetrics(from: $from, to: $to) {
    totalMinutes totalEntries averageDailyHours daysWithEntries peakHour
    highValuePercent productCompanyImpactPercent valueImpactScore
  }
}`;
const PAGE = 100;
const WEEK_ENTRIES = `query WeekEntries($filter: LogEntryFilter!, $first: Int!, $after: String) {
  logEntries(filter: $filter, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { id startTime durationMinutes } }
  }
}`;
const EVENTS = "subscription DashboardEntries($since: String) { logEntryEvents(since: $since) { cursor action entryId } }";
const DEBOUNCE_MS = 400;
const BREAKDOWNS = [
  ["byType", "By type", "Type", false],
  ["byProject", "By project", "Project", true],
  ["byValue", "By value", "Value", false],
  ["byImpact", "By impact", "Impact", false],
];

function rangeLabel(first, last) {
  const year = last.slice(0, 4);
  return first === last ? `${formatDay(first)} ${year}` : `${formatDay(first)} – ${formatDay(last)} ${year}`;
}

export function mount(root, { params }) {
  const timeZone = (api.user() && api.user().timezone) || Intl.DateTimeFormat().resolvedOptions().timeZone;
  const known = new Set(PRESETS.map(([value]) => value));
  let preset = known.has(params.get("period")) ? params.get("period") : "this-week";
  let custom = { first: params.get("from"), last: params.get("to") };
  if (preset === "custom" && !(isDay(custom.first) && isDay(custom.last))) preset = "this-week";
  let current = null; // the period shown
  let week = null; // the Monday of the week shown day by day
  let figuresTicket = 0;
  let weekTicket = 0;
  let mounted = true;

  const status = statusLine();
  const periodLine = h("p", { class: "dash-period" });
  const metrics = metricsList();
  const panels = BREAKDOWNS.map(([figure, title, keyHeading, named]) => ({ figure, panel: allocationPanel({ figure, title, keyHeading, named }) }));
  const weekView = weekPanel({ onPrevious: () => showWeek(addDays(week, -7)), onNext: () => showWeek(addDays(week, 7)) });
  const screen = h("div", { class: "dashboard", dataset: { state: "loading" } });

  // The period: presets as radio buttons (arrow keys move between them), and the custom range.
  const radios = PRESETS.map(([value, text]) => {
    const input = h("input", { type: "radio", name: "period", value, checked: value === preset, onchange: () => choose(value) });
    return h("label", { class: "preset" }, input, h("span", {}, text));
  });
  const fromInput = h("input", { type: "date", required: true });
  const toInput = h("input", { type: "date", required: true });
  const customForm = h(
    "form",
    { class: "dash-range", novalidate: true, hidden: preset !== "custom", "aria-label": "Custom period" },
    formAlert(),
    h("div", { class: "row" }, field("From", fromInput, { name: "from" }), field("To (included)", toInput, { name: "to" })),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Show")),
  );
  customForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const first = fromInput.value;
    const last = toInput.value;
    const errors = {};
    if (!isDay(first)) errors.from = "Choose the first day.";
    if (!isDay(last)) errors.to = "Choose the last day.";
    if (Object.keys(errors).length) return showErrors(customForm, { fields: errors });
    custom = { first, last };
    return busy(customForm, () => show());
  });

  function choose(value) {
    preset = value;
    customForm.hidden = value !== "custom";
    if (value === "custom") {
      // Starts from the period on screen, to be narrowed or widened.
      fromInput.value ||= current.first;
      toInput.value ||= current.last;
      fromInput.focus();
      return;
    }
    clearErrors(customForm);
    show();
  }

  function remember() {
    const query = new URLSearchParams({ period: preset });
    if (preset === "custom") {
      query.set("from", current.first);
      query.set("to", current.last);
    }
    history.replaceState(null, "", `${location.pathname}?${query}`);
  }

  /** Shows the chosen period: its figures, and its week day by day. */
  function show() {
    current = period(preset, timeZone, custom);
    remember();
    periodLine.textContent = rangeLabel(current.first, current.last);
    screen.dataset.from = current.from.toISOString();
    screen.dataset.to = current.to.toISOString();
    // The week day by day: today's when the period holds today, else the period's last.
    const today = dayOf(new Date(), timeZone);
    const inside = current.first <= today && today <= current.last; // ISO days sort as text
    return Promise.all([loadFigures(), showWeek(mondayOf(inside ? today : current.last))]);
  }

  async function loadFigures() {
    const ticket = ++figuresTicket;
    screen.dataset.state = "loading";
    try {
      const data = await api.request(FIGURES, { from: current.from.toISOString(), to: current.to.toISOString() });
      if (!mounted || ticket !== figuresTicket) return;
      metrics.update(data.productivityMetrics);
      for (const { figure, panel } of panels) panel.update(data.timeAllocation[figure], data.timeAllocation.totalMinutes);
      if (preset === "custom") clearErrors(customForm);
      screen.dataset.state = "ready";
    } catch (error) {
      if (!mounted || ticket !== figuresTicket) return;
      screen.dataset.state = "error";
      if (preset === "custom") showError(customForm, error);
      else status.textContent = error.summary || String(error);
    }
  }

  /** Every entry starting in the week (all pages), summed by the local day it starts on. */
  async function showWeek(monday) {
    week = monday;
    const ticket = ++weekTicket;
    const days = Array.from({ length: 7 }, (_, index) => addDays(monday, index));
    const filter = { from: startOf(monday, timeZone).toISOString(), to: startOf(addDays(monday, 7), timeZone).toISOString() };
    weekView.element.dataset.from = filter.from;
    weekView.element.dataset.to = filter.to;
    weekView.element.dataset.state = "loading";
    const minutes = new Map(days.map((day) => [day, 0]));
    try {
      let after = null;
      do {
        const data = await api.request(WEEK_ENTRIES, { filter, first: PAGE, after });
        if (!mounted || ticket !== weekTicket) return;
        for (const { node } of data.logEntries.edges) {
          const day = dayOf(node.startTime, timeZone);
          if (minutes.has(day)) minutes.set(day, minutes.get(day) + node.durationMinutes);
        }
        after = data.logEntries.pageInfo.hasNextPage ? data.logEntries.pageInfo.endCursor : null;
      } while (after);
    } catch (error) {
      if (mounted && ticket === weekTicket) {
        weekView.element.dataset.state = "error";
        status.textContent = error.summary || String(error);
      }
      return;
    }
    weekView.update(
      `Week of ${formatDay(monday, { day: "numeric", month: "short", year: "numeric" })}`,
      days.map((day) => ({ date: day, label: formatDay(day), minutes: minutes.get(day) })),
    );
    weekView.element.dataset.state = "ready";
  }

  // Live: any change to an entry may change any figure; a burst of them is one refresh.
  let pending = null;
  function changed() {
    clearTimeout(pending);
    pending = setTimeout(() => {
      if (!mounted) return;
      Promise.all([loadFigures(), showWeek(week)]).then(() => {
        if (mounted) status.textContent = "Figures updated after a change to your entries.";
      });
    }, DEBOUNCE_MS);
  }
  const stopFeed = live.feed(EVENTS, "logEntryEvents", changed, { onResync: changed });

  screen.append(
    h("header", { class: "screen-header" }, h("h1", {}, "Dashboard"), h("p", { class: "muted" }, `Days in ${timeZone.replace(/_/g, " ")}`)),
    h("section", { class: "card dash-periods", "aria-label": "Period" }, h("fieldset", { class: "presets" }, h("legend", {}, "Period"), radios), customForm, periodLine),
    status,
    h("section", { class: "card panel", "aria-labelledby": "metrics-heading" }, h("h2", { id: "metrics-heading" }, "Productivity"), metrics.element),
    h("section", { class: "allocation", "aria-labelledby": "allocation-heading" }, h("h2", { id: "allocation-heading" }, "Time allocation"), h("div", { class: "panels" }, panels.map(({ panel }) => panel.element))),
    weekView.element,
  );
  root.append(screen);
  if (preset === "custom") {
    fromInput.value = custom.first;
    toInput.value = custom.last;
  }
  show();

  return () => {
    mounted = false;
    clearTimeout(pending);
    stopFeed();
    for (const { panel } of panels) panel.destroy();
    weekView.destroy();
  };
}
