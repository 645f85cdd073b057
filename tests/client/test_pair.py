"""HotStandbyClient on a hot-standby pair, against a real nats-server and a standalone
pbxsim: what the application sees when the primary is killed (kill -9, in a process of
its own) or stops, the requests in flight at that moment, and the call carried on."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from ctiserver.client import (
    Counts,
    HotStandbyClient,
    PrimaryLost,
    RequestInDoubt,
    SessionResumed,
    TClient,
)
from ctiserver.tlib.vocabulary import TMessage
from tests.client.conftest import ProxyFactory
from tests.client.proxy import Proxy
from tests.client.test_single import QUICK, following, increasing, notice, opened
from tests.ha.conftest import PAIRS, MemberProcess, NatsServer, member_toml, pair_of
from tests.integration.conftest import check, within

A, B = "7001", "7002"
SWITCHOVER = 20.0  # seconds: generous, for a loaded machine


async def primary_first(members: list[MemberProcess]) -> list[MemberProcess]:
    """*members*, the primary first, once one of them has the lease."""
    probes = [await TClient.connect(*m.address, application_name="probe") for m in members]
    try:
        said = [probe.server_info["ServerRole"] for probe in probes]
        if "Primary" not in said:
            waits = [asyncio.create_task(p.wait_for("EventServerInfo")) for p in probes]
            done, pending = await within(
                asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED), SWITCHOVER
            )
            for task in pending:
                task.cancel()
            said = ["Primary" if waits[n] in done else "Backup" for n in range(len(probes))]
        return sorted(members, key=lambda m: said[members.index(m)] != "Primary")
    finally:
        for probe in probes:
            await probe.close()


@contextlib.asynccontextmanager
async def killable_pair(
    nats: NatsServer, switch: tuple[str, int], directory: Path, proxies: ProxyFactory
) -> AsyncIterator[tuple[list[MemberProcess], list[Proxy]]]:
    """Two members in processes of their own, the primary first, each behind a relay."""
    pair = f"s{os.getpid()}x{next(PAIRS)}"
    members = [MemberProcess(member_toml(directory, nats, switch, pair, m)) for m in "ab"]
    try:
        for member in members:
            await member.start()
        members = await primary_first(members)
        yield members, [await proxies(member.address) for member in members]
    finally:
        for member in members:
            await member.close()


async def call_answered(caller: TClient, desk: HotStandbyClient) -> tuple[str, list[TMessage]]:
    """A calls B (the desk) with UserData, the desk answers: (ConnID, the desk's events)."""
    c1 = (await caller.make_call(A, B, user_data={"case": "P-1"}))["ConnID"]
    (ringing,) = await following(desk, "EventRinging")
    check(ringing, "EventRinging", ConnID=c1, UserData={"case": "P-1"})
    established = await desk.answer_call(B, c1)
    assert [established] == await following(desk, "EventEstablished")
    await caller.attach_user_data(A, c1, {"note": "before"})
    (changed,) = await following(desk, "EventAttachedDataChanged")
    return c1, [ringing, established, changed]


async def test_the_stream_across_a_kill_9_of_an_unreachable_primary(
    nats_server: NatsServer, switch: tuple[str, int], tmp_path: Path, proxies: ProxyFactory
) -> None:
    """The primary dies without the desk seeing its connection close (a partition): the
    backup's announcement moves the session, and what the desk never received comes
    first, once."""
    async with killable_pair(nats_server, switch, tmp_path, proxies) as (members, relays):
        desk = await HotStandbyClient.connect(
            [relay.address for relay in reversed(relays)], application_name="desk", **QUICK
        )
        caller = await TClient.connect(*members[0].address, application_name="caller")
        try:
            info = await opened(desk)
            registered = await desk.register_address(B)
            assert [registered] == await following(desk, "EventRegistered")
            await caller.register_address(A)
            c1, before = await call_answered(caller, desk)

            relays[0].holding_down = True  # what the primary sends now never reaches the desk
            relays[0].silent = True  # nor does its death
            await caller.attach_user_data(A, c1, {"late": "held back"})
            await within(relays[0].held_lines(1))
            members[0].kill()
            held = [orjson.loads(line) for line in b"".join(relays[0].held_down).splitlines()]

            lost = await notice(desk)
            new_primary = f"127.0.0.1:{relays[1].address[1]}"
            assert lost == PrimaryLost(
                f"127.0.0.1:{relays[0].address[1]}", f"{new_primary} took over as primary"
            )
            resumed = await notice(desk)
            assert resumed == SessionResumed(
                new_primary, info["ClientSessionID"], before[-1]["EventSequenceNumber"], True
            )
            missed, back, _ = await following(
                desk, "EventAttachedDataChanged", "EventServerInfo", "EventLinkConnected"
            )
            assert [missed] == held  # the very events the desk never received
            check(missed, "EventAttachedDataChanged", ThisDN=B, ConnID=c1)
            check(back, "EventServerInfo", ServerRole="Primary", ClientSessionID=resumed.session_id)
            released = await desk.release_call(B, c1)  # the same ConnID and UserData
            data = {"case": "P-1", "note": "before", "late": "held back"}
            check(released, "EventReleased", ThisDN=B, ConnID=c1, UserData=data)
            assert [released] == await following(desk, "EventReleased")
            increasing([info, registered, *before, missed, back, released])
            assert replace(desk.counts, events=0) == Counts(lost=1, resumed=1, switchovers=1)
        finally:
            await caller.close()
            await desk.close()


async def test_requests_in_flight_when_the_primary_is_killed(
    nats_server: NatsServer, switch: tuple[str, int], tmp_path: Path, proxies: ProxyFactory
) -> None:
    """Answered before the kill but never received: the replay answers it.  Never
    received by the primary: RequestInDoubt.  Made during the switchover: carried out
    by the new primary."""
    async with killable_pair(nats_server, switch, tmp_path, proxies) as (members, relays):
        desk = await HotStandbyClient.connect(
            [relay.address for relay in relays], application_name="desk", **QUICK
        )
        caller = await TClient.connect(*members[0].address, application_name="caller")
        try:
            await opened(desk)
            await desk.register_address(B)
            await following(desk, "EventRegistered")
            await caller.register_address(A)
            c1, _ = await call_answered(caller, desk)

            relays[0].holding_down = True
            answered = asyncio.create_task(desk.attach_user_data(B, c1, {"step": "answered"}))
            await within(relays[0].held_lines(1))  # its answer, held back
            relays[0].holding_up = True
            doubtful = asyncio.create_task(desk.hold_call(B, c1))
            await within(relays[0].held_lines(1, up=True))  # never reaches the primary
            members[0].kill()

            lost = await notice(desk)
            assert isinstance(lost, PrimaryLost), lost
            during = asyncio.create_task(desk.attach_user_data(B, c1, {"step": "during"}))
            assert isinstance(await notice(desk), SessionResumed)
            replayed = await within(answered, SWITCHOVER)
            check(replayed, "EventAttachedDataChanged", ThisDN=B, ConnID=c1)
            assert replayed["UserData"] == {"case": "P-1", "note": "before", "step": "answered"}
            with pytest.raises(RequestInDoubt) as doubt:
                await within(doubtful, SWITCHOVER)
            assert doubt.value.request == "RequestHoldCall"
            carried = await within(during, SWITCHOVER)
            assert carried["UserData"]["step"] == "during"
            events = await following(
                desk,
                "EventAttachedDataChanged",  # the replayed answer, once
                "EventServerInfo",
                "EventLinkConnected",
                "EventAttachedDataChanged",  # the request made during the switchover
            )
            assert [events[0], events[3]] == [replayed, carried]
            counts = replace(desk.counts, events=0)
            assert counts == Counts(lost=1, resumed=1, switchovers=1, in_doubt=1)
            check(await desk.release_call(B, c1), "EventReleased", ConnID=c1)
        finally:
            await caller.close()
            await desk.close()


async def test_a_graceful_stop_of_the_primary(
    nats_server: NatsServer, switch: tuple[str, int]
) -> None:
    async with pair_of(nats_server, switch) as pair:
        primary, backup = await pair.roles()
        desk = await HotStandbyClient.connect(
            [pair.a.address, pair.b.address], application_name="desk", **QUICK
        )
        try:
            info = await opened(desk)
            assert desk.primary == "{}:{}".format(*primary.address)
            await desk.register_address(B)
            await following(desk, "EventRegistered")
            caller = await primary.client(A)
            c1, before = await call_answered(caller, desk)

            primary.service.stop()  # gives the lease up: the backup takes over at once
            lost = await notice(desk)  # nothing more from it: it closes its clients
            assert isinstance(lost, PrimaryLost), lost
            assert lost.address == "{}:{}".format(*primary.address)
            resumed = await notice(desk)
            assert resumed == SessionResumed(
                "{}:{}".format(*backup.address),
                info["ClientSessionID"],
                before[-1]["EventSequenceNumber"],
                True,
            )
            back, _ = await following(desk, "EventServerInfo", "EventLinkConnected")
            assert back["EventSequenceNumber"] > before[-1]["EventSequenceNumber"]
            check(back, "EventServerInfo", ServerRole="Primary", ClientSessionID=resumed.session_id)
            released = await desk.release_call(B, c1)
            check(released, "EventReleased", ConnID=c1, UserData={"case": "P-1", "note": "before"})
            assert [released] == await following(desk, "EventReleased")
        finally:
            await desk.close()
