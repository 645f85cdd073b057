"""The pair when its primary dies (kill -9, in a process of its own): the backup takes
over with every call's ConnID and UserData, a desktop resumes its session on it and
misses no event and gets none twice, and the numbering goes on above the old one."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from ctiserver.client.connection import TClient
from tests.ha.conftest import PAIRS, MemberProcess, NatsServer, member_toml
from tests.integration.conftest import check, expect, within

A, B = "7001", "7002"


async def connect(member: MemberProcess, name: str, **options: object) -> TClient:
    return await TClient.connect(*member.address, application_name=name, **options)  # type: ignore[arg-type]


async def roles(members: list[MemberProcess], probes: list[TClient]) -> tuple[int, int]:
    """(primary, backup) indexes, once the lease is taken."""
    said = [probe.server_info["ServerRole"] for probe in probes]
    if "Primary" not in said:
        waits = {asyncio.create_task(p.wait_for("EventServerInfo", ServerRole="Primary")): n for n, p in enumerate(probes)}  # fmt: skip
        done, pending = await within(asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED), 10)
        for task in pending:
            task.cancel()
        said = ["Primary" if waits[task] == n else "Backup" for n in range(2) for task in done]
    primary = said.index("Primary")
    return primary, 1 - primary


async def test_kill_9_of_the_primary(
    nats_server: NatsServer, switch: tuple[str, int], tmp_path: Path
) -> None:
    pair = f"k{os.getpid()}x{next(PAIRS)}"
    members = [MemberProcess(member_toml(tmp_path, nats_server, switch, pair, m)) for m in "ab"]
    clients: list[TClient] = []
    try:
        for member in members:
            await member.start()
        probes = [await connect(member, "probe") for member in members]
        clients += probes
        p, k = await roles(members, probes)
        primary, backup = members[p], members[k]

        a, b = await connect(primary, "desk-a"), await connect(primary, "desk-b")
        clients += [a, b]
        await a.register_address(A)
        await b.register_address(B)
        c1 = (await a.make_call(A, B, user_data={"case": "K-1"}))["ConnID"]
        await b.answer_call(B, c1)
        await a.attach_user_data(A, c1, {"note": "before the kill"})
        before = [await within(b.next_event()) for _ in range(5)]
        assert [e["Event"] for e in before] == [
            "EventServerInfo", "EventLinkConnected", "EventRegistered", "EventRinging",
            "EventEstablished",
        ]  # fmt: skip
        changed = await expect(b, "EventAttachedDataChanged", ConnID=c1)

        primary.kill()
        info = await within(probes[k].wait_for("EventServerInfo", ServerRole="Primary"), 10)
        check(info, "EventServerInfo", ServerRole="Primary")
        assert info["EventSequenceNumber"] > changed["EventSequenceNumber"]

        back = await connect(backup, "desk-b", resume=b.session)
        clients.append(back)
        answer = check(await within(back.next_event()), "EventServerInfo", ServerRole="Primary")
        assert answer["ClientSessionID"] == b.session[0]  # type: ignore[index]
        assert answer["EventSequenceNumber"] > changed["EventSequenceNumber"]
        await expect(back, "EventLinkConnected")
        released = await back.release_call(B, c1)  # the same ConnID, the same UserData
        check(released, "EventReleased", ConnID=c1, ThisDN=B,
              UserData={"case": "K-1", "note": "before the kill"})  # fmt: skip
    finally:
        for client in clients:
            await client.close()
        for member in members:
            await member.close()
