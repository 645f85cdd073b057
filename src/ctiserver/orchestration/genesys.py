"""What a strategy sees of the platform: the `_genesys` object, `_data`, and the ORS
functions strategies call (reference/orchestration.md § 1.6).  Pure.

    _genesys.session                         id, routingpoint, server.name
    _genesys.ixn.interactions[id]            g_uid, type, parentid, udata,
                                             voice.{ani, dnis, callid, connid, type,
                                                    focus, parties}
    _data.x                                  the <data id="x"> of the document

Rule 1: `_genesys` is the document's to extend; the server only ever replaces the two
hidden globals its getters read (`__ors_session`, `__ors_interactions`), between events,
with plain data built here.
Rule 2: a view is a copy: assigning to `_genesys.ixn.interactions[id].udata` changes
nothing on the call (attach data with a `<createcall udata>` or `<redirect udata>`).
"""

from __future__ import annotations

from typing import Final

from ctiserver.orchestration.calls import Call, CallBook
from ctiserver.orchestration.interactions import Interaction
from ctiserver.scxml.values import Value
from ctiserver.tlib.vocabulary import KVList

SESSION_GLOBAL: Final = "__ors_session"
INTERACTIONS_GLOBAL: Final = "__ors_interactions"

PRELUDE: Final = f"""
var _data = globalThis;
var {SESSION_GLOBAL} = {{}};
var {INTERACTIONS_GLOBAL} = {{}};
var _genesys = {{ ixn: {{}} }};
Object.defineProperty(_genesys, "session", {{
  get: function () {{ return {SESSION_GLOBAL}; }}, enumerable: true
}});
Object.defineProperty(_genesys.ixn, "interactions", {{
  get: function () {{ return {INTERACTIONS_GLOBAL}; }}, enumerable: true
}});
function uneval(value) {{ return JSON.stringify(value); }}
function __GetCurrentStates() {{ return __scxml_active(); }}
"""


def session_view(session_id: str, routing_point: str | None, server: str) -> dict[str, Value]:
    return {
        "id": session_id,
        "routingpoint": routing_point or "",
        "server": {"name": server},
    }


def interaction_view(interaction: Interaction, call: Call | None, book: CallBook) -> Value:
    """`_genesys.ixn.interactions[id]`; *call* is None while the server is unreachable."""
    voice: dict[str, Value] = {"connid": interaction.conn_id}
    view: dict[str, Value] = {
        "g_uid": interaction.id,
        "type": "voice",
        "voice": voice,
        "udata": {},
    }
    if interaction.parent_id is not None:
        view["parentid"] = interaction.parent_id
    if call is not None:
        voice.update(
            ani=call.ani,
            dnis=call.dnis,
            callid=call.call_id,
            type=call.call_type.lower(),
            focus=book.focus(call) or "",
            parties={dn: state.value for dn, state in call.parties.items()},
        )
        view["udata"] = _plain(call.user_data)
    return view


def _plain(data: KVList) -> dict[str, Value]:
    """A copy of a key-value list as datamodel data."""
    return {key: _plain(value) if isinstance(value, dict) else value for key, value in data.items()}
