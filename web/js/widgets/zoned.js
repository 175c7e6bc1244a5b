// Calendar days in the user's time zone (me.timezone), whatever zone the browser is in: a day
// is an ISO date "2026-12-07", and its bounds are the instants its midnights fall on there.

const formatters = new Map();

function formatter(zone) {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(zone, format);
  }
  return format;
}

function wallClock(instant, zone) {
  const parts = {};
  for (const part of formatter(zone).formatToParts(instant)) parts[part.type] = Number(part.value);
  return parts;
}

/** How far the zone's wall clock is ahead of UTC at `instant`, in milliseconds. */
function offset(instant, zone) {
  const at = wallClock(instant, zone);
  const wall = Date.UTC(at.year, at.month - 1, at.day, at.hour, at.minute, at.second);
  return wall - Math.floor(instant / 1000) * 1000;
}

function civil(day) {
  const [year, month, date] = day.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, date));
}

function iso(date) {
  return date.toISOString().slice(0, 10);
}

/** Whether `text` is a real day written YYYY-MM-DD. */
export function isDay(text) {
  return typeof text === "string" && /^\d{4}-\d{2}-\d{2}$/.test(text) && iso(civil(text)) === text;
}

/** The day `instant` falls on in `zone`. */
export function dayOf(instant, zone) {
  const at = wallClock(new Date(instant).getTime(), zone);
  return `${String(at.year).padStart(4, "0")}-${String(at.month).padStart(2, "0")}-${String(at.day).padStart(2, "0")}`;
}

export function addDays(day, days) {
  const date = civil(day);
  date.setUTCDate(date.getUTCDate() + days);
  return iso(date);
}

/** The instant `day` starts in `zone` (its midnight, or the first minute after a DST gap). */
export function startOf(day, zone) {
  const guess = civil(day).getTime();
  const first = guess - offset(guess, zone);
  return new Date(guess - offset(first, zone));
}

/** The Monday of `day`'s week (weeks start on Monday). */
export function mondayOf(day) {
  const weekday = (civil(day).getUTCDay() + 6) % 7;
  return addDays(day, -weekday);
}

/** The first day of `day`'s month. */
export function monthOf(day) {
  return `${day.slice(0, 8)}01`;
}

/** The first day of the month after `day`'s. */
export function nextMonth(day) {
  const date = civil(monthOf(day));
  date.setUTCMonth(date.getUTCMonth() + 1);
  return iso(date);
}

/** "Monday 7 December" (with the year when it is not `thisYear`'s). */
export function formatCalendarDay(day, thisYear = null) {
  const options = { timeZone: "UTC", weekday: "long", day: "numeric", month: "long" };
  if (thisYear !== null && day.slice(0, 4) !== String(thisYear)) options.year = "numeric";
  return civil(day).toLocaleDateString([], options);
}

/** "7 Dec" (with the year when asked). */
export function formatShortDay(day, { year = false } = {}) {
  const options = { timeZone: "UTC", day: "numeric", month: "short" };
  if (year) options.year = "numeric";
  return civil(day).toLocaleDateString([], options);
}
