"""DN features (docs/protocol.md, DN features): do not disturb, call forwarding, message
waiting and a phone out of service, each set by request (or at the phone) with its
events, what calls meet while they are set, the refusals, and the state a replica
rebuilds."""

from __future__ import annotations

from typing import Any

import pytest

from ctiserver.csta.enumerations import LocalConnectionState
from ctiserver.csta.logical_device import (
    ForwardingType,
    ForwardListItem,
    GetDoNotDisturbResponse,
    GetForwardingResponse,
    GetMessageWaitingIndicatorResponse,
    SetForwarding,
    SetMessageWaitingIndicator,
)
from ctiserver.errors import ServiceError
from ctiserver.ids import ConnIdAllocator, DeviceId
from ctiserver.link.features import features_of
from ctiserver.model.model import Model
from ctiserver.model.values import DnFeatures
from ctiserver.pbxsim.phone import DoNotDisturb, Forward, Service
from tests.tserver.seen import DESTINATION, LOCAL, ORIGINATION, Seen, error, heard, names
from tests.wire import QUEUE, Wire

A, B, C = "7001", "7002", "7003"
a, b, c = 1, 2, 3


def three(wire: Wire) -> None:
    wire.client(A), wire.client(B), wire.client(C)


def ev(name: str, dn: str, **more: Any) -> dict[str, Any]:
    return {"Event": name, "ThisDN": dn, **more}


# --- do not disturb ---------------------------------------------------------------------------


def test_dnd_on_refuses_calls_and_off_lets_them_ring() -> None:
    wire = Wire()
    three(wire)
    on = wire.ask(b, "RequestSetDNDOn", ThisDN=B)
    assert heard(wire, b) == [ev("EventDNDOn", B, ReferenceID=on)]
    assert wire.core.model.features(DeviceId(B)).dnd
    made = wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    dialing, busy = heard(wire, a)
    c1 = Seen(dialing["ConnID"], "1")
    assert busy == c1.event(
        "EventDestinationBusy", A, ORIGINATION, B, state="Busy", ReferenceID=made
    )
    assert heard(wire, b) == []
    wire.ask(a, "RequestReleaseCall", ThisDN=A, ConnID=c1.conn_id)
    heard(wire, a)
    off = wire.ask(b, "RequestSetDNDOff", ThisDN=B)
    assert heard(wire, b) == [ev("EventDNDOff", B, ReferenceID=off)]
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    assert names(heard(wire, b)) == ["EventRinging"]


def test_dnd_set_at_the_phone_is_told_without_a_reference() -> None:
    wire = Wire()
    three(wire)
    wire.phone(DoNotDisturb(DeviceId(B), True))
    assert heard(wire, b) == [ev("EventDNDOn", B)]
    again = wire.ask(b, "RequestSetDNDOn", ThisDN=B)
    assert heard(wire, b) == [ev("EventDNDOn", B, ReferenceID=again)]  # set already: said again


def test_an_agent_with_dnd_gets_no_acd_calls() -> None:
    wire = Wire()
    three(wire)
    wire.ask(b, "RequestAgentLogin", ThisDN=B, ThisQueue=QUEUE, AgentID="1001", AgentWorkMode="AutoIn")  # fmt: skip
    wire.ask(b, "RequestSetDNDOn", ThisDN=B)
    heard(wire, b)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=QUEUE)
    assert heard(wire, b) == []  # the call waits in the queue
    wire.ask(b, "RequestSetDNDOff", ThisDN=B)
    assert names(heard(wire, b)) == ["EventDNDOff", "EventRinging"]


# --- forwarding -------------------------------------------------------------------------------


