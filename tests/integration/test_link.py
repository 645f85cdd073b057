"""The CSTA link: loss and resync against pbxsim, a silent switch, a switch sending
garbage (DESIGN.md § 1, issue: link supervision)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import pytest

from ctiserver.app.config import Address
from ctiserver.client.connection import TClient
from ctiserver.csta.failure import ErrorCategory
from ctiserver.csta.framing import wrap
from ctiserver.csta.schema import Message
from ctiserver.csta.system import SnapshotDevice
from ctiserver.doors.lograte import RateLimitedLog
from ctiserver.ids import DeviceId, InvokeId
from ctiserver.link import connection
from ctiserver.pbxsim.listener import PbxListener
from ctiserver.pbxsim.outcome import Refused, TimerKind
from ctiserver.pbxsim.phone import HangUp
from ctiserver.pbxsim.state import Context
from ctiserver.pbxsim.switch import SERVICES
from tests.integration.conftest import Site, SiteFactory, check, expect, within
from tests.integration.fakes import FakeSwitch
from tests.model.events import delivered

A, B, C = "7001", "7002", "7003"


@dataclasses.dataclass
class Outage:
    """A call A-B established and one from C ringing at 7004, then the link down."""

    a: TClient
    b: TClient
    c: TClient
    established: str
    doomed: str
    listener: PbxListener


async def link_down_with_two_calls(site: Site) -> Outage:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    established = (await a.make_call(A, B))["ConnID"]
    await expect(a, "EventDialing")
    await expect(b, "EventRinging")
    await b.answer_call(B, established)
    await expect(b, "EventEstablished")
    await expect(a, "EventEstablished")
    doomed = (await c.make_call(C, "7004"))["ConnID"]
    await expect(c, "EventDialing")

    listener = site.service.embedded.listener  # type: ignore[union-attr]
    await listener.stop()
    for client in (a, b, c):
        await expect(client, "EventLinkDisconnected", ReferenceID=None)
    return Outage(a, b, c, established, doomed, listener)


async def test_link_loss_and_resync_keep_state_and_report_changes(site: Site) -> None:
    o = await link_down_with_two_calls(site)
    a, b, c, established, doomed, listener = o.a, o.b, o.c, o.established, o.doomed, o.listener
    reference = a.send("RequestMakeCall", ThisDN=A, OtherDN=C)
    await expect(a, "EventError", ErrorCode=54, ReferenceID=reference)

    listener.act(HangUp(DeviceId(C)))  # the call at C ends while the link is down
    await listener.start()
    await expect(c, "EventReleased", ConnID=doomed, ThisDN=C)
    for client in (a, b, c):
        await expect(client, "EventLinkConnected")
    info = await a.query_address(A)
    check(info, "EventAddressInfo", InfoStatus="Talking")
    assert info["Extensions"]["conn-1"] == established
    released = await a.release_call(A, established)
    check(released, "EventReleased", ConnID=established)


async def test_a_dn_the_switch_gives_no_snapshot_of_keeps_its_calls(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an outage the switch will not tell about A and B (their SnapshotDevice is
    refused): their call is kept as it was, not released; C, which the switch told about,
    loses the call that ended meanwhile."""
    o = await link_down_with_two_calls(site)
    a, b, c, established, doomed, listener = o.a, o.b, o.c, o.established, o.doomed, o.listener
    listener.act(HangUp(DeviceId(C)))
    snapshot_device = SERVICES[SnapshotDevice]

    def refused_for_a_and_b(ctx: Context, request: Message) -> None:
        assert isinstance(request, SnapshotDevice)
        if request.snapshot_object in (A, B):
            raise Refused(ErrorCategory.SYSTEM_RESOURCE_AVAILABILITY, "resourceBusy")
        snapshot_device(ctx, request)

    monkeypatch.setitem(SERVICES, SnapshotDevice, refused_for_a_and_b)
    await listener.start()
    await expect(c, "EventReleased", ConnID=doomed, ThisDN=C)
    for client in (a, b, c):
        await expect(client, "EventLinkConnected")
    for client, dn in ((a, A), (b, B)):
        info = await client.query_address(dn)
        check(info, "EventAddressInfo", InfoStatus="Talking")
        assert info["Extensions"]["conn-1"] == established
    released = await a.release_call(A, established)  # and the switch still has it
    check(released, "EventReleased", ConnID=established)
    await within(b.wait_for("EventReleased", ConnID=established))


async def test_a_switch_that_stops_answering(make_site: SiteFactory) -> None:
    switch = FakeSwitch()
    host, port = await switch.start()
    try:
        site = await make_site(
            switch={"link": Address(host, port), "reply_timeout": 0.3, "keepalive_interval": 0.5}
        )
        a = await site.client(A)
        reference = a.send("RequestMakeCall", ThisDN=A, OtherDN=B)
        error = await expect(a, "EventError", ErrorCode=57, ReferenceID=reference)
        assert "did not answer RequestMakeCall" in error["ErrorMessage"]
        switch.mute = True  # keep-alive polls go unanswered: the link is dropped, then rebuilt
        await expect(a, "EventLinkDisconnected")
        switch.mute = False
        await expect(a, "EventLinkConnected")
        assert switch.connections >= 2
    finally:
        await switch.stop()


