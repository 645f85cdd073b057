"""The carriers of the private services on the wire: Escape and PrivateEvent hold
privateData directly, voice-unit messages, and account codes as hexBinary."""

from __future__ import annotations

from ctiserver.csta import codec
from ctiserver.csta.call_information import (
    AssociateData,
    CallInformationEvent,
    account_code_hex,
    account_code_text,
)
from ctiserver.csta.escape import Escape, PrivateEvent
from ctiserver.csta.session import namespace_for
from ctiserver.csta.types import ConnectionID, PrivateData, PrivateElement
from ctiserver.csta.voice import RecordMessage, RecordMessageResponse, Stop
from ctiserver.ids import CallId, DeviceId, MonitorCrossRefId

ED4 = namespace_for("ed4")
NS = "urn:ctiserver:csta:private"
C1 = ConnectionID(CallId("1"), DeviceId("7001"))


def test_escape_carries_private_data_directly() -> None:
    escape = Escape(
        private_data=PrivateData(
            NS,
            (
                PrivateElement(
                    "guestAssociatedExtension",
                    children=(PrivateElement("guest", "7005"), PrivateElement("host", "7001")),
                ),
            ),
        )
    )
    document = codec.encode(escape, namespace=ED4).decode()
    assert f'<Escape xmlns="{ED4}"><privateData><private xmlns:p="{NS}">' in document
    assert "<extensions>" not in document
    assert "<p:guest>7005</p:guest><p:host>7001</p:host>" in document
    assert codec.decode(document.encode()) == escape


def test_private_event_names_its_monitor_then_the_private_data() -> None:
    event = PrivateEvent(
        monitor_cross_ref_id=MonitorCrossRefId("3"),
        private_data=PrivateData(NS, (PrivateElement("guestAssociatedEvent"),)),
    )
    document = codec.encode(event, namespace=ED4).decode()
    assert "<monitorCrossRefID>3</monitorCrossRefID><privateData><private" in document
    assert codec.decode(document.encode()) == event


def test_account_codes_travel_as_hex_binary() -> None:
    assert account_code_hex("1234") == "31323334"
    assert account_code_text("31323334") == "1234"
    assert account_code_text("3132333") is None  # odd length
    assert account_code_text("zz") is None
    assert account_code_text("ff") is None  # not UTF-8
    request = AssociateData(existing_call=C1, account_code="31323334")
    document = codec.encode(request, namespace=ED4).decode()
    assert "<existingCall><callID>1</callID><deviceID>7001</deviceID></existingCall>" in document
    assert "<accountCode>31323334</accountCode>" in document
    event = CallInformationEvent(
        monitor_cross_ref_id=MonitorCrossRefId("1"),
        connection=C1,
        device=DeviceId("7001"),
        account_info="31323334",
    )
    document = codec.encode(event, namespace=ED4).decode()
    assert "<device><deviceIdentifier>7001</deviceIdentifier></device>" in document
    assert "<accountInfo>31323334</accountInfo>" in document


def test_voice_unit_element_names() -> None:
    record = codec.encode(RecordMessage(call_to_be_recorded=C1), namespace=ED4).decode()
    assert "<RecordMessage" in record
    assert "<callToBeRecorded><callID>1</callID>" in record
    response = RecordMessageResponse(resulting_message="4")
    assert (
        "<resultingMessage>4</resultingMessage>" in codec.encode(response, namespace=ED4).decode()
    )
    stop = Stop(connection=C1, message_to_be_stopped="4")
    assert (
        "<messageToBeStopped>4</messageToBeStopped>" in codec.encode(stop, namespace=ED4).decode()
    )
