"""HotStandbyClient with one server, through a relay that breaks (tests/client/proxy.py):
a lost connection resumes the session with what it missed; a session past its window,
or a server that restarted, starts afresh with the DNs registered again; TLS,
passwords, and a server that is never there."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ctiserver.client import (
    Counts,
    HotStandbyClient,
    NoPrimary,
    Notice,
    PrimaryLost,
    SessionRestarted,
    SessionResumed,
    TServerError,
)
from ctiserver.doors.tls import client_context
from ctiserver.tlib.vocabulary import TMessage
from ctiserver.tserver.port import Journal
from ctiserver.tserver.sessions import SessionClosed
from tests.client.conftest import ProxyFactory
from tests.integration.certificates import make_certificates
from tests.integration.conftest import Site, SiteFactory, check, expect, within
from tests.integration.test_applications import APPS

A, B = "7001", "7002"
QUICK = {"reconnect_min": 0.02, "reconnect_max": 0.2}


async def desk_on(*addresses: tuple[str, int], **options: Any) -> HotStandbyClient:
    return await HotStandbyClient.connect(
        list(addresses), application_name="desk", **(QUICK | options)
    )


async def following(client: HotStandbyClient, *names: str) -> list[TMessage]:
    """The client's next events, which are T-Library events named *names*, in order."""
    events = []
    for name in names:
        event = await within(client.next_event(), 15)
        assert isinstance(event, dict), event
        events.append(check(event, name))
    return events


async def opened(client: HotStandbyClient) -> TMessage:
    """The session's first events: EventServerInfo, then the link event (and, if the
    link was not up yet, until it is); returns the EventServerInfo."""
    (info,) = await following(client, "EventServerInfo")
    check(info, "EventServerInfo", ServerRole="Primary", ClientSessionID=client.session[0])
    await within(client.wait_for("EventLinkConnected"), 15)
    return info


async def notice(client: HotStandbyClient) -> Notice:
    event = await within(client.next_event(), 15)
    assert not isinstance(event, dict), event
    return event


def increasing(events: list[TMessage]) -> None:
    numbers = [event["EventSequenceNumber"] for event in events]
    assert numbers == sorted(set(numbers)), numbers


async def closed(site: Site, sid: str) -> None:
    """Until the server closes session *sid* (its window passed), as its journal says."""
    done = asyncio.Event()

    def saw(journal: Journal) -> None:
        if SessionClosed(session=sid) in journal.sessions:
            done.set()

    site.service.runtime.add_journal_listener(saw)
    await done.wait()


async def test_a_lost_connection_resumes_the_session_with_what_it_missed(
    make_site: SiteFactory, proxies: ProxyFactory
) -> None:
    site = await make_site()
    relay = await proxies(site.address)
    async with await desk_on(relay.address) as desk:
        info = await opened(desk)
        sid = info["ClientSessionID"]
        await desk.register_address(B)
        (registered,) = await following(desk, "EventRegistered")
        caller, watcher = await site.client(A), await site.client(B, name="wall")

        relay.refusing = True
        relay.cut()
        lost = await notice(desk)
        assert lost == PrimaryLost(f"127.0.0.1:{relay.address[1]}", lost.reason)
        assert "closed" in lost.reason
        c1 = (await caller.make_call(A, B, user_data={"case": "S-1"}))["ConnID"]
        ringing = await expect(watcher, "EventRinging", ConnID=c1)
        relay.refusing = False

        resumed = await notice(desk)
        assert resumed == SessionResumed(
            lost.address, sid, registered["EventSequenceNumber"], switchover=False
        )
        missed, back, link = await following(
            desk, "EventRinging", "EventServerInfo", "EventLinkConnected"
        )
        assert missed == ringing  # the same event, as first sent
        check(back, "EventServerInfo", ServerRole="Primary", ClientSessionID=sid)
        answered = await desk.answer_call(B, c1)  # B is registered again, without asking
        check(answered, "EventEstablished", ThisDN=B, ConnID=c1, UserData={"case": "S-1"})
        (established,) = await following(desk, "EventEstablished")
        assert established == answered
        increasing([registered, missed, back, link, established])
        assert desk.session == (sid, established["EventSequenceNumber"])
        assert replace(desk.counts, events=0) == Counts(lost=1, resumed=1)


