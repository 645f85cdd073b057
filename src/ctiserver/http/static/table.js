// A table of rows drawn a page at a time, sortable by its column headers, navigable by
// keyboard: only the rows of the page shown are in the document, however many there are.

import { el, number } from "./format.js";

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  const x = String(a), y = String(b);
  if (x.length !== y.length && /^\d+$/.test(x) && /^\d+$/.test(y)) return x.length - y.length;
  return x < y ? -1 : 1;
}

export class Table {
  /** columns: [{title, cell(key, row, now) -> Node|string, sort(key, row) -> value, className}];
   * onOpen(key): makes rows focusable, opened by Enter, Space or a click. */
  constructor(table, { columns, pageSize = 50, pager = null, empty = "Nothing to show.", onOpen = null, label }) {
    this.table = table;
    this.columns = columns;
    this.pageSize = pageSize;
    this.pager = pager;
    this.empty = empty;
    this.onOpen = onOpen;
    this.page = 0;
    this.sortBy = 0;
    this.ascending = true;
    this.entries = [];
    this.now = 0;
    this.drawn = new Map();  // key -> {row, tr}, as shown, in order
    this.context = "";
    if (label) table.setAttribute("aria-label", label);
    this.head = el("thead");
    this.body = el("tbody");
    table.replaceChildren(this.head, this.body);
    this.drawHead();
  }

  drawHead() {
    const cells = this.columns.map((column, index) => {
      const sorted = index === this.sortBy ? (this.ascending ? "ascending" : "descending") : null;
      const button = el("button", { type: "button", class: "sort", onclick: () => this.sort(index) }, column.title);
      return el("th", { scope: "col", "aria-sort": sorted, class: column.className }, button);
    });
    this.head.replaceChildren(el("tr", {}, ...cells));
  }

  sort(index) {
    this.ascending = index === this.sortBy ? !this.ascending : true;
    this.sortBy = index;
    this.page = 0;
    this.drawHead();
    this.draw(this.entries, this.now, this.context);
  }

  firstPage() {
    this.page = 0;
  }

  /** Draw *entries* ([key, row] pairs, already filtered) as of *now*.  A row is built
   * again only when it changed (a delta replaces a changed row, so the same object is
   * the same row), or when *context* (what else the cells show) did. */
  draw(entries, now, context = "") {
    this.entries = entries;
    this.now = now;
    const redraw = context !== this.context;
    this.context = context;
    const column = this.columns[this.sortBy];
    const order = this.ascending ? 1 : -1;
    const keyed = entries.map((entry) => [column.sort(entry[0], entry[1]), entry]);
    keyed.sort((a, b) => order * compare(a[0], b[0]) || compare(a[1][0], b[1][0]));
    const pages = Math.max(1, Math.ceil(keyed.length / this.pageSize));
    this.page = Math.min(this.page, pages - 1);
    const first = this.page * this.pageSize;
    const shown = keyed.slice(first, first + this.pageSize).map(([, entry]) => entry);
    if (redraw) this.drawn = new Map();
    if (this.changed(shown)) this.drawRows(shown);
    this.drawPager(first, shown.length, keyed.length, pages);
  }

  /** Whether the rows to show differ from those shown: another key, or a row replaced. */
  changed(shown) {
    const drawn = [...this.drawn.entries()];
    return drawn.length !== shown.length || shown.length === 0 ||
      shown.some(([key, row], i) => key !== drawn[i][0] || row !== drawn[i][1].row);
  }

  /** Show *shown*, building only the rows that changed and moving the others. */
  drawRows(shown) {
    const focused = this.focusedKey();
    const before = [...this.drawn.keys()];
    const drawn = new Map();
    const replaced = [];
    for (const entry of shown) {
      const [key, row] = entry;
      const old = this.drawn.get(key);
      const item = old && old.row === row ? old : { row, tr: this.row(entry) };
      if (old && item !== old) replaced.push([old.tr, item.tr]);
      drawn.set(key, item);
    }
    this.drawn = drawn;
    const keys = [...drawn.keys()];
    if (keys.length && keys.length === before.length && keys.every((key, i) => key === before[i])) {
      for (const [old, tr] of replaced) old.replaceWith(tr);  // the same rows in the same order
    } else {
      const rows = [...drawn.values()].map((item) => item.tr);
      this.body.replaceChildren(...(rows.length ? rows : [this.emptyRow()]));
    }
    if (focused !== null) this.body.querySelector(`tr[data-key="${CSS.escape(focused)}"]`)?.focus();
  }

  row([key, row]) {
    const cells = this.columns.map((column) => el("td", { class: column.className }, column.cell(key, row, this.now)));
    if (!this.onOpen) return el("tr", { "data-key": key }, ...cells);
    return el("tr", {
      "data-key": key, tabindex: 0, class: "openable",
      onclick: () => this.onOpen(key),
      onkeydown: (event) => this.key(event, key),
    }, ...cells);
  }

  key(event, key) {
    const row = event.currentTarget;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.onOpen(key);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      (event.key === "ArrowDown" ? row.nextElementSibling : row.previousElementSibling)?.focus();
    }
  }

  focusedKey() {
    const active = document.activeElement;
    return active && this.body.contains(active) ? active.getAttribute("data-key") : null;
  }

  emptyRow() {
    return el("tr", {}, el("td", { colspan: this.columns.length, class: "empty" }, this.empty));
  }

  drawPager(first, count, total, pages) {
    if (!this.pager) return;
    if (!this.pagerParts) {
      const go = (step) => () => {
        this.page += step;
        this.draw(this.entries, this.now, this.context);
      };
      this.pagerParts = {
        previous: el("button", { type: "button", onclick: go(-1) }, "Previous"),
        range: el("span", { class: "range" }),
        next: el("button", { type: "button", onclick: go(+1) }, "Next"),
      };
      this.pager.replaceChildren(this.pagerParts.previous, this.pagerParts.range, this.pagerParts.next);
    }
    const { previous, range, next } = this.pagerParts;
    previous.disabled = this.page === 0;
    next.disabled = this.page >= pages - 1;
    const text = total ? `Showing ${number(first + 1)}–${number(first + count)} of ${number(total)}` : "Showing none";
    if (range.textContent !== text) range.textContent = text;
  }
}