def test_unconditional_forwarding_sends_calls_on() -> None:
    wire = Wire()
    three(wire)
    forwarded = wire.ask(b, "RequestCallForwardSet", ThisDN=B, OtherDN=C, ForwardMode="Unconditional")  # fmt: skip
    assert heard(wire, b) == [
        ev("EventForwardSet", B, ForwardMode="Unconditional", OtherDN=C, ReferenceID=forwarded)
    ]
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    (dialing,) = heard(wire, a)
    c1 = Seen(dialing["ConnID"], "1")
    assert heard(wire, b) == []
    assert heard(wire, c) == [
        c1.event(
            "EventRinging", C, DESTINATION, A, state="Forwarded", ThirdPartyDN=B, ANI=A, DNIS=B
        )
    ]
    cancelled = wire.ask(b, "RequestCallForwardCancel", ThisDN=B, ForwardMode="Unconditional")
    assert heard(wire, b) == [
        ev("EventForwardCancel", B, ForwardMode="Unconditional", ReferenceID=cancelled)
    ]
    assert wire.core.model.features(DeviceId(B)).forwarding == {}


def test_forwarding_on_busy() -> None:
    wire = Wire()
    three(wire)
    wire.ask(b, "RequestCallForwardSet", ThisDN=B, OtherDN=C, ForwardMode="OnBusy")
    heard(wire, b)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    assert names(heard(wire, b)) == ["EventRinging"]  # not busy: it rings
    d = wire.client("7004")
    wire.ask(d, "RequestMakeCall", ThisDN="7004", OtherDN=B)  # B is ringing: busy
    (ringing,) = heard(wire, c)
    assert (ringing["Event"], ringing["CallState"], ringing["ThirdPartyDN"]) == (
        "EventRinging",
        "Forwarded",
        B,
    )


def test_forwarding_on_no_answer_after_the_switchs_time() -> None:
    wire = Wire()
    three(wire)
    wire.ask(b, "RequestCallForwardSet", ThisDN=B, OtherDN=C, ForwardMode="OnNoAnswer")
    heard(wire, b)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    (dialing,) = heard(wire, a)
    c1 = Seen(dialing["ConnID"], "1")
    assert names(heard(wire, b)) == ["EventRinging"]
    wire.advance(14.9)
    assert heard(wire, c) == []
    wire.advance(0.2)
    released = c1.event("EventReleased", B, DESTINATION, A, state="Forwarded", released=LOCAL)
    assert heard(wire, b) == [released]  # its forwarding sent the call on
    (ringing,) = heard(wire, c)
    assert (ringing["CallState"], ringing["ThirdPartyDN"]) == ("Forwarded", B)


def test_on_busy_and_no_answer_is_two_forwardings_and_cancel_all() -> None:
    wire = Wire()
    three(wire)
    reference = wire.ask(b, "RequestCallForwardSet", ThisDN=B, OtherDN=C, ForwardMode="OnBusyAndNoAnswer")  # fmt: skip
    sent = [r for r in wire.sent_to_switch if isinstance(r, SetForwarding)]
    assert [r.forwarding_type for r in sent] == [ForwardingType.BUSY, ForwardingType.NO_ANSWER]
    assert heard(wire, b) == [
        ev("EventForwardSet", B, ForwardMode="OnBusy", OtherDN=C, ReferenceID=reference),
        ev("EventForwardSet", B, ForwardMode="OnNoAnswer", OtherDN=C),
    ]
    cancel = wire.ask(b, "RequestCallForwardCancel", ThisDN=B)
    assert heard(wire, b) == [
        ev("EventForwardCancel", B, ForwardMode="OnBusy", ReferenceID=cancel),
        ev("EventForwardCancel", B, ForwardMode="OnNoAnswer"),
    ]
    nothing = wire.ask(b, "RequestCallForwardCancel", ThisDN=B, ForwardMode="None")
    assert heard(wire, b) == [{"Event": "EventACK", "ThisDN": B, "ReferenceID": nothing}]


def test_forwarding_set_at_the_phone() -> None:
    wire = Wire()
    three(wire)
    wire.phone(Forward(DeviceId(B), DeviceId(C)))
    wire.phone(Forward(DeviceId(B), None))
    assert heard(wire, b) == [
        ev("EventForwardSet", B, ForwardMode="Unconditional", OtherDN=C),
        ev("EventForwardCancel", B, ForwardMode="Unconditional"),
    ]


