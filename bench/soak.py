"""Soak: random traffic for a long while, then quiet: the server must end holding no call,
its memory flat.

Actors make, answer, hold, transfer, conference, route, queue and release calls at
random (many requests are refused: that is part of it), and the switch's phones hang up
by themselves now and then, so the server also sees calls end that no request ended.
Every `--every` seconds it prints the server's calls, the switch's calls and the
process's resident memory; at the end every phone hangs up and the server must come to
zero calls.

    ./dev bench soak [--minutes 30] [--actors 8] [--every 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import time
from typing import Any

from ctiserver.app.config import Address, RoutingPointSettings, amend, demo
from ctiserver.app.service import Service
from ctiserver.client.connection import TClient, TServerError
from ctiserver.csta.enumerations import LocalConnectionState
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind
from ctiserver.pbxsim.phone import HangUp, Retrieve

STATIONS = [str(7001 + n) for n in range(20)]
POINT, QUEUE = "5000", "8001"


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Actor:
    """One desk on a few stations, doing random things and forgetting failures."""

    def __init__(self, client: TClient, stations: list[str], rng: random.Random) -> None:
        self.client, self.stations, self.rng = client, stations, rng
        self.conns: list[str] = []

    async def step(self) -> None:
        rng, dn = self.rng, self.rng.choice(self.stations)
        other = rng.choice([*STATIONS, POINT, QUEUE, "9999"])
        conn = rng.choice(self.conns) if self.conns else "0000000000000000"
        action = rng.choice(
            ["make", "make", "answer", "release", "hold", "retrieve", "sst", "consult",
             "conference", "data", "ready", "login"]
        )  # fmt: skip
        with contextlib.suppress(TServerError, TimeoutError):
            await self._do(action, dn, other, conn)

    async def _do(self, action: str, dn: str, other: str, conn: str) -> None:
        c = self.client
        match action:
            case "make":
                event = await c.make_call(dn, other, user_data={"n": str(self.rng.random())})
                self.conns = [*self.conns[-7:], event["ConnID"]]
            case "answer":
                await c.answer_call(dn, conn)
            case "release":
                await c.release_call(dn, conn)
            case "hold":
                await c.request("RequestHoldCall", ThisDN=dn, ConnID=conn)
            case "retrieve":
                await c.request("RequestRetrieveCall", ThisDN=dn, ConnID=conn)
            case "sst":
                await c.single_step_transfer(dn, conn, other)
            case "consult":
                await c.initiate_transfer(dn, conn, other)
            case "conference":
                await c.request(
                    "RequestSingleStepConference", ThisDN=dn, ConnID=conn, OtherDN=other
                )
            case "data":
                await c.update_user_data(dn, conn, {"seen": dn})
            case "ready":
                await c.request("RequestAgentReady", ThisDN=dn)
            case "login":
                agent = str(1001 + STATIONS.index(dn) % 10)
                await c.agent_login(dn, agent, queue=QUEUE, work_mode="AutoIn")


async def act(actor: Actor, until: float) -> None:
    while time.monotonic() < until:
        await actor.step()
        await asyncio.sleep(0)  # let events in
        while not actor.client._events.empty():  # keep the stream short
            actor.client._events.get_nowait()


async def hang_ups(service: Service, until: float, rng: random.Random) -> None:
    """People hang up by themselves: calls end that no request ended."""
    listener = service.embedded.listener  # type: ignore[union-attr]
    while time.monotonic() < until:
        await asyncio.sleep(0.05)
        station = DeviceId(rng.choice(STATIONS))
        with contextlib.suppress(Exception):  # nothing to hang up there
            listener.act(HangUp(station))


async def soak(minutes: float, actors: int, every: float, seed: int) -> int:
    rng = random.Random(seed)
    config = amend(
        demo(),
        site={
            "dns": {
                **{DeviceId(s): DnKind.EXTENSION for s in STATIONS},
                DeviceId(POINT): DnKind.ROUTING_POINT,
                DeviceId(QUEUE): DnKind.ACD_QUEUE,
            },
            "routing_points": {DeviceId(POINT): RoutingPointSettings(2.0, DeviceId("7001"))},
            "agent_logins": tuple(str(1001 + n) for n in range(10)),
        },
        server={"client_listen": Address("127.0.0.1", 0), "http_listen": None},
        switch={"reply_timeout": 5.0},
    )
    service = Service(config, announce=lambda line: None)
    task = asyncio.create_task(service.run())
    await service.runtime.link_ready.wait()
    assert service.client_address is not None
    desks = []
    for n in range(actors):
        client = await TClient.connect(*service.client_address, application_name=f"soak{n}")
        mine = [*STATIONS[n::actors], POINT, QUEUE]
        for dn in mine:
            await client.register_address(dn)
        desks.append(Actor(client, [s for s in mine if s in STATIONS], random.Random(rng.random())))
    until = time.monotonic() + minutes * 60
    work = [asyncio.create_task(act(a, until)) for a in desks]
    work.append(asyncio.create_task(hang_ups(service, until, random.Random(seed + 1))))
    began = time.monotonic()
    print("minute  server-calls  switch-calls  rss-MB")
    while not all(w.done() for w in work):
        await asyncio.wait(work, timeout=every)
        switch_calls = len(service.embedded.switch.view().calls)  # type: ignore[union-attr]
        print(
            f"{(time.monotonic() - began) / 60:6.1f}  {service.runtime.view.call_count():12d}"
            f"  {switch_calls:12d}  {rss_mb():6.1f}"
        )
    return await quiesce(service, desks, task)


def end(listener: Any, station: DeviceId, call_id: Any, state: Any) -> None:
    """The person at *station* ends *call_id*: taking it back first if it is held."""
    try:
        if state is LocalConnectionState.HOLD:
            listener.act(Retrieve(station, call_id))
        listener.act(HangUp(station))
    except Exception:
        pass  # the call moved on meanwhile


async def quiesce(service: Service, desks: list[Actor], task: asyncio.Task[None]) -> int:
    """Every phone hangs up; the server must come to zero calls."""
    embedded = service.embedded
    assert embedded is not None
    for _ in range(20):
        calls = embedded.switch.view().calls
        if not calls:
            break
        for call in calls:
            for connection in call.connections:
                if connection.device in STATIONS:
                    end(embedded.listener, connection.device, call.call_id, connection.state)
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)  # the last events reach the server
    left = service.runtime.view.call_count()
    switch_left = len(service.embedded.switch.view().calls)  # type: ignore[union-attr]
    print(f"after every phone hung up: server calls {left}, switch calls {switch_left}")
    for desk in desks:
        await desk.client.close()
    service.stop()
    await task
    return 0 if left == 0 else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--actors", type=int, default=8)
    parser.add_argument("--every", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=7)
    arguments: Any = parser.parse_args()
    raise SystemExit(
        asyncio.run(soak(arguments.minutes, arguments.actors, arguments.every, arguments.seed))
    )


if __name__ == "__main__":
    main()
