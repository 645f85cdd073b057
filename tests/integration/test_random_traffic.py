"""A property of the whole server: random sequences of legal and illegal requests on a
few DNs never crash it, every request gets an answer (events carrying its ReferenceID,
or one EventError and nothing else), afterwards the server's view of every DN agrees
with pbxsim's, and a replica fed the server's change records (as JSON, as the hot-standby
journal carries them) holds the same state."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctiserver.app.config import AcdQueueSettings, RoutingPointSettings
from ctiserver.client.connection import TClient
from ctiserver.csta.enumerations import LocalConnectionState as L
from ctiserver.ids import ConnIdAllocator, DeviceId
from ctiserver.model.encoding import decode_change, encode_change
from ctiserver.model.model import Model
from ctiserver.model.states import DnKind, PartyState
from ctiserver.tlib.events import problems
from ctiserver.tlib.vocabulary import TMessage
from tests.integration.conftest import site_config, start_site, stop_site, within

STATIONS = ["7001", "7002", "7003", "7004"]
Q, RP = "8001", "5000"
NUMBERS = [*STATIONS, Q, RP, "7999", "x1"]
AGENTS = ["1001", "1002", "1003"]
BOGUS = "00000000deadbeef"

# What a party state looks like at the switch.
AT_THE_SWITCH = {
    PartyState.INITIATED: L.INITIATED,
    PartyState.DIALING: L.CONNECTED,
    PartyState.RINGING: L.ALERTING,
    PartyState.QUEUED: L.QUEUED,
    PartyState.ESTABLISHED: L.CONNECTED,
    PartyState.HELD: L.HOLD,
    PartyState.FAILED: L.FAIL,
}

MAKE_CALL_TYPES = ["Regular", "DirectAgent", "SupervisorAssist", "Priority", "DirectPriority"]
ROUTE_TYPES = ["Default", "OverwriteDNIS", "DirectAgent", "Priority", "Announcement", "Reject"]
TREATMENTS: dict[str, dict[str, Any]] = {
    "Music": {"DURATION": 1},
    "RingBack": {},
    "CollectDigits": {"TOTAL_DIGITS": 2, "DIGIT_TIMEOUT": 1},
    "PlayAnnouncementAndDigits": {"PROMPT": {"1": {"ID": "menu"}}, "TERM_DIGITS": "#"},
    "IVR": {},
}
MERGE_TYPES = ["ForTransfer", "ForConference"]
FORWARD_MODES = ["Unconditional", "OnBusy", "OnNoAnswer", "OnBusyAndNoAnswer", "SendAllCalls"]

dn = st.sampled_from(STATIONS)
number = st.sampled_from(NUMBERS)
conn = st.integers(0, 7)  # an index into the ConnIDs seen so far; past the end: a bogus one

actions = st.one_of(
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
    st.tuples(st.just("RequestRouteCall"), st.just(RP), conn, number),
    st.tuples(
        st.just("RequestAgentLogin"),
        dn,
        st.sampled_from(AGENTS),
        st.sampled_from(["AutoIn", "ManualIn"]),
    ),
    st.tuples(
        st.sampled_from(["RequestAgentLogout", "RequestAgentReady", "RequestAgentNotReady"]), dn
    ),
    st.tuples(st.just("RequestAttachUserData"), dn, conn),
    # agents and supervision (docs/agents.md, docs/supervision.md)
    st.tuples(
        st.just("RequestReserveAgent"), dn, st.sampled_from([-1, 0, 50, 5000]), st.integers(0, 2)
    ),
    st.tuples(st.just("RequestAgentSetIdleReason"), dn, st.sampled_from([-1, 0, 12])),
    # an agent reserved with an access number at this site (no Location; docs/iscc.md)
    st.tuples(st.just("RequestReserveAgentAndGetAccessNumber"), dn, dn),
    st.tuples(
        st.just("RequestMonitorNextCall"),
        dn,
        dn,
        st.sampled_from(["OneCall", "AllCalls"]),
        st.sampled_from(["mute", "connect", "coach"]),
        st.sampled_from(["call", "agent"]),
    ),
    st.tuples(st.just("RequestCancelMonitoring"), dn),
    st.tuples(st.sampled_from(["RequestSetMuteOn", "RequestSetMuteOff"]), dn, conn),
    st.tuples(st.sampled_from(["RequestListenDisconnect", "RequestListenReconnect"]), dn, conn, dn),
    # queries and subscriptions (docs/protocol.md, Queries)
    st.tuples(
        st.sampled_from(["RequestQuerySwitch", "RequestRegisterAll", "RequestUnregisterAll"]), dn
    ),
    st.tuples(
        st.just("RequestQueryLocation"),
        dn,
        st.sampled_from(["AllLocations", "MonitorAllLocations"]),
    ),
    st.tuples(
        st.just("RequestSetInputMask"),
        dn,
        st.sampled_from([(), ("EventRinging", "EventEstablished"), ("EventBogus",)]),
    ),
    st.tuples(
        st.just("RequestQueryAddress"),
        st.sampled_from([*STATIONS, Q]),
        st.sampled_from(
            [
                "AssociationStatus",
                "QueueLoginAudit",
                "QueueStatus",
                "NumberOfTrunksInUse",
                "NumberOfIdleTrunks",
                "MessageWaitingStatus",
                "CallForwardingStatus",
                "SendAllCallsStatus",
            ]
        ),
    ),
    # calls: call types, DTMF, treatments, user events, DN features
    st.tuples(st.just("RequestMakeCall"), dn, number, st.sampled_from(MAKE_CALL_TYPES)),
    st.tuples(st.just("RequestRouteCall"), st.just(RP), conn, number, st.sampled_from(ROUTE_TYPES)),
    st.tuples(st.just("RequestSendDTMF"), dn, conn),
    st.tuples(
        st.just("RequestApplyTreatment"), st.just(RP), conn, st.sampled_from(sorted(TREATMENTS))
    ),
    st.tuples(st.just("RequestDistributeUserEvent"), dn),
    st.tuples(
        st.sampled_from(
            [
                "RequestSetDNDOn",
                "RequestSetDNDOff",
                "RequestCallForwardCancel",
                "RequestSetMessageWaitingOn",
                "RequestSetMessageWaitingOff",
            ]
        ),
        dn,
    ),
    st.tuples(st.just("RequestCallForwardSet"), dn, number, st.sampled_from(FORWARD_MODES)),
    # predictive calls from a station, the ACD queue or the routing point; merging calls
    st.tuples(
        st.just("RequestMakePredictiveCall"),
        st.sampled_from([*STATIONS, Q, RP]),
        number,
        st.sampled_from([0, 1, 60]),  # Timeout; 0: none given
    ),
    st.tuples(st.just("RequestMergeCalls"), dn, conn, conn, st.sampled_from(MERGE_TYPES)),
    # call monitoring: the call-based events of a call, at a DN or not
    st.tuples(st.just("RequestStartCallMonitoring"), dn, conn, st.booleans()),
    st.tuples(st.just("RequestStopCallMonitoring"), dn, conn),
)


def attributes(action: tuple[Any, ...], conns: list[str]) -> dict[str, Any]:
    name, this_dn, *rest = action

    def pick(index: int) -> str:
        return conns[-1 - index] if index < len(conns) else BOGUS

    match name:
        case "RequestMakeCall" if len(rest) == 2:
            return {"ThisDN": this_dn, "OtherDN": rest[0], "MakeCallType": rest[1]}
        case "RequestMakeCall":
            return {"ThisDN": this_dn, "OtherDN": rest[0]}
        case "RequestRouteCall" if len(rest) == 3:
            route = {"OtherDN": rest[1], "RouteType": rest[2]}
            return {"ThisDN": this_dn, "ConnID": pick(rest[0]), **route}
        case "RequestSendDTMF":
            return {"ThisDN": this_dn, "ConnID": pick(rest[0]), "DTMFDigits": "1#"}
        case "RequestApplyTreatment":
            treatment = {"TreatmentType": rest[1], "TreatmentParms": TREATMENTS[rest[1]]}
            return {"ThisDN": this_dn, "ConnID": pick(rest[0]), **treatment}
        case "RequestDistributeUserEvent":
            return {"ThisDN": this_dn, "UserData": {"from": "test"}}
        case "RequestMakePredictiveCall":
            timeout = {"Timeout": rest[1]} if rest[1] else {}
            return {"ThisDN": this_dn, "OtherDN": rest[0], **timeout}
        case "RequestMergeCalls":
            calls = {"ConnID": pick(rest[0]), "TransferConnID": pick(rest[1])}
            return {"ThisDN": this_dn, **calls, "MergeType": rest[2]}
        case "RequestStartCallMonitoring":
            at = {"ThisDN": this_dn} if rest[1] else {}
            return {"ConnID": pick(rest[0]), **at}
        case "RequestStopCallMonitoring":
            return {"ConnID": pick(rest[0])}
        case "RequestCallForwardSet":
            return {"ThisDN": this_dn, "OtherDN": rest[0], "ForwardMode": rest[1]}
        case (
            "RequestSetDNDOn"
            | "RequestSetDNDOff"
            | "RequestCallForwardCancel"
            | "RequestSetMessageWaitingOn"
            | "RequestSetMessageWaitingOff"
        ):
            return {"ThisDN": this_dn}
        case "RequestAgentLogin":
            return {"ThisDN": this_dn, "AgentID": rest[0], "AgentWorkMode": rest[1], "ThisQueue": Q}
        case "RequestAgentNotReady":
            return {"ThisDN": this_dn, "Reasons": {"why": "r"}, "Extensions": {"ReasonCode": 7}}
        case "RequestAgentLogout" | "RequestAgentReady":
            return {"ThisDN": this_dn}
        case "RequestReserveAgent":
            return {"ThisDN": this_dn, "Timeout": rest[0], "Priority": rest[1]}
        case "RequestReserveAgentAndGetAccessNumber":
            return {"ThisDN": this_dn, "OtherDN": rest[0]}
        case "RequestAgentSetIdleReason":
            return {"ThisDN": this_dn, "AgentIdleReason": rest[0]}
        case "RequestMonitorNextCall":
            kind, mode, scope = rest[1:]
            extensions = {"MonitorMode": mode, "MonitorScope": scope}
            return {"ThisDN": this_dn, "OtherDN": rest[0], "MonitorNextCallType": kind, "Extensions": extensions}  # fmt: skip
        case "RequestCancelMonitoring":
            return {"ThisDN": this_dn}
        case "RequestQuerySwitch" | "RequestRegisterAll" | "RequestUnregisterAll":
            return {}
        case "RequestQueryLocation":
            return {"LocationInfoType": rest[0]}
        case "RequestSetInputMask":
            return {"InputMask": list(rest[0])}
        case "RequestQueryAddress":
            return {"ThisDN": this_dn, "InfoType": rest[0]}
        case "RequestAttachUserData":
            return {"ThisDN": this_dn, "ConnID": pick(rest[0]), "UserData": {"k": this_dn}}
        case "RequestCompleteTransfer" | "RequestAlternateCall" | "RequestReconnectCall":
            return {"ThisDN": this_dn, "ConnID": pick(rest[0]), "TransferConnID": pick(rest[1])}
        case "RequestCompleteConference":
            return {"ThisDN": this_dn, "ConnID": pick(rest[0]), "ConferenceConnID": pick(rest[1])}
        case _ if len(rest) == 2:
            return {"ThisDN": this_dn, "ConnID": pick(rest[0]), "OtherDN": rest[1]}
        case _:
            return {"ThisDN": this_dn, "ConnID": pick(rest[0])}


async def play(sequence: list[tuple[Any, ...]]) -> None:
    config = site_config(
        site={
            "routing_points": {DeviceId(RP): RoutingPointSettings(60.0, DeviceId("7004"))},
            "acd_queues": {DeviceId(Q): AcdQueueSettings(0.0)},
        },
        switch={"reply_timeout": 3.0},
    )
    site, task = await start_site(config)
    journal: list[bytes] = []
    site.service.runtime.add_journal_listener(
        lambda written: journal.extend(encode_change(c) for c in written.changes)
    )
    try:
        client = await site.client(*STATIONS, Q, RP)
        conns: list[str] = []
        answers: dict[int, list[TMessage]] = {}
        for action in sequence:
            reference = client.send(action[0], **attributes(action, conns))
            await within(answered(client, reference, answers, conns))
        await site.service.runtime.link.round_trip()  # type: ignore[union-attr]
        drain(client, answers, conns)
        for reference, events in answers.items():
            errors = [e for e in events if e["Event"] == "EventError"]
            assert not errors or len(events) == 1, (reference, events)
        agree(site.service)
        replicated(site.service, journal)
    finally:
        await stop_site(site, task)


def replicated(service: Any, journal: list[bytes]) -> None:
    """An empty model that applies the journal holds what the server's model holds."""
    model = service.runtime.core.model
    replica = Model(dns=model.dns, conn_ids=ConnIdAllocator(0))
    replica.replay(decode_change(line) for line in journal)
    assert replica.value() == model.value()


