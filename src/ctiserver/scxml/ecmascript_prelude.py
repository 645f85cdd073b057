"""The JavaScript installed in every ECMAScript session before the document's own code.

It provides, as non-enumerable, read-only globals:

- `_event`, `_sessionid`, `_name` and `_ioprocessors` as getters without a setter, so an
  assignment to them fails in strict mode (REC B.2.1: the system variables cannot be
  changed; IRP tests 322, 326, 329); each reads a slot that `__scxml_system` fills and
  `__scxml_forget` empties, so that a context can serve one session after another
  (ecmascript_pool.py);
- `In(id)` answered from a set the interpreter keeps current (REC B.2.3); QuickJS cannot
  call into Python while a time limit is set, so the set lives on the JavaScript side;
  `__scxml_active()` lists it, for hosts that want a `__GetCurrentStates()` polyfill;
- a small DOM (Document, Element, Text with `getElementsByTagName`, `getAttribute`,
  `childNodes`, `textContent`, …) for XML data (REC B.2.2, IRP tests 557 and 561),
  compiled the first time XML data reaches the session: most sessions never see any,
  and compiling it is half the cost of a new context;
- `__scxml_*` helpers through which Python moves Values in and out as JSON text, compiles
  expressions (with the Function constructor, so an expression can only ever be the body
  of its own function) and runs code as indirect eval.  XML
  travels as `{"$scxml.dom": tree}` with the tree of xmltree.py; a DOM node's toJSON()
  produces that form, so JSON.stringify exports DOM data unchanged.
"""

from __future__ import annotations

import json
from typing import Final

DOM_MARKER: Final = "$scxml.dom"

# Evaluated in a session's context the first time XML data is revived there.
DOM_SOURCE: Final = r"""(function (MARK) {
  "use strict";
  function Node() {}
  Node.prototype.toJSON = function () { var o = {}; o[MARK] = this.__tree(); return o; };
  Node.prototype.item = function (i) { return this.childNodes[i]; };
  Object.defineProperty(Node.prototype, "firstChild",
    {get: function () { return this.childNodes[0] || null; }});
  Object.defineProperty(Node.prototype, "lastChild",
    {get: function () { return this.childNodes[this.childNodes.length - 1] || null; }});
  Object.defineProperty(Node.prototype, "textContent", {get: function () {
    if (this.nodeType === 3) { return this.data; }
    return this.childNodes.map(function (c) { return c.textContent; }).join("");
  }});
  Node.prototype.appendChild = function (child) {
    child.parentNode = this; this.childNodes.push(child); return child;
  };
  Node.prototype.getElementsByTagName = function (name) {
    var found = [];
    (function walk(node) {
      node.childNodes.forEach(function (c) {
        if (c.nodeType === 1) {
          if (name === "*" || c.tagName === name || c.localName === name) { found.push(c); }
          walk(c);
        }
      });
    })(this);
    found.item = function (i) { return found[i]; };
    return found;
  };
  Object.defineProperty(Node.prototype, "children", {get: function () {
    return this.childNodes.filter(function (c) { return c.nodeType === 1; });
  }});

  function Text(data) { this.nodeType = 3; this.nodeName = "#text"; this.data = data;
                        this.nodeValue = data; this.childNodes = []; this.parentNode = null; }
  Text.prototype = Object.create(Node.prototype);
  Text.prototype.__tree = function () { return [this.data]; };

  function Element(ns, name, attributes) {
    this.nodeType = 1; this.namespaceURI = ns || null; this.localName = name;
    this.tagName = name; this.nodeName = name; this.nodeValue = null;
    this.attributes = attributes; this.childNodes = []; this.parentNode = null;
  }
  Element.prototype = Object.create(Node.prototype);
  Element.prototype.getAttribute = function (n) {
    return Object.prototype.hasOwnProperty.call(this.attributes, n) ? this.attributes[n] : null;
  };
  Element.prototype.hasAttribute = function (n) {
    return Object.prototype.hasOwnProperty.call(this.attributes, n);
  };
  Element.prototype.setAttribute = function (n, v) { this.attributes[n] = String(v); };
  Element.prototype.removeAttribute = function (n) { delete this.attributes[n]; };
  Element.prototype.__tree = function () { return [this.__node()]; };
  Element.prototype.__node = function () {
    return [this.namespaceURI || "", this.localName, this.attributes,
            this.childNodes.map(function (c) { return c.nodeType === 1 ? c.__node() : c.data; })];
  };

  function Document() { this.nodeType = 9; this.nodeName = "#document"; this.childNodes = [];
                        this.parentNode = null; }
  Document.prototype = Object.create(Node.prototype);
  Object.defineProperty(Document.prototype, "documentElement",
    {get: function () { return this.children[0] || null; }});
  Document.prototype.__tree = function () {
    return this.childNodes.map(function (c) { return c.nodeType === 1 ? c.__node() : c.data; });
  };

  function build(parent, nodes) {
    nodes.forEach(function (n) {
      if (typeof n === "string") { parent.appendChild(new Text(n)); return; }
      var e = parent.appendChild(new Element(n[0], n[1], n[2]));
      build(e, n[3]);
    });
    return parent;
  }
  return {build: build, Document: Document};
})"""

