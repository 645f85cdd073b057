"""actions.py: custom actions from other namespaces, run by host-registered handlers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from ctiserver.scxml.actions import ActionContext, ActionRegistry
from ctiserver.scxml.datamodel import ExecutionError
from ctiserver.scxml.document import CustomAction
from ctiserver.scxml.driver import Driver
from ctiserver.scxml.effects import Effect, PlatformError, WriteLog
from ctiserver.scxml.events import Event
from ctiserver.scxml.host import Host
from ctiserver.scxml.parser import parse_document
from ctiserver.scxml.values import Value
from tests.scxml.support import SCXML, Recorder

IXN = "www.genesyslab.com/modules/interaction"


@dataclass(frozen=True, slots=True, kw_only=True)
class MakeCall(Effect):
    """What a host's <ixn:createcall> handler asks its runtime to do."""

    request_id: str
    origin: Value
    destination: Value


class Interaction:
    """A toy Interaction module: <createcall> and <fail>, keyed by request ids."""

    def __init__(self) -> None:
        self.ids = (f"req-{n}" for n in itertools.count(1))

    def __call__(self, action: CustomAction, context: ActionContext) -> None:
        element = action.element
        assert context.session_id
        if action.name == "fail":
            raise ExecutionError("the switch said no")
        request_id = next(self.ids)
        location = element.attribute("requestid")
        if location is not None:
            context.assign(location, request_id)
        origin, destination = element.attribute("from"), element.attribute("to")
        if origin is None or destination is None:
            raise ExecutionError("<createcall> needs from= and to=")
        context.emit(
            MakeCall(
                request_id=request_id,
                origin=context.evaluate(origin),
                destination=context.evaluate(destination),
            )
        )
        if context.condition("_data.trace === true"):
            context.raise_event("createcall.sent", {"requestid": request_id})


def strategy(namespace: str, onentry: str) -> str:
    return (
        f'<scxml xmlns="{SCXML}" xmlns:ixn="{namespace}" version="1.0" datamodel="ecmascript">'
        '<datamodel><data id="_data" expr="({reqid: null, trace: true})"/></datamodel>'
        f'<state id="calling"><onentry>{onentry}</onentry>'
        '<transition event="createcall.sent" target="waiting"/>'
        '<transition event="error.execution" target="failed"/></state>'
        '<state id="waiting">'
        '<transition event="voice.createcall.done" cond="_event.data.requestid == _data.reqid" '
        'target="done"/></state><final id="done"/><final id="failed"/></scxml>'
    )


@pytest.fixture
def host() -> Host:
    registry = ActionRegistry()
    registry.register((IXN, f"http://{IXN}"), Interaction())
    return Host(actions=registry)


@pytest.mark.parametrize("namespace", [IXN, f"http://{IXN}"])
def test_a_handler_evaluates_assigns_emits_and_raises(
    host: Host, recorder: Recorder, namespace: str
) -> None:
    createcall = '<ixn:createcall requestid="_data.reqid" from="\'701\'" to="\'70\' + 2"/>'
    driver = Driver(host=host, on_effect=recorder)
    session = driver.start(parse_document(strategy(namespace, createcall)))
    assert session.is_in("waiting")
    (call,) = recorder.of_type(MakeCall)
    assert call == MakeCall(request_id="req-1", origin="701", destination="702")
    # the host's runtime answers later with an external event
    driver.deliver(
        session.session_id, Event(name="voice.createcall.done", data={"requestid": "req-1"})
    )
    driver.run()
    assert session.final == "done"


def test_a_failing_handler_is_error_execution_and_ends_its_block(
    host: Host, recorder: Recorder
) -> None:
    onentry = "<ixn:fail/><log expr=\"'not reached'\"/>"
    driver = Driver(host=host, on_effect=recorder)
    session = driver.start(parse_document(strategy(IXN, onentry)))
    assert session.final == "failed"
    assert not recorder.of_type(WriteLog)
    (error,) = recorder.of_type(PlatformError)
    assert isinstance(error, PlatformError)
    assert error.message == "the switch said no"


