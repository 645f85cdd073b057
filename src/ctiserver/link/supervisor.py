"""Keeps the CSTA link up: connect, associate, monitor, resynchronise, keep alive, and
reconnect with back-off when the switch goes away.

Bring-up, every time a connection is made:
1. associate: wait for the switch's SystemStatus (implicit style), or start an ECMA-354
   application session;
2. MonitorStart on every configured DN, `request_window` outstanding at a time
   (link/bulk.py);
3. snapshot: SnapshotDevice on every DN, then SnapshotCall on every call found, and hand
   the result to the core, which releases calls that ended while the link was down and
   reports calls that began;
4. report the link up; then poll the switch (RequestSystemStatus, or
   ResetApplicationSessionTimer) every keep-alive interval, and drop the connection
   when a poll goes unanswered.

A DN the switch will not monitor is never left so silently: it is logged (each of the
first few, then a count), counted in `unmonitored`, and asked for again after every
keep-alive poll until the switch accepts it or the DN leaves the configuration.

Every drop is logged once with its reason (the switch closed the connection, a read
failed, the framing was lost, a keep-alive went unanswered, the association failed) and
counted by kind in LinkCounters; a switch that cannot be reached is logged once per
kind of failure, at ERROR the first time since the server started or the link was last
up, with what to check.

Known limit: events that arrive while the snapshots of step 3 are being collected are
applied as they come, and the snapshot is applied when its last part arrives, so a call
that changes within those milliseconds may be reported in its earlier state until its
next event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Protocol

from ctiserver.csta.agents import GetAgentState, GetAgentStateResponse
from ctiserver.csta.enumerations import AgentState
from ctiserver.csta.routeing import RouteRegister, RouteRegisterCancel, RouteRegisterResponse
from ctiserver.csta.schema import Event, Message, Request, Response, Unconfirmed
from ctiserver.csta.session import namespace_for
from ctiserver.csta.system import (
    MonitorStart,
    MonitorStartResponse,
    MonitorStop,
    RequestSystemStatus,
    ResetApplicationSessionTimer,
    SnapshotCall,
    SnapshotCallResponse,
    SnapshotDevice,
    SnapshotDeviceResponse,
    StartApplicationSession,
    StartApplicationSessionPosResponse,
    StopApplicationSession,
    SystemRegister,
)
from ctiserver.csta.types import ConnectionID
from ctiserver.errors import CtiError, LinkDown, ServiceError
from ctiserver.ids import AgentId, CallId, ConnId, DeviceId, MonitorCrossRefId
from ctiserver.link import features as link_features
from ctiserver.link.bulk import request_all
from ctiserver.link.connection import CstaLink, LinkCounters, ReplyCallback
from ctiserver.link.features import FeatureSnapshot
from ctiserver.link.settings import LinkSettings
from ctiserver.link.trace import CstaTrace
from ctiserver.logs.trace import Tracer
from ctiserver.model.resync import SnapshotAgent, SnapshotParty
from ctiserver.model.states import AgentStatus

log = logging.getLogger(__name__)

Snapshot = dict[CallId, list[SnapshotParty]]
AgentSnapshot = dict[DeviceId, SnapshotAgent | None]

# A drop's reason (CstaLink.close_reason) -> its kind, the label of the drop counter.
DROP_KINDS = (
    ("closed the connection", "closed-by-switch"),
    ("reading from the switch failed", "read-error"),
    ("framing", "framing-lost"),
    ("keep-alive", "keepalive-unanswered"),
    ("SystemStatus", "association-failed"),
    ("application session", "association-failed"),
)


def _drop_kind(reason: str) -> str:
    return next((kind for words, kind in DROP_KINDS if words in reason), "other")


def _why(exc: BaseException) -> str:
    """An exception as words an operator reads: its message, else its kind."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower() if exc.strerror[:1].isupper() else exc.strerror
    return str(exc) or type(exc).__name__


