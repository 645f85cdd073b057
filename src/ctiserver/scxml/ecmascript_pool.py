"""QuickJS contexts for the ECMAScript datamodel: made fresh, or lent by a pool that
hands one context to one session after another.

A new context costs more than everything else a short session does (a QuickJS runtime,
its built-in objects, and compiling the preludes: about 3 million instructions, 60% of
a routing session of the orchestration server).  A ContextPool makes each context once
and, when a session ends, puts it back in the state it had before its first session.

Rule 1 (isolation): nothing one session leaves in a pooled context reaches the next.
  - the built-in objects (every object reachable from the globals QuickJS defines, and
    the hidden ones: iterator, generator and async prototypes, %ThrowTypeError%) and
    every function the preludes define are frozen once the preludes have run, as in
    Hardened JavaScript: no session can change them;
  - the global object, and every other object the preludes made (such as `_genesys`),
    are put back as they were: properties added are deleted, properties changed are
    redefined, a changed prototype is set back; then each is compared with its snapshot
    (its prototype, extensibility and keys in order, and the properties it redefined: a
    property the reset found unchanged is not read twice, and one that can never change,
    neither configurable nor writable, is not read at all);
  - the prelude's own per-session state (`_event`, In()'s set, the system variables,
    the XML DOM's classes) is emptied;
  - `<data>` and `<script>` variables are made by indirect eval, so they are deletable;
    a `<script>` with a global `let`, `const` or `class`, or in strict mode, runs as
    global code instead (it would not mean the same as eval code) and spoils the context;
  - a context whose session hit a limit (time, memory, stack), whose reset failed, or
    whose check found a difference is closed, never lent again.
Rule 2 (semantics): in a pooled context a strategy cannot add to or change the built-in
objects (a write to one is ignored, or a TypeError in strict code).  So that the common
patterns still work, assigning `toString`, `valueOf`, `constructor`, an error's `name`
or `message`, … to one's own objects defines an own property, as it would without the
freeze (the "override mistake" is tamed for those names).  A pool is therefore the
embedding application's choice (`[orchestration] context-pool`), never the default.
Rule 3: compiled expressions are kept per context, so a pooled context compiles each
expression of a document once for all the sessions it serves.  They are frozen
functions of the global scope: nothing of a session stays in them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

import quickjs

from ctiserver.scxml.ecmascript_prelude import PRELUDE

HELPERS: Final = (
    "__scxml_setEvent",
    "__scxml_system",
    "__scxml_setGlobal",
    "__scxml_setActive",
    "__scxml_export",
    "__scxml_assignFrom",
    "__scxml_assignValue",
    "__scxml_array",
    "__scxml_length",
    "__scxml_step",
    "__scxml_compile",
    "__scxml_eval",
)

# Run once in a pooled context, after the preludes: freezes the built-ins and what the
# preludes defined, snapshots the rest, and defines __scxml_restore() (Rule 1).
LOCKDOWN: Final = r"""
(function (g, builtIns) {
  "use strict";
  var getProto = Object.getPrototypeOf, setProto = Object.setPrototypeOf;
  var ownKeys = Reflect.ownKeys, remove = Reflect.deleteProperty, is = Object.is;
  var describe = Object.getOwnPropertyDescriptor, define = Object.defineProperty;
  var isExtensible = Object.isExtensible, freeze = Object.freeze, forget = g.__scxml_forget;
  var seen = new Set(), tracked = [];
  function isObject(v) { return v !== null && (typeof v === "object" || typeof v === "function"); }

  // The override mistake, tamed for the names programs set on their own objects.
  function tame(proto, names) {
    names.forEach(function (name) {
      var d = describe(proto, name);
      if (d === undefined || !("value" in d) || !d.writable) { return; }
      var value = d.value;
      define(proto, name, {
        get: function () { return value; },
        set: function (v) {
          if (this === proto) { throw new TypeError(String(name) + " is read-only"); }
          if (isObject(this)) {
            define(this, name, {value: v, writable: true, enumerable: true, configurable: true});
          }
        },
        enumerable: d.enumerable, configurable: false});
    });
  }
  tame(Object.prototype, ["constructor", "toString", "toLocaleString", "valueOf",
                          "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable"]);
  tame(Function.prototype, ["constructor", "toString", "apply", "call", "bind"]);
  tame(Array.prototype, ["constructor", "toString", "join", "push", "concat"]);
  [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError]
    .forEach(function (E) { tame(E.prototype, ["constructor", "name", "message", "toString"]); });

  function harden(root) {
    var pending = [root];
    while (pending.length > 0) {
      var o = pending.pop();
      if (!isObject(o) || seen.has(o) || o === g) { continue; }
      seen.add(o);
      freeze(o);
      pending.push(getProto(o));
      ownKeys(o).forEach(function (key) {
        var d = describe(o, key);
        pending.push(d.value, d.get, d.set);
      });
    }
  }
  builtIns.forEach(function (name) {
    var d = describe(g, name);
    harden(d.value); harden(d.get); harden(d.set);
  });
  harden(getProto(g));
  [getProto(function* () {}), getProto(async function () {}), getProto(async function* () {}),
   getProto([][Symbol.iterator]()), getProto(new Map()[Symbol.iterator]()),
   getProto(new Set()[Symbol.iterator]()), getProto(""[Symbol.iterator]()),
   getProto(/a/[Symbol.matchAll]("")),
   (function () { return describe(arguments, "callee").get; })()].forEach(harden);

  // A property that is neither configurable nor writable (or an accessor that is not
  // configurable) cannot change while it exists (ECMA-262, the invariants of the
  // essential internal methods): `mutable` lists the others, the ones reset compares.
  function snapshot(o) {
    var keys = ownKeys(o), mutable = [];
    var descriptors = keys.map(function (key) { return describe(o, key); });
    descriptors.forEach(function (d, i) {
      if (d.configurable || d.writable) { mutable.push(i); }
    });
    return {o: o, proto: getProto(o), extensible: isExtensible(o), keys: keys,
            known: new Set(keys), descriptors: descriptors, mutable: mutable};
  }
  function track(o) {
    if (!isObject(o) || seen.has(o) || o === g) { return; }
    if (typeof o === "function") { harden(o); return; }
    seen.add(o);
    var s = snapshot(o);
    tracked.push(s);
    s.descriptors.forEach(function (d) { track(d.value); track(d.get); track(d.set); });
    track(s.proto);
  }
  ownKeys(g).forEach(function (key) {
    if (builtIns.indexOf(key) < 0) {
      var d = describe(g, key);
      track(d.value); track(d.get); track(d.set);
    }
  });

  function same(a, b) {
    return a !== undefined && is(a.value, b.value) && a.get === b.get && a.set === b.set &&
      a.writable === b.writable && a.enumerable === b.enumerable &&
      a.configurable === b.configurable;
  }
  // Puts s.o back as its snapshot says; the indices of the keys it defined again.
  function restore(s) {
    var o = s.o, keys = ownKeys(o), redefined = [], i, k;
    if (getProto(o) !== s.proto) { setProto(o, s.proto); }
    for (i = 0; i < keys.length; i++) {
      if (!s.known.has(keys[i]) && !remove(o, keys[i])) { throw new TypeError("cannot delete"); }
    }
    for (i = 0; i < s.mutable.length; i++) {
      k = s.mutable[i];
      if (!same(describe(o, s.keys[k]), s.descriptors[k])) {
        define(o, s.keys[k], s.descriptors[k]);
        redefined.push(k);
      }
    }
    return redefined;
  }
  // Whether s.o is now as its snapshot says: its prototype, extensibility and keys in
  // order, and each key restore() defined again (restore() found the others the same).
  function unchanged(s, redefined) {
    var keys = ownKeys(s.o), i;
    if (getProto(s.o) !== s.proto || isExtensible(s.o) !== s.extensible ||
        keys.length !== s.keys.length) { return false; }
    for (i = 0; i < keys.length; i++) {
      if (keys[i] !== s.keys[i]) { return false; }
    }
    for (i = 0; i < redefined.length; i++) {
      if (!same(describe(s.o, s.keys[redefined[i]]), s.descriptors[redefined[i]])) {
        return false;
      }
    }
    return true;
  }
  define(g, "__scxml_restore", {value: freeze(function () {
    var redefined;
    forget();
    try {
      redefined = tracked.map(restore);
    } catch (e) {
      return false;
    }
    return tracked.every(function (s, i) { return unchanged(s, redefined[i]); });
  }), writable: false, enumerable: false, configurable: false});
  tracked.unshift(snapshot(g));
})
"""


_GLOBAL_NAMES: Final = "Object.getOwnPropertyNames(globalThis).join('\\n')"


@dataclass(slots=True, kw_only=True)
class Engine:
    """One QuickJS context with the prelude's helpers, and its compiled expressions.

    Attributes:
        preludes: the host preludes run in it when it was made (a pooled context).
        reads_active: some code run or compiled in it names In() or `__scxml_active`,
            so the set of active states must be brought to it (ecmascript.py, Rule 5).
        spoiled: something happened that a reset may not undo (Rule 1).
    """

    context: Any
    helpers: dict[str, Any]
    pooled: bool = False
    preludes: frozenset[str] = frozenset()
    getters: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    setters: dict[str, Any] = field(default_factory=dict)
    reads_active: bool = False
    spoiled: bool = False


def reads_active(source: str) -> bool:
    """True when *source* may call In() or read the active states."""
    return "In" in source or "__scxml_active" in source


def new_engine(memory: int, stack: int, time: float) -> Engine:
    """A fresh context with the prelude run and the limits set."""
    context: Any = quickjs.Context()
    context.set_memory_limit(memory)
    context.set_max_stack_size(stack)
    context.eval(PRELUDE)
    context.set_time_limit(time)
    return Engine(context=context, helpers={name: context.get(name) for name in HELPERS})


class ContextPool:
    """Contexts made once and lent to one session after another (see the module docstring).

    Args:
        memory, stack, time: the limits of each context (ecmascript.Limits).
        preludes: the host's preludes, run in each context before it is locked down.
        size: how many idle contexts are kept; more are made when more sessions run.
    """

    def __init__(
        self, *, memory: int, stack: int, time: float, preludes: tuple[str, ...], size: int
    ) -> None:
        self._limits = (memory, stack, time)
        self._preludes = preludes
        self._size = size
        self._idle: list[Engine] = []
        self.made = 0  # contexts made so far (for tests and benchmarks)

    def acquire(self) -> Engine:
        """An idle context, or a new one."""
        if self._idle:
            return self._idle.pop()
        engine = new_engine(*self._limits)
        names = engine.context.eval(_GLOBAL_NAMES)
        built_ins = json.dumps(str(names).split("\n"))
        for prelude in self._preludes:
            engine.context.eval(prelude)
        engine.context.eval(f"{LOCKDOWN}(globalThis, {built_ins});")
        engine.pooled = True
        engine.preludes = frozenset(self._preludes)
        engine.reads_active = any(reads_active(prelude) for prelude in self._preludes)
        engine.helpers["__scxml_restore"] = engine.context.get("__scxml_restore")
        self.made += 1
        return engine

    def release(self, engine: Engine) -> None:
        """Take back *engine* once its session is over: reset it, or close it (Rule 1)."""
        if engine.spoiled or len(self._idle) >= self._size:
            return
        try:
            clean = engine.helpers["__scxml_restore"]() is True
        except quickjs.JSException:
            clean = False
        if clean:
            self._idle.append(engine)
