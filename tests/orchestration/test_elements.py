"""elements.py: the action elements' attributes, evaluated in a real session (no server)."""

from __future__ import annotations

import pytest

from ctiserver.orchestration.elements import (
    INTERACTION_NAMESPACES,
    QUEUE_NAMESPACES,
    ActionElements,
    ActionRequest,
)
from ctiserver.orchestration.genesys import PRELUDE
from ctiserver.orchestration.outcomes import Action
from ctiserver.orchestration.selection import Order
from ctiserver.orchestration.targets import Target, TargetType
from ctiserver.scxml.actions import ActionRegistry
from ctiserver.scxml.driver import Driver
from ctiserver.scxml.effects import Effect, PlatformError, WriteLog
from ctiserver.scxml.host import Host
from ctiserver.scxml.parser import parse_document


class Run:
    """One session whose initial state runs *actions* then logs _data.reqid."""

    def __init__(self, actions: str, *, ixn: str = "http://www.genesyslab.com/modules/interaction"):
        document = parse_document(
            f"""<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml"
                  xmlns:ixn="{ixn}" xmlns:queue="www.genesyslab.com/modules/queue">
              <datamodel><data id="reqid"/><data id="agent" expr="({{dn: '7004'}})"/></datamodel>
              <state id="s"><onentry>{actions}</onentry>
                <onentry><log label="reqid" expr="String(_data.reqid)"/></onentry></state>
            </scxml>""".encode()
        )
        registry = ActionRegistry()
        elements = ActionElements(ids=iter(["r1", "r2", "r3"]))
        registry.register((*INTERACTION_NAMESPACES, *QUEUE_NAMESPACES), elements)
        self.effects: list[Effect] = []
        driver = Driver(
            host=Host(actions=registry, preludes=(PRELUDE,)),
            on_effect=lambda _, effect: self.effects.append(effect),
        )
        driver.start(document)

    @property
    def requests(self) -> list[ActionRequest]:
        return [e for e in self.effects if isinstance(e, ActionRequest)]

    @property
    def errors(self) -> list[str]:
        return [e.message for e in self.effects if isinstance(e, PlatformError)]

    @property
    def reqid(self) -> str:
        return next(e.text for e in self.effects if isinstance(e, WriteLog))


def test_createcall_with_every_attribute() -> None:
    run = Run(
        """<ixn:createcall requestid="_data.reqid" from="7001" to="'7002'" type="agent"
              udata="({case: 'A-17', n: 6 * 7, vip: true, score: 1.5, gone: null,
                       list: [1, 2], nested: {x: 1}})"
              hints="({extensions: {xk: 'xv'}, reasons: {rk: 2}})"/>"""
    )
    assert run.errors == []
    assert run.requests == [
        ActionRequest(
            action=Action.CREATECALL,
            request_id="r1",
            origin="7001",
            destination="7002",
            kind="agent",
            user_data={
                "case": "A-17",
                "n": 42,
                "vip": "true",
                "score": "1.5",
                "list": "[1,2]",
                "nested": {"x": 1},
            },
            extensions={"xk": "xv"},
            reasons={"rk": 2},
        )
    ]
    assert run.reqid == "r1"


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ('<ixn:createcall requestid="_data.reqid" from="7001"/>', "to is required"),
        (
            '<ixn:createcall from="7001" to="\'7002\'" type="predictive"/>',
            "type 'predictive' is not",
        ),
        ('<ixn:createcall from="7001" to="[1]"/>', "to must be a string"),
        ('<ixn:createcall from="7001" to="7002" udata="5"/>', "udata must be an object"),
        ('<ixn:createcall from="7001" to="7002" hints="5"/>', "hints must be an object"),
        (
            '<ixn:transfer to="7002" consultinteractionid="\'c2\'"/>',
            "either consultinteractionid or to",
        ),
        ("<ixn:conference/>", "either consultinteractionid or to"),
        ("<ixn:alternate/>", "consultinteractionid is required"),
        ('<ixn:redirect resource="({x: 1})" to="7"/>', "resource object with a dn"),
        ("<ixn:accept/>", "<accept> (line 4) is not supported"),
        ("<queue:submit/>", "names no target"),
        ("<queue:submit targets=\"'1.XX'\"/>", "type 'XX' is not supported"),
        ("<queue:submit targets=\"'1'\" timeout=\"'soon'\"/>", "timeout must be a number"),
        ('<queue:submit><queue:targets type="vq"/></queue:submit>', "is not one of"),
        ("<queue:submit targets=\"'?sales >'\"/>", "skill expression"),
        (
            '<queue:submit targets="\'1\'" priorityincrement="2"/>',
            "priorityincrement needs priorityinterval",
        ),
        ('<queue:submit targets="\'1\'" ordertype="max"/>', "ordertype needs orderstat"),
        (
            '<queue:submit targets="\'1\'" ordertype="percentage" orderstat="x"/>',
            "ordertype 'percentage' is not one of max, min, any",
        ),
        ("<queue:submit><queue:target/></queue:submit>", "<queue:target> needs name="),
    ],
)
def test_a_wrong_element_is_error_execution_and_sends_nothing(action: str, message: str) -> None:
    run = Run(f'{action}<assign location="_data.reqid" expr="\'never\'"/>')
    assert run.requests == []
    assert len(run.errors) == 1
    assert message in run.errors[0]
    assert run.reqid == "undefined"  # the block stopped, and no id was assigned