async def answered(
    client: TClient, reference: int, answers: dict[int, list[TMessage]], conns: list[str]
) -> None:
    while reference not in answers:
        note(await client.next_event(), answers, conns)


def drain(client: TClient, answers: dict[int, list[TMessage]], conns: list[str]) -> None:
    while not client._events.empty():  # the stream so far, without waiting
        event = client._events.get_nowait()
        if event is not None:
            note(event, answers, conns)


def note(event: TMessage, answers: dict[int, list[TMessage]], conns: list[str]) -> None:
    assert not problems(event), (problems(event), event)  # every event, by the table
    if "ReferenceID" in event:
        answers.setdefault(event["ReferenceID"], []).append(event)
    conn_id = event.get("ConnID")
    if conn_id and conn_id not in conns:
        conns.append(conn_id)


def agree(service: Any) -> None:
    """The server's calls and agents at every DN are the switch's, and it holds no call
    none of its DNs is in (rule 3 of model.moves)."""
    model = service.runtime.core.model
    view = service.embedded.switch.view()
    for call in model.calls:
        ours = [dn for dn in model.parties(call.conn_id) if model.is_ours(dn)]
        assert ours or call.expected, call
    for number, kind in model.dns.items():
        ours = {
            c.call_id: AT_THE_SWITCH[model.party(number, c.conn_id).state]
            for c in model.calls_at(number)
        }
        theirs = {c.call_id: c.state_of(number) for c in view.calls_at(number)}
        assert ours == theirs, (number, ours, theirs)
        if kind is DnKind.EXTENSION:
            agent = model.agent(number)
            switch_agent = next((a for a in view.agents if a.device == number), None)
            assert (agent is None) == (switch_agent is None), (number, agent, switch_agent)
            if agent is not None and switch_agent is not None:
                assert agent.agent_id == switch_agent.agent_id
            features_agree(model.features(number), view.features_of(number))


