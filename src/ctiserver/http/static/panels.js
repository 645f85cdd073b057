// The long lists: agents, live calls and DNs, each filtered, searched and shown a page at
// a time, so that 2,000 agents or 10,000 DNs cost the page only the rows it shows.

import {
  AGENT_STATE_LABELS, AGENT_STATES, CALL_LABELS, CALL_STATE_LABELS, CALL_TYPE_LABELS, KIND_LABELS, badge, el, number, since,
} from "./format.js";
import { agentCounts } from "./overview.js";
import { Table } from "./table.js";

/** A group of toggle buttons of which one is pressed: a filter. */
class Chips {
  constructor(container, choices, onChange) {
    this.value = "";
    this.buttons = new Map();
    for (const [value, label] of choices) {
      const button = el("button", { type: "button", class: "chip", "aria-pressed": value === "" ? "true" : "false", "data-value": value,
        onclick: () => this.choose(value) }, el("span", { class: "chip-label" }, label), " ", el("span", { class: "chip-count" }));
      this.buttons.set(value, button);
      container.append(button);
    }
    this.onChange = onChange;
  }

  choose(value) {
    this.value = value;
    for (const [key, button] of this.buttons) button.setAttribute("aria-pressed", String(key === value));
    this.onChange();
  }

  counts(counts) {
    for (const [value, button] of this.buttons) {
      const text = `(${number(counts[value] ?? 0)})`;
      const span = button.querySelector(".chip-count");
      if (span.textContent !== text) span.textContent = text;
    }
  }
}

function searchBox(input, onChange) {
  input.addEventListener("input", onChange);
  return () => input.value.trim().toLowerCase();
}

function matches(needle, ...values) {
  return !needle || values.some((value) => value !== null && value !== undefined && String(value).toLowerCase().includes(needle));
}

function agentState(agent, linkUp) {
  const label = AGENT_STATE_LABELS[agent.state] ?? agent.state;
  const call = agent.call ? ` · ${CALL_LABELS[agent.call] ?? agent.call}` : "";
  return el("span", { class: linkUp ? "" : "stale" }, badge(label, `state-${agent.state}`), call);
}

export class AgentsView {
  constructor(store, redraw) {
    this.store = store;
    const changed = () => { this.table.firstPage(); redraw(); };
    this.chips = new Chips(document.getElementById("agent-filters"), [["", "All"], ...AGENT_STATES.map((s) => [s, AGENT_STATE_LABELS[s]])], changed);
    this.search = searchBox(document.getElementById("agent-search"), changed);
    this.table = new Table(document.getElementById("agents-table"), {
      pager: document.getElementById("agents-pager"),
      empty: "No agent matches.",
      label: "Agents",
      columns: [
        { title: "Agent", cell: (dn, a) => el("strong", {}, a.agent), sort: (dn, a) => a.agent },
        { title: "DN", cell: (dn) => dn, sort: (dn) => dn },
        { title: "Queue", cell: (dn, a) => a.queue ?? "—", sort: (dn, a) => a.queue },
        { title: "State", className: "state", cell: (dn, a) => agentState(a, this.store.linkUp()), sort: (dn, a) => AGENT_STATES.indexOf(a.state) },
        { title: "Reason", className: "reason", cell: (dn, a) => a.reason ?? "", sort: (dn, a) => a.reason ?? "" },
        { title: "For", className: "num", cell: (dn, a, now) => since(a.since, now), sort: (dn, a) => a.since },
        { title: "Handled", className: "num", cell: (dn, a) => number(a.handled), sort: (dn, a) => a.handled },
      ],
    });
  }

  draw() {
    const wanted = this.chips.value;
    const needle = this.search();
    const entries = [...this.store.agents.entries()].filter(([dn, a]) =>
      (!wanted || a.state === wanted) && matches(needle, a.agent, dn, a.queue, a.reason));
    const counts = agentCounts(this.store);
    counts[""] = this.store.agents.size;
    this.chips.counts(counts);
    this.table.draw(entries, this.store.now(), String(this.store.linkUp()));
  }
}

const CALL_FILTERS = [["", "All"], ["Queued", "Waiting"], ["Ringing", "Ringing"], ["Talking", "Talking"], ["Held", "Held"]];

