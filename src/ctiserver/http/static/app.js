// The dashboard page: connects to its server, keeps the store, draws what changed once
// per animation frame, counts seconds locally, and answers the keyboard.
//
// The URL fragment carries the page's options, never sent to the server in a URL:
//   #token=SECRET     the access token, given to the server in the WebSocket's hello
//   #wallboard        start in wallboard mode (also the W key and the button)

import { Live } from "./connection.js";
import { CallDetails } from "./details.js";
import { clockTime, duration, el } from "./format.js";
import { QueuesView, drawTiles, drawTrends, drawWallboard } from "./overview.js";
import { AgentsView, CallsView, DnsView } from "./panels.js";
import { Store } from "./store.js";

const options = new URLSearchParams(location.hash.slice(1));
const store = new Store();
const scheme = location.protocol === "https:" ? "wss:" : "ws:";
let frame = null;
let connection = "connecting";
let retryAt = 0;

const live = new Live(`${scheme}//${location.host}/api/live`, options.get("token"), {
  snapshot: (message) => { store.snapshot(message); redraw(); },
  delta: (message) => { store.delta(message); redraw(); },
  reply: (message) => details.reply(message),
  state: (name, wait) => connectionChanged(name, wait),
});
const details = new CallDetails(document.getElementById("call-dialog"), live, store);
const views = {
  overview: new QueuesView(document.getElementById("overview-queues"), store, { full: false }),
  agents: new AgentsView(store, () => redraw(true)),
  queues: new QueuesView(document.getElementById("queues-table"), store, { full: true }),
  calls: new CallsView(store, () => redraw(true), (connId) => details.open(connId)),
  dns: new DnsView(store, () => redraw(true)),
};
// Which sections each view draws from; it is drawn again when one of them changed.
const NEEDS = {
  overview: ["queues", "agents", "calls", "trends", "health"],
  agents: ["agents", "health"],
  queues: ["queues", "health"],
  calls: ["calls"],
  dns: ["dns", "health"],
};
let active = "overview";
let forced = true;

function redraw(force = false) {
  forced ||= force;
  if (frame === null) frame = requestAnimationFrame(draw);
}

function draw() {
  frame = null;
  if (!store.loaded) return;
  const changed = store.takeChanges();
  if (forced) NEEDS[active].forEach((section) => changed.add(section));
  forced = false;
  drawHeader(changed);
  if (document.body.classList.contains("wallboard")) {
    drawWallboard(store);
  } else if (NEEDS[active].some((section) => changed.has(section))) {
    if (active === "overview") {
      drawTiles(document.getElementById("tiles"), store);
      if (changed.has("trends")) {
        drawTrends(store, { calls: "trend-calls", callsNow: "trend-calls-now", waiting: "trend-waiting", waitingNow: "trend-waiting-now" });
      }
    }
    views[active].draw();
  }
  details.callsChanged(changed);
}

function drawHeader(changed) {
  document.getElementById("server-name").textContent = store.server;
  document.title = `Contact centre — ${store.server}`;
  if (changed.has("health")) {
    const items = store.health.map((item) => el("li", { class: `health-item ${item.ok === true ? "ok" : item.ok === false ? "bad" : "neutral"}`, "data-key": item.key },
      el("span", { class: "health-label" }, item.label), " ", el("span", { class: "health-state" }, item.state)));
    document.getElementById("health").replaceChildren(...items);
    const linkDown = !store.linkUp();
    document.body.classList.toggle("link-down", linkDown);
    document.getElementById("link-down").hidden = !linkDown || connection !== "live";
  }
  const counts = { agents: store.agents.size, queues: [...store.queues.values()].filter((q) => q.waiting).length, calls: store.calls.size, dns: store.dns.size };
  for (const [name, count] of Object.entries(counts)) {
    const text = name === "queues" ? (count ? `(${count} waiting)` : "") : `(${count.toLocaleString("en")})`;
    const node = document.getElementById(`count-${name}`);
    if (node.textContent !== text) node.textContent = text;
  }
}

