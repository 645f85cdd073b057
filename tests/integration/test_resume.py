"""Resume (DESIGN.md § 7) on one server, through sockets: a client that reconnects with
its ClientSessionID gets its registrations back and every event it missed, in order."""

from __future__ import annotations

import asyncio

import pytest

from ctiserver.client.connection import TClient, TServerError
from ctiserver.tserver.port import Journal
from ctiserver.tserver.sessions import SessionClosed
from tests.integration.conftest import Site, SiteFactory, check, expect, quiet, within

A, B = "7001", "7002"


async def closed(site: Site, sid: str) -> None:
    """Until the server closes session *sid* (its window passed), as its journal says."""
    done = asyncio.Event()

    def saw(journal: Journal) -> None:
        if SessionClosed(session=sid) in journal.sessions:
            done.set()

    site.service.runtime.add_journal_listener(saw)
    await done.wait()


async def reconnect(site: Site, session: tuple[str, int]) -> TClient:
    return await TClient.connect(*site.address, application_name="desk", resume=session)


async def test_a_client_resumes_its_session_with_what_it_missed(site: Site) -> None:
    desk = await site.client(B, name="desk")
    session = desk.session
    assert session is not None
    await desk.close()
    a = await site.client(A)
    dialing = await a.make_call(A, B, user_data={"case": "R-1"})
    c1 = dialing["ConnID"]
    await expect(a, "EventDialing")

    back = await reconnect(site, session)
    try:
        missed = await expect(back, "EventRinging", ConnID=c1, ThisDN=B, UserData={"case": "R-1"})
        assert missed["EventSequenceNumber"] > session[1]
        info = await expect(back, "EventServerInfo", ClientSessionID=session[0])
        assert info["EventSequenceNumber"] > missed["EventSequenceNumber"]
        await expect(back, "EventLinkConnected")
        answered = await back.answer_call(B, c1)  # B is registered again
        check(answered, "EventEstablished", ThisDN=B, ConnID=c1)
        await expect(back, "EventEstablished", ConnID=c1)
        await expect(a, "EventEstablished", ConnID=c1)
        await quiet(back)
    finally:
        await back.close()


async def test_a_session_resumes_once_and_not_after_its_window(make_site: SiteFactory) -> None:
    site = await make_site(server={"sessions": {"window": 0.3}})
    desk = await site.client(B, name="desk")
    session = desk.session
    assert session is not None
    await desk.close()
    back = await reconnect(site, session)
    gone = asyncio.create_task(closed(site, session[0]))
    try:
        await within(back.wait_for("EventLinkConnected"))
        with pytest.raises(TServerError) as twice:
            await reconnect(site, session)
        assert twice.value.code == 53
        assert "in use by another connection" in twice.value.message
    finally:
        await back.close()
    await within(gone)
    with pytest.raises(TServerError) as late:
        await reconnect(site, session)
    assert late.value.code == 53
    assert late.value.message == (
        f"ClientSessionID {session[0]} cannot be resumed: no such session (it ended, "
        "or its resume-window passed); register without it for a new session"
    )
