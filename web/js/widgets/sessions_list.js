// The account's sessions (sessions: this one first), each with a way to end it, and
// "End all other sessions". Ending this device's own session is signing out.

import * as api from "../api.js";
import { h, replace } from "../dom.js";

export const SESSIONS = "sessions { id device createdAt lastUsedAt current }";

/** The list; `timeZone()` gives the zone to show times in, `say(text)` the status line. */
export function sessionsList({ timeZone, say }) {
  const list = h("ul", { class: "sessions", "aria-label": "Sessions" });
  const endOthers = h("button", { type: "button", class: "danger", onclick: () => run(endAllOthers) }, "End all other sessions");
  const element = h("div", { class: "sessions-box" }, list, h("div", { class: "actions" }, endOthers));
  let sessions = [];

  function when(instant) {
    return new Date(instant).toLocaleString([], { dateStyle: "medium", timeStyle: "short", timeZone: timeZone() });
  }

  async function run(work) {
    try {
      await work();
    } catch (error) {
      say(error.summary || String(error));
    }
  }

  async function reload() {
    const data = await api.request(`query Sessions { ${SESSIONS} }`);
    show(data.sessions);
  }

  async function end(session) {
    await api.request("mutation EndSession($id: ID!) { endSession(id: $id) }", { id: session.id });
    say(`Ended the session of ${session.device}.`);
    await reload();
  }

  async function endAllOthers() {
    const data = await api.request("mutation EndOthers { endOtherSessions }");
    const ended = data.endOtherSessions;
    say(ended === 1 ? "Ended 1 other session." : `Ended ${ended} other sessions.`);
    await reload();
  }

  function item(session) {
    const started = when(session.createdAt);
    const action = session.current
      ? h("button", { type: "button", onclick: () => run(() => api.signOut()) }, "Sign out")
      : h("button", { type: "button", class: "danger", "aria-label": `End the session of ${session.device} signed in ${started}`, onclick: () => run(() => end(session)) }, "End");
    return h(
      "li",
      { class: "session", dataset: { id: session.id, current: String(session.current) } },
      h(
        "div",
        { class: "session-what" },
        h("span", { class: "device" }, session.device),
        session.current ? h("span", { class: "chip this-device" }, "This device") : null,
      ),
      h("p", { class: "meta" }, `Signed in ${started} · last used ${when(session.lastUsedAt)}`),
      action,
    );
  }

  function show(next) {
    sessions = next;
    replace(list, sessions.map(item));
    endOthers.disabled = !sessions.some((session) => !session.current);
  }

  return { element, show, reload };
}
