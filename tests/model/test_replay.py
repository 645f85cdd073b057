"""Replicas (model.model.Model.replay, as_records; model.state.State.evolve): an empty model
that applies the change records a model emitted, or the records its `as_records()` gives,
holds the same state, also after the records went through JSON (model.encoding), as the
hot-standby journal carries them.

The traffic is real: the T-Server core and pbxsim's switch joined by the pure harness
(tests/wire.py), driven by random sequences of requests, phone actions, time and link
drops.  No request may fail inside the server (EventError 52).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctiserver.errors import ServiceError
from ctiserver.ids import ConnIdAllocator, DeviceId
from ctiserver.model.changes import Change
from ctiserver.model.encoding import decode_change, encode_change
from ctiserver.model.model import Model
from ctiserver.pbxsim.config import AcdGroup
from ctiserver.pbxsim.phone import Answer, Dial, HangUp, Hold, Retrieve
from ctiserver.tserver.port import CoreSettings, Options
from tests.wire import PBX, POINT, QUEUE, Wire

STATIONS = ["7001", "7002", "7003", "7004"]
NUMBERS = [*STATIONS, QUEUE, POINT, "7999", "1234"]
BOGUS = "00000000deadbeef"
PBX_WITH_WRAP_UP = dataclasses.replace(PBX, acd_groups=(AcdGroup(number=QUEUE, wrap_up_time=5.0),))


def replica_of(model: Any, records: Iterable[Change]) -> Model:
    """An empty model (no DNs, no calls) that applied *records*, sent through JSON."""
    replica = Model(dns={}, conn_ids=ConnIdAllocator(0))
    replica.replay(decode_change(encode_change(record)) for record in records)
    return replica


# --- a scene with a bit of everything ----------------------------------------------------


def busy_scene() -> Wire:
    """Calls in several states, a conference, a consultation, a routing dialogue, a
    queued call, an agent, a guest on a host, a recording."""
    wire = Wire(settings=CoreSettings(name="tserver-a", options=Options(consult_user_data="joint")))
    client = wire.client(*STATIONS, "7005", "7006", QUEUE, POINT)
    a, b, c, d = STATIONS

    def ask(request: str, **attributes: Any) -> list[Any]:
        wire.ask(client, request, **attributes)
        return wire.take(client)

    def conn(events: list[Any], name: str) -> str:
        return next(e["ConnID"] for e in events if e["Event"] == name)

    c1 = conn(ask("RequestMakeCall", ThisDN=a, OtherDN=b, UserData={"k": "v"}), "EventDialing")
    ask("RequestAnswerCall", ThisDN=b, ConnID=c1)
    ask("RequestPrivateService", ThisDN=a, ConnID=c1, PrivateMsgID=3013)
    c2 = conn(ask("RequestInitiateConference", ThisDN=b, ConnID=c1, OtherDN=c), "EventDialing")
    ask("RequestAnswerCall", ThisDN=c, ConnID=c2)
    ask("RequestCompleteConference", ThisDN=b, ConnID=c1, ConferenceConnID=c2)
    ask("RequestInitiateTransfer", ThisDN=a, ConnID=c1, OtherDN=d)  # c1 held at A, d rings
    ask("RequestAgentLogin", ThisDN="7005", ThisQueue=QUEUE, AgentID="1001")
    ask("RequestPrivateService", ThisDN="7006", PrivateMsgID=1, Extensions={"HOST_DN": "7007"})
    wire.phone(Dial(DeviceId("7008"), DeviceId(QUEUE)))  # waits: nobody is ready
    wire.phone(Dial(DeviceId("7007"), DeviceId(POINT)))  # offered to the router
    return wire


def test_as_records_rebuild_the_state_in_an_empty_model() -> None:
    wire = busy_scene()
    model = wire.core.model
    state = model.value()  # type: ignore[attr-defined]
    assert len(state["calls"]) == 4
    assert state["routes"]
    assert state["agents"]
    assert state["hosts"]
    assert state["recordings"]
    replica = replica_of(model, model.as_records())  # type: ignore[attr-defined]
    assert replica.value() == state


def test_a_replica_fed_the_journal_holds_the_same_state_at_every_step() -> None:
    wire = Wire(settings=CoreSettings(name="tserver-a", options=Options(consult_user_data="joint")))
    wire.core.journaling = True
    replica = Model(dns=wire.core.model.dns, conn_ids=ConnIdAllocator(0))
    client = wire.client(*STATIONS)
    wire.ask(client, "RequestMakeCall", ThisDN="7001", OtherDN="7002")
    c1 = wire.take(client)[0]["ConnID"]
    steps = [
        lambda: wire.ask(client, "RequestAnswerCall", ThisDN="7002", ConnID=c1),
        lambda: wire.ask(client, "RequestMuteTransfer", ThisDN="7002", ConnID=c1, OtherDN="7003"),
        lambda: wire.ask(
            client, "RequestAttachUserData", ThisDN="7001", ConnID=c1, UserData={"n": 1}
        ),
        lambda: wire.phone(Answer(DeviceId("7003"))),
        lambda: wire.phone(HangUp(DeviceId("7001"))),
    ]
    for step in steps:
        step()
        records, wire.journal[:] = list(wire.journal), []
        replica.replay(decode_change(encode_change(record)) for record in records)
        assert replica.value() == wire.core.model.value()  # type: ignore[attr-defined]
    assert wire.core.model.calls == []


# --- random traffic ------------------------------------------------------------------------

dn = st.sampled_from(STATIONS)
number = st.sampled_from(NUMBERS)
conn = st.integers(0, 5)  # an index into the ConnIDs seen so far; past the end: a bogus one

REQUESTS = st.one_of(
    st.tuples(st.just("RequestMakeCall"), dn, number),
    st.tuples(
        st.sampled_from(
            [
                "RequestAnswerCall",
                "RequestReleaseCall",
                "RequestClearCall",
                "RequestHoldCall",
                "RequestRetrieveCall",
                "RequestQueryCall",
                "RequestDeleteUserData",
            ]
        ),
        dn,
        conn,
    ),
    st.tuples(
        st.sampled_from(
            [
                "RequestInitiateTransfer",
                "RequestInitiateConference",
                "RequestSingleStepTransfer",
                "RequestSingleStepConference",
                "RequestRedirectCall",
                "RequestMuteTransfer",
                "RequestDeleteFromConference",
            ]
        ),
        dn,
        conn,
        number,
    ),
    st.tuples(
        st.sampled_from(
            [
                "RequestCompleteTransfer",
                "RequestCompleteConference",
                "RequestAlternateCall",
                "RequestReconnectCall",
            ]
        ),
        dn,
        conn,
        conn,
    ),
    st.tuples(st.just("RequestRouteCall"), st.just(POINT), conn, number),
    st.tuples(
        st.just("RequestAgentLogin"),
        dn,
        st.sampled_from(["1001", "1002"]),
        st.sampled_from(["AutoIn", "ManualIn"]),
    ),
    st.tuples(
        st.sampled_from(["RequestAgentLogout", "RequestAgentReady", "RequestAgentNotReady"]), dn
    ),
    st.tuples(st.just("RequestAttachUserData"), dn, conn),
    st.tuples(st.just("RequestPrivateService"), dn, conn, st.sampled_from([3013, 3014, 3015])),
)
PHONE = st.one_of(
    st.builds(Dial, dn.map(DeviceId), number.map(DeviceId)),
    st.builds(Answer, dn.map(DeviceId)),
    st.builds(HangUp, dn.map(DeviceId)),
    st.builds(Hold, dn.map(DeviceId)),
    st.builds(Retrieve, dn.map(DeviceId)),
)
STEPS = st.lists(
    st.one_of(
        REQUESTS,
        REQUESTS,
        PHONE,
        st.tuples(st.just("advance"), st.sampled_from([1.0, 6.0, 11.0])),
        st.just(("link",)),
    ),
    max_size=25,
)


def attributes(action: tuple[Any, ...], conns: list[str]) -> dict[str, Any]:
    name, this_dn, *rest = action

    def pick(index: int) -> str:
        return conns[-1 - index] if index < len(conns) else BOGUS

    match name:
        case "RequestMakeCall":
            return {"ThisDN": this_dn, "OtherDN": rest[0]}
        case "RequestAgentLogin":
            return {"ThisDN": this_dn, "AgentID": rest[0], "AgentWorkMode": rest[1], "ThisQueue": QUEUE}  # fmt: skip
        case "RequestAgentLogout" | "RequestAgentReady" | "RequestAgentNotReady":
            return {"ThisDN": this_dn}
        case "RequestAttachUserData":
            return {"ThisDN": this_dn, "ConnID": pick(rest[0]), "UserData": {"k": this_dn}}
        case "RequestPrivateService":
            return {"ThisDN": this_dn, "ConnID": pick(rest[0]), "PrivateMsgID": rest[1]}
        case "RequestCompleteTransfer" | "RequestAlternateCall" | "RequestReconnectCall":
            return {"ThisDN": this_dn, "ConnID": pick(rest[0]), "TransferConnID": pick(rest[1])}
        case "RequestCompleteConference":
            return {"ThisDN": this_dn, "ConnID": pick(rest[0]), "ConferenceConnID": pick(rest[1])}
        case "RequestRouteCall" if rest[1] == "1234":
            return {"ThisDN": this_dn, "ConnID": pick(rest[0]), "RouteType": "Reject"}
        case _ if len(rest) == 2:
            return {"ThisDN": this_dn, "ConnID": pick(rest[0]), "OtherDN": rest[1]}
        case _:
            return {"ThisDN": this_dn, "ConnID": pick(rest[0])}


def play(wire: Wire, step: Any, client: Any, conns: list[str]) -> None:
    match step:
        case ("advance", seconds):
            wire.advance(seconds)
        case ("link",):
            wire.drop_link()
            wire.reconnect()
        case (name, *_):
            wire.ask(client, name, **attributes(step, conns))
        case _:
            with contextlib.suppress(ServiceError):  # refused as the switch refuses: no change
                wire.phone(step)


@pytest.mark.parametrize("consult_user_data", ["separate", "joint"])
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=STEPS)
def test_random_traffic_is_replicated_and_never_breaks_the_server(
    consult_user_data: str, steps: list[Any]
) -> None:
    settings_ = CoreSettings(name="tserver-a", options=Options(consult_user_data=consult_user_data))
    wire = Wire(settings=settings_, pbx=PBX_WITH_WRAP_UP)
    wire.core.journaling = True
    client = wire.client(*STATIONS, QUEUE, POINT)
    conns: list[str] = []
    for step in steps:
        play(wire, step, client, conns)
        for event in wire.take(client):
            assert event.get("ErrorCode") != 52, event  # no request failed inside the server
            if "ConnID" in event and event["ConnID"] not in conns:
                conns.append(event["ConnID"])
    model = wire.core.model
    state = model.value()  # type: ignore[attr-defined]
    dns = Model(dns=model.dns, conn_ids=ConnIdAllocator(0))
    dns.replay(decode_change(encode_change(record)) for record in wire.journal)
    assert dns.value() == state
    assert replica_of(model, model.as_records()).value() == state  # type: ignore[attr-defined]
