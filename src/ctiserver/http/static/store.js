// What the page knows of the centre: the server's snapshot, kept current by its deltas.
//
// Rows are whole: a delta's row replaces the one held, null removes it.  Times are the
// server's (epoch seconds); `now()` is the server's time as this page reckons it, frozen
// while the server is lost so that no figure seems to move.

const SECTIONS = ["dns", "agents", "queues", "calls"];

export class Store {
  constructor() {
    this.server = "";
    this.settings = { serviceLevelSeconds: 20, window: 900 };
    for (const section of SECTIONS) this[section] = new Map();
    this.health = [];
    this.trends = [];
    this.offset = 0;
    this.frozenAt = null;
    this.loaded = false;
    this.changed = new Set(SECTIONS);  // what changed since the page last drew
  }

  snapshot(message) {
    this.server = message.server;
    this.settings = message.settings;
    for (const section of SECTIONS) {
      this[section] = new Map(Object.entries(message[section]));
      this.changed.add(section);
    }
    this.health = message.health;
    this.trends = message.trends;
    this.changed.add("health").add("trends");
    this.clock(message.now);
    this.loaded = true;
  }

  delta(message) {
    for (const section of SECTIONS) {
      const rows = message[section];
      if (!rows) continue;
      const map = this[section];
      for (const [key, row] of Object.entries(rows)) {
        if (row === null) map.delete(key);
        else map.set(key, row);
      }
      this.changed.add(section);
    }
    if (message.health) {
      this.health = message.health;
      this.changed.add("health");
    }
    if (message.trends) {
      this.trends = message.trends;
      this.changed.add("trends");
    } else if (message.trend) {
      this.takeBucket(message.trend);
    }
    this.clock(message.now);
  }

  takeBucket(bucket) {
    const last = this.trends[this.trends.length - 1];
    if (last && last[0] === bucket[0]) this.trends[this.trends.length - 1] = bucket;
    else this.trends.push(bucket);
    this.changed.add("trends");
  }

  clock(serverNow) {
    this.offset = serverNow - Date.now() / 1000;
    this.frozenAt = null;
  }

  freeze() {
    if (this.frozenAt === null) this.frozenAt = this.now();
  }

  now() {
    return this.frozenAt ?? Date.now() / 1000 + this.offset;
  }

  linkUp() {
    const link = this.health.find((item) => item.key === "link");
    return link === undefined || link.state === "up";
  }

  /** Take the set of changed sections (the page draws them). */
  takeChanges() {
    const changed = this.changed;
    this.changed = new Set();
    return changed;
  }
}
