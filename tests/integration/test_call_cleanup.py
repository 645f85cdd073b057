"""`[call-cleanup]` through real sockets (docs/configuration.md): a call whose end the
switch reported to nobody is logged once it has been idle for notify-idle-tout, then
checked against the switch once idle for cleanup-idle-tout, and removed when the switch
no longer has it; a quiet call the switch does not deny having is kept."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterator

import pytest

from ctiserver.csta.system import SnapshotCall
from ctiserver.doors.address import Address
from ctiserver.ids import CallId
from ctiserver.tlib.errors import TError
from tests.integration.conftest import SiteFactory, check, expect, within
from tests.integration.fakes import FakeSwitch
from tests.model.events import delivered

A, B, C = "7001", "7002", "7003"
QUICK = {"notify_idle_timeout": 0.3, "cleanup_idle_timeout": 0.6, "periodic_check": 0.1}


class Said(logging.Handler):
    """The server's warnings, each as it is written; wait_for() one with some words."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []
        self._changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self._changed.set()

    async def wait_for(self, words: str) -> str:
        while not (found := [line for line in self.lines if words in line]):
            self._changed.clear()
            await self._changed.wait()
        return found[0]

    def count(self, words: str) -> int:
        return len([line for line in self.lines if words in line])


@pytest.fixture
def said() -> Iterator[Said]:
    handler = Said()
    logger = logging.getLogger("ctiserver")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(min(level or logging.WARNING, logging.WARNING))
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def asked(switch: FakeSwitch, call_id: str, *, times: int) -> None:
    """Until the switch has been asked about *call_id* (SnapshotCall) *times* times."""

    def count() -> int:
        snapshots = [m for m in switch.received if isinstance(m, SnapshotCall)]
        return len([m for m in snapshots if m.snapshot_object.call_id == call_id])

    while count() < times:
        switch.arrived.clear()
        await switch.arrived.wait()


async def test_a_call_the_switch_forgot_is_reported_then_removed(
    make_site: SiteFactory, said: Said
) -> None:
    switch = FakeSwitch()
    host, port = await switch.start()
    try:
        site = await make_site(switch={"link": Address(host, port)}, call_cleanup=QUICK)
        b, c = await site.client(B), await site.client(C)
        switch.send_event(dataclasses.replace(delivered("1", A, B), monitor_cross_ref_id=B))
        stuck = (await expect(b, "EventRinging", ThisDN=B))["ConnID"]
        switch.send_event(dataclasses.replace(delivered("2", A, C), monitor_cross_ref_id=C))
        quiet = (await expect(c, "EventRinging", ThisDN=C))["ConnID"]
        switch.forgotten.add(CallId("1"))  # it ended, and nobody was told

        notice = await within(said.wait_for(f"call {stuck} has had no event"))
        assert notice.endswith("it may be stuck")
        await within(said.wait_for(f"call {stuck} is gone from the switch; removing it"))
        reference = b.send("RequestQueryCall", ThisDN=B, ConnID=stuck)
        await expect(b, "EventError", ErrorCode=TError.INV_CONNID.value, ReferenceID=reference)

        await within(asked(switch, "2", times=2))  # checked, kept, idle still: checked again
        party = await c.request("RequestQueryCall", ThisDN=C, ConnID=quiet)
        check(party, "EventPartyInfo", ConnID=quiet)
        assert said.count(f"call {quiet} is gone") == 0
        assert (said.count(f"call {stuck} has had"), said.count(f"call {quiet} has had")) == (1, 1)
    finally:
        await switch.stop()
