// Insights: ask for a report on a period, watch the list of past ones change status live
// (insightEvents), and read one as the model writes it (insightProgress, in the reading
// pane: js/widgets/insight_view.js). The chosen insight is in the address (?id=…).

import * as api from "../api.js";
import { h, statusLine } from "../dom.js";
import * as live from "../live.js";
import { insightForm, kindLabel } from "../widgets/insight_form.js";
import { formatPeriod, insightView, statusBadge } from "../widgets/insight_view.js";

const PAGE = 20;
const INSIGHT = "id kind status periodStart periodEnd projectIds focusAreas content model error attempts createdAt updatedAt completedAt";
const PAGE_QUERY = `query InsightsPage($first: Int!, $after: String) {
  insights(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${INSIGHT} } } }
}`;
const FIRST = `query Insights($first: Int!) {
  projects { id name status }
  insights(first: $first) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${INSIGHT} } } }
}`;
const ONE = `query Insight($id: ID!) { insight(id: $id) { ${INSIGHT} } }`;
const EVENTS = `subscription InsightEvents($since: String) { insightEvents(since: $since) { cursor insight { ${INSIGHT} } } }`;
const REQUEST = `mutation RequestInsight($input: RequestInsightInput!, $key: String) {
  requestInsight(input: $input, idempotencyKey: $key) { ${INSIGHT} }
}`;
const RETRY = `mutation RetryInsight($id: ID!) { retryInsight(id: $id) { ${INSIGHT} } }`;

export function mount(root, context) {
  const insights = new Map(); // id → the newest version known
  let projects = [];
  let after = null;
  let total = 0;
  const status = statusLine();
  const list = h("ol", { class: "insight-list", "aria-label": "Your insights" });
  const empty = h("p", { class: "empty" }, "No insights yet. Ask for one above: a weekly report is a good start.");
  const count = h("p", { class: "total" });
  const more = h("button", { type: "button", hidden: true, onclick: loadMore }, "Load more");

  const view = insightView({
    projectName: (id) => (projects.find((project) => project.id === id) || { name: "a project" }).name,
    retry: async (id) => {
      const data = await api.request(RETRY, { id });
      upsert(data.retryInsight, { answer: true });
    },
    finished: (id) => reload(id),
  });

  const form = insightForm({
    timezone: () => (api.user() || {}).timezone,
    onRequest: async (input, key) => {
      const data = await api.request(REQUEST, { input, key });
      const insight = data.requestInsight;
      if (!insights.has(insight.id)) total += 1;
      upsert(insight, { answer: true });
      select(insight.id, { focus: false });
      status.textContent = `Requested: ${kindLabel(insight.kind)} for ${formatPeriod(insight)}.`;
    },
  });

  function item(insight) {
    const current = view.shownId() === insight.id;
    return h(
      "li",
      { dataset: { id: insight.id, status: insight.status } },
      h(
        "button",
        { type: "button", class: "insight-item", "aria-current": current ? "true" : null, onclick: () => select(insight.id, { focus: true }) },
        h("span", { class: "insight-kind" }, kindLabel(insight.kind)),
        h("span", { class: "insight-period muted" }, formatPeriod(insight)),
        statusBadge(insight.status),
      ),
    );
  }

  function renderList() {
    const ordered = [...insights.values()].sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));
    const focused = list.contains(document.activeElement) ? document.activeElement.closest("li").dataset.id : null;
    list.replaceChildren(...ordered.map(item));
    // A status change redraws the list: the keyboard stays where it was.
    if (focused) list.querySelector(`li[data-id="${CSS.escape(focused)}"] button`)?.focus({ preventScroll: true });
    empty.hidden = ordered.length > 0;
    count.textContent = total ? `${total} in all` : "";
  }

  /**
   * Keeps the newest version of `insight`. An `answer` (to a mutation) may be older than an
   * event that overtook it on the socket: then it is dropped.
   */
  function upsert(insight, { answer = false } = {}) {
    const known = insights.get(insight.id);
    if (answer && known && known.updatedAt > insight.updatedAt) return;
    insights.set(insight.id, insight);
    renderList();
    if (view.shownId() === insight.id) view.show(insight);
  }

  /** Newer than every insight loaded: one requested since (here or elsewhere), not an old one. */
  function isNewest(insight) {
    return [...insights.values()].every((known) => known.createdAt < insight.createdAt);
  }

  async function reload(id) {
    try {
      const data = await api.request(ONE, { id });
      if (data.insight) upsert(data.insight, { answer: true });
    } catch (error) {
      status.textContent = error.summary || String(error);
    }
  }

  async function select(id, { focus }) {
    let insight = insights.get(id);
    if (!insight) {
      const data = await api.request(ONE, { id }).catch(() => ({ insight: null }));
      insight = data.insight;
      if (!insight) {
        status.textContent = "There is no such insight (it may have been deleted).";
        return;
      }
      insights.set(id, insight);
    }
    history.replaceState(null, "", `/insights?id=${encodeURIComponent(id)}`);
    view.show(insight, { focus });
    renderList();
    if (focus && matchMedia("(max-width: 52rem)").matches) view.element.scrollIntoView({ block: "start" });
  }

  function page(connection) {
    for (const edge of connection.edges) if (!insights.has(edge.node.id)) insights.set(edge.node.id, edge.node);
    after = connection.pageInfo.endCursor;
    total = connection.totalCount;
    more.hidden = !connection.pageInfo.hasNextPage;
    renderList();
  }

  async function loadMore() {
    more.disabled = true;
    try {
      const data = await api.request(PAGE_QUERY, { first: PAGE, after });
      page(data.insights);
      list.querySelector("li:last-child button")?.focus();
    } catch (error) {
      status.textContent = error.summary || String(error);
    } finally {
      more.disabled = false;
    }
  }

  root.append(
    h("header", { class: "screen-header" }, h("h1", {}, "Insights"), h("p", { class: "muted" }, "Reports on your work, written from what you logged.")),
    h("section", { class: "card", "aria-labelledby": "request-heading" }, h("h2", { id: "request-heading" }, "Ask for a report"), form.form),
    status,
    h(
      "div",
      { class: "insights-layout" },
      h("section", { class: "insights-past", "aria-labelledby": "past-heading" }, h("div", { class: "list-header" }, h("h2", { id: "past-heading" }, "Past insights"), count), empty, list, more),
      view.element,
    ),
  );

  // Subscribed before the first page is asked for: a change meanwhile arrives as an event.
  const stopFeed = live.feed(
    EVENTS,
    "insightEvents",
    (event) => {
      if (!insights.has(event.insight.id) && isNewest(event.insight)) total += 1;
      upsert(event.insight);
    },
    // Back after a drop with nothing to resume from: the first page's statuses, read anew.
    { onResync: () => api.request(FIRST, { first: PAGE }).then((data) => data.insights.edges.forEach((edge) => upsert(edge.node))).catch(() => {}) },
  );

  api
    .request(FIRST, { first: PAGE })
    .then((data) => {
      projects = data.projects;
      form.setProjects(projects);
      page(data.insights);
      const wanted = context.params.get("id");
      if (wanted) select(wanted, { focus: false });
    })
    .catch((error) => {
      status.textContent = error.summary || String(error);
    });

  return () => {
    stopFeed();
    view.unmount();
  };
}