# --- message waiting, service -------------------------------------------------------------------


def test_message_waiting_on_and_off() -> None:
    wire = Wire()
    three(wire)
    on = wire.ask(b, "RequestSetMessageWaitingOn", ThisDN=B)
    off = wire.ask(b, "RequestSetMessageWaitingOff", ThisDN=B)
    assert heard(wire, b) == [
        ev("EventMessageWaitingOn", B, ReferenceID=on),
        ev("EventMessageWaitingOff", B, ReferenceID=off),
    ]
    assert not wire.core.model.features(DeviceId(B)).message_waiting


def test_a_phone_out_of_service_and_back() -> None:
    wire = Wire()
    three(wire)
    wire.phone(Service(DeviceId(B), in_service=False))
    assert heard(wire, b) == [ev("EventDNOutOfService", B)]
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    dialing, failed = heard(wire, a)
    assert (failed["Event"], failed["CallState"]) == ("EventDestinationBusy", "GeneralError")
    out = wire.ask(b, "RequestMakeCall", ThisDN=B, OtherDN=C)
    message = "the switch refused RequestMakeCall: systemResourceAvailibility callingDeviceOutOfService"  # fmt: skip
    assert heard(wire, b) == [error(out, 1170, message, B)]
    wire.phone(Service(DeviceId(B), in_service=True))
    assert heard(wire, b) == [ev("EventDNBackInService", B)]
    assert not wire.core.model.features(DeviceId(B)).out_of_service
    assert dialing


# --- refusals and replicas ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "attributes", "code", "message"),
    [
        (
            "RequestSetDNDOn",
            {"ThisDN": QUEUE},
            53,
            f"RequestSetDNDOn is for extensions; {QUEUE} is not one",
        ),
        (
            "RequestCallForwardSet",
            {"ThisDN": B, "OtherDN": B},
            53,
            f"DN {B} cannot forward its calls to itself",
        ),
        (
            "RequestCallForwardSet",
            {"ThisDN": B, "OtherDN": C, "ForwardMode": "SendAllCalls"},
            53,
            "ForwardMode SendAllCalls is not served: forward Unconditional, OnBusy, OnNoAnswer "
            "or OnBusyAndNoAnswer",
        ),
        (
            "RequestCallForwardSet",
            {"ThisDN": B, "OtherDN": "x1"},
            1146,
            "the switch refused RequestCallForwardSet: operation invalidForwardingDestination: "
            "the switch cannot forward calls to OtherDN",
        ),
    ],
)
def test_refusals(request_: str, attributes: dict[str, str], code: int, message: str) -> None:
    wire = Wire()
    three(wire)
    registered = wire.client(QUEUE)
    client = registered if attributes["ThisDN"] == QUEUE else b
    reference = wire.ask(client, request_, **attributes)
    assert heard(wire, client) == [error(reference, code, message, attributes["ThisDN"])]


def test_a_client_that_has_not_registered_the_dn() -> None:
    wire = Wire()
    stranger = wire.client()
    reference = wire.ask(stranger, "RequestSetMessageWaitingOn", ThisDN=B)
    assert heard(wire, stranger) == [
        error(reference, 41, f"this client has not registered DN {B}", B)
    ]