async def test_malformed_frames_from_the_switch_are_logged_and_survived(
    make_site: SiteFactory,
) -> None:
    switch = FakeSwitch()
    host, port = await switch.start()
    try:
        site = await make_site(switch={"link": Address(host, port)})
        b = await site.client(B)
        bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><DeliveredEvent>&b;</DeliveredEvent>'
        switch.send_raw(wrap(InvokeId(9999), b"<broken"))
        switch.send_raw(wrap(InvokeId(9999), bomb))
        switch.send_raw(b"\x00\x07\x00\x0c9999abcd")  # a SOAP-flavoured format word
        switch.send_event(dataclasses.replace(delivered("1", A, B), monitor_cross_ref_id=B))
        ringing = await expect(b, "EventRinging", ThisDN=B, OtherDN=A)
        assert ringing["CallID"] == "1"
    finally:
        await switch.stop()


async def test_a_switch_sending_garbage_without_end_writes_one_log_line(
    make_site: SiteFactory, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """500 malformed frames in a burst: each is counted and skipped, and the log gets one
    line about them, not 500 (a switch like this once wrote 257 MB of log in minutes)."""
    monkeypatch.setattr(connection, "troubles", RateLimitedLog(connection.log))  # fresh
    caplog.set_level(logging.WARNING, logger=connection.log.name)
    switch = FakeSwitch()
    host, port = await switch.start()
    try:
        site = await make_site(switch={"link": Address(host, port)})
        b = await site.client(B)
        switch.send_raw(wrap(InvokeId(9999), b"<broken") * 500)
        switch.send_event(dataclasses.replace(delivered("1", A, B), monitor_cross_ref_id=B))
        await expect(b, "EventRinging", ThisDN=B, OtherDN=A)  # the link survived them all
        assert b"ctiserver_csta_protocol_errors_total 500.0" in site.service.metrics.render()
        said = [r for r in caplog.records if "CSTA protocol error" in r.getMessage()]
        assert len(said) == 1
    finally:
        await switch.stop()


class Said(logging.Handler):
    """The log records holding *text*; `enough` is set once there are *count* of them."""

    def __init__(self, text: str, count: int) -> None:
        super().__init__(logging.DEBUG)
        self.text, self.count = text, count
        self.records: list[logging.LogRecord] = []
        self.enough = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.records.append(record)
            if len(self.records) >= self.count:
                self.enough.set()


async def test_a_switch_that_cannot_be_reached_is_retried(
    make_site: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Retried, and said once at ERROR with what to check (the repeats go to DEBUG)."""
    caplog.set_level(logging.DEBUG, logger="ctiserver.link.supervisor")  # for the repeats
    said = Said("cannot reach the switch", 3)
    logging.getLogger("ctiserver.link.supervisor").addHandler(said)
    gone = FakeSwitch()
    host, port = await gone.start()
    await gone.stop()  # nothing listens there now
    site = await make_site(switch={"link": Address(host, port)})
    try:
        a = await site.client(link_up=False)  # registers while the link is down
        await within(said.enough.wait())  # three attempts, 0.05 to 0.2 s apart
    finally:
        logging.getLogger("ctiserver.link.supervisor").removeHandler(said)
    assert [r.levelno for r in said.records[:3]] == [logging.ERROR, logging.DEBUG, logging.DEBUG]
    first = said.records[0]
    assert f"cannot reach the switch at {host}:{port}" in first.getMessage()
    assert "is the switch running, and is [switch] link right?" in first.getMessage()
    switch = FakeSwitch()
    await switch.serve_on(host, port)
    try:
        await within(a.wait_for("EventLinkConnected"))
    finally:
        await switch.stop()


async def test_an_ecma_354_session_in_another_edition(make_site: SiteFactory) -> None:
    site = await make_site(
        switch={"session": "ecma-354", "namespace": "ed6", "keepalive_interval": 0.2}
    )
    a, b = await site.client(A), await site.client(B)
    dialing = await a.make_call(A, B)
    await expect(a, "EventDialing")
    await expect(b, "EventRinging", ConnID=dialing["ConnID"])
    view = site.service.embedded.switch.view()  # type: ignore[union-attr]
    sessions = [timer for timer, _ in view.timers if timer.kind is TimerKind.SESSION_EXPIRY]
    assert len(sessions) == 1  # an ECMA-354 session is open, and kept alive


async def test_a_restarted_server_learns_the_agents_and_calls_from_the_switch(
    make_site: SiteFactory,
) -> None:
    from ctiserver.app.parts import pbx_config
    from ctiserver.pbxsim.listener import PbxListener
    from ctiserver.pbxsim.switch import Switch
    from tests.integration.conftest import site_config

    listener = PbxListener(Switch(pbx_config(site_config())), "127.0.0.1", 0)
    host, port = await listener.start()
    try:
        first = await make_site(switch={"link": Address(host, port)})
        a, d = await first.client(A), await first.client("7004")
        await d.agent_login("7004", "1001", queue="8001", work_mode="AutoIn")
        await expect(d, "EventAgentLogin")
        await expect(d, "EventAgentReady")
        c1 = (await a.make_call(A, B))["ConnID"]
        await first.close()
        first.service.stop()

        second = await make_site(switch={"link": Address(host, port)})
        watcher = await second.client()
        registered = await watcher.register_address("7004")
        check(registered, "EventRegistered", AgentID="1001")
        assert registered["Extensions"]["AgentStatus"] == "Ready"
        await expect(watcher, "EventRegistered")
        calling = await watcher.register_address(A)
        assert calling["Extensions"]["calls"] == 1
        assert calling["Extensions"]["conn-1"] != c1  # a new server gives the call a new ConnID
    finally:
        await listener.stop()
