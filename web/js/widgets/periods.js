// The dashboard's periods: presets of the user's own calendar (their time zone, which may not
// be this browser's; day arithmetic in zoned.js), each a first and a last day (both included,
// "YYYY-MM-DD") and the instants [from, to) that bound it there.

import { addDays, dayOf, monthOf, mondayOf, nextMonth, startOf } from "./zoned.js";

export const PRESETS = [
  ["this-week", "This week"],
  ["last-week", "Last week"],
  ["this-month", "This month"],
  ["last-30-days", "Last 30 days"],
  ["custom", "Custom"],
];

/** The period of `preset` as of `now` in `zone`; `custom` takes its `first` and `last` day. */
export function period(preset, zone, { now = new Date(), first = null, last = null } = {}) {
  const today = dayOf(now, zone);
  const monday = mondayOf(today);
  const ranges = {
    "this-week": () => [monday, addDays(monday, 6)],
    "last-week": () => [addDays(monday, -7), addDays(monday, -1)],
    "this-month": () => [monthOf(today), addDays(nextMonth(today), -1)],
    "last-30-days": () => [addDays(today, -29), today],
    custom: () => [first, last],
  };
  const [start, end] = ranges[preset]();
  return { first: start, last: end, from: startOf(start, zone), to: startOf(addDays(end, 1), zone) };
}

/** "Mon 7 Dec" (or as `options` say) for a day, whatever this browser's zone. */
export function formatDay(day, options = { weekday: "short", day: "numeric", month: "short" }) {
  return new Date(`${day}T12:00:00Z`).toLocaleDateString([], { ...options, timeZone: "UTC" });
}
