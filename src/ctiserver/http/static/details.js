// One call in detail, in a dialog: its parties, its attached data (asked for when the
// dialog opens, and again when the call changes) and the events it went through.

import { CALL_LABELS, CALL_TYPE_LABELS, clockTime, el, since } from "./format.js";

export class CallDetails {
  constructor(dialog, live, store) {
    this.dialog = dialog;
    this.live = live;
    this.store = store;
    this.connId = null;
    this.asked = 0;
    this.again = null;
    dialog.addEventListener("close", () => {
      const row = document.querySelector(`#calls-table tr[data-key="${CSS.escape(this.connId ?? "")}"]`);
      this.connId = null;
      row?.focus();
    });
  }

  open(connId) {
    this.connId = connId;
    document.getElementById("call-title").textContent = `Call ${connId}`;
    document.getElementById("call-data").replaceChildren(el("p", { class: "note" }, "Loading…"));
    document.getElementById("call-history").replaceChildren();
    this.drawSummary(this.store.calls.get(connId), false);
    this.ask();
    if (!this.dialog.open) this.dialog.showModal();
  }

  ask() {
    clearTimeout(this.again);
    this.again = null;
    this.asked = Date.now();
    if (this.connId !== null) this.live.request({ op: "call", ConnID: this.connId });
  }

  /** The calls changed: ask again for the open call's data, at most once a second (a
   * change within the second is asked for when the second is over). */
  callsChanged(changed) {
    if (this.connId === null || !changed.has("calls")) return;
    this.drawSummary(this.store.calls.get(this.connId), !this.store.calls.has(this.connId));
    const wait = this.asked + 1000 - Date.now();
    if (wait <= 0) this.ask();
    else if (this.again === null) this.again = setTimeout(() => this.ask(), wait);
  }

  reply(message) {
    if (message.type !== "call" || message.ConnID !== this.connId) return;
    if (!message.found) {
      document.getElementById("call-data").replaceChildren(el("p", { class: "note" }, "The server no longer knows this call."));
      return;
    }
    this.drawSummary(message.call, !this.store.calls.has(this.connId));
    document.getElementById("call-data").replaceChildren(userData(message.UserData));
    document.getElementById("call-history").replaceChildren(history(message.history));
  }

  drawSummary(call, ended) {
    const summary = document.getElementById("call-summary");
    if (!call) return;
    const now = this.store.now();
    const parties = Object.entries(call.parties).map(([dn, state]) => `${dn} ${CALL_LABELS[state] ?? state}`);
    const items = [
      ["State", ended ? "ended" : call.state],
      ["Type", CALL_TYPE_LABELS[call.type] ?? call.type],
      ["From", call.ani ?? "—"],
      ["To", call.dnis ?? "—"],
      ["Through", call.queue ?? "—"],
      ["Parties", parties.join(", ") || "—"],
      ["Began", clockTime(call.started)],
      ["Duration", ended ? "—" : since(call.started, now)],
    ];
    summary.replaceChildren(...items.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
  }
}

function value(item) {
  if (item !== null && typeof item === "object") {
    if ("$binary" in item && Object.keys(item).length === 1) return el("span", { class: "binary" }, `binary, ${item.$binary.length} base64 characters`);
    return userData(item);
  }
  return el("span", {}, String(item));
}

export function userData(data) {
  const keys = Object.keys(data ?? {});
  if (!keys.length) return el("p", { class: "note" }, "No attached data.");
  return el("dl", { class: "kv" }, ...keys.flatMap((key) => [el("dt", {}, key), el("dd", {}, value(data[key]))]));
}

function history(entries) {
  const head = el("thead", {}, el("tr", {}, ...["Time", "Event", "DN", "Other", "Third party", "Call state"].map((t) => el("th", { scope: "col" }, t))));
  const rows = entries.map((entry) => el("tr", {},
    el("td", {}, entry.time ? entry.time.slice(11, 23) : "—"),
    el("td", {}, entry.event),
    el("td", {}, entry.dn ?? "—"),
    el("td", {}, entry.OtherDN ?? ""),
    el("td", {}, entry.ThirdPartyDN ?? ""),
    el("td", {}, entry.CallState ?? ""),
  ));
  const fragment = document.createDocumentFragment();
  fragment.append(head, el("tbody", {}, ...rows));
  return fragment;
}
