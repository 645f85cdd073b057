"""ecmascript_pool.py: a context serves one session after another, and nothing of one
session reaches the next."""

from __future__ import annotations

import contextlib

import pytest

from ctiserver.scxml.datamodel import ExecutionError, SystemVariables
from ctiserver.scxml.ecmascript import EcmaScriptDataModel, Limits
from ctiserver.scxml.ecmascript_pool import ContextPool

# A host prelude with objects of its own that sessions may extend, like `_genesys`.
HOST_PRELUDE = """
var platform = {calls: [], info: {site: "A"}};
function helper() { return "helper"; }
"""


def make_pool(size: int = 1, time: float = 1.0) -> ContextPool:
    limits = Limits(time=time)
    return ContextPool(
        memory=limits.memory, stack=limits.stack, time=time, preludes=(HOST_PRELUDE,), size=size
    )


def session(pool: ContextPool, session_id: str, time: float = 1.0) -> EcmaScriptDataModel:
    """A datamodel as Session._initialize_datamodel sets one up."""
    datamodel = EcmaScriptDataModel(Limits(time=time), pool=pool)
    datamodel.bind_system(SystemVariables(session_id=session_id, name="", io_processors={}))
    datamodel.run_prelude(HOST_PRELUDE)
    return datamodel


LEAKS = [
    # what session A runs, and an expression that must be true in session B
    ("var secret = 'A';", "typeof secret === 'undefined'"),
    ("function stolen() { return 'A'; }", "typeof stolen === 'undefined'"),
    ("undeclared = 'A';", "typeof undeclared === 'undefined'"),
    ("globalThis.viaGlobal = 'A';", "!('viaGlobal' in globalThis)"),
    ("platform.calls.push('A');", "platform.calls.length === 0"),
    ("platform.info.site = 'B'; platform.extra = 1;", "platform.info.site === 'A' && !('extra' in platform)"),
    ("platform = {calls: ['A']};", "platform.calls.length === 0"),
    ("helper = function () { return 'A'; };", "helper() === 'helper'"),
    ("helper.stash = 'A';", "helper.stash === undefined"),
    ("Array.prototype.stash = 'A';", "[].stash === undefined"),
    ("Object.prototype.stash = 'A';", "({}).stash === undefined"),
    ("JSON.stringify = function () { return 'A'; };", "JSON.stringify(1) === '1'"),
    ("Math.stash = 'A';", "Math.stash === undefined"),
    ("Object.getPrototypeOf([][Symbol.iterator]()).stash = 'A';",
     "Object.getPrototypeOf([][Symbol.iterator]()).stash === undefined"),
    ("Object.defineProperty(globalThis, 'pinned', {value: 'A', enumerable: true});",
     "typeof pinned === 'undefined'"),
    ("Object.setPrototypeOf(platform, {stash: 'A'});", "platform.stash === undefined"),
    ("Object.freeze(platform);", "Object.isExtensible(platform)"),
    ("var o = {}; Object.getOwnPropertyDescriptor(globalThis, '_event').get.stash = 'A';",
     "Object.getOwnPropertyDescriptor(globalThis, '_event').get.stash === undefined"),
    ("var kept = platform.calls; delete platform.calls; platform.calls = kept;",
     "Object.keys(platform).join() === 'calls,info'"),
]  # fmt: skip


# a non-configurable global; a frozen prelude object; a prelude object's keys reordered
UNDOABLE = {LEAKS[14][0], LEAKS[16][0], LEAKS[18][0]}


@pytest.mark.parametrize(("leak", "probe"), LEAKS)
def test_nothing_a_session_leaves_reaches_the_next(leak: str, probe: str) -> None:
    pool = make_pool()
    first = session(pool, "A")
    first.declare("data")
    first.assign_expr("data", "'A'")
    with contextlib.suppress(ExecutionError):  # a write to a frozen built-in may fail
        first.run_script(leak)
    first.close()
    second = session(pool, "B")
    assert second.evaluate(probe) is True, probe
    assert second.evaluate("typeof data") == "undefined"
    assert second.evaluate("_sessionid") == "B"
    # Only what cannot be put back costs a new context (never a leak).
    assert pool.made == (2 if leak in UNDOABLE else 1)


def test_a_context_is_lent_again_once_its_session_is_over() -> None:
    pool = make_pool(size=2)
    for n in range(5):
        datamodel = session(pool, f"s{n}")
        datamodel.declare("n")
        datamodel.assign("n", n)
        assert datamodel.evaluate("n") == n
        datamodel.close()
    assert pool.made == 1


def test_a_change_that_cannot_be_undone_closes_the_context() -> None:
    pool = make_pool()
    first = session(pool, "A")
    first.run_script("Object.defineProperty(globalThis, 'pinned', {value: 'A'});")
    first.close()
    second = session(pool, "B")
    assert pool.made == 2
    assert second.evaluate("typeof pinned") == "undefined"


def test_a_context_that_hit_its_time_limit_is_not_lent_again() -> None:
    pool = make_pool(time=0.05)
    first = session(pool, "A", time=0.05)
    with pytest.raises(ExecutionError, match="time limit"):
        first.run_script("while (true) {}")
    first.close()
    session(pool, "B", time=0.05).close()
    assert pool.made == 2


def test_a_script_with_global_let_keeps_its_meaning_and_spoils_the_context() -> None:
    pool = make_pool()
    first = session(pool, "A")
    first.run_script("let kept = 'A'; const fixed = 1;")
    assert first.evaluate("kept + fixed") == "A1"
    first.close()
    second = session(pool, "B")
    assert pool.made == 2
    assert second.evaluate("typeof kept") == "undefined"


def test_own_objects_may_still_override_what_they_inherit() -> None:
    datamodel = session(make_pool(), "A")
    datamodel.run_script(
        "var o = {}; o.toString = function () { return 'mine'; };"
        "function Thing() {} Thing.prototype.toString = function () { return 'thing'; };"
        "var e = new Error(); e.message = 'why'; e.name = 'Mine';"
    )
    assert datamodel.evaluate("String(o) + ' ' + String(new Thing())") == "mine thing"
    assert datamodel.evaluate("e.name + ': ' + e.message") == "Mine: why"
    assert datamodel.evaluate("String({})") == "[object Object]"


def test_compiled_expressions_keep_nothing_of_a_session() -> None:
    pool = make_pool()
    stash = "arguments.callee.stash === undefined ? (arguments.callee.stash = 'A', 1) : 2"
    first = session(pool, "A")
    assert first.evaluate(stash) == 1
    first.close()
    second = session(pool, "B")
    assert second.evaluate(stash) == 1  # the same compiled function, which kept nothing


def test_a_closed_datamodel_runs_nothing() -> None:
    pool = make_pool()
    datamodel = session(pool, "A")
    datamodel.close()
    datamodel.close()  # once is enough; twice is harmless
    with pytest.raises(ExecutionError, match="closed"):
        datamodel.evaluate("1")
    other = session(pool, "B")
    other.declare("x")
    with pytest.raises(ExecutionError, match="closed"):
        datamodel.assign("x", 1)  # the old session cannot reach the context it gave back
    assert other.evaluate("typeof x") == "undefined"