def test_a_replica_rebuilds_the_features() -> None:
    wire = Wire()
    wire.core.journaling = True
    three(wire)
    wire.ask(b, "RequestSetDNDOn", ThisDN=B)
    wire.ask(b, "RequestCallForwardSet", ThisDN=B, OtherDN=C, ForwardMode="OnNoAnswer")
    wire.ask(c, "RequestSetMessageWaitingOn", ThisDN=C)
    wire.phone(Service(DeviceId(A), in_service=False))
    model = wire.core.model
    replica = Model(dns=model.dns, conn_ids=ConnIdAllocator(0))
    replica.replay(wire.journal)
    assert replica.value() == model.value()  # type: ignore[attr-defined]
    fresh = Model(dns=model.dns, conn_ids=ConnIdAllocator(0))
    fresh.replay(model.as_records())  # type: ignore[attr-defined]
    assert fresh.value() == model.value()  # type: ignore[attr-defined]
    assert fresh.features(DeviceId(B)).forwarding == {"forwardNoAns": C}


def test_features_set_while_the_link_was_down_are_learnt_when_it_comes_back() -> None:
    wire = Wire()
    three(wire)
    wire.ask(b, "RequestSetMessageWaitingOn", ThisDN=B)
    wire.ask(c, "RequestCallForwardSet", ThisDN=C, OtherDN=A, ForwardMode="OnBusy")
    heard(wire, b), heard(wire, c)
    wire.drop_link()
    wire.phone(DoNotDisturb(DeviceId(B), True))
    wire.phone(Forward(DeviceId(C), DeviceId(B)))
    wire.switch.handle(  # message waiting cleared by another application meanwhile
        wire.switch.connect(now=wire.monotonic)[0],
        SetMessageWaitingIndicator(device=DeviceId(B), message_waiting_on=False),
        now=wire.monotonic,
    )
    assert [e["Event"] for e in heard(wire, b)] == ["EventLinkDisconnected"]
    heard(wire, c)
    wire.reconnect()
    assert names(heard(wire, b)) == ["EventDNDOn", "EventMessageWaitingOff", "EventLinkConnected"]
    assert heard(wire, c) == [
        ev("EventForwardSet", C, ForwardMode="Unconditional", OtherDN=B),  # OnBusy stays
        {"Event": "EventLinkConnected"},
    ]
    forwarding = wire.core.model.features(DeviceId(C)).forwarding
    assert forwarding == {"forwardBusy": A, "forwardImmediate": B}


def test_a_station_the_switch_will_not_tell_about_is_left_out() -> None:
    stations = [DeviceId(A), DeviceId(B)]
    replies: list[Any] = [
        GetDoNotDisturbResponse(do_not_disturb_on=True),
        GetForwardingResponse(
            forwarding_list=(
                ForwardListItem(
                    forwarding_type=ForwardingType.BUSY, forward_status=True, forward_dn=DeviceId(C)
                ),
                ForwardListItem(forwarding_type=ForwardingType.NO_ANSWER, forward_status=False),
            )
        ),
        GetMessageWaitingIndicatorResponse(message_waiting_on=False),
        GetDoNotDisturbResponse(do_not_disturb_on=False),
        ServiceError("operation", "serviceNotSupported"),
        GetMessageWaitingIndicatorResponse(message_waiting_on=True),
    ]
    assert features_of(stations, replies) == {
        DeviceId(A): DnFeatures(dnd=True, forwarding={"forwardBusy": DeviceId(C)})
    }


@pytest.mark.parametrize("mode", ["Unconditional", "OnNoAnswer"])
def test_forwarding_never_sends_a_call_back_to_its_caller(mode: str) -> None:
    wire = Wire()
    three(wire)
    wire.ask(b, "RequestCallForwardSet", ThisDN=B, OtherDN=A, ForwardMode=mode)
    heard(wire, b)
    wire.ask(a, "RequestMakeCall", ThisDN=A, OtherDN=B)
    (dialing,) = heard(wire, a)
    c1 = Seen(dialing["ConnID"], "1")
    assert heard(wire, b) == [c1.event("EventRinging", B, DESTINATION, A, ANI=A, DNIS=B)]
    wire.advance(20)  # past the switch's no-answer time: it rings on
    assert heard(wire, a) == heard(wire, b) == []
    view = wire.switch.view()
    assert [c.state_of(B) for c in view.calls_at(B)] == [LocalConnectionState.ALERTING]
