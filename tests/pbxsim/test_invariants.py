"""Random sequences of requests, phone actions and time: the switch never breaks its rules.

After every step: every call has a connection; a station has at most one connection that
is not held; ACD groups and routing devices only queue; queues, dialogues and timers
agree with the calls; and a refused request changed nothing.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctiserver.csta import agents as csta_agents
from ctiserver.csta import call_control as cc
from ctiserver.csta import codec, routeing
from ctiserver.csta.enumerations import LocalConnectionState as S
from ctiserver.csta.enumerations import ReqAgentState
from ctiserver.csta.failure import CSTAErrorCode
from ctiserver.csta.schema import Message
from ctiserver.csta.types import ConnectionID
from ctiserver.errors import ServiceError
from ctiserver.ids import CallId, DeviceId
from ctiserver.pbxsim import phone
from ctiserver.pbxsim.agents import AgentStatus
from ctiserver.pbxsim.outcome import Outcome, Reply, Send, TimerKind

from .rig import Rig

NAMESPACE = "http://www.ecma-international.org/standards/ecma-323/csta/ed4"
STATIONS = ["7001", "7002", "7003", "7004"]
DEVICES = [*STATIONS, "8001", "8002", "5000", "5001", "9999"]

device = st.sampled_from(DEVICES).map(DeviceId)
station = st.sampled_from(STATIONS).map(DeviceId)
call_id = st.integers(1, 6).map(lambda n: CallId(str(n)))
connection = st.builds(ConnectionID, call_id, device)
cross_ref = st.integers(1, 4).map(str)

requests = st.one_of(
    st.builds(cc.MakeCall, calling_device=station, called_directory_number=device),
    st.builds(cc.AnswerCall, call_to_be_answered=connection),
    st.builds(cc.ClearConnection, connection_to_be_cleared=connection),
    st.builds(cc.ClearCall, call_to_be_cleared=connection),
    st.builds(cc.HoldCall, call_to_be_held=connection),
    st.builds(cc.RetrieveCall, call_to_be_retrieved=connection),
    st.builds(cc.ConsultationCall, existing_call=connection, consulted_device=device),
    st.builds(cc.AlternateCall, held_call=connection, active_call=connection),
    st.builds(cc.ReconnectCall, active_call=connection, held_call=connection),
    st.builds(cc.TransferCall, held_call=connection, active_call=connection),
    st.builds(cc.ConferenceCall, held_call=connection, active_call=connection),
    st.builds(cc.SingleStepTransferCall, active_call=connection, transferred_to=device),
    st.builds(cc.SingleStepConferenceCall, active_call=connection, device_to_join=device),
    st.builds(cc.DeflectCall, call_to_be_diverted=connection, new_destination=device),
    st.builds(
        csta_agents.SetAgentState,
        device=station,
        requested_agent_state=st.sampled_from(ReqAgentState),
        agent_id=st.sampled_from(["", "1001", "1002"]),
        group=st.sampled_from([None, DeviceId("8001"), DeviceId("8002")]),
    ),
)
router_messages = st.one_of(
    st.builds(routeing.RouteRegister, routeing_device=st.sampled_from(["5000", "5001"])),
    st.builds(
        routeing.RouteSelect,
        route_register_req_id=st.just("1"),
        routing_cross_ref_id=cross_ref,
        route_selected=device,
    ),
    st.builds(
        routeing.RouteEnd, route_register_req_id=st.just("1"), routing_cross_ref_id=cross_ref
    ),
)
actions = st.one_of(
    st.builds(phone.Dial, station, device),
    st.builds(phone.Answer, station),
    st.builds(phone.HangUp, station),
    st.builds(phone.Hold, station),
    st.builds(phone.Retrieve, station),
)
steps = st.one_of(
    requests.map(lambda r: ("app", r)),
    router_messages.map(lambda r: ("router", r)),
    actions.map(lambda a: ("phone", a)),
    st.floats(0.5, 12).map(lambda t: ("time", t)),
    st.just(("router-leaves", None)),
)


def round_trip(outcome: Outcome) -> None:
    """Everything the switch says survives the codec: it is valid on the wire."""
    for effect in outcome.effects:
        if isinstance(effect, Reply | Send):
            message = effect.message
            assert codec.decode(codec.encode(message, namespace=NAMESPACE)) == message


def check(rig: Rig) -> None:
    view = rig.switch.view()
    lines: Counter[str] = Counter()
    queued_at: dict[str, set[str]] = {}
    for call in view.calls:
        assert call.connections, call
        assert len(set(call.devices)) == len(call.devices)
        for conn in call.connections:
            if conn.device in STATIONS:
                assert conn.state in (S.INITIATED, S.ALERTING, S.CONNECTED, S.HOLD, S.FAIL)
                lines[conn.device] += conn.state is not S.HOLD
            else:
                assert conn.state is S.QUEUED, (conn, call)
                queued_at.setdefault(conn.device, set()).add(call.call_id)
    assert all(count <= 1 for count in lines.values()), view.calls
    for group, calls in view.queues:
        assert set(calls) == queued_at.get(group, set())
    dialogue_calls = {(d.call_id, d.device) for d in view.dialogues}
    for dialogue in view.dialogues:
        assert dialogue.call_id in queued_at.get(dialogue.device, set())
    registered = {r.device for r in view.registrations}
    for point in ("5000", "5001"):
        for call in queued_at.get(point, set()):
            assert point in registered
            assert (call, point) in dialogue_calls
    route_timers = {t.key for t, _ in view.timers if t.kind is TimerKind.ROUTE_TIMEOUT}
    assert route_timers == {d.cross_ref_id for d in view.dialogues}
    for agent in view.agents:
        wrap_up = any(
            t.kind is TimerKind.WRAP_UP and t.key == agent.agent_id for t, _ in view.timers
        )
        if wrap_up:
            assert agent.status is AgentStatus.WORKING_AFTER_CALL


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(steps, max_size=40))
def test_random_traffic_keeps_the_rules(script: list[tuple[str, object]]) -> None:
    rig = Rig(monitored=tuple(DEVICES[:-1]))
    router = rig.connect()
    for kind, item in script:
        before = rig.switch.view()
        outcome = Outcome()
        if kind == "app" or (kind == "router" and router in before.associations):
            assert isinstance(item, Message)
            outcome = rig.send(item, rig.app if kind == "app" else router)
            if isinstance(outcome.response, CSTAErrorCode):
                assert rig.switch.view() == before, item
        elif kind == "phone":
            try:
                outcome = rig.act(item)  # type: ignore[arg-type]
            except ServiceError:
                assert rig.switch.view() == before, item
        elif kind == "time":
            outcome = rig.advance(item)  # type: ignore[arg-type]
        elif kind == "router-leaves":
            outcome = rig.switch.disconnect(router, now=rig.now)
        round_trip(outcome)
        check(rig)