def test_actions_on_calls() -> None:
    run = Run(
        """<ixn:hold interactionid="'i1'" resource="_data.agent"/>
           <ixn:consultation interactionid="'i1'" to="7003" type="conference" udata="({a: 1})"/>
           <ixn:terminate reason="'spam'" hints="({reasons: {code: 7}})"/>""",
        ixn="www.genesyslab.com/modules/interaction",
    )
    hold, consultation, terminate = run.requests
    assert (hold.action, hold.interaction_id, hold.resource) == (Action.HOLD, "i1", "7004")
    assert (consultation.destination, consultation.kind) == ("7003", "conference")
    assert consultation.user_data == {"a": 1}
    assert terminate.interaction_id is None
    assert terminate.reasons == {"code": 7, "reason": "spam"}


def test_queue_submit_targets() -> None:
    run = Run(
        """<queue:submit requestid="_data.reqid" queue="'VQ'" priority="3" timeout="2.5"
                         targets="['7002', '1001.A']">
             <queue:target name="'8001.GA'"/>
             <queue:targets type="agent"><queue:target name="'1002'"/></queue:targets>
             <other xmlns="urn:x"/>
           </queue:submit>"""
    )
    (submit,) = run.requests
    assert (submit.queue, submit.priority, submit.timeout) == ("VQ", 3, 2.5)
    assert submit.targets == (
        Target(name="7002", type=TargetType.DN),
        Target(name="1001", type=TargetType.AGENT),
        Target(name="8001", type=TargetType.AGENT_GROUP),
        Target(name="1002", type=TargetType.AGENT),
    )
    assert submit.order is None


def test_queue_submit_order_priority_and_skill_targets() -> None:
    run = Run(
        """<queue:submit ordertype="min" orderstat="StatCallsAnswered" priority="1"
                         priorityincrement="2" priorityinterval="'5'">
             <queue:targets type="skill"><queue:target name="'sales > 5'"/></queue:targets>
             <queue:target name="'?lang=fr@SiteB'"/>
           </queue:submit>
           <queue:submit orderstat="'sales'" ordertype="any" targets="'Sales.GA'"/>
           <queue:submit orderstat="sales" targets="'{StatAgentsAvailable>1}Sales.GA'"/>"""
    )
    first, second, third = run.requests
    assert first.order == Order("StatCallsAnswered", maximum=False)
    assert (first.priority, first.priority_increment, first.priority_interval) == (1, 2, 5.0)
    assert first.targets == (
        Target(name="sales > 5", type=TargetType.SKILL),
        Target(name="lang=fr", type=TargetType.SKILL, site="SiteB"),
    )
    assert second.order is None  # ordertype any: in the order written
    assert third.order == Order("sales", maximum=True)
    assert third.targets[0].threshold == "StatAgentsAvailable>1"
