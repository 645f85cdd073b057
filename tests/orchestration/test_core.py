"""core.py without a server: T-Library events in, requests out, on a virtual clock."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from ctiserver.orchestration.core import Orchestrator
from ctiserver.orchestration.links import CoreSettings, SendRequest
from ctiserver.scxml.effects import Effect, SessionEnded, WriteLog
from ctiserver.scxml.parser import parse_document
from tests.orchestration.conftest import flow
from tests.orchestration.fakes import route_request

RP, A = "5000", "7001"
HOLD = flow("""<state id="routing"><onentry><ixn:hold resource="'7001'"/></onentry></state>""")


class Harness:
    """An Orchestrator with one link, "main", registered, at time 0."""

    def __init__(self, scxml: str = HOLD, **settings: Any) -> None:
        self.logs: list[str] = []
        self.ended: list[SessionEnded] = []
        options: dict[str, Any] = {"register": (A, RP), "request_timeout": 2.0, **settings}
        self.core = Orchestrator(
            settings=CoreSettings(**options),
            strategies={RP: parse_document(scxml.encode())},
            now=0.0,
            observer=self.observe,
        )
        self.now = 0.0
        self.registrations = self.core.link_up("main", 0.0)
        for send in self.registrations:
            dn = send.message["ThisDN"]
            kind = "RouteDN" if dn == RP else "DN"
            self.event(
                Event="EventRegistered",
                ThisDN=dn,
                InfoStatus=kind,
                Extensions={},
                ReferenceID=send.message["ReferenceID"],
            )

    def observe(self, session_id: str, effect: Effect) -> None:
        if isinstance(effect, WriteLog):
            self.logs.append(effect.text)
        elif isinstance(effect, SessionEnded):
            self.ended.append(effect)

    def event(self, **event: Any) -> list[SendRequest]:
        return self.core.on_event("main", event, self.now)  # type: ignore[arg-type]

    def at(self, now: float) -> list[SendRequest]:
        self.now = now
        return self.core.advance_to(now)


def test_link_up_registers_every_dn_once() -> None:
    harness = Harness()
    sent = [(s.message["Request"], s.message["ThisDN"]) for s in harness.registrations]
    assert sent == [("RequestRegisterAddress", A), ("RequestRegisterAddress", RP)]
    assert [s.message["ReferenceID"] for s in harness.registrations] == [1000, 1001]
    assert harness.core.registered("main")


def test_a_request_times_out_and_its_late_answer_is_ignored() -> None:
    harness = Harness()
    (hold,) = harness.event(**route_request("c1"))
    assert hold.message == {
        "Request": "RequestHoldCall",
        "ThisDN": A,
        "ConnID": "c1",
        "ReferenceID": 1002,
    }
    assert harness.core.next_due() == 2.0
    assert harness.at(1.9) == []
    assert harness.logs == []
    harness.at(2.0)
    assert harness.logs == [
        'error.voice.hold {"requestid":"req-1","interactionid":"c1","error":"timeout",'
        '"description":"no answer to RequestHoldCall in 2 s"}'
    ]
    harness.event(Event="EventHeld", ThisDN=A, ConnID="c1", ReferenceID=1002)
    assert len(harness.logs) == 1


def test_an_answer_resolves_a_request_once() -> None:
    harness = Harness()
    harness.event(**route_request("c1"))
    harness.event(Event="EventHeld", ThisDN=A, ConnID="c1", ReferenceID=1002)
    harness.event(Event="EventHeld", ThisDN=A, ConnID="c1", ReferenceID=1002)
    assert harness.logs == ['voice.hold.done {"requestid":"req-1","interactionid":"c1"}']
    assert harness.core.next_due() is None


def test_calls_on_routing_points_without_a_strategy_start_nothing() -> None:
    harness = Harness()
    assert harness.event(**route_request("c1", point="5009")) == []
    assert not harness.core.interactions.sessions


def test_sessions_beyond_max_sessions_are_left_to_the_switch(
    caplog: pytest.LogCaptureFixture,
) -> None:
    harness = Harness(max_sessions=1)
    harness.event(**route_request("c1"))
    with caplog.at_level(logging.WARNING):
        assert harness.event(**route_request("c2")) == []
    assert "1 sessions run already; call c2 left to the switch" in caplog.text


def test_a_lost_link_fails_requests_and_ends_calls() -> None:
    harness = Harness()
    harness.event(**route_request("c1"))
    harness.core.link_down("main", 0.5)
    assert harness.logs == [
        'error.voice.hold {"requestid":"req-1","interactionid":"c1","error":"invalidserver",'
        '"description":"the CTI server went away"}',
        'interaction.deleted {"interactionid":"c1"}',
    ]
    assert not harness.core.registered("main")


def test_a_request_that_cannot_be_sent_is_invalidserver() -> None:
    harness = Harness()
    (hold,) = harness.event(**route_request("c1"))
    harness.core.send_failed("main", hold.message["ReferenceID"], 0.1)
    assert '"error":"invalidserver"' in harness.logs[0]


def test_a_failed_registration_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    core = Orchestrator(settings=CoreSettings(register=("9999",)), strategies={}, now=0.0)
    (register,) = core.link_up("main", 0.0)
    assert not core.registered("main")
    with caplog.at_level(logging.INFO):
        core.on_event(
            "main",
            {
                "Event": "EventError",
                "ErrorCode": 59,
                "ErrorMessage": "DN 9999 is not configured",
                "ReferenceID": register.message["ReferenceID"],
            },
            0.0,
        )
    assert "cannot follow DN 9999 on main: DN 9999 is not configured" in caplog.text
    assert core.registered("main")


CREATECALL = flow(
    """<state id="routing"><onentry>
         <ixn:createcall from="'7001'" to="'7002'"/>
       </onentry></state>"""
)


def test_createcall_makes_a_new_interaction() -> None:
    harness = Harness(CREATECALL)
    (make_call,) = harness.event(**route_request("c1"))
    assert make_call.message["Request"] == "RequestMakeCall"
    harness.event(
        Event="EventDialing", ThisDN=A, ConnID="c9", ReferenceID=make_call.message["ReferenceID"]
    )
    assert harness.logs == ['voice.createcall.done {"requestid":"req-1","interactionid":"c9"}']


ORPHAN = flow('<state id="routing"/>')


def test_an_orphaned_session_ends_after_the_orphan_timeout() -> None:
    harness = Harness(ORPHAN, orphan_timeout=5.0)
    harness.event(**route_request("c1"))
    harness.event(Event="EventAbandoned", ThisDN=RP, ConnID="c1")
    assert harness.logs == ['interaction.deleted {"interactionid":"c1"}']
    assert harness.core.next_due() == 5.0
    harness.at(5.0)
    assert [e.reason for e in harness.ended] == ["cancelled"]
    assert not harness.core.interactions.sessions


CREATECALL_LATER = flow(
    """<state id="routing">
         <transition event="interaction.deleted"><ixn:createcall from="'7001'" to="'7002'"/>
         </transition></state>"""
)


def test_createcall_without_a_connected_server_is_invalidserver() -> None:
    harness = Harness(CREATECALL_LATER)
    harness.event(**route_request("c1"))
    assert harness.core.link_down("main", 1.0) == []
    assert harness.logs[-1] == (
        'error.voice.createcall {"requestid":"req-1","interactionid":"","error":"invalidserver",'
        '"description":"no CTI server is connected"}'
    )


# --- treatments -------------------------------------------------------------------------------

MUSIC = flow(
    """<state id="routing"><onentry><dialog:playsound type="music" duration="9"/></onentry>
    </state>"""
)
SUBMIT_WITH_TREATMENTS = flow(
    """<state id="routing"><onentry><queue:submit targets="'7009'" timeout="30">
         <dialog:collect><dialog:input max_digits="99"/></dialog:collect>
         <dialog:playsound type="ringback" duration="2"/>
         <dialog:playsound type="music"/>
       </queue:submit></onentry></state>"""
)


def treatment_of(sent: list[SendRequest]) -> tuple[str, int]:
    (request,) = sent
    assert request.message["Request"] == "RequestApplyTreatment"
    return request.message["TreatmentType"], request.message["ReferenceID"]


def applied(harness: Harness, reference: int, kind: str = "Music") -> list[SendRequest]:
    return harness.event(
        Event="EventTreatmentApplied", ThisDN=RP, ConnID="c1", TreatmentType=kind,
        ReferenceID=reference,
    )  # fmt: skip


def test_a_lost_link_ends_a_running_treatment() -> None:
    harness = Harness(MUSIC)
    _, reference = treatment_of(harness.event(**route_request("c1")))
    applied(harness, reference)
    assert harness.logs == []
    harness.core.link_down("main", 0.5)
    assert harness.logs[0] == (
        'error.dialog.playsound {"requestid":"req-1","interactionid":"c1","error":"invalidserver",'
        '"description":"the CTI server went away"}'
    )


def test_a_treatment_the_switch_does_not_apply() -> None:
    harness = Harness(MUSIC)
    _, reference = treatment_of(harness.event(**route_request("c1")))
    harness.event(
        Event="EventTreatmentNotApplied", ThisDN=RP, ConnID="c1", TreatmentType="Music",
        ErrorCode=1152, ErrorMessage="the call is no longer at the routing point",
        ReferenceID=reference,
    )  # fmt: skip
    assert harness.logs == [
        'error.dialog.playsound {"requestid":"req-1","interactionid":"c1","error":"invalidstate",'
        '"description":"EventTreatmentNotApplied 1152: the call is no longer at the routing point"}'
    ]


def test_a_submits_treatments_play_in_turn_until_the_route(
    caplog: pytest.LogCaptureFixture,
) -> None:
    harness = Harness(SUBMIT_WITH_TREATMENTS, register=(A, RP, "7009"))
    harness.event(Event="EventRinging", ThisDN="7009", ConnID="x", CallID="2")  # 7009 busy
    kind, reference = treatment_of(harness.event(**route_request("c1")))
    assert kind == "CollectDigits"
    with caplog.at_level(logging.WARNING):
        refused = harness.event(
            Event="EventError", ErrorCode=53, ErrorMessage="TOTAL_DIGITS up to 32",
            ReferenceID=reference,
        )  # fmt: skip
    assert "a treatment of call c1 was not applied: EventError 53" in caplog.text
    kind, reference = treatment_of(refused)
    assert kind == "RingBack"
    assert applied(harness, reference, "RingBack") == []
    end = {"Event": "EventTreatmentEnd", "ThisDN": RP, "ConnID": "c1", "TreatmentType": "RingBack"}
    kind, reference = treatment_of(harness.event(**end))
    assert kind == "Music"
    route = harness.event(Event="EventReleased", ThisDN="7009", ConnID="x")  # 7009 is free
    assert [r.message["Request"] for r in route] == ["RequestRouteCall"]
    assert applied(harness, reference) == []  # late: the call is being routed; nothing more
    assert harness.logs == []  # the treatments of a submit answer nothing


POOLED = """<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml" initial="s">
  <datamodel><data id="mine" expr="_genesys.session.id"/></datamodel>
  <state id="s">
    <onentry>
      <log expr="typeof leftover + ' ' + typeof _genesys.stash + ' ' + (mine === _sessionid)"/>
      <script>leftover = mine; _genesys.stash = mine;</script>
    </onentry>
    <transition event="interaction.added" target="done"/>
  </state>
  <final id="done"/>
</scxml>"""


def test_with_a_context_pool_each_session_sees_only_its_own_data() -> None:
    harness = Harness(POOLED, context_pool=2)
    for n in range(4):
        harness.event(**route_request(f"c{n}"))
    assert harness.logs == ["undefined undefined true"] * 4
    assert [ended.final for ended in harness.ended] == ["done"] * 4
