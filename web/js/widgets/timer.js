// The server's running timer (at most one a user): started from the entry form's fields,
// it survives a reload and shows in every tab (timerEvents); stopping it logs the entry.

import * as api from "../api.js";
import { h, replace } from "../dom.js";
import { formatElapsed } from "../format.js";
import * as live from "../live.js";

const TIMER = "id title startedAt type project { id name } tags { name }";
export const RUNNING_TIMER = `runningTimer { ${TIMER} }`;

/**
 * The timer's bar. `collect()` gives the entry form's values (or null after showing its
 * errors) to start one with; `tagIds(names)` resolves tag names to the user's tag ids;
 * `onStopped(entry)` gets the entry the stop logged.
 */
export function timerBar({ collect, tagIds, onStopped, onError }) {
  const bar = h("section", { class: "timer", "aria-label": "Timer" });
  let timer = null;
  let ticking = null;
  let stopFeed = null;

  function render() {
    clearInterval(ticking);
    if (!timer) {
      replace(bar, h("button", { type: "button", class: "start", onclick: start }, "▶ Start timer"), h("span", { class: "hint" }, "Starts with the title, type, project and tags above."));
      return;
    }
    const elapsed = h("span", { class: "elapsed", role: "timer", "aria-live": "off" });
    const tick = () => {
      elapsed.textContent = formatElapsed(Date.now() - new Date(timer.startedAt).getTime());
    };
    tick();
    ticking = setInterval(tick, 1000);
    replace(
      bar,
      h("span", { class: "running-dot", "aria-hidden": "true" }),
      h("span", { class: "running-title" }, timer.title),
      timer.project ? h("span", { class: "muted" }, timer.project.name) : null,
      elapsed,
      h("button", { type: "button", class: "primary", onclick: stop }, "■ Stop and log"),
      h("button", { type: "button", onclick: discard }, "Discard"),
    );
  }

  async function run(work) {
    try {
      await work();
    } catch (error) {
      onError(error);
    }
  }

  function start() {
    const values = collect();
    if (!values) return;
    run(async () => {
      const data = await api.request(
        `mutation StartTimer($input: StartTimerInput!) { startTimer(input: $input) { ${TIMER} } }`,
        {
          input: {
            title: values.title,
            type: values.type,
            projectId: values.projectId,
            tagIds: await tagIds(values.tags),
            valueRating: values.valueRating,
            impactLevel: values.impactLevel,
          },
        },
      );
      timer = data.startTimer;
      render();
    });
  }

  function stop() {
    run(async () => {
      const data = await api.request(`mutation StopTimer { stopTimer { id } }`);
      timer = null;
      render();
      onStopped(data.stopTimer);
    });
  }

  function discard() {
    run(async () => {
      await api.request("mutation DiscardTimer { discardTimer }");
      timer = null;
      render();
    });
  }

  return {
    element: bar,
    /** Shows `running` (the runningTimer the screen loaded) and follows other tabs' changes. */
    show(running) {
      timer = running;
      render();
      stopFeed = live.feed(
        `subscription TimerEvents($since: String) { timerEvents(since: $since) { cursor action timer { ${TIMER} } } }`,
        "timerEvents",
        (event) => {
          timer = event.timer;
          render();
        },
        {
          onResync: () =>
            api.request(`query Timer { ${RUNNING_TIMER} }`).then((data) => {
              timer = data.runningTimer;
              render();
            }).catch(() => {}),
        },
      );
    },
    unmount() {
      clearInterval(ticking);
      if (stopFeed) stopFeed();
    },
  };
}