async def test_a_resume_refused_while_the_server_holds_the_old_connection_is_tried_again(
    make_site: SiteFactory, proxies: ProxyFactory
) -> None:
    site = await make_site()
    relay = await proxies(site.address)
    async with await desk_on(relay.address, failover_timeout=60) as desk:
        info = await opened(desk)
        await desk.register_address(B)
        (registered,) = await following(desk, "EventRegistered")
        relay.drop_clients()  # the server does not see it
        lost = await notice(desk)
        assert isinstance(lost, PrimaryLost), lost
        await within(relay.accepted_at_least(4))  # a watch, a resume refused, one more try
        relay.drop_stale()  # the server sees it at last

        resumed = await notice(desk)
        assert resumed == SessionResumed(
            lost.address, info["ClientSessionID"], registered["EventSequenceNumber"], False
        )
        back, _ = await following(desk, "EventServerInfo", "EventLinkConnected")
        check(back, "EventServerInfo", ClientSessionID=info["ClientSessionID"])


async def test_a_session_past_its_window_starts_afresh_with_its_dns(
    make_site: SiteFactory, proxies: ProxyFactory
) -> None:
    site = await make_site(server={"sessions": {"window": 0.3}})
    relay = await proxies(site.address)
    async with await desk_on(relay.address) as desk:
        info = await opened(desk)
        await desk.register_address(B, RegisterMode="ModeShare")
        await following(desk, "EventRegistered")
        caller = await site.client(A)
        gone = asyncio.create_task(closed(site, info["ClientSessionID"]))
        relay.refusing = True
        relay.cut()
        assert isinstance(await notice(desk), PrimaryLost)
        c1 = (await caller.make_call(A, B))["ConnID"]  # missed, and lost with the session
        await within(gone)
        relay.refusing = False

        restarted = await notice(desk)
        assert isinstance(restarted, SessionRestarted), restarted
        assert restarted.previous_session_id == info["ClientSessionID"]
        assert restarted.session_id != restarted.previous_session_id
        assert restarted.registered == (B,)
        assert "no such session" in restarted.reason
        new, _, registered = await following(
            desk, "EventServerInfo", "EventLinkConnected", "EventRegistered"
        )
        check(new, "EventServerInfo", ClientSessionID=restarted.session_id)
        check(registered, "EventRegistered", ThisDN=B)
        assert desk.session[0] == restarted.session_id
        await caller.release_call(A, c1)
        (abandoned,) = await following(desk, "EventAbandoned")  # B is registered again
        check(abandoned, "EventAbandoned", ThisDN=B, ConnID=c1)
        assert replace(desk.counts, events=0) == Counts(lost=1, restarted=1)


async def test_a_restarted_server_numbers_from_1_again(
    make_site: SiteFactory, proxies: ProxyFactory
) -> None:
    first = await make_site()
    relay = await proxies(first.address)
    async with await desk_on(relay.address) as desk:
        await opened(desk)
        await desk.register_address(B)
        for _ in range(5):
            await desk.query_server()
        *_, last = await following(desk, "EventRegistered", *["EventServerInfo"] * 5)
        second = await make_site()
        await second.client(name="probe")  # its link is up
        relay.upstream = second.address  # as if the server restarted
        relay.cut()
        assert isinstance(await notice(desk), PrimaryLost)

        restarted = await notice(desk)
        assert isinstance(restarted, SessionRestarted), restarted
        info, _, registered = await following(
            desk, "EventServerInfo", "EventLinkConnected", "EventRegistered"
        )
        assert info["EventSequenceNumber"] < last["EventSequenceNumber"]  # delivered all the same
        assert desk.session == (restarted.session_id, registered["EventSequenceNumber"])


async def test_tls_and_an_application_password(make_site: SiteFactory, tmp_path: Path) -> None:
    certificates = make_certificates(tmp_path)
    site = await make_site(
        server={"tls_cert": certificates.server.cert, "tls_key": certificates.server.key},
        security={"require_auth": True, "applications": APPS},
    )
    trusted = client_context(certificates.ca)
    async with await desk_on(site.address, ssl=trusted, application_password="desk-pw") as desk:
        await opened(desk)
        check(await desk.register_address(B), "EventRegistered", ThisDN=B)
    with pytest.raises(TServerError) as refused:
        await desk_on(site.address, ssl=trusted, application_password="guess")
    assert refused.value.code == 1190
    with pytest.raises(ssl.SSLCertVerificationError):
        await desk_on(site.address, ssl=client_context(), application_password="desk-pw")


async def test_no_server_no_client(proxies: ProxyFactory, make_site: SiteFactory) -> None:
    site = await make_site()
    relay = await proxies(site.address)
    relay.refusing = True
    with pytest.raises(NoPrimary) as none:
        await desk_on(relay.address, connect_timeout=0.5)
    assert f"127.0.0.1:{relay.address[1]}: " in str(none.value)
    assert relay.accepted >= 2  # it tried again

    relay.refusing = False
    async with await desk_on(relay.address, failover_timeout=0.3) as desk:
        await opened(desk)
        relay.refusing = True
        relay.cut()
        assert isinstance(await notice(desk), PrimaryLost)
        with pytest.raises(NoPrimary):
            await desk.query_server()