def features_agree(ours: Any, theirs: Any) -> None:
    """The server's DND, forwarding and message waiting at a DN are the switch's."""
    if theirs is None:
        assert (ours.dnd, dict(ours.forwarding), ours.message_waiting) == (False, {}, False)
        return
    assert ours.dnd == theirs.dnd
    assert dict(ours.forwarding) == dict(theirs.forwarding)
    assert ours.message_waiting == theirs.message_waiting


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(actions, min_size=5, max_size=40))
def test_random_requests_are_answered_and_the_views_agree(sequence: list[tuple[Any, ...]]) -> None:
    asyncio.run(play(sequence))


def test_a_fixed_busy_sequence() -> None:
    """A hand-picked sequence that exercises conference, transfer and routing together."""
    sequence = [
        ("RequestMakeCall", "7001", "7002"),
        ("RequestAnswerCall", "7002", 0),
        ("RequestInitiateConference", "7002", 0, "7003"),
        ("RequestAnswerCall", "7003", 0),
        ("RequestCompleteConference", "7002", 1, 0),
        ("RequestMakeCall", "7004", RP),
        ("RequestRouteCall", RP, 0, "7003"),
        ("RequestSingleStepTransfer", "7001", 1, "7004"),
        ("RequestAgentLogin", "7004", "1001", "AutoIn"),
        ("RequestMakeCall", "7004", Q),
    ]
    asyncio.run(play(sequence))