PRELUDE: Final = (
    r"""
(function (g, DOM_SOURCE) {
  "use strict";
  var current;
  var active = Object.create(null);
  var system = Object.create(null);
  var MARK = "$scxml.dom";
  var FunctionConstructor = Function, freeze = Object.freeze, indirectEval = eval;

  function hide(name, value) {
    Object.defineProperty(g, name, {value: value, writable: false, enumerable: false,
                                    configurable: false});
  }
  Object.defineProperty(g, "_event", {get: function () { return current; },
                                      enumerable: true, configurable: false});
  ["_sessionid", "_name", "_ioprocessors"].forEach(function (name) {
    Object.defineProperty(g, name, {get: function () { return system[name]; },
                                    enumerable: true, configurable: false});
  });

  // --- a small DOM, compiled on first use (most sessions never see XML) ----------------
  var dom = null;
  function Dom() {
    if (dom === null) { dom = (0, eval)(DOM_SOURCE)(MARK); }
    return dom;
  }
  function revive(key, value) {
    if (value !== null && typeof value === "object" && !Array.isArray(value) &&
        Object.prototype.hasOwnProperty.call(value, MARK)) {
      var made = Dom();
      return made.build(new made.Document(), value[MARK]);
    }
    return value;
  }

  // --- helpers for Python ----------------------------------------------------------------
  function decode(kind, payload) {
    if (kind === 0) { return undefined; }
    if (kind === 1) { return payload; }
    return payload.indexOf(MARK) < 0 ? JSON.parse(payload) : JSON.parse(payload, revive);
  }
  function encode(v) {
    if (v === undefined) { return "u"; }
    var s = JSON.stringify(v);
    return s === undefined ? "u" : "j" + s;
  }
  function blank(s) { return s === "" ? undefined : s; }
  hide("__scxml_setEvent", function (name, type, sendid, origin, origintype, invokeid,
                                     kind, payload) {
    current = {name: name, type: type, sendid: blank(sendid), origin: blank(origin),
               origintype: blank(origintype), invokeid: blank(invokeid),
               data: decode(kind, payload)};
  });
  hide("__scxml_system", function (name, kind, payload) { system[name] = decode(kind, payload); });
  hide("__scxml_forget", function () {
    current = undefined;
    active = Object.create(null);
    system = Object.create(null);
    dom = null;  // a session may have changed the DOM's prototypes: the next one compiles anew
  });
  hide("__scxml_compile", function (parameters, body) {
    return freeze(new FunctionConstructor(parameters, body));
  });
  hide("__scxml_eval", function (source) { return indirectEval(source); });
  hide("__scxml_setGlobal", function (name, kind, payload) { g[name] = decode(kind, payload); });
  hide("__scxml_setActive", function (ids) {
    active = Object.create(null);
    if (ids !== "") { ids.split("\n").forEach(function (id) { active[id] = true; }); }
  });
  hide("In", function (id) { return active[id] === true; });
  hide("__scxml_active", function () { return Object.keys(active); });
  hide("__scxml_value", function (kind, payload) { return decode(kind, payload); });
  hide("__scxml_export", function (getter) { return encode(getter()); });
  hide("__scxml_assignFrom", function (setter, getter) { setter(getter()); });
  hide("__scxml_assignValue", function (setter, kind, payload) {
    setter(decode(kind, payload));
  });
  hide("__scxml_array", function (getter) {
    var v = getter();
    if (!Array.isArray(v)) { throw new TypeError("foreach array is not an array"); }
    return v.slice();
  });
  hide("__scxml_length", function (a) { return a.length; });
  hide("__scxml_step", function (a, i, itemSetter, indexSetter) {
    itemSetter(a[i]);
    if (indexSetter !== null) { indexSetter(i); }
  });
})(globalThis, """
    + json.dumps(DOM_SOURCE)
    + ");\n"
)