# GetAgentState's agentState -> our agent status.
_AGENT_STATES = {
    AgentState.AGENT_READY: AgentStatus.READY,
    AgentState.AGENT_NOT_READY: AgentStatus.NOT_READY,
    AgentState.AGENT_WORKING_AFTER_CALL: AgentStatus.AFTER_CALL_WORK,
    AgentState.AGENT_BUSY: AgentStatus.READY,
}


# How many refused DNs are logged one by one before the rest are only counted.
_REFUSALS_LOGGED = 10


class LinkHooks(Protocol):
    def conn_id_of(self, call_id: str) -> str | None:
        """The ConnID of the call the switch calls *call_id*, if the server knows it."""

    def monitored_dns(self) -> list[DeviceId]: ...

    def routing_points(self) -> list[DeviceId]: ...

    def stations(self, dns: Sequence[DeviceId]) -> list[DeviceId]: ...

    def on_link_up(self) -> None: ...

    def on_link_down(self) -> None: ...

    def on_csta_event(self, dn: DeviceId, event: Event) -> None: ...

    def on_csta_invocation(self, message: Unconfirmed) -> None: ...

    def on_resync(
        self, snapshot: Snapshot, scope: Sequence[DeviceId], agents: AgentSnapshot
    ) -> None: ...

    def on_features(self, features: FeatureSnapshot) -> None:
        """What the switch says the stations have set (DND, forwarding, message waiting)."""


def _no_such_call(reply: Response | BaseException) -> bool:
    """The switch says it has no such call: an empty snapshot, or an invalid call id."""
    if isinstance(reply, SnapshotCallResponse):
        return not reply.snapshot_data
    return isinstance(reply, ServiceError) and reply.value in ("invalidCallID", "invalidCallId")


def _agent_of(reply: GetAgentStateResponse) -> SnapshotAgent | None:
    entry = next((e for e in reply.agent_state_list if e.logged_on_state), None)
    if entry is None:
        return None
    info = entry.agent_info[0] if entry.agent_info else None
    state = info.agent_state if info is not None else None
    return SnapshotAgent(
        agent_id=AgentId(entry.agent_id),
        queue=info.acd_group if info is not None and len(entry.agent_info) == 1 else None,
        status=_AGENT_STATES.get(state, AgentStatus.NOT_READY) if state else AgentStatus.NOT_READY,
    )


class AssociationFailed(CtiError):
    """The switch did not accept or start the association."""


