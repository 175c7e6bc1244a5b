// The dashboard's figures as text: each chart's numbers in a table (what a screen reader and
// the tests read), with the API's exact values kept in data attributes beside the formatted
// ones ("3h 20m" is shown, data-minutes="200" is the figure).

import { h, replace } from "../dom.js";
import { formatMinutes, label } from "../format.js";
import { minutesChart } from "./charts.js";

function minutesCell(minutes) {
  return h("td", { class: "num", dataset: { minutes: String(minutes) } }, formatMinutes(minutes));
}

/**
 * One breakdown of the time allocation (a TimeShare list): a chart and its table.
 * `keyHeading` heads the key column; `named` keys (project names) are shown as they are,
 * the others (enum values) as words.
 */
export function allocationPanel({ figure, title, keyHeading, named = false }) {
  const headingId = `${figure}-heading`;
  const chart = minutesChart({ label: title, horizontal: true });
  const body = h("tbody");
  const total = h("tfoot");
  const empty = h("p", { class: "empty" }, "Nothing logged in this period.");
  const table = h(
    "table",
    { class: "figures", dataset: { figure } },
    h("caption", { class: "visually-hidden" }, `${title}: time and share of the period`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, keyHeading), h("th", { scope: "col", class: "num" }, "Time"), h("th", { scope: "col", class: "num" }, "Share"))),
    body,
    total,
  );
  const element = h("section", { class: "card panel", "aria-labelledby": headingId }, h("h3", { id: headingId }, title), empty, chart.element, table);

  return {
    element,
    update(shares, totalMinutes) {
      const names = shares.map((share) => (named ? share.key : label(share.key)));
      empty.hidden = shares.length > 0;
      chart.element.hidden = shares.length === 0;
      if (shares.length) chart.update(names, shares.map((share) => share.minutes));
      replace(
        body,
        shares.map((share, index) =>
          h(
            "tr",
            { dataset: { key: share.key } },
            h("th", { scope: "row" }, names[index]),
            minutesCell(share.minutes),
            h("td", { class: "num", dataset: { percent: String(share.percent) } }, `${share.percent} %`),
          ),
        ),
      );
      replace(total, h("tr", {}, h("th", { scope: "row" }, "Total"), minutesCell(totalMinutes), h("td", { class: "num" }, shares.length ? "100 %" : "")));
    },
    destroy: chart.destroy,
  };
}

const METRICS = [
  ["totalMinutes", "Time logged", (v) => formatMinutes(v), "hours and minutes"],
  ["totalEntries", "Entries", (v) => String(v), "entries"],
  ["averageDailyHours", "Average day", (v) => `${v} h`, "hours a day with entries"],
  ["daysWithEntries", "Days with entries", (v) => String(v), "days"],
  ["peakHour", "Peak hour", (v) => (v === null ? "—" : `${String(v).padStart(2, "0")}:00–${String((v + 1) % 24).padStart(2, "0")}:00`), "the hour in which most minutes start"],
  ["highValuePercent", "High value", (v) => `${v} %`, "of minutes rated High"],
  ["productCompanyImpactPercent", "Product or company impact", (v) => `${v} %`, "of minutes"],
  ["valueImpactScore", "Value × impact score", (v) => `${v} / 100`, "minute-weighted, 0 to 100"],
];

/** The productivity metrics: each field with its label and unit. */
export function metricsList() {
  const list = h("dl", { class: "metrics" });
  return {
    element: list,
    update(metrics) {
      replace(
        list,
        METRICS.map(([name, title, show, unit]) =>
          h(
            "div",
            { class: "metric" },
            h("dt", {}, title),
            h("dd", { dataset: { metric: name, value: metrics[name] === null ? "" : String(metrics[name]) } }, show(metrics[name])),
            h("dd", { class: "unit" }, unit),
          ),
        ),
      );
    },
  };
}

/** Minutes a day of one week: a bar a day and the same figures in a table with the total. */
export function weekPanel({ onPrevious, onNext }) {
  const chart = minutesChart({ label: "Minutes a day" });
  const caption = h("span", { class: "week-label" });
  const body = h("tbody");
  const total = h("tfoot");
  const table = h(
    "table",
    { class: "figures", dataset: { figure: "byDay" } },
    h("caption", { class: "visually-hidden" }, "Time logged each day of the week"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Day"), h("th", { scope: "col", class: "num" }, "Time"))),
    body,
    total,
  );
  const element = h(
    "section",
    { class: "card panel week", "aria-labelledby": "week-heading" },
    h(
      "div",
      { class: "week-header" },
      h("h2", { id: "week-heading" }, "Week by day"),
      h(
        "div",
        { class: "week-nav" },
        h("button", { type: "button", onclick: onPrevious, "aria-label": "Previous week" }, "◀"),
        caption,
        h("button", { type: "button", onclick: onNext, "aria-label": "Next week" }, "▶"),
      ),
    ),
    chart.element,
    table,
    h("p", { class: "hint" }, "Worked out here from all of the week's entries, each on the day it starts in your time zone: the API has no per-day figure."),
  );

  return {
    element,
    /** `days`: [{ date, label, minutes }] from Monday to Sunday. */
    update(title, days) {
      caption.textContent = title;
      chart.update(days.map((day) => day.label), days.map((day) => day.minutes));
      replace(body, days.map((day) => h("tr", { dataset: { date: day.date } }, h("th", { scope: "row" }, day.label), minutesCell(day.minutes))));
      replace(total, h("tr", {}, h("th", { scope: "row" }, "Week"), minutesCell(days.reduce((sum, day) => sum + day.minutes, 0))));
    },
    destroy: chart.destroy,
  };
}
