"""Random sequences of requests, phone actions, trunk messages and time: the switch never
breaks its rules.

After every step: every call has a connection; a station's line (with its guest, when
hot desking) has at most one connection that is not held; ACD groups and routing
devices only queue; the far ends of trunk calls are initiated, alerting or connected,
and each is the far end of one live leg; queues, dialogues and timers agree with the
calls; guest associations do not chain; and a refused request changed nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctiserver.csta import agents as csta_agents
from ctiserver.csta import call_control as cc
from ctiserver.csta import codec, routeing, voice
from ctiserver.csta.call_information import AssociateData
from ctiserver.csta.enumerations import EventCause, ReqAgentState
from ctiserver.csta.enumerations import LocalConnectionState as S
from ctiserver.csta.failure import CSTAErrorCode
from ctiserver.csta.schema import Message
from ctiserver.csta.types import ConnectionID
from ctiserver.errors import ServiceError
from ctiserver.ids import CallId, DeviceId
from ctiserver.pbxsim import phone, trunk_protocol
from ctiserver.pbxsim.agents import AgentStatus
from ctiserver.pbxsim.config import PbxsimSettings, Trunk
from ctiserver.pbxsim.outcome import Outcome, RecordingEnded, Reply, Send, TimerKind, TrunkSend
from ctiserver.pbxsim.trunk_protocol import (
    Alerting,
    Answered,
    Failed,
    Release,
    Setup,
    TrunkMessage,
)

from .rig import CONFIG, Rig, escape

NAMESPACE = "http://www.ecma-international.org/standards/ecma-323/csta/ed4"
STATIONS = ["7001", "7002", "7003", "7004"]
DEVICES = [*STATIONS, "8001", "8002", "5000", "5001", "6666", "97001", "98001"]
TRUNKED = replace(CONFIG, settings=PbxsimSettings(trunks=(Trunk(name="T", prefix="9"),)))

device = st.sampled_from(DEVICES).map(DeviceId)
station = st.sampled_from(STATIONS).map(DeviceId)
call_id = st.integers(1, 6).map(lambda n: CallId(str(n)))
far_end = st.sampled_from(["97001@pbxsim-1", "97001@pbxsim-2", "98001@pbxsim-1", "7001@F-1"])
connection = st.builds(ConnectionID, call_id, st.one_of(device, far_end.map(DeviceId)))
cross_ref = st.integers(1, 4).map(str)
message_id = st.sampled_from(["", "1", "2"])
code = st.sampled_from(["31", "3132", "", "zz", "41"])

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
        escape,
        guest=station,
        host=station,
        action=st.sampled_from(["associate", "associate", "cancel"]),
    ),
    st.builds(voice.RecordMessage, call_to_be_recorded=connection),
    st.builds(voice.Stop, connection=connection, message_to_be_stopped=message_id),
    st.builds(voice.Suspend, connection=connection, message=message_id),
    st.builds(voice.Resume, connection=connection, message_to_resume=message_id),
    st.builds(AssociateData, existing_call=connection, account_code=code),
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
    st.builds(phone.Dial, station, st.sampled_from(["97001", "98001", "95000"]).map(DeviceId)),
    st.builds(phone.Answer, station),
    st.builds(phone.HangUp, station),
    st.builds(phone.Hold, station),
    st.builds(phone.Retrieve, station),
    st.builds(phone.EnterAccountCode, station, st.sampled_from(["12", "x"])),
)
leg_id = st.sampled_from(["pbxsim-1", "pbxsim-2", "pbxsim-3", "F-1", "F-2"])
trunk_messages = st.one_of(
    st.builds(
        Setup,
        call=st.sampled_from(["F-1", "F-2"]),
        ani=st.sampled_from(["7001", "5555"]),
        dnis=device,
        dialled=st.just("x"),
    ),
    st.builds(Alerting, call=leg_id),
    st.builds(Answered, call=leg_id),
    st.builds(Failed, call=leg_id, cause=st.sampled_from([EventCause.BUSY])),
    st.builds(Release, call=leg_id, cause=st.sampled_from([EventCause.NORMAL_CLEARING])),
)
# Requests about a connection that exists (drawn when the step runs): random connection
# ids seldom name one, and the services' rules are mostly about the ones that do.
Live = Callable[[ConnectionID], Message]
live_requests: st.SearchStrategy[Live] = st.sampled_from(
    [
        lambda c: cc.AnswerCall(call_to_be_answered=c),
        lambda c: cc.HoldCall(call_to_be_held=c),
        lambda c: cc.RetrieveCall(call_to_be_retrieved=c),
        lambda c: cc.ClearConnection(connection_to_be_cleared=c),
        lambda c: voice.RecordMessage(call_to_be_recorded=c),
        lambda c: voice.Stop(connection=c),
        lambda c: voice.Suspend(connection=c),
        lambda c: voice.Resume(connection=c),
        lambda c: AssociateData(existing_call=c, account_code="3132"),
        lambda c: cc.SingleStepTransferCall(active_call=c, transferred_to=DeviceId("97002")),
        lambda c: cc.ConsultationCall(existing_call=c, consulted_device=DeviceId("97003")),
    ]
)
# Trunk messages about a leg that exists, as the far switch would send them.
LiveTrunk = Callable[[str], TrunkMessage]
live_trunk: st.SearchStrategy[LiveTrunk] = st.sampled_from(
    [
        lambda leg: Alerting(call=leg),
        lambda leg: Answered(call=leg),
        lambda leg: Failed(call=leg, cause=EventCause.BUSY),
        lambda leg: Release(call=leg, cause=EventCause.NORMAL_CLEARING),
    ]
)
STEPS: dict[str, st.SearchStrategy[object]] = {
    "live": live_requests,
    "live-trunk": live_trunk,
    "app": requests,
    "router": router_messages,
    "phone": actions,
    "time": st.floats(0.5, 12),
    "router-leaves": st.none(),
    "trunk": trunk_messages,
    "trunk-down": st.none(),
    "trunk-up": st.none(),
}
# A kind first, then the step: one_of would weigh each kind by its number of builders.
# The live kinds are drawn most, as they find the rules.
steps = st.sampled_from([*STEPS, "live", "live", "live-trunk"]).flatmap(
    lambda kind: STEPS[kind].map(lambda item: (kind, item))
)


def round_trip(outcome: Outcome) -> None:
    """Everything the switch says survives its codec: it is valid on the wire."""
    for effect in outcome.effects:
        if isinstance(effect, Reply | Send):
            message = effect.message
            assert codec.decode(codec.encode(message, namespace=NAMESPACE)) == message
        elif isinstance(effect, TrunkSend):
            assert trunk_protocol.decode(trunk_protocol.encode(effect.message)) == effect.message
        elif isinstance(effect, RecordingEnded):
            assert effect.started <= effect.stopped


def check(rig: Rig) -> None:
    view = rig.switch.view()
    lines: Counter[str] = Counter()
    queued_at: dict[str, set[str]] = {}
    far_ends = {(leg.call_id, leg.device) for leg in view.legs}
    links = {link.link_id for link in view.trunk_links}
    assert {leg.link for leg in view.legs} <= links
    for call in view.calls:
        assert call.connections, call
        assert len(set(call.devices)) == len(call.devices)
        for conn in call.connections:
            if conn.device in STATIONS:
                assert conn.state in (S.INITIATED, S.ALERTING, S.CONNECTED, S.HOLD, S.FAIL)
                lines[view.host_of(conn.device) or conn.device] += conn.state is not S.HOLD
            elif "@" in conn.device:
                assert conn.state in (S.INITIATED, S.ALERTING, S.CONNECTED), (conn, call)
                assert (call.call_id, conn.device) in far_ends, (conn, view.legs)
                far_ends.discard((call.call_id, conn.device))
            else:
                assert conn.state is S.QUEUED, (conn, call)
                queued_at.setdefault(conn.device, set()).add(call.call_id)
    assert all(count <= 1 for count in lines.values()), view.calls
    assert not far_ends, far_ends  # every leg's far end is in its call
    guests, hosts = {g for g, _ in view.hosts}, {h for _, h in view.hosts}
    assert not guests & hosts
    assert len(hosts) == len(view.hosts)
    assert len({r.message for r in view.recordings}) == len(view.recordings)
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
@given(st.data())
def test_random_traffic_keeps_the_rules(data: st.DataObject) -> None:
    rig = Rig(TRUNKED, monitored=tuple(DEVICES[:-3]))
    router = rig.connect()
    link, _ = rig.switch.trunk_up("T", "far", now=rig.now)
    for _ in range(data.draw(st.integers(0, 40), label="steps")):
        kind, item = data.draw(steps)
        before = rig.switch.view()
        if kind == "live":
            connections = [(c.call_id, n.device) for c in before.calls for n in c.connections]
            if not connections:
                continue
            item = item(ConnectionID(*data.draw(st.sampled_from(connections))))  # type: ignore[operator]
            kind = "app"
        elif kind == "live-trunk":
            if not before.legs:
                continue
            item = item(data.draw(st.sampled_from([leg.network_call_id for leg in before.legs])))  # type: ignore[operator]
            kind = "trunk"
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
        elif kind == "trunk":
            outcome = rig.switch.trunk_message(link, item, now=rig.now)  # type: ignore[arg-type]
        elif kind == "trunk-down":
            outcome = rig.switch.trunk_down(link, now=rig.now)
        elif kind == "trunk-up" and not before.trunk_links:
            link, outcome = rig.switch.trunk_up("T", "far", now=rig.now)
        round_trip(outcome)
        check(rig)