def test_an_action_without_a_handler_is_error_execution(recorder: Recorder) -> None:
    driver = Driver(on_effect=recorder)
    session = driver.start(
        parse_document(strategy(IXN, "<ixn:createcall from=\"'1'\" to=\"'2'\"/>"))
    )
    assert session.final == "failed"
    (error,) = recorder.of_type(PlatformError)
    assert isinstance(error, PlatformError)
    assert "no handler for <createcall>" in error.message


def test_a_namespace_takes_one_handler() -> None:
    registry = ActionRegistry()
    registry.register(IXN, Interaction())
    with pytest.raises(ValueError, match="already has a handler"):
        registry.register([f"http://{IXN}", IXN], Interaction())
    assert registry.handler(IXN) is not None
    assert registry.handler("urn:other") is None


def test_a_handler_that_crashes_is_error_execution_not_a_crash(recorder: Recorder) -> None:
    def broken(action: CustomAction, context: ActionContext) -> None:
        raise KeyError("bug")

    registry = ActionRegistry()
    registry.register(IXN, broken)
    driver = Driver(host=Host(actions=registry), on_effect=recorder)
    session = driver.start(parse_document(strategy(IXN, "<ixn:createcall/>")))
    assert session.final == "failed"
    (error,) = recorder.of_type(PlatformError)
    assert isinstance(error, PlatformError)
    assert error.message == "the handler of <createcall> failed: KeyError: 'bug'"


ORS_SKELETON = """<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml"
       xmlns:ixn="http://www.genesyslab.com/modules/interaction"
       xmlns:queue="www.genesyslab.com/modules/queue" initial="wait">
  <datamodel><data id="ixnid"/><data id="reqid"/></datamodel>
  <state id="wait">
    <transition event="interaction.added" target="route">
      <assign location="_data.ixnid" expr="_event.data.interactionid"/>
    </transition>
  </state>
  <state id="route">
    <onentry><queue:submit requestid="_data.reqid" queue="'VQ1'" priority="5" timeout="100">
      <queue:target name="'Agents@StatServer.GA'"/></queue:submit></onentry>
    <transition event="queue.submit.done" target="done"/>
    <transition event="error.queue.submit" target="fallback"/>
  </state>
  <state id="fallback">
    <onentry><ixn:redirect requestid="_data.reqid" interactionid="_data.ixnid" to="'7000'"/>
    </onentry>
    <transition event="interaction.redirect.done" target="done"/>
  </state>
  <final id="done"/>
</scxml>"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Request(Effect):
    """A Genesys-style request, as an orchestration host would emit it."""

    action: str
    request_id: str
    arguments: dict[str, Value]


def test_an_ors_style_strategy_runs_with_a_prelude_and_two_modules(recorder: Recorder) -> None:
    def module(action: CustomAction, context: ActionContext) -> None:
        request_id = f"{action.name}-1"
        arguments = {
            name: context.evaluate(value)
            for name, value in action.element.attributes
            if name not in ("requestid", "timeout", "priority")
        }
        context.assign(action.element.attribute("requestid") or "", request_id)
        context.emit(Request(action=action.name, request_id=request_id, arguments=arguments))

    registry = ActionRegistry()
    registry.register(("http://www.genesyslab.com/modules/interaction",), module)
    registry.register(("www.genesyslab.com/modules/queue",), module)
    # ORS keeps <data> in _data: one line of prelude gives strategies that view.
    host = Host(actions=registry, preludes=("var _data = globalThis;",))
    driver = Driver(host=host, on_effect=recorder)
    session = driver.start(parse_document(ORS_SKELETON))
    driver.deliver(
        session.session_id, Event(name="interaction.added", data={"interactionid": "x1"})
    )
    driver.run()
    driver.deliver(session.session_id, Event(name="error.queue.submit", data={"error": "timeout"}))
    driver.run()
    submit, redirect = recorder.of_type(Request)
    assert submit == Request(action="submit", request_id="submit-1", arguments={"queue": "VQ1"})
    assert redirect == Request(
        action="redirect", request_id="redirect-1", arguments={"interactionid": "x1", "to": "7000"}
    )
    driver.deliver(session.session_id, Event(name="interaction.redirect.done"))
    driver.run()
    assert session.final == "done"
