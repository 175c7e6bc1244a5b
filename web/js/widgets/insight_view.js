// One insight, read: its text rendered from Markdown, written token by token while the model
// writes it (insightProgress), the reason and a Retry when it failed, Copy and Download when
// it is done, and who wrote it (a model, or the built-in summariser, which is not one).

import { h, replace, statusLine } from "../dom.js";
import { label } from "../format.js";
import * as live from "../live.js";
import { kindLabel } from "./insight_form.js";
import { showMarkdown } from "./markdown.js";

const PROGRESS = `subscription InsightProgress($id: ID!) {
  insightProgress(id: $id) { insightId status delta percent }
}`;
export const BUILTIN_NOTE = "Written by EngLog's built-in summariser, not a language model";
const DAY = { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" };

/** "2 Nov 2026 – 8 Nov 2026", or one day. */
export function formatPeriod(insight) {
  const format = (day) => new Date(`${day}T00:00:00Z`).toLocaleDateString([], DAY);
  const from = format(insight.periodStart);
  return insight.periodStart === insight.periodEnd ? from : `${from} – ${format(insight.periodEnd)}`;
}

/** englog-weekly-report-2026-11-02-to-2026-11-08.md */
export function fileName(insight) {
  const kind = insight.kind.toLowerCase().replace(/_/g, "-");
  const period = insight.periodStart === insight.periodEnd ? insight.periodStart : `${insight.periodStart}-to-${insight.periodEnd}`;
  return `englog-${kind}-${period}.md`;
}

export function statusBadge(status) {
  return h("span", { class: "insight-status", dataset: { status } }, label(status));
}

function authorLine(insight) {
  if (insight.model === "builtin") return h("p", { class: "insight-author builtin" }, BUILTIN_NOTE);
  if (insight.model) return h("p", { class: "insight-author" }, "Written by the model ", h("code", {}, insight.model));
  return null;
}

function download(insight) {
  const url = URL.createObjectURL(new Blob([insight.content], { type: "text/markdown;charset=utf-8" }));
  const link = h("a", { href: url, download: fileName(insight), hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/**
 * The reading pane. `projectName(id)` names a project; `retry(id)` asks for the insight
 * again; `finished(id)` is told when its text stream ends (the screen reloads it).
 */
export function insightView({ projectName, retry, finished }) {
  const element = h(
    "section",
    { class: "insight-view card", "aria-label": "The chosen insight", dataset: { empty: "" } },
    h("p", { class: "muted" }, "Choose one of your insights to read it here."),
  );
  const announce = statusLine();
  let shown = null;
  let stream = null; // { id, text, percent, fresh, stop, stopStatus, frame }
  let text = null; // the element the text goes in (kept while the same insight is shown)

  function stopStream() {
    if (!stream) return;
    stream.stop();
    stream.stopStatus();
    cancelAnimationFrame(stream.frame);
    stream = null;
  }

  function paint() {
    if (!stream || !text || stream.frame) return; // one redraw a frame, however many deltas
    const state = stream;
    state.frame = requestAnimationFrame(() => {
      state.frame = 0;
      if (stream !== state || !text) return;
      showMarkdown(text, stream.text);
      const bar = element.querySelector("progress");
      if (bar) bar.value = stream.percent;
    });
  }

  function follow(id) {
    if (stream && stream.id === id) return;
    stopStream();
    const state = { id, text: "", percent: 0, fresh: true, frame: 0 };
    stream = state;
    // After the socket drops, the re-sent subscription starts with the whole text so far.
    state.stopStatus = live.onStatus((status) => {
      if (status !== "online") state.fresh = true;
    });
    state.stop = live.subscribe(
      { query: PROGRESS, variables: { id } },
      {
        next: (result) => {
          const progress = result.data && result.data.insightProgress;
          if (!progress || stream !== state) return;
          if (progress.status === "RUNNING" && progress.delta !== null) {
            state.text = state.fresh ? progress.delta : state.text + progress.delta;
            state.fresh = false;
            state.percent = progress.percent;
            if (shown && shown.id === id && shown.status === "PENDING") show({ ...shown, status: "RUNNING" });
            paint();
          } else if (progress.status === "PENDING") {
            state.text = ""; // the worker starts again
            state.fresh = false;
            paint();
          } else {
            finished(id);
          }
        },
        error: () => {},
        complete: () => {},
      },
    );
  }

  function body(insight, same) {
    const keep = same && text && (insight.status === "RUNNING" || insight.status === "PENDING");
    if (!keep) text = h("div", { class: "insight-text markdown" });
    if (insight.status === "COMPLETED") {
      stopStream();
      text.dataset.state = "done";
      text.removeAttribute("aria-busy");
      showMarkdown(text, insight.content || "");
      return [
        h(
          "div",
          { class: "actions insight-actions" },
          h("button", { type: "button", onclick: () => copy(insight) }, "Copy as Markdown"),
          h("button", { type: "button", onclick: () => { download(insight); announce.textContent = `Downloaded ${fileName(insight)}.`; } }, "Download .md"),
        ),
        text,
      ];
    }
    if (insight.status === "FAILED") {
      stopStream();
      const button = h("button", { type: "button", class: "primary", onclick: () => again(insight, button) }, "Retry");
      return [h("div", { class: "insight-failed", role: "alert" }, h("p", {}, h("strong", {}, "It failed: "), insight.error || "no reason was given."), h("p", { class: "muted" }, `Attempts: ${insight.attempts}.`)), h("div", { class: "actions" }, button)];
    }
    follow(insight.id);
    text.dataset.state = "streaming";
    text.setAttribute("aria-busy", "true");
    const waiting = insight.status === "PENDING" ? "Queued: a worker starts writing it soon." : "The model is writing it…";
    if (stream) paint();
    return [
      h("div", { class: "insight-progress" }, h("label", { for: "insight-percent" }, waiting), h("progress", { id: "insight-percent", max: 100, value: stream && stream.text ? stream.percent : null })),
      text,
    ];
  }

  async function copy(insight) {
    try {
      await navigator.clipboard.writeText(insight.content);
      announce.textContent = "Copied as Markdown.";
    } catch (error) {
      announce.textContent = `Could not copy: ${error.message || error}. Use Download .md instead.`;
    }
  }

  async function again(insight, button) {
    button.disabled = true;
    try {
      await retry(insight.id);
      announce.textContent = "Asked again: it is queued.";
      element.querySelector("h2").focus(); // the Retry button is gone
    } catch (error) {
      announce.textContent = error.summary || String(error);
      button.disabled = false;
    }
  }

  /** Shows `insight` (a newer version of the one shown keeps its streamed text). */
  function show(insight, { focus = false } = {}) {
    const same = shown !== null && shown.id === insight.id;
    if (!same) {
      stopStream();
      announce.textContent = "";
    }
    shown = insight;
    const projects = insight.projectIds.map(projectName);
    const heading = h("h2", { id: "insight-heading", tabindex: "-1" }, `${kindLabel(insight.kind)}: ${formatPeriod(insight)}`);
    replace(
      element,
      heading,
      h("p", { class: "insight-meta" }, statusBadge(insight.status), ` Requested ${new Date(insight.createdAt).toLocaleString([], { dateStyle: "medium", timeStyle: "short" })}`),
      authorLine(insight),
      h("p", { class: "insight-scope muted" }, projects.length ? `Projects: ${projects.join(", ")}` : "All projects", insight.focusAreas.length ? ` · Focus: ${insight.focusAreas.join("; ")}` : ""),
      body(insight, same),
      announce,
    );
    element.dataset.id = insight.id;
    element.dataset.status = insight.status;
    delete element.dataset.empty;
    element.removeAttribute("aria-label");
    element.setAttribute("aria-labelledby", "insight-heading");
    if (focus) heading.focus();
  }

  return {
    element,
    show,
    shownId: () => (shown ? shown.id : null),
    unmount: stopStream,
  };
}
