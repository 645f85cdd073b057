from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctiserver.csta import codec
from ctiserver.csta.call_control import MakeCall
from ctiserver.csta.enumerations import EventCause, LocalConnectionState
from ctiserver.csta.events import OriginatedEvent, ServiceInitiatedEvent
from ctiserver.csta.failure import CSTAErrorCode, ErrorCategory
from ctiserver.csta.framing import HEADER
from ctiserver.csta.session import namespace_for
from ctiserver.csta.system import MonitorStart, SystemRegisterResponse
from ctiserver.csta.types import ConnectionID
from ctiserver.errors import LocalProtocolError
from tests.csta.strategies import messages
from tests.shared import SHARED

ED4 = namespace_for("ed4")
SAMPLES = (SHARED or Path("/nonexistent")) / "reference/csta/samples"


@settings(max_examples=400)
@given(messages(), st.sampled_from(["ed3", "ed4", "ed6"]))
def test_round_trip(message: object, edition: str) -> None:
    document = codec.encode(message, namespace=namespace_for(edition))  # type: ignore[arg-type]
    assert codec.decode(document) == message


@given(st.binary(max_size=2048))
def test_garbage_fails_only_with_local_protocol_error(data: bytes) -> None:
    with contextlib.suppress(LocalProtocolError):
        codec.decode(data)


@given(st.text(max_size=300))
def test_garbage_text_fails_only_with_local_protocol_error(text: str) -> None:
    with contextlib.suppress(LocalProtocolError):
        codec.decode(f'<MakeCall xmlns="{ED4}">{text}</MakeCall>'.encode())


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<MakeCall><callingDevice>&lol2;</callingDevice><calledDirectoryNumber>1</calledDirectoryNumber></MakeCall>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<MakeCall><callingDevice>&secret;</callingDevice><calledDirectoryNumber>1</calledDirectoryNumber></MakeCall>"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["bomb", "xxe"])
def test_dtds_and_entities_are_refused(document: bytes) -> None:
    with pytest.raises(LocalProtocolError, match="DTD"):
        codec.decode(document)


def test_elements_out_of_schema_order_and_unknown_ones_are_read() -> None:
    document = f"""<MakeCall xmlns="{ED4}"><vendorThing>x</vendorThing>
        <calledDirectoryNumber> 7002 </calledDirectoryNumber>
        <callingDevice typeOfNumber="explicitPublic:subscriber">7001</callingDevice></MakeCall>"""
    assert codec.decode(document.encode()) == MakeCall(
        calling_device="7001", called_directory_number="7002"
    )


@pytest.mark.parametrize(
    "namespace",
    ["", "http://www.ecma-international.org/standards/ecma-323/csta/ed3", namespace_for("ed6")],
)
def test_any_edition_or_no_namespace_is_accepted(namespace: str) -> None:
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    document = f"<MonitorStart{xmlns}><monitorObject><deviceObject>7001</deviceObject></monitorObject></MonitorStart>"
    assert codec.decode(document.encode()) == MonitorStart(device_object="7001")


def test_foreign_namespace_is_refused() -> None:
    with pytest.raises(LocalProtocolError, match="unknown namespace"):
        codec.decode(b'<MakeCall xmlns="urn:other"><callingDevice>1</callingDevice></MakeCall>')


def test_missing_required_element_is_named() -> None:
    with pytest.raises(LocalProtocolError, match="MakeCall lacks calledDirectoryNumber"):
        codec.decode(
            f'<MakeCall xmlns="{ED4}"><callingDevice>1</callingDevice></MakeCall>'.encode()
        )


def test_unknown_message_is_named() -> None:
    with pytest.raises(LocalProtocolError, match="unknown CSTA message Frobnicate"):
        codec.decode(f'<Frobnicate xmlns="{ED4}"/>'.encode())


def test_error_code_is_read_by_category() -> None:
    document = (
        f'<CSTAErrorCode xmlns="{ED4}"><operation>invalidDeviceID</operation></CSTAErrorCode>'
    )
    assert codec.decode(document.encode()) == CSTAErrorCode(
        category=ErrorCategory.OPERATION, value="invalidDeviceID"
    )


def test_encoding_declared_in_the_document_is_honoured() -> None:
    document = f'<?xml version="1.0" encoding="ISO-8859-1"?><MakeCall xmlns="{ED4}"><callingDevice>J\xfcrgen</callingDevice><calledDirectoryNumber>1</calledDirectoryNumber></MakeCall>'
    message = codec.decode(document.encode("latin-1"))
    assert isinstance(message, MakeCall)
    assert message.calling_device == "Jürgen"


# --- real frames from an OpenScape Voice trace, kept in ../shared (not copied here) ------


def _osv_frames() -> list[bytes]:
    text = (SAMPLES / "pyssimist-embedded-osv-frames.txt").read_text()
    documents = []
    for block in text.split("=== header:")[1:3]:
        documents.append(block.split("\n", 1)[1].strip().encode())
    return documents


@pytest.mark.skipif(
    not SAMPLES.exists(), reason="the shared reference folder (../shared) is absent"
)
def test_real_openscape_voice_events_decode() -> None:
    initiated, originated = (codec.decode(document) for document in _osv_frames())
    assert initiated == ServiceInitiatedEvent(
        monitor_cross_ref_id="1169730059",
        initiated_connection=ConnectionID("FF000100000000002D65C85C1C750000", "302118840100"),
        initiating_device="N<302118840100>;noa=nk",
        local_connection_info=LocalConnectionState.INITIATED,
        cause=EventCause.MAKE_CALL,
        private_data=initiated.private_data,  # type: ignore[attr-defined]
    )
    assert initiated.private_data.elements[0].name == "extendedServicesPermitted"  # type: ignore[attr-defined]
    assert isinstance(originated, OriginatedEvent)
    assert originated.called_device == "N<302118840101>;displayNumber=302118840101;noa=nk"
    assert originated.cause is EventCause.NEW_CALL


@pytest.mark.skipif(
    not SAMPLES.exists(), reason="the shared reference folder (../shared) is absent"
)
def test_loopback_trace_frames_decode() -> None:
    trace = json.loads((SAMPLES / "pyssimist-loopback-trace.json").read_text())
    for frame in trace["frames"]:
        message = codec.decode(frame["xml"].encode())
        assert type(message).__name__ == frame["root"].rpartition("}")[2]
    no_namespace = [f for f in trace["frames"] if not f["root"].startswith("{")]
    assert isinstance(codec.decode(no_namespace[0]["xml"].encode()), SystemRegisterResponse)


def test_header_layout_matches_the_trace() -> None:
    # the first frame of the loopback trace begins 00 00 01 8b 30 30 30 30
    assert HEADER.unpack(bytes.fromhex("0000018b30303030")) == (0, 395, b"0000")
