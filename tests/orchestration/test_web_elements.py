"""web_elements.py: `<session:fetch>`'s attributes, evaluated in a real session."""

from __future__ import annotations

import pytest

from ctiserver.orchestration.web_elements import SESSION_NAMESPACES, FetchRequest, SessionElements
from ctiserver.scxml.actions import ActionRegistry
from ctiserver.scxml.driver import Driver
from ctiserver.scxml.effects import Effect, PlatformError, WriteLog
from ctiserver.scxml.host import Host
from ctiserver.scxml.parser import parse_document


def run(actions: str) -> tuple[list[FetchRequest], list[str], str]:
    """The fetches *actions* asked for, the errors they raised, and _data.fid after."""
    document = parse_document(
        f"""<scxml version="1.0" xmlns="http://www.w3.org/2005/07/scxml"
              xmlns:session="http://www.genesyslab.com/modules/session">
          <datamodel><data id="fid"/><data id="ani" expr="'0612'"/></datamodel>
          <state id="s"><onentry>{actions}</onentry>
            <onentry><log label="fid" expr="String(fid)"/></onentry></state>
        </scxml>""".encode()
    )
    registry = ActionRegistry()
    registry.register(SESSION_NAMESPACES, SessionElements(iter(["f1", "f2"])))
    effects: list[Effect] = []
    driver = Driver(host=Host(actions=registry), on_effect=lambda _, e: effects.append(e))
    driver.start(document)
    fetches = [e for e in effects if isinstance(e, FetchRequest)]
    errors = [e.message for e in effects if isinstance(e, PlatformError)]
    logged = next(e.text for e in effects if isinstance(e, WriteLog))
    return fetches, errors, logged


def test_a_get_with_parameters_and_headers() -> None:
    (fetch,), errors, fid = run(
        """<session:fetch requestid="fid" srcexpr="'http://crm.test/customer?v=1'"
             params="({ani: ani, n: 2})" headers="({'X-Key': 'k'})" timeout="2.5"/>"""
    )
    assert (errors, fid) == ([], "f1")
    assert fetch.url == "http://crm.test/customer?v=1&ani=0612&n=2"
    assert (fetch.method, fetch.body, fetch.headers) == ("GET", None, (("X-Key", "k"),))
    assert (fetch.timeout, fetch.answer_type) == (2.5, None)


def test_a_post_as_json_and_as_a_form() -> None:
    (json_post, form_post), errors, _ = run(
        """<session:fetch src="https://crm.test/cases" method="post" content="({case: 'A-17'})"
             type="application/json"/>
           <session:fetch src="https://crm.test/cases" method="'PUT'" content="({a: 1, b: 'x y'})"
             enctype="application/x-www-form-urlencoded"/>"""
    )
    assert errors == []
    assert (json_post.method, json_post.body) == ("POST", b'{"case":"A-17"}')
    assert (json_post.content_type, json_post.answer_type) == (
        "application/json",
        "application/json",
    )
    assert (form_post.method, form_post.body) == ("PUT", b"a=1&b=x+y")
    assert form_post.content_type == "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("<session:fetch/>", "give either src or srcexpr"),
        ('<session:fetch src="http://a" srcexpr="\'http://b\'"/>', "give either src or srcexpr"),
        ('<session:fetch src="file:///etc/passwd"/>', "is not an http: or https: URL"),
        ("<session:fetch srcexpr=\"'ftp://x/y'\"/>", "is not an http: or https: URL"),
        ('<session:fetch src="http://a" method="trace"/>', "method 'trace' is not one of"),
        ('<session:fetch src="http://a" params="5"/>', "params must be an object"),
        ('<session:fetch src="http://a" timeout="0"/>', "timeout must be above 0"),
        ('<session:fetch src="http://a" timeout="\'soon\'"/>', "timeout must be a number"),
        (
            '<session:fetch src="http://a" content="[1]" enctype="application/x-www-form-urlencoded"/>',
            "a form body must be",
        ),
        ("<session:wait/>", "<wait> (line 4) is not supported"),
    ],
)
def test_a_wrong_fetch_is_error_execution_and_sends_nothing(action: str, message: str) -> None:
    fetches, errors, fid = run(action)
    assert fetches == []
    assert len(errors) == 1
    assert message in errors[0]
    assert fid == "undefined"