def test_a_fixed_sequence_of_features_treatments_and_call_types() -> None:
    """DND, forwarding and message waiting set and cleared, a call treated at the routing
    point while its caller sends digits, routed with an overwritten DNIS, a user event."""
    sequence = [
        ("RequestSetDNDOn", "7002"),
        ("RequestCallForwardSet", "7003", "7004", "OnBusyAndNoAnswer"),
        ("RequestSetMessageWaitingOn", "7001"),
        ("RequestMakeCall", "7001", RP, "Priority"),
        ("RequestApplyTreatment", RP, 0, "CollectDigits"),
        ("RequestSendDTMF", "7001", 0),
        ("RequestApplyTreatment", RP, 0, "PlayAnnouncementAndDigits"),
        ("RequestRouteCall", RP, 0, "7003", "OverwriteDNIS"),
        ("RequestMakeCall", "7004", "7002", "Regular"),
        ("RequestDistributeUserEvent", "7003"),
        ("RequestCallForwardCancel", "7003"),
        ("RequestSetDNDOff", "7002"),
    ]
    asyncio.run(play(sequence))


def test_a_fixed_sequence_of_predictive_calls_and_merges() -> None:
    """Predictive calls from the ACD queue (answered, then by the agent), from the
    routing point (answered and routed), to a busy station, unanswered for a second;
    a consultation merged for a transfer."""
    sequence = [
        ("RequestAgentLogin", "7004", "1001", "AutoIn"),
        ("RequestMakePredictiveCall", Q, "7002", 60),
        ("RequestAnswerCall", "7002", 0),
        ("RequestAnswerCall", "7004", 0),
        ("RequestMakePredictiveCall", RP, "7003", 0),
        ("RequestAnswerCall", "7003", 0),
        ("RequestRouteCall", RP, 0, "7001"),
        ("RequestMakePredictiveCall", Q, "7002", 0),
        ("RequestMakePredictiveCall", RP, "7005", 1),
        ("RequestInitiateTransfer", "7002", 1, "7005"),
        ("RequestMergeCalls", "7002", 2, 0, "ForTransfer"),
    ]
    asyncio.run(play(sequence))


def test_a_fixed_sequence_of_monitored_calls() -> None:
    """Calls monitored (once at a DN, once twice, once stopped) through a consultation,
    a conference, a transfer and hold."""
    sequence = [
        ("RequestMakeCall", "7001", "7002"),
        ("RequestStartCallMonitoring", "7001", 0, True),
        ("RequestStartCallMonitoring", "7001", 0, False),
        ("RequestAnswerCall", "7002", 0),
        ("RequestInitiateConference", "7002", 0, "7003"),
        ("RequestAnswerCall", "7003", 0),
        ("RequestCompleteConference", "7002", 1, 0),
        ("RequestHoldCall", "7003", 0),
        ("RequestInitiateTransfer", "7001", 0, "7004"),
        ("RequestCompleteTransfer", "7001", 1, 0),
        ("RequestStopCallMonitoring", "7001", 0),
        ("RequestReleaseCall", "7004", 0),
    ]
    asyncio.run(play(sequence))