export class CallsView {
  constructor(store, redraw, open) {
    this.store = store;
    const changed = () => { this.table.firstPage(); redraw(); };
    this.chips = new Chips(document.getElementById("call-filters"), CALL_FILTERS, changed);
    this.search = searchBox(document.getElementById("call-search"), changed);
    this.table = new Table(document.getElementById("calls-table"), {
      pager: document.getElementById("calls-pager"),
      empty: "No call in progress matches.",
      label: "Calls in progress",
      onOpen: open,
      columns: [
        { title: "Call", cell: (id) => el("code", {}, id), sort: (id, c) => c.started },
        { title: "Type", cell: (id, c) => CALL_TYPE_LABELS[c.type] ?? c.type, sort: (id, c) => c.type },
        { title: "From", cell: (id, c) => c.ani ?? "—", sort: (id, c) => c.ani },
        { title: "To", cell: (id, c) => c.dnis ?? "—", sort: (id, c) => c.dnis },
        { title: "Parties", className: "parties", cell: (id, c) => parties(c), sort: (id, c) => Object.keys(c.parties).join(",") },
        { title: "State", className: "state", cell: (id, c) => badge(CALL_STATE_LABELS[c.state] ?? c.state, `call-${c.state}`), sort: (id, c) => c.state },
        { title: "Waiting", className: "num", cell: (id, c, now) => c.waitingSince ? since(c.waitingSince, now) : "", sort: (id, c) => c.waitingSince ?? Infinity },
        { title: "Duration", className: "num", cell: (id, c, now) => since(c.started, now), sort: (id, c) => c.started },
        { title: "Data", className: "num", cell: (id, c) => c.data ? `${c.data} ${c.data === 1 ? "key" : "keys"}` : "", sort: (id, c) => c.data },
      ],
    });
  }

  draw() {
    const wanted = this.chips.value;
    const needle = this.search();
    const counts = { "": this.store.calls.size };
    const entries = [];
    for (const [id, call] of this.store.calls) {
      counts[call.state] = (counts[call.state] ?? 0) + 1;
      if ((!wanted || call.state === wanted) && matches(needle, id, call.ani, call.dnis, call.queue, ...Object.keys(call.parties))) entries.push([id, call]);
    }
    this.chips.counts(counts);
    this.table.draw(entries, this.store.now());
  }
}

function parties(call) {
  const list = Object.entries(call.parties).map(([dn, state]) => el("li", {}, el("strong", {}, dn), ` ${CALL_LABELS[state] ?? state}`));
  return el("ul", { class: "party-list" }, ...list);
}

export class DnsView {
  constructor(store, redraw) {
    this.store = store;
    const changed = () => { this.table.firstPage(); redraw(); };
    this.kind = document.getElementById("dn-kind");
    this.status = document.getElementById("dn-status");
    this.kind.addEventListener("change", changed);
    this.status.addEventListener("change", changed);
    this.search = searchBox(document.getElementById("dn-search"), changed);
    this.table = new Table(document.getElementById("dns-table"), {
      pager: document.getElementById("dns-pager"),
      pageSize: 100,
      empty: "No DN matches.",
      label: "DNs",
      columns: [
        { title: "DN", cell: (dn) => el("strong", {}, dn), sort: (dn) => dn },
        { title: "Type", cell: (dn, d) => KIND_LABELS[d.kind] ?? d.kind, sort: (dn, d) => d.kind },
        { title: "Status", className: "state", cell: (dn, d) => this.status_(d), sort: (dn, d) => d.status },
        { title: "For", className: "num", cell: (dn, d, now) => this.store.linkUp() ? since(d.since, now) : "—", sort: (dn, d) => d.since },
        { title: "Agent", cell: (dn, d) => d.agent ?? "", sort: (dn, d) => d.agent ?? "" },
      ],
    });
  }

  status_(dn) {
    if (!this.store.linkUp()) return badge("Link down", "down");
    const calls = dn.calls > 1 ? ` (${dn.calls} calls)` : "";
    if (dn.status === "Waiting") return badge(`${number(dn.calls)} waiting`, "waiting");
    return el("span", {}, badge(CALL_STATE_LABELS[dn.status] ?? dn.status, `call-${dn.status}`), calls);
  }

  draw() {
    const kind = this.kind.value;
    const status = this.status.value;
    const needle = this.search();
    const entries = [];
    for (const [dn, row] of this.store.dns) {
      if (kind && row.kind !== kind) continue;
      if (status === "busy" ? row.status === "Idle" || row.status === "Waiting" : status && row.status !== status) continue;
      if (needle && !dn.includes(needle) && !(row.agent ?? "").toLowerCase().includes(needle)) continue;
      entries.push([dn, row]);
    }
    this.table.draw(entries, this.store.now(), String(this.store.linkUp()));
  }
}
