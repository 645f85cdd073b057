// The centre at a glance: the tiles, the trends, the queues (in the overview, in their
// own view, and in big type on the wallboard).

import { bars } from "./charts.js";
import { AGENT_STATE_LABELS, AGENT_STATES, KIND_LABELS, badge, el, number, percent, since } from "./format.js";
import { Table } from "./table.js";

/** Figures over every ACD queue (routing points aside: a call passes both). */
export function totals(store) {
  const sum = { waiting: 0, oldest: null, answered: 0, abandoned: 0, within: 0 };
  for (const queue of store.queues.values()) {
    sum.waiting += queue.waiting;
    if (queue.oldest !== null && (sum.oldest === null || queue.oldest < sum.oldest)) sum.oldest = queue.oldest;
    if (queue.kind !== "Queue") continue;
    sum.answered += queue.answered;
    sum.abandoned += queue.abandoned;
    sum.within += queue.withinTarget;
  }
  const settled = sum.answered + sum.abandoned;
  sum.serviceLevel = settled ? sum.within / settled : null;
  return sum;
}

export function agentCounts(store) {
  const counts = Object.fromEntries(AGENT_STATES.map((state) => [state, 0]));
  for (const agent of store.agents.values()) counts[agent.state] = (counts[agent.state] ?? 0) + 1;
  return counts;
}

function tile(label, value, { id, tone = "", hint = null } = {}) {
  return el("div", { class: `tile ${tone}`, "data-tile": id },
    el("span", { class: "tile-label" }, label),
    el("span", { class: "tile-value" }, value),
    hint === null ? null : el("span", { class: "tile-hint" }, hint));
}

export function drawTiles(container, store) {
  const now = store.now();
  const sum = totals(store);
  const counts = agentCounts(store);
  const target = store.settings.serviceLevelSeconds;
  const window = Math.round(store.settings.window / 60);
  container.replaceChildren(
    tile("Calls waiting", number(sum.waiting), { id: "waiting", tone: sum.waiting ? "warn" : "" }),
    tile("Longest wait", sum.oldest === null ? "—" : since(sum.oldest, now), { id: "longest", tone: sum.oldest !== null && now - sum.oldest > target ? "bad" : "" }),
    tile("Service level", percent(sum.serviceLevel), { id: "service-level", hint: `answered within ${target} s, last ${window} min` }),
    tile("Answered", number(sum.answered), { id: "answered", hint: `last ${window} min` }),
    tile("Abandoned", number(sum.abandoned), { id: "abandoned", tone: sum.abandoned ? "warn" : "", hint: `last ${window} min` }),
    tile("Calls in progress", number(store.calls.size), { id: "calls" }),
    ...AGENT_STATES.map((state) => tile(AGENT_STATE_LABELS[state], number(counts[state]), { id: `agents-${state}`, tone: `state-${state}` })),
  );
}

export function drawTrends(store, ids) {
  const calls = bars(document.getElementById(ids.calls), store.trends, 1, 60, "Calls per minute");
  if (ids.callsNow) document.getElementById(ids.callsNow).textContent = `(${calls} this minute)`;
  if (ids.waiting) {
    const waiting = bars(document.getElementById(ids.waiting), store.trends, 2, 60, "Calls waiting");
    document.getElementById(ids.waitingNow).textContent = `(${waiting} this minute)`;
  }
}

function agentsOf(queue) {
  const agents = queue.agents ?? {};
  const logged = Object.values(agents).reduce((a, b) => a + b, 0);
  return logged ? `${agents.Ready ?? 0} of ${logged}` : "none";
}

export function queueColumns(store, { full }) {
  const columns = [
    { title: "Queue", cell: (dn, q) => el("span", {}, el("strong", {}, dn), " ", el("span", { class: "kind" }, KIND_LABELS[q.kind])), sort: (dn) => dn },
    { title: "Waiting", className: "num", cell: (dn, q) => q.waiting ? badge(number(q.waiting), "waiting") : "0", sort: (dn, q) => q.waiting },
    { title: "Longest wait", className: "num", cell: (dn, q, now) => q.oldest === null ? "—" : since(q.oldest, now), sort: (dn, q) => q.oldest === null ? Infinity : q.oldest },
    { title: "Agents ready", className: "num", cell: (dn, q) => agentsOf(q), sort: (dn, q) => q.agents?.Ready ?? 0 },
    { title: "Answered", className: "num", cell: (dn, q) => number(q.answered), sort: (dn, q) => q.answered },
    { title: "Abandoned", className: "num", cell: (dn, q) => number(q.abandoned), sort: (dn, q) => q.abandoned },
    { title: "Service level", className: "num", cell: (dn, q) => percent(q.serviceLevel), sort: (dn, q) => q.serviceLevel ?? -1 },
  ];
  if (!full) return columns;
  return columns.concat([
    { title: "Average answer", className: "num", cell: (dn, q) => q.averageAnswer === null ? "—" : `${q.averageAnswer} s`, sort: (dn, q) => q.averageAnswer ?? -1 },
    { title: "Strategy", cell: (dn, q) => q.strategy ? `${q.strategy.name} (${q.strategy.sessions} running)` : "—", sort: (dn, q) => q.strategy?.name ?? "" },
  ]);
}

export class QueuesView {
  constructor(table, store, { full }) {
    this.store = store;
    this.table = new Table(table, {
      columns: queueColumns(store, { full }),
      pageSize: full ? 200 : 20,
      empty: "No ACD queue or routing point is configured.",
      label: "Queues and routing points",
    });
  }

  draw() {
    this.table.draw([...this.store.queues.entries()], this.store.now());
  }
}

/** The wallboard: the figures a room reads from across the floor. */
export function drawWallboard(store) {
  const now = store.now();
  const counts = agentCounts(store);
  document.getElementById("wall-agents").replaceChildren(...AGENT_STATES.map((state) =>
    el("div", { class: `wall-count state-${state}` }, el("span", { class: "wall-number" }, number(counts[state])), el("span", {}, AGENT_STATE_LABELS[state]))));
  const target = store.settings.serviceLevelSeconds;
  const queues = [...store.queues.entries()].sort(([a, x], [b, y]) => (x.kind === y.kind ? (a < b ? -1 : 1) : x.kind === "Queue" ? -1 : 1));
  document.getElementById("wall-queues").replaceChildren(...queues.map(([dn, q]) => {
    const late = q.oldest !== null && now - q.oldest > target;
    return el("div", { class: `wall-queue${q.waiting ? " warn" : ""}${late ? " bad" : ""}`, "data-queue": dn },
      el("h2", {}, `${KIND_LABELS[q.kind]} ${dn}`),
      el("p", { class: "wall-waiting" }, el("span", { class: "wall-number" }, number(q.waiting)), " waiting"),
      el("p", {}, "Longest ", q.oldest === null ? "—" : since(q.oldest, now)),
      el("p", {}, `Service level ${percent(q.serviceLevel)} · ready ${agentsOf(q)}`),
      el("p", {}, `Answered ${number(q.answered)} · abandoned ${number(q.abandoned)}`));
  }));
  const latest = bars(document.getElementById("wall-trend"), store.trends, 1, 60, "Calls per minute");
  document.getElementById("wall-trend-now").textContent = `(${latest} this minute)`;
}
