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
    this.draw(this.entries, this.now);
  }

  firstPage() {
    this.page = 0;
  }

  /** Draw *entries* ([key, row] pairs, already filtered) as of *now*. */
  draw(entries, now) {
    this.entries = entries;
    this.now = now;
    const column = this.columns[this.sortBy];
    const order = this.ascending ? 1 : -1;
    const keyed = entries.map((entry) => [column.sort(entry[0], entry[1]), entry]);
    keyed.sort((a, b) => order * compare(a[0], b[0]) || compare(a[1][0], b[1][0]));
    const pages = Math.max(1, Math.ceil(keyed.length / this.pageSize));
    this.page = Math.min(this.page, pages - 1);
    const first = this.page * this.pageSize;
    const shown = keyed.slice(first, first + this.pageSize);
    const focused = this.focusedKey();
    this.body.replaceChildren(...(shown.length ? shown.map(([, entry]) => this.row(entry)) : [this.emptyRow()]));
    if (focused !== null) this.body.querySelector(`tr[data-key="${CSS.escape(focused)}"]`)?.focus();
    this.drawPager(first, shown.length, keyed.length, pages);
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
        this.draw(this.entries, this.now);
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
