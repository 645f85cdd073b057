// How figures read on the page: durations, percentages, state names, and a small DOM builder.

export const AGENT_STATES = ["Ready", "OnCall", "NotReady", "AfterCallWork"];
export const AGENT_STATE_LABELS = {
  Ready: "Ready",
  OnCall: "On call",
  NotReady: "Not ready",
  AfterCallWork: "After-call work",
};
export const CALL_STATE_LABELS = { Talking: "Talking", Held: "Held", Ringing: "Ringing", Dialing: "Dialling", Failed: "Busy tone", Queued: "Waiting", Ended: "Ended", Idle: "Idle" };
export const CALL_LABELS = { Talking: "talking", Held: "held", Ringing: "ringing", Dialing: "dialling", Failed: "busy tone", Queued: "waiting" };
export const KIND_LABELS = { DN: "Extension", Queue: "ACD queue", RouteDN: "Routing point" };
export const CALL_TYPE_LABELS = { Internal: "Internal", Inbound: "Inbound", Outbound: "Outbound", Consult: "Consultation", Unknown: "—" };

/** "m:ss", or "h:mm:ss" past an hour; never negative. */
export function duration(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

export function percent(fraction) {
  return fraction === null || fraction === undefined ? "—" : `${Math.round(fraction * 100)} %`;
}

export function clockTime(epochSeconds) {
  return new Date(epochSeconds * 1000).toLocaleTimeString([], { hour12: false });
}

export function number(value) {
  return value === null || value === undefined ? "—" : value.toLocaleString("en");
}

/** A DOM element: el("td", {class: "x", "data-since": 3}, "text", child).  Text is
 * always set as text, never parsed as HTML: data from the switch or a client is data. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A cell that shows for how long since *since* (epoch seconds); the page's clock
 * ticks every element with data-since. */
export function since(sinceSeconds, now) {
  if (sinceSeconds === null || sinceSeconds === undefined) return el("span", {}, "—");
  return el("span", { class: "since", "data-since": sinceSeconds }, duration(now - sinceSeconds));
}

export function badge(text, kind) {
  return el("span", { class: `badge badge-${kind}` }, text);
}
