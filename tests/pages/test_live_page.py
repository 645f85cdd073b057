"""One dashboard page's queue: a page that stops reading costs bounded memory, and gets
a fresh snapshot (never a gap) once it reads again."""

from __future__ import annotations

import asyncio

from aiohttp import WSMsgType

from ctiserver.http.live import LivePage
from ctiserver.server.buffers import BufferBudget


class SlowSocket:
    """A WebSocket whose reader takes its frames only when let."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.reading = asyncio.Event()
        self.closed_with: int | None = None

    async def send_frame(self, message: bytes, opcode: WSMsgType) -> None:
        assert opcode is WSMsgType.TEXT
        await self.reading.wait()
        self.frames.append(message)

    async def close(self, *, code: int) -> bool:
        self.closed_with = code
        return True


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_page_gets_a_snapshot_then_the_deltas_in_order() -> None:
    socket = SlowSocket()
    socket.reading.set()
    page = LivePage(socket, "test")
    writer = asyncio.create_task(page.run_writer(lambda: b"snapshot"))
    await settle()
    page.send(b"delta 1")
    page.send(b"delta 2")
    page.reply(b"answer")
    await settle()
    assert socket.frames == [b"snapshot", b"delta 1", b"delta 2", b"answer"]
    page.close()
    await writer
    assert socket.closed_with == 1001


async def test_a_page_that_falls_behind_drops_its_deltas_and_gets_a_fresh_snapshot() -> None:
    socket = SlowSocket()
    snapshots = iter([b"snapshot 1", b"snapshot 2"])
    page = LivePage(socket, "test", limit=100)
    writer = asyncio.create_task(page.run_writer(lambda: next(snapshots)))
    await settle()  # the writer waits in the first send: the page does not read
    for n in range(20):
        page.send(b"delta %02d" % n)  # 8 bytes each: the twelfth goes over the limit
    page.reply(b"answer")  # an answer to the page's own question is kept
    page.send(b"delta after")  # dropped: the page waits for its snapshot
    socket.reading.set()
    await settle()
    assert socket.frames == [b"snapshot 1", b"answer", b"snapshot 2"]  # and no delta
    page.send(b"delta 20")
    await settle()
    assert socket.frames[-1] == b"delta 20"
    page.close()
    await writer


async def test_a_page_that_asks_and_does_not_read_is_closed() -> None:
    socket = SlowSocket()
    page = LivePage(socket, "test", limit=100)
    writer = asyncio.create_task(page.run_writer(lambda: b"snapshot"))
    await settle()
    for _ in range(20):
        page.reply(b"an answer")  # 9 bytes each: the twelfth goes over the limit
    socket.reading.set()
    await writer  # the page closed itself
    assert socket.frames == [b"snapshot"]
    assert socket.closed_with == 1001


async def test_pages_count_in_the_bound_on_all_client_buffers() -> None:
    budget = BufferBudget(120)
    slow, quick = SlowSocket(), SlowSocket()
    quick.reading.set()
    behind, reading = (
        LivePage(slow, "behind", budget=budget),
        LivePage(quick, "reading", budget=budget),
    )
    writers = [asyncio.create_task(p.run_writer(lambda: b"snapshot")) for p in (behind, reading)]
    await settle()
    for n in range(8):
        behind.send(b"delta %02d!!!!" % n)  # 12 bytes each: 96 held in the end
        reading.send(b"delta %02d!!!!" % n)  # written at once
        await settle()
    assert budget.total == 96
    behind.send(b"one more, well past the bound!")  # 126 > 120: the page holding most goes
    slow.reading.set()
    await asyncio.gather(*writers[:1])
    assert (slow.closed_with, budget.total, budget.dropped) == (1001, 0, 1)
    reading.close()
    await writers[1]
