"""A scriptable CSTA switch for the cases pbxsim is too well-behaved for: a switch that
stops answering, that sends malformed frames, or that forgets a call without telling."""

from __future__ import annotations

import asyncio
import contextlib

from ctiserver.csta.call_control import MakeCall
from ctiserver.csta.enumerations import SystemStatusValue
from ctiserver.csta.failure import CSTAErrorCode, ErrorCategory
from ctiserver.csta.schema import Kind, Message
from ctiserver.csta.session import NEED_DATA, CstaSession, Role
from ctiserver.csta.system import (
    MonitorStart,
    MonitorStartResponse,
    RequestSystemStatus,
    RequestSystemStatusResponse,
    SnapshotCall,
    SnapshotDevice,
    SnapshotDeviceResponse,
    SystemRegister,
    SystemRegisterResponse,
    SystemStatus,
)
from ctiserver.ids import CallId, InvokeId, MonitorCrossRefId


class FakeSwitch:
    """Answers association, monitoring and snapshots; a request of a type in `silent_for`
    it ignores; anything else it refuses with serviceNotSupported, as a switch does.

    `mute = True` makes it ignore keep-alive polls too.  `send_raw()` writes bytes to
    every connected application; `send_event()` an event to them.  A SnapshotCall of a
    call in `forgotten` gets invalidCallID: the switch no longer has it.  A request of a
    type in `hold_for` waits in `held` until `release()` answers it (`most_held` is the
    most that ever waited at once).  MonitorStart for a device in `unknown` is refused
    with invalidMonitorObject.
    """

    def __init__(
        self, *, silent_for: tuple[type, ...] = (MakeCall,), hold_for: tuple[type, ...] = ()
    ) -> None:
        self.silent_for = silent_for
        self.hold_for = hold_for
        self.held: list[tuple[asyncio.StreamWriter, CstaSession, InvokeId, Message]] = []
        self.most_held = 0
        self.unknown: set[str] = set()
        self.mute = False
        self.received: list[Message] = []
        self.arrived = asyncio.Event()
        self._writers: list[tuple[asyncio.StreamWriter, CstaSession]] = []
        self._server: asyncio.Server | None = None
        self.connections = 0
        self.forgotten: set[CallId] = set()

    async def start(self) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer, _ in list(self._writers):
            writer.close()

    async def serve_on(self, host: str, port: int) -> None:
        """Listen on a chosen port (to come back where a switch was)."""
        self._server = await asyncio.start_server(self._serve, host, port)

    def send_raw(self, data: bytes) -> None:
        for writer, _ in self._writers:
            writer.write(data)

    def send_event(self, event: object) -> None:
        for writer, session in self._writers:
            writer.write(session.send_event(event))  # type: ignore[arg-type]

    def release(self) -> int:
        """Answer every held request; how many there were."""
        held, self.held = self.held, []
        for writer, session, invoke_id, message in held:
            reply = self._reply(message)
            assert reply is not None
            writer.write(session.send_response(invoke_id, reply))
        return len(held)

    async def wait_held(self, count: int) -> None:
        """Wait until *count* requests are held; put a timeout around it."""
        while len(self.held) < count:
            self.arrived.clear()
            await self.arrived.wait()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        session = CstaSession(Role.SWITCHING_FUNCTION)
        self._writers.append((writer, session))
        _, greeting = session.send_request(SystemStatus(system_status=SystemStatusValue.NORMAL))
        writer.write(greeting)
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                session.receive_data(data)
                while (inbound := session.next_message()) is not NEED_DATA:
                    self.received.append(inbound.message)
                    self.arrived.set()
                    if isinstance(inbound.message, self.hold_for):
                        self.held.append((writer, session, inbound.invoke_id, inbound.message))
                        self.most_held = max(self.most_held, len(self.held))
                        continue
                    reply = self._reply(inbound.message)
                    if reply is not None:
                        writer.write(session.send_response(inbound.invoke_id, reply))
        self._writers.remove((writer, session))
        writer.close()

    def _reply(self, message: Message) -> Message | None:
        match message:
            case SystemRegister():
                return SystemRegisterResponse(sys_stat_register_id="1")
            case MonitorStart(device_object=device) if device in self.unknown:
                return CSTAErrorCode(category=ErrorCategory.OPERATION, value="invalidMonitorObject")
            case MonitorStart(device_object=device):
                return MonitorStartResponse(monitor_cross_ref_id=MonitorCrossRefId(device))
            case SnapshotDevice():
                return SnapshotDeviceResponse()
            case SnapshotCall(snapshot_object=call) if call.call_id in self.forgotten:
                return CSTAErrorCode(category=ErrorCategory.OPERATION, value="invalidCallID")
            case RequestSystemStatus():
                if self.mute:
                    return None
                return RequestSystemStatusResponse(system_status=SystemStatusValue.NORMAL)
            case _ if isinstance(message, self.silent_for) or message.KIND is not Kind.REQUEST:
                return None
        return CSTAErrorCode(category=ErrorCategory.OPERATION, value="serviceNotSupported")