class LinkSupervisor:
    def __init__(
        self,
        settings: LinkSettings,
        hooks: LinkHooks,
        *,
        address: Callable[[], tuple[str, int]],
        tls: ssl.SSLContext | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        """*address* is asked at every attempt (an embedded switch's port varies); *tls*
        is the context of `[switch] tls`, None for plain TCP."""
        self.settings = settings
        self._address = address
        self._tls = tls
        self._hooks = hooks
        self._tracer = tracer
        self.counters = LinkCounters()
        self.connects = 0
        self.connect_failures = 0
        self.drops: dict[str, int] = {}
        self.resyncs = 0
        self._link: CstaLink | None = None
        self._up = False
        self._session_id = ""
        self._monitors: dict[MonitorCrossRefId, DeviceId] = {}
        self._monitor_of: dict[DeviceId, MonitorCrossRefId] = {}
        self._unmonitored: dict[DeviceId, str] = {}  # DN -> why the switch refused it
        self._route_registrations: dict[DeviceId, str] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._unreachable: str | None = None

    @property
    def up(self) -> bool:
        return self._up

    @property
    def arrived(self) -> float | None:
        """When the chunk from the switch being handled now was read (perf_counter)."""
        return self._link.arrived if self._link is not None else None

    @property
    def monitored(self) -> Mapping[DeviceId, MonitorCrossRefId]:
        """The DNs the switch monitors for this link now, each with its monitorCrossRefID."""
        return MappingProxyType(self._monitor_of)

    @property
    def unmonitored(self) -> Mapping[DeviceId, str]:
        """The configured DNs the switch would not monitor on this link, and why."""
        return MappingProxyType(self._unmonitored)

    def submit(self, request: Request, callback: ReplyCallback) -> None:
        """Send a client's request; LinkDown at once when the link is not up."""
        if not self._up or self._link is None:
            callback(LinkDown("the link to the switch is down"))
            return
        self._link.submit(request, callback, timeout=self.settings.reply_timeout)

    async def round_trip(self) -> None:
        """Ask the switch for its status and wait for the answer: every event it sent
        before answering has then been applied."""
        if not self._up or self._link is None:
            raise LinkDown("the link to the switch is down")
        await self._link.request(RequestSystemStatus(), within=self.settings.reply_timeout)

    def send_unconfirmed(self, message: Unconfirmed) -> None:
        if not self._up or self._link is None:
            raise LinkDown("the link to the switch is down")
        self._link.send_unconfirmed(message)

    def change_monitors(
        self, start: Iterable[DeviceId], stop: Iterable[DeviceId]
    ) -> asyncio.Task[None] | None:
        """Follow a configuration change now, if the link is up; the task ends when the new
        DNs are monitored and resynchronised.  A later bring-up uses the new list anyway."""
        if not self._up or self._link is None:
            return None
        return self._in_background(self._change_monitors(self._link, list(start), list(stop)))

    def audit(
        self,
        calls: Sequence[tuple[ConnId, CallId]],
        callback: Callable[[list[ConnId]], None],
    ) -> None:
        """Ask the switch about *calls* (SnapshotCall each); *callback* gets those it
        no longer has.  A call it could not answer for is kept (nothing is assumed)."""
        if not self._up or self._link is None:
            return
        self._in_background(self._audit(self._link, list(calls), callback))

    async def _audit(
        self,
        link: CstaLink,
        calls: list[tuple[ConnId, CallId]],
        callback: Callable[[list[ConnId]], None],
    ) -> None:
        requests = [SnapshotCall(snapshot_object=ConnectionID(call_id=c)) for _, c in calls]
        replies = await self._all(link, requests)
        gone = [
            conn_id
            for (conn_id, _call_id), reply in zip(calls, replies, strict=True)
            if _no_such_call(reply)
        ]
        if gone:
            callback(gone)

    def take_over(self) -> None:
        """The server became the primary of its pair: become the router of the routing
        points and reconcile with the switch (snapshot services).  With the link down,
        bringing it up does both."""
        if self._link is not None and self._up:
            self._in_background(self._take_over(self._link))

    async def _take_over(self, link: CstaLink) -> None:
        points = [p for p in self._hooks.routing_points() if p not in self._route_registrations]
        await self._register_routes(link, points)
        await self._resync(link, self._hooks.monitored_dns())

    def stop_routing(self) -> None:
        """The server is no longer the primary: leave the routing points to the other."""
        if self._link is not None and self._up and self._route_registrations:
            self._in_background(self._cancel_routes(self._link, list(self._route_registrations)))

    def _in_background(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run *work* (named after its coroutine, for the log if it fails)."""
        task = asyncio.create_task(work, name=getattr(work, "__qualname__", "link work"))
        self._background.add(task)
        task.add_done_callback(self._background_done)
        return task

    def _background_done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    # --- the loop ----------------------------------------------------------------------

    async def run(self) -> None:
        delay = self.settings.reconnect_min
        while True:
            host, port = self._address()
            try:
                link = await CstaLink.open(
                    host,
                    port,
                    edition=self.settings.namespace,
                    connect_timeout=self.settings.connect_timeout,
                    on_message=self._on_message,
                    tls=self._tls,
                    trace=self._trace(host, port),
                    counters=self.counters,
                )
            except (OSError, TimeoutError, ssl.SSLError) as exc:
                self.connect_failures += 1
                self._report_unreachable(host, port, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.reconnect_max)
                continue
            log.info("connected to the switch at %s:%d", host, port)
            self.connects += 1
            self._unreachable = None
            if await self._serve(link):
                delay = self.settings.reconnect_min
            log.info("reconnecting to the switch in %.1f s", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.settings.reconnect_max)

    def _trace(self, host: str, port: int) -> CstaTrace | None:
        if self._tracer is None:
            return None
        return CstaTrace(
            self._tracer,
            peer=f"switch {host}:{port}",
            conn_id_of=self._hooks.conn_id_of,
            monitored_dn=lambda ref: self._monitors.get(MonitorCrossRefId(ref)),
        )

    def _report_unreachable(self, host: str, port: int, exc: Exception) -> None:
        """Say once per kind of failure what is wrong and what to check; repeats go to the
        debug log."""
        problem = f"cannot reach the switch at {host}:{port} ({_why(exc)})"
        if problem == self._unreachable:
            log.debug("%s; still retrying", problem)
        else:
            log.error(
                "%s: is the switch running, and is [switch] link right? Retrying every "
                "%.1f s at most; clients are told EventLinkDisconnected meanwhile",
                problem,
                self.settings.reconnect_max,
            )
        self._unreachable = problem

    async def _serve(self, link: CstaLink) -> bool:
        """Run one connection to its end; True if it came all the way up."""
        self._link = link
        reader = asyncio.create_task(link.run(), name="csta-link-reader")
        came_up = stopping = False
        try:
            await self._bring_up(link)
            came_up = True
            self._up = True
            self._hooks.on_link_up()
            await self._keep_alive(link, reader)
        except (CtiError, TimeoutError) as exc:
            link.close(f"{_why(exc)}")
        except asyncio.CancelledError:
            stopping = True
            await self._say_goodbye(link)
            link.close("the server is stopping")
            log.info("link to the switch closed: the server is stopping")
            raise
        else:
            link.close()
        finally:
            if not stopping:
                self._report_drop(link, came_up)
            link.close()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            self._link = None
            self._monitors.clear()
            self._monitor_of.clear()
            self._unmonitored.clear()
            self._route_registrations.clear()
            if self._up:
                self._up = False
                self._hooks.on_link_down()
        return came_up

    def _report_drop(self, link: CstaLink, came_up: bool) -> None:
        reason = link.close_reason or "the connection ended"
        kind = _drop_kind(reason)
        self.drops[kind] = self.drops.get(kind, 0) + 1
        if came_up:
            log.warning("link to the switch dropped: %s", reason)
        else:
            log.error("link to the switch failed while coming up: %s", reason)

    async def _bring_up(self, link: CstaLink) -> None:
        await self._associate(link)
        dns = self._hooks.monitored_dns()
        await self._monitor(link, dns)
        await self._register_routes(link, self._hooks.routing_points())
        await self._resync(link, dns)

    async def _resync(self, link: CstaLink, dns: Sequence[DeviceId]) -> None:
        self.resyncs += 1
        calls, covered = await self._snapshot(link, dns)
        stations = self._hooks.stations(dns)
        agents = await self._agents(link, stations)
        self._hooks.on_resync(calls, covered, agents)
        # The stations' features are asked for after: the link is up (calls and agents
        # are known) without waiting for three more requests per station.
        self._in_background(self._features(link, stations))

    async def _features(self, link: CstaLink, stations: Sequence[DeviceId]) -> None:
        replies = await self._all(link, link_features.requests_for(stations))
        if self._link is link:  # not a link that has gone down meanwhile
            self._hooks.on_features(link_features.features_of(stations, replies))

    async def _associate(self, link: CstaLink) -> None:
        if self.settings.session == "ecma-354":
            await self._start_session(link)
            return
        try:
            async with asyncio.timeout(self.settings.association_timeout):
                status = await link.switch_status
        except TimeoutError:
            raise AssociationFailed(
                f"no SystemStatus from the switch within {self.settings.association_timeout:g} s;"
                ' if it expects an ECMA-354 session, set [switch] session = "ecma-354"'
            ) from None
        log.info("switch system status: %s", status)
        try:
            await link.request(
                SystemRegister(system_status=True), within=self.settings.reply_timeout
            )
        except (CtiError, TimeoutError) as exc:  # optional; not every switch offers it
            log.info("SystemRegister refused (%s); going on without it", exc)

    async def _start_session(self, link: CstaLink) -> None:
        request = StartApplicationSession(
            application_id=self.settings.application_id,
            requested_protocol_versions=(namespace_for(self.settings.namespace),),
            requested_session_duration=self.settings.session_duration,
        )
        response = await link.request(request, within=self.settings.association_timeout)
        if not isinstance(response, StartApplicationSessionPosResponse):
            raise AssociationFailed(f"the switch refused the application session: {response}")
        self._session_id = response.session_id
        log.info("ECMA-354 session %s started", response.session_id)

    async def _say_goodbye(self, link: CstaLink) -> None:
        if self.settings.session == "ecma-354" and self._session_id and not link.closed:
            with contextlib.suppress(CtiError, TimeoutError):
                await link.request(StopApplicationSession(session_id=self._session_id), within=1.0)

    async def _monitor(self, link: CstaLink, dns: Sequence[DeviceId]) -> list[DeviceId]:
        """Monitor *dns*; the ones the switch accepted."""
        replies = await self._all(link, [MonitorStart(device_object=dn) for dn in dns])
        accepted, refused = [], []
        for dn, reply in zip(dns, replies, strict=True):
            if isinstance(reply, MonitorStartResponse):
                self._monitors[reply.monitor_cross_ref_id] = dn
                self._monitor_of[dn] = reply.monitor_cross_ref_id
                self._unmonitored.pop(dn, None)
                accepted.append(dn)
            else:
                refused.append(dn)
                self._unmonitored[dn] = str(reply) or type(reply).__name__
        if refused:
            self._report_refused(refused, len(dns))
        return accepted

    def _report_refused(self, refused: list[DeviceId], asked: int) -> None:
        for dn in refused[:_REFUSALS_LOGGED]:
            log.error("the switch would not monitor DN %s: %s", dn, self._unmonitored[dn])
        log.error(
            "%d of %d DNs are not monitored (%d in all); asking again every %g s",
            len(refused),
            asked,
            len(self._unmonitored),
            self.settings.keepalive_interval,
        )

    async def _monitor_again(self, link: CstaLink) -> None:
        """Ask again for the DNs the switch refused, if they are still configured."""
        wanted = set(self._hooks.monitored_dns())
        for dn in [dn for dn in self._unmonitored if dn not in wanted]:
            del self._unmonitored[dn]
        if self._unmonitored:
            accepted = await self._monitor(link, list(self._unmonitored))
            if accepted:
                log.info("%d DNs are monitored now", len(accepted))
                await self._resync(link, accepted)

    async def _register_routes(self, link: CstaLink, points: Sequence[DeviceId]) -> None:
        """Become the router of each routing point: the switch then sends RouteRequests."""
        replies = await self._all(link, [RouteRegister(routeing_device=p) for p in points])
        for point, reply in zip(points, replies, strict=True):
            if isinstance(reply, RouteRegisterResponse):
                self._route_registrations[point] = reply.route_register_req_id
            else:
                log.error("the switch would not let us route for %s: %s", point, reply)

    async def _cancel_routes(self, link: CstaLink, points: Sequence[DeviceId]) -> None:
        ids = [self._route_registrations.pop(p) for p in points if p in self._route_registrations]
        await self._all(link, [RouteRegisterCancel(route_register_req_id=i) for i in ids])

    async def _snapshot(
        self, link: CstaLink, dns: Sequence[DeviceId]
    ) -> tuple[Snapshot, list[DeviceId]]:
        """The calls at *dns*, and the DNs the snapshot covers: those the switch told
        about in full.  A DN it did not (not monitored, a refused or lost SnapshotDevice,
        or a call of its whose SnapshotCall failed) keeps its calls as the model has them:
        not knowing is not a hang-up."""
        monitored = [dn for dn in dns if dn in self._monitor_of]
        device_replies = await self._all(
            link, [SnapshotDevice(snapshot_object=dn) for dn in monitored]
        )
        at: dict[CallId, list[DeviceId]] = {}  # each call found, and the DNs it was found at
        covered: dict[DeviceId, None] = {}
        for dn, reply in zip(monitored, device_replies, strict=True):
            if isinstance(reply, SnapshotDeviceResponse):
                covered[dn] = None
                for info in reply.snapshot_data:
                    at.setdefault(info.connection_identifier.call_id, []).append(dn)
            else:
                log.warning("no snapshot of DN %s (its calls are kept as they are): %s", dn, reply)
        calls = list(at)
        requests = [SnapshotCall(snapshot_object=ConnectionID(call_id=c)) for c in calls]
        snapshot: Snapshot = {}
        for call_id, reply in zip(calls, await self._all(link, requests), strict=True):
            if isinstance(reply, SnapshotCallResponse):
                snapshot[call_id] = [
                    SnapshotParty(info.device_on_call, info.local_connection_state)
                    for info in reply.snapshot_data
                    if info.device_on_call is not None
                ]
            elif not _no_such_call(reply):
                log.warning("no snapshot of call %s (kept as it is): %s", call_id, reply)
                for dn in at[call_id]:
                    covered.pop(dn, None)
        return snapshot, list(covered)

    async def _agents(self, link: CstaLink, stations: Sequence[DeviceId]) -> AgentSnapshot:
        """Who is logged in on each station (GetAgentState); stations it will not tell
        about are left out, not taken as empty."""
        replies = await self._all(link, [GetAgentState(device=dn) for dn in stations])
        agents: AgentSnapshot = {}
        for dn, reply in zip(stations, replies, strict=True):
            if isinstance(reply, GetAgentStateResponse):
                agents[dn] = _agent_of(reply)
        return agents

    async def _change_monitors(
        self, link: CstaLink, start: list[DeviceId], stop: list[DeviceId]
    ) -> None:
        stops = [
            MonitorStop(monitor_cross_ref_id=self._monitor_of.pop(dn))
            for dn in stop
            if dn in self._monitor_of
        ]
        for request in stops:
            self._monitors.pop(request.monitor_cross_ref_id, None)
        for dn in stop:
            self._unmonitored.pop(dn, None)
        await self._all(link, stops)
        await self._cancel_routes(link, stop)
        await self._monitor(link, start)
        points = set(self._hooks.routing_points())
        await self._register_routes(link, [dn for dn in start if dn in points])
        await self._resync(link, start)

    async def _keep_alive(self, link: CstaLink, reader: asyncio.Task[None]) -> None:
        interval = self.settings.keepalive_interval
        if self.settings.session == "ecma-354":
            interval = min(interval, self.settings.session_duration / 3)
        while not reader.done():
            done, _ = await asyncio.wait({reader}, timeout=interval)
            if done:
                return
            try:
                await link.request(self._poll(), within=self.settings.reply_timeout)
            except (CtiError, TimeoutError) as exc:
                raise LinkDown(f"the switch did not answer a keep-alive: {_why(exc)}") from None
            if self._unmonitored:
                await self._monitor_again(link)

    def _poll(self) -> Request:
        if self.settings.session == "ecma-354":
            return ResetApplicationSessionTimer(
                session_id=self._session_id,
                requested_session_duration=self.settings.session_duration,
            )
        return RequestSystemStatus()

    async def _all(
        self, link: CstaLink, requests: Sequence[Request]
    ) -> list[Response | BaseException]:
        """Send *requests*, `request_window` outstanding at a time (link/bulk.py); each
        reply or failure, in order."""
        return await request_all(
            link,
            requests,
            window=self.settings.request_window,
            within=self.settings.reply_timeout,
        )

    # --- inbound -----------------------------------------------------------------------

    def _on_message(self, message: Message) -> None:
        if isinstance(message, Event):
            dn = self._monitors.get(message.monitor_cross_ref_id)
            if dn is None:
                log.debug(
                    "%s for unknown monitor %s",
                    type(message).__name__,
                    message.monitor_cross_ref_id,
                )
                return
            self._hooks.on_csta_event(dn, message)
        elif isinstance(message, Unconfirmed):
            self._hooks.on_csta_invocation(message)
