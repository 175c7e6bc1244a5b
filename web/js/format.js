// Durations, clock times and the day's bounds, as people type and read them.

const DURATION = /^(?:(\d+(?:[.,]\d+)?)\s*h(?:ours?|rs?)?)?\s*(?:(\d+)\s*(?:m(?:in(?:utes?)?)?)?)?$/i;

/**
 * Minutes in a duration typed as "30m", "45", "1h", "1h15", "1h 15m", "1.5h" or "1:30";
 * null when it is not one.
 */
export function parseDuration(text) {
  const value = text.trim();
  if (!value) return null;
  const clock = /^(\d+):([0-5]\d)$/.exec(value);
  if (clock) return Number(clock[1]) * 60 + Number(clock[2]);
  const match = DURATION.exec(value);
  if (!match || (match[1] === undefined && match[2] === undefined)) return null;
  const hours = match[1] === undefined ? 0 : Number(match[1].replace(",", "."));
  const minutes = match[2] === undefined ? 0 : Number(match[2]);
  const total = Math.round(hours * 60 + minutes);
  return total > 0 ? total : null;
}

/** "1h 15m", "45m". */
export function formatMinutes(total) {
  const hours = Math.floor(total / 60);
  const minutes = total % 60;
  if (!hours) return `${minutes}m`;
  return minutes ? `${hours}h ${minutes}m` : `${hours}h`;
}

/** A time of `day` typed as "9:30", "0930", "9" or "14:05"; null when it is not one. */
export function parseClock(text, day = new Date()) {
  const match = /^(\d{1,2})(?::?([0-5]\d))?$/.exec(text.trim());
  if (!match) return null;
  const hours = Number(match[1]);
  if (hours > 23) return null;
  const at = new Date(day);
  at.setHours(hours, Number(match[2] || 0), 0, 0);
  return at;
}

/** "09:30" in this browser's time zone. */
export function formatClock(date) {
  return new Date(date).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
}

/** [start of the day, start of the next day) of `day`, local time. */
export function dayBounds(day = new Date()) {
  const from = new Date(day);
  from.setHours(0, 0, 0, 0);
  const to = new Date(from);
  to.setDate(to.getDate() + 1);
  return [from, to];
}

/** "Monday 7 December". */
export function formatDay(day = new Date()) {
  return day.toLocaleDateString([], { weekday: "long", day: "numeric", month: "long" });
}

/** "1:02:03" for a running timer. */
export function formatElapsed(milliseconds) {
  const seconds = Math.max(0, Math.floor(milliseconds / 1000));
  const h = Math.floor(seconds / 3600);
  const m = String(Math.floor((seconds % 3600) / 60)).padStart(2, "0");
  const s = String(seconds % 60).padStart(2, "0");
  return `${h}:${m}:${s}`;
}

/** Tag names typed as "a, b ,c" (trimmed, no empties, no repeats, case kept). */
export function parseTags(text) {
  const seen = new Set();
  const tags = [];
  for (const name of text.split(",").map((part) => part.trim()).filter(Boolean)) {
    const key = name.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      tags.push(name);
    }
  }
  return tags;
}

export const ACTIVITY_TYPES = [
  "CODE", "DEBUG", "REVIEW", "MEETING", "PLANNING", "DOCS", "MENTORING", "LEARNING", "OPS", "ADMIN",
];
export const VALUE_RATINGS = ["LOW", "MEDIUM", "HIGH"];
export const IMPACT_LEVELS = ["PERSONAL", "TEAM", "PRODUCT", "COMPANY"];

/** "CODE" → "Code", "ON_HOLD" → "On hold". */
export function label(constant) {
  const text = constant.toLowerCase().replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
