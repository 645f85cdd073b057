// The page's one connection to its server: the WebSocket /api/live.
//
// It says hello (with the token from the page's URL fragment), then takes a snapshot and
// deltas.  When the socket closes, or nothing arrives for SILENCE ms (the server sends
// at least a heartbeat every 5 s), the server is lost: the page is told at once, and the
// connection is tried again after a growing wait (RETRY_FIRST up to RETRY_MOST ms).

const SILENCE = 12000;
const RETRY_FIRST = 500;
const RETRY_MOST = 10000;
const NOT_AUTHORISED = 4401;

export class Live {
  /** handlers: {snapshot(msg), delta(msg), reply(msg), state(name, detail)} where
   * name is "connecting", "live", "lost" (detail: ms until the next try) or "refused". */
  constructor(url, token, handlers) {
    this.url = url;
    this.token = token;
    this.handlers = handlers;
    this.ws = null;
    this.failures = 0;
    this.lastHeard = 0;
    this.retryTimer = null;
    setInterval(() => this.watch(), 1000);
  }

  open() {
    clearTimeout(this.retryTimer);
    this.handlers.state("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (error) {
      this.lost();
      return;
    }
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ op: "hello", token: this.token }));
    ws.onmessage = (message) => this.receive(ws, message.data);
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (event.code === NOT_AUTHORISED) this.handlers.state("refused");
      else this.lost();
    };
  }

  receive(ws, text) {
    if (this.ws !== ws) return;
    this.lastHeard = Date.now();
    let message;
    try {
      message = JSON.parse(text);
    } catch (error) {
      return;
    }
    if (message.type === "snapshot") {
      this.failures = 0;
      this.handlers.snapshot(message);
      this.handlers.state("live");
    } else if (message.type === "delta") {
      this.handlers.delta(message);
    } else {
      this.handlers.reply(message);
    }
  }

  /** The server said nothing for too long: treat it as lost, whatever the socket says. */
  watch() {
    if (this.ws !== null && this.lastHeard && Date.now() - this.lastHeard > SILENCE) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = null;
      ws.close();
      this.lost();
    }
  }

  lost() {
    const wait = Math.min(RETRY_FIRST * 2 ** this.failures, RETRY_MOST);
    this.failures += 1;
    this.lastHeard = 0;
    this.handlers.state("lost", wait);
    this.retryTimer = setTimeout(() => this.open(), wait);
  }

  /** Connect again now (with a new token, say). */
  restart() {
    const ws = this.ws;
    this.ws = null;
    if (ws !== null) {
      ws.onclose = null;
      ws.close();
    }
    this.failures = 0;
    this.open();
  }

  request(message) {
    if (this.ws !== null && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }
}