function connectionChanged(name, wait) {
  connection = name;
  const status = document.getElementById("connection");
  const banner = document.getElementById("lost");
  document.body.classList.toggle("lost", name === "lost" || name === "refused");
  document.body.classList.toggle("connecting", name === "connecting" && !store.loaded);
  if (name === "live") {
    status.textContent = "Live";
    banner.hidden = true;
    document.getElementById("link-down").hidden = store.linkUp();
  } else if (name === "lost") {
    store.freeze();
    retryAt = Date.now() + wait;
    status.textContent = "Server lost";
    document.getElementById("link-down").hidden = true;
    banner.hidden = false;
    lostMessage();
  } else if (name === "refused") {
    store.freeze();
    status.textContent = "Not authorised";
    banner.hidden = false;
    banner.textContent = "The server refused this page: open the dashboard with its access token, as …/#token=YOUR-TOKEN.";
  } else if (!store.loaded) {
    status.textContent = "Connecting…";
  }
  status.className = `connection ${name}`;
}

function lostMessage() {
  const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
  const frozen = store.loaded ? ` The figures below are as they were at ${clockTime(store.now())}.` : "";
  const text = `Server lost: no news from the server.${frozen} ${seconds ? `Trying again in ${seconds} s.` : "Trying again…"}`;
  const banner = document.getElementById("lost");
  if (banner.textContent !== text) banner.textContent = text;
}

/** Every second: the durations shown move on (not while the server is lost). */
function tick() {
  if (connection === "lost") lostMessage();
  if (!store.loaded) return;
  const now = store.now();
  for (const node of document.querySelectorAll("[data-since]")) {
    const text = duration(now - Number(node.getAttribute("data-since")));
    if (node.textContent !== text) node.textContent = text;
  }
}

// --- views and keyboard ------------------------------------------------------------------

const tabs = [...document.querySelectorAll('[role="tab"]')];

function show(name, focus = false) {
  active = name;
  for (const tab of tabs) {
    const selected = tab.id === `tab-${name}`;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    document.getElementById(tab.getAttribute("aria-controls")).hidden = !selected;
    if (selected && focus) tab.focus();
  }
  redraw(true);
}

for (const [index, tab] of tabs.entries()) {
  tab.addEventListener("click", () => show(tab.id.slice(4)));
  tab.addEventListener("keydown", (event) => {
    const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const next = tabs[(moves[event.key] + tabs.length) % tabs.length];
    show(next.id.slice(4), true);
  });
}

function wallboard(on) {
  document.body.classList.toggle("wallboard", on);
  document.getElementById("wallboard").hidden = !on;
  const button = document.getElementById("wallboard-toggle");
  button.setAttribute("aria-pressed", String(on));
  button.textContent = on ? "Leave wallboard" : "Wallboard";
  redraw(true);
}

document.getElementById("wallboard-toggle").addEventListener("click", () => wallboard(!document.body.classList.contains("wallboard")));
document.addEventListener("keydown", (event) => {
  const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement;
  if (typing || event.ctrlKey || event.metaKey || event.altKey || document.querySelector("dialog[open]")) return;
  if (event.key === "w" || event.key === "W") {
    wallboard(!document.body.classList.contains("wallboard"));
  } else if (event.key === "Escape" && document.body.classList.contains("wallboard")) {
    wallboard(false);
  } else if (event.key === "/") {
    const search = document.querySelector(`#panel-${active} input[type="search"]`);
    if (search) {
      event.preventDefault();
      search.focus();
    }
  }
});

// The fragment changed (a bookmark, a link): follow its options.
window.addEventListener("hashchange", () => {
  const changed = new URLSearchParams(location.hash.slice(1));
  wallboard(changed.has("wallboard"));
  if (changed.get("token") !== live.token) {
    live.token = changed.get("token");
    live.restart();
  }
});

wallboard(options.has("wallboard"));
setInterval(tick, 1000);
live.open();
