"""The listener through real sockets on 127.0.0.1: both association styles, a call's event
stream, keep-alive, malformed frames, slow links, and restarting the listener."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from ctiserver.csta.call_control import (
    AnswerCall,
    ClearConnection,
    MakeCall,
    MakeCallResponse,
)
from ctiserver.csta.enumerations import LocalConnectionState as S
from ctiserver.csta.enumerations import SystemStatusValue
from ctiserver.csta.events import (
    CallClearedEvent,
    ConnectionClearedEvent,
    DeliveredEvent,
    EstablishedEvent,
    OriginatedEvent,
    ServiceInitiatedEvent,
)
from ctiserver.csta.failure import CSTAErrorCode, ErrorCategory
from ctiserver.csta.framing import FrameBuffer, wrap
from ctiserver.csta.schema import Message
from ctiserver.csta.system import (
    ApplicationSessionTerminated,
    MonitorStart,
    MonitorStartResponse,
    RequestSystemStatus,
    RequestSystemStatusResponse,
    ResetApplicationSessionTimer,
    ResetApplicationSessionTimerPosResponse,
    SnapshotDevice,
    SnapshotDeviceResponse,
    StartApplicationSession,
    StartApplicationSessionPosResponse,
    StopApplicationSession,
    StopApplicationSessionPosResponse,
    SystemRegister,
    SystemRegisterResponse,
    SystemStatus,
)
from ctiserver.csta.voice import RecordMessage, RecordMessageResponse, Stop
from ctiserver.ids import DeviceId, InvokeId
from ctiserver.pbxsim.config import PbxsimSettings
from ctiserver.pbxsim.listener import PbxListener
from ctiserver.pbxsim.outcome import AssociationId, Outcome
from ctiserver.pbxsim.phone import Answer, Dial, HangUp
from ctiserver.pbxsim.switch import Switch

from .client import Client
from .rig import CONFIG, C

ED6 = "http://www.ecma-international.org/standards/ecma-323/csta/ed6"


@pytest.fixture
async def listener() -> AsyncIterator[PbxListener]:
    listener = PbxListener(Switch(CONFIG), "127.0.0.1", 0)
    await listener.start()
    yield listener
    await listener.stop()


@pytest.fixture
async def client(listener: PbxListener) -> AsyncIterator[Client]:
    assert listener.address is not None
    client = await Client.connect(listener.address)
    await client.greeted()
    yield client
    await client.close()


async def monitor(client: Client, device: str) -> str:
    response = await client.request(MonitorStart(device_object=DeviceId(device)))
    assert isinstance(response, MonitorStartResponse)
    return response.monitor_cross_ref_id


async def test_the_greeting_is_one_segment_of_its_own(listener: PbxListener) -> None:
    assert listener.address is not None
    reader, writer = await asyncio.open_connection(*listener.address)
    async with asyncio.timeout(5):
        data = await reader.read(65536)
    (length,) = struct.unpack(">H", data[2:4])
    assert length == len(data)  # exactly one whole frame, as pyssimist's recv(4096) needs
    assert b"<SystemStatus" in data
    assert b"<systemStatus>normal</systemStatus>" in data
    assert b"csta/ed4" in data
    writer.close()


async def test_implicit_association_and_a_basic_call(client: Client) -> None:
    registered = await client.request(SystemRegister(system_status=True))
    assert isinstance(registered, SystemRegisterResponse)
    a, b = await monitor(client, "7001"), await monitor(client, "7002")

    made = await client.request(
        MakeCall(calling_device=DeviceId("7001"), called_directory_number=DeviceId("7002"))
    )
    assert made == MakeCallResponse(calling_device=C(1, "7001"))
    events = await client.events(4)
    assert [(type(e).__name__, e.monitor_cross_ref_id) for e in events] == [
        ("ServiceInitiatedEvent", a),
        ("OriginatedEvent", a),
        ("DeliveredEvent", a),
        ("DeliveredEvent", b),
    ]
    assert isinstance(events[0], ServiceInitiatedEvent)
    assert isinstance(events[1], OriginatedEvent)
    assert events[1].local_connection_info is S.CONNECTED
    assert isinstance(events[3], DeliveredEvent)
    assert events[3].local_connection_info is S.ALERTING

    await client.request(AnswerCall(call_to_be_answered=C(1, "7002")))
    established = await client.events(2)
    assert {type(e) for e in established} == {EstablishedEvent}

    await client.request(ClearConnection(connection_to_be_cleared=C(1, "7001")))
    cleared = await client.events(4)
    assert [type(e) for e in cleared] == [
        ConnectionClearedEvent,
        ConnectionClearedEvent,
        ConnectionClearedEvent,
        CallClearedEvent,
    ]


async def test_invoke_ids_are_echoed_as_received_even_when_reused(
    listener: PbxListener,
) -> None:
    assert listener.address is not None
    reader, writer = await asyncio.open_connection(*listener.address)
    frames = FrameBuffer()
    request = b"<RequestSystemStatus/>"
    writer.write(wrap(InvokeId(4321), request) + wrap(InvokeId(4321), request))
    writer.write(
        wrap(
            InvokeId(7),
            b"<MonitorStart><monitorObject><deviceObject>7001"
            b"</deviceObject></monitorObject></MonitorStart>",
        )
    )
    writer.write(
        wrap(
            InvokeId(8),
            b"<MakeCall><callingDevice>7001</callingDevice>"
            b"<calledDirectoryNumber>7002</calledDirectoryNumber></MakeCall>",
        )
    )
    seen: list[tuple[int, bytes]] = []
    async with asyncio.timeout(5):
        while len(seen) < 6:
            frames.feed(await reader.read(65536))
            while (frame := frames.next_frame()) is not None:
                seen.append((frame.invoke_id, frame.document))
    assert [invoke_id for invoke_id, _ in seen][:6] == [1, 4321, 4321, 7, 8, 9999]
    assert b"<RequestSystemStatusResponse" in seen[1][1]
    assert b"<ServiceInitiatedEvent" in seen[5][1]
    writer.close()


async def test_ecma_354_session_with_keep_alive(listener: PbxListener) -> None:
    assert listener.address is not None
    client = await Client.connect(listener.address)
    greeting = await client.next()  # an ECMA-354 application need not answer it
    assert isinstance(greeting.message, SystemStatus)
    started = await client.request(
        StartApplicationSession(
            application_id="test",
            requested_protocol_versions=(ED6,),
            requested_session_duration=60,
        )
    )
    assert isinstance(started, StartApplicationSessionPosResponse)
    assert started.actual_protocol_version == ED6
    reset = await client.request(ResetApplicationSessionTimer(session_id=started.session_id))
    assert reset == ResetApplicationSessionTimerPosResponse(actual_session_duration=60)
    status = await client.request(RequestSystemStatus())
    assert status == RequestSystemStatusResponse(system_status=SystemStatusValue.NORMAL)
    client.raw.clear()
    await monitor(client, "7001")
    assert b"csta/ed6" in client.raw  # the negotiated edition from now on
    stopped = await client.request(StopApplicationSession(session_id=started.session_id))
    assert stopped == StopApplicationSessionPosResponse()
    assert await client.closed()


async def test_an_expired_session_is_terminated(listener: PbxListener) -> None:
    assert listener.address is not None
    client = await Client.connect(listener.address)
    await client.greeted()
    await client.request(
        StartApplicationSession(application_id="test", requested_session_duration=1)
    )
    terminated = await client.expect(ApplicationSessionTerminated)
    assert terminated.defined_term_reason == "sessionTimerExpired"
    assert await client.closed()
    assert listener.switch.view().associations == ()


async def test_malformed_frames_are_answered_and_survived(client: Client) -> None:
    generic = CSTAErrorCode(category=ErrorCategory.OPERATION, value="generic")
    not_supported = CSTAErrorCode(category=ErrorCategory.OPERATION, value="serviceNotSupported")
    broken_xml = client.reserve()
    client.send_raw(wrap(broken_xml, b"<MakeCall><callingDevice>7001"))
    assert await client.reply(broken_xml) == generic
    unknown = client.reserve()
    client.send_raw(wrap(unknown, b"<Frobnicate/>"))
    assert await client.reply(unknown) == not_supported
    soap = client.reserve()  # a frame whose format word says SOAP
    client.send_raw(struct.pack(">HH4s", 1, 12, b"%04d" % soap) + b"<x/>")
    assert await client.reply(soap) == generic
    incomplete = client.reserve()
    client.send_raw(wrap(incomplete, b"<MonitorStart/>"))  # lacks its monitor object
    assert await client.reply(incomplete) == generic
    assert isinstance(await client.request(RequestSystemStatus()), RequestSystemStatusResponse)


async def test_lost_framing_drops_only_that_link(listener: PbxListener, client: Client) -> None:
    assert listener.address is not None
    other = await Client.connect(listener.address)
    await other.greeted()
    other.send_raw(b"\x00\x00\x00\x030001")  # a length shorter than the header
    assert await other.closed()
    assert isinstance(await client.request(RequestSystemStatus()), RequestSystemStatusResponse)


async def test_phone_actions_reach_the_monitors(listener: PbxListener, client: Client) -> None:
    await monitor(client, "7002")
    listener.act(Dial(DeviceId("7001"), DeviceId("7002")))
    delivered = await client.expect(DeliveredEvent)
    assert delivered.connection == C(1, "7002")
    listener.act(Answer(DeviceId("7002")))
    assert (await client.expect(EstablishedEvent)).answering_device == "7002"


async def test_a_link_that_does_not_read_is_dropped_without_blocking_others() -> None:
    listener = PbxListener(Switch(CONFIG), "127.0.0.1", 0, max_buffered=64 * 1024)
    address = await listener.start()
    a, b = DeviceId("7001"), DeviceId("7002")
    try:
        sleeper = await Client.connect(address, receive_buffer=4096)
        await sleeper.greeted()
        await monitor(sleeper, "7001")  # and from now on it reads nothing
        reader = await Client.connect(address)
        await reader.greeted()
        await monitor(reader, "7001")
        for _ in range(5000):
            listener.act(Dial(a, b))
            listener.act(Answer(b))
            listener.act(HangUp(a))
            await reader.events(5)  # the reading link keeps up all along
            if len(listener.switch.view().associations) == 1:
                break
        else:
            pytest.fail("the link that does not read was never dropped")
        assert await sleeper.closed()
        await reader.close()
    finally:
        await listener.stop()


async def test_stop_and_start_keep_the_calls(listener: PbxListener, client: Client) -> None:
    await client.request(
        MakeCall(calling_device=DeviceId("7001"), called_directory_number=DeviceId("7002"))
    )
    address = listener.address
    await listener.stop()
    assert listener.address is None
    assert await client.closed()
    assert await listener.start() == address
    again = await Client.connect(address)  # type: ignore[arg-type]
    await again.greeted()
    snapshot = await again.request(SnapshotDevice(snapshot_object=DeviceId("7002")))
    assert isinstance(snapshot, SnapshotDeviceResponse)
    assert [info.local_call_state for info in snapshot.snapshot_data] == [S.ALERTING]
    await again.close()


async def test_run_serves_until_cancelled() -> None:
    listener = PbxListener(Switch(CONFIG), "127.0.0.1", 0)
    await listener.start()
    task = asyncio.create_task(listener.run())
    assert listener.address is not None
    client = await Client.connect(listener.address)
    await client.greeted()
    assert isinstance(await client.request(RequestSystemStatus()), RequestSystemStatusResponse)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await client.closed()
    assert listener.address is None


class BrokenSwitch(Switch):
    """A switch with a bug in one service."""

    def handle(self, association: AssociationId, message: Message, *, now: float) -> Outcome:
        if isinstance(message, MakeCall):
            raise RuntimeError("a bug")
        return super().handle(association, message, now=now)


async def test_a_switch_bug_is_answered_and_the_link_survives(
    caplog: pytest.LogCaptureFixture,
) -> None:
    listener = PbxListener(BrokenSwitch(CONFIG), "127.0.0.1", 0)
    client = await Client.connect(await listener.start())
    try:
        await client.greeted()
        reply = await client.request(
            MakeCall(calling_device=DeviceId("7001"), called_directory_number=DeviceId("7002"))
        )
        assert reply == CSTAErrorCode(category=ErrorCategory.OPERATION, value="generic")
        assert "a bug" in caplog.text
        assert isinstance(await client.request(RequestSystemStatus()), RequestSystemStatusResponse)
    finally:
        await client.close()
        await listener.stop()


async def test_ended_recordings_are_appended_to_the_recordings_file(tmp_path: Path) -> None:
    path = tmp_path / "recordings.jsonl"
    listener = PbxListener(
        Switch(replace(CONFIG, settings=PbxsimSettings(recordings=path))), "127.0.0.1", 0
    )
    address = await listener.start()
    client = await Client.connect(address)
    try:
        await client.greeted()
        listener.act(Dial("7001", "7002"))
        listener.act(Answer("7002"))
        response = await client.request(RecordMessage(call_to_be_recorded=C(1, "7001")))
        assert isinstance(response, RecordMessageResponse)
        await client.request(RecordMessage(call_to_be_recorded=C(1, "7002")))
        await client.request(Stop(connection=C(1, "7002")))
        listener.act(HangUp("7002"))
    finally:
        await client.close()
        await listener.stop()
    first, second = (json.loads(line) for line in path.read_text().splitlines())
    assert (first["recording"], first["device"], first["reason"]) == ("2", "7002", "requested")
    assert (second["recording"], second["device"], second["reason"]) == ("1", "7001", "call ended")
    assert second["call"] == "1"
    assert second["started"].endswith("Z")
    assert second["started"] <= first["stopped"] <= second["stopped"]


async def test_the_listener_caps_its_links_per_address() -> None:
    listener = PbxListener(Switch(CONFIG), "127.0.0.1", 0, max_links=4, max_links_per_address=2)
    address = await listener.start()
    try:
        first, second = await Client.connect(address), await Client.connect(address)
        await first.greeted()
        await second.greeted()
        reader, writer = await asyncio.open_connection(*address)
        assert await asyncio.wait_for(reader.read(), 5) == b""  # the third: closed, ungreeted
        writer.close()
        assert (listener.admission.count, listener.admission.refused) == (2, 1)
        await first.close()
        await second.close()
    finally:
        await listener.stop()
