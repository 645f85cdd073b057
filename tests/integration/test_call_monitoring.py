"""Call monitoring through sockets (docs/protocol.md, Call monitoring): a client that
registered no DN asks for one call's call-based events and gets exactly these, through
the call's whole life: its data, a consultation, a transfer or conference moving a
party, hold and retrieve, the parties leaving and the call's end; the errors; the
subscription's end with the call, on request, and across a resume."""

from __future__ import annotations

import pytest

from ctiserver.client.connection import TClient, TServerError
from ctiserver.tserver.events import call_uuid, party_uuid
from tests.integration.conftest import Site, check, expect, quiet, within
from tests.integration.scenarios import consulting, talking
from tests.integration.test_link import link_down_with_two_calls
from tests.integration.test_resume import reconnect

A, B, C = "7001", "7002", "7003"
SERVER = "tserver"  # the demo site's [server] name


def ids(conn_id: str, dn: str | None = None) -> dict[str, str]:
    """CallUUID and ConnID of a call, and PartyUUID and DN of *dn*'s part in it."""
    found = {"CallUUID": call_uuid(SERVER, conn_id), "ConnID": conn_id}
    if dn is not None:
        found |= {"PartyUUID": party_uuid(SERVER, conn_id, dn), "DN": dn}
    return found


async def drained(*clients: TClient) -> None:
    """Each client's events so far, read and let go (those of its own DNs)."""
    for client in clients:
        await quiet_after(client)


async def quiet_after(client: TClient) -> None:
    while True:
        try:
            await within(client.next_event(), 0.2)
        except TimeoutError:
            return


async def started(m: TClient, conn_id: str, parties: dict[str, str], **call: object) -> None:
    """*m* starts monitoring the call: EventCallCreated, then each party, with its
    ReferenceID."""
    created = await m.start_call_monitoring(conn_id)
    check(created, "EventCallCreated", **ids(conn_id), **call)
    reference = created["ReferenceID"]
    await expect(m, "EventCallCreated", ReferenceID=reference)
    for dn, state in parties.items():
        await expect(m, "EventCallPartyAdded", ReferenceID=reference, PartyState=state, **ids(conn_id, dn))  # fmt: skip


async def test_a_call_through_user_data_consultation_transfer_hold_and_release(
    site: Site,
) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    m = await site.client(name="reporting")
    c1 = await talking(a, b, A, B)
    await started(m, c1, {A: "Connected", B: "Connected"}, CallID="1", CallType="Internal", ANI=A, DNIS=B, UserData={})  # fmt: skip

    await b.attach_user_data(B, c1, {"case": "K-1"})
    await expect(m, "EventCallDataChanged", **ids(c1), UserData={"case": "K-1"}, ReferenceID=None)  # fmt: skip
    await b.update_user_data(B, c1, {"case": "K-2", "lang": "fr"})
    await expect(m, "EventCallDataChanged", **ids(c1), UserData={"case": "K-2", "lang": "fr"})
    await b.delete_pair(B, c1, "case")
    await expect(m, "EventCallDataChanged", **ids(c1), UserData={"lang": "fr"})
    await drained(a, b)

    c2 = await consulting(b, c, B, C, c1)
    await expect(m, "EventCallPartyState", **ids(c1, B), PartyState="Held")
    # the consultation is watched too: created, then its parties as they come
    await expect(m, "EventCallCreated", **ids(c2), CallType="Consult", OrigCallUUID=call_uuid(SERVER, c1), ANI=B)  # fmt: skip
    await expect(m, "EventCallPartyAdded", **ids(c2, B), PartyState="Initiated")
    await expect(m, "EventCallDataChanged", **ids(c2), DNIS=C, UserData={})  # separate
    await expect(m, "EventCallPartyState", **ids(c2, B), PartyState="Dialing")
    await expect(m, "EventCallPartyAdded", **ids(c2, C), PartyState="Alerting")
    await expect(m, "EventCallPartyState", **ids(c2, B), PartyState="Connected")
    await expect(m, "EventCallPartyState", **ids(c2, C), PartyState="Connected")

    await b.complete_transfer(B, c1, c2)
    moved = await expect(m, "EventCallPartyMoved", **ids(c2), DN=C, PartyState="Connected")
    check(moved, "EventCallPartyMoved", PartyUUID=party_uuid(SERVER, c1, C), NewCallUUID=call_uuid(SERVER, c1), NewConnID=c1)  # fmt: skip
    await expect(m, "EventCallPartyDeleted", **ids(c2, B), CtrlParty=B)
    await expect(m, "EventCallDeleted", **ids(c2), RefCallUUID=call_uuid(SERVER, c1))
    await expect(m, "EventCallPartyDeleted", **ids(c1, B), CtrlParty=B)
    await drained(a, b, c)

    await c.hold_call(C, c1)
    await expect(m, "EventCallPartyState", **ids(c1, C), PartyState="Held")
    await c.retrieve_call(C, c1)
    await expect(m, "EventCallPartyState", **ids(c1, C), PartyState="Connected")
    await a.release_call(A, c1)
    await expect(m, "EventCallPartyDeleted", **ids(c1, A), CtrlParty=A)
    await expect(m, "EventCallPartyDeleted", **ids(c1, C), CtrlParty=A)
    await expect(m, "EventCallDeleted", **ids(c1), CtrlParty=A, RefCallUUID=None)
    await quiet(m)
    # the monitoring ended with the call
    with pytest.raises(TServerError) as refused:
        await m.stop_call_monitoring(c1)
    check(refused.value.event, "EventError", ErrorCode=53)


async def test_a_conference_moves_the_consulted_party_into_the_call(site: Site) -> None:
    a, b, c = await site.client(A), await site.client(B), await site.client(C)
    m = await site.client(name="reporting")
    c1 = await talking(a, b, A, B)
    await started(m, c1, {A: "Connected", B: "Connected"})
    c2 = await consulting(b, c, B, C, c1, conference=True)
    await expect(m, "EventCallPartyState", **ids(c1, B), PartyState="Held")
    await expect(m, "EventCallCreated", **ids(c2), OrigCallUUID=call_uuid(SERVER, c1))
    await expect(m, "EventCallPartyAdded", **ids(c2, B), PartyState="Initiated")
    await expect(m, "EventCallDataChanged", **ids(c2), DNIS=C)
    await expect(m, "EventCallPartyState", **ids(c2, B), PartyState="Dialing")
    await expect(m, "EventCallPartyAdded", **ids(c2, C), PartyState="Alerting")
    await expect(m, "EventCallPartyState", **ids(c2, B), PartyState="Connected")
    await expect(m, "EventCallPartyState", **ids(c2, C), PartyState="Connected")

    await b.complete_conference(B, c1, c2)
    # as the conferencing DN's copy of the switch's event comes first: B leaves the
    # consultation and is back in the call, then C moves in and the consultation ends
    await expect(m, "EventCallPartyDeleted", **ids(c2, B), CtrlParty=B)
    await expect(m, "EventCallPartyState", **ids(c1, B), PartyState="Connected")
    moved = await expect(m, "EventCallPartyMoved", **ids(c2), DN=C, NewConnID=c1)
    check(moved, "EventCallPartyMoved", PartyUUID=party_uuid(SERVER, c1, C), PartyState="Connected")  # fmt: skip
    await expect(m, "EventCallDeleted", **ids(c2), RefCallUUID=call_uuid(SERVER, c1))
    await quiet(m)
    await drained(a, b, c)

    await c.release_call(C, c1)  # C leaves the conference; A and B stay
    await expect(m, "EventCallPartyDeleted", **ids(c1, C), CtrlParty=C)
    await quiet(m)


async def test_the_errors(site: Site) -> None:
    a, b = await site.client(A), await site.client(B)
    m = await site.client(name="reporting")
    c1 = await talking(a, b, A, B)

    async def refused(code: int, request: str, **attributes: object) -> str:
        reference = m.send(request, **attributes)
        error = await expect(m, "EventError", ReferenceID=reference, ErrorCode=code)
        return str(error["ErrorMessage"])

    start, stop = "RequestStartCallMonitoring", "RequestStopCallMonitoring"
    assert "lacks ConnID" in await refused(53, start)
    assert "no call 00000000deadbeef" in await refused(56, start, ConnID="00000000deadbeef")
    assert f"not at DN {C}" in await refused(56, start, ConnID=c1, ThisDN=C)
    assert "does not monitor" in await refused(53, stop, ConnID=c1)
    created = await m.start_call_monitoring(c1, A)  # at A: taken
    check(created, "EventCallCreated", ConnID=c1)
    await expect(m, "EventCallCreated")
    await expect(m, "EventCallPartyAdded", DN=A)
    await expect(m, "EventCallPartyAdded", DN=B)
    assert "already" in await refused(43, start, ConnID=c1)
    stopped = await m.stop_call_monitoring(c1)
    check(stopped, "EventACK", ConnID=c1)
    await expect(m, "EventACK", ConnID=c1)
    await b.hold_call(B, c1)  # nothing more for m
    await quiet(m)
    assert "does not monitor" in await refused(53, stop, ConnID=c1)


async def test_two_clients_monitor_a_call_and_one_stops(site: Site) -> None:
    a, b = await site.client(A), await site.client(B)
    m1, m2 = await site.client(name="one"), await site.client(name="two")
    c1 = await talking(a, b, A, B)
    await started(m1, c1, {A: "Connected", B: "Connected"})
    await started(m2, c1, {A: "Connected", B: "Connected"})
    await b.hold_call(B, c1)
    for m in (m1, m2):
        await expect(m, "EventCallPartyState", **ids(c1, B), PartyState="Held")
    await m1.stop_call_monitoring(c1)
    await expect(m1, "EventACK", ConnID=c1)
    await b.retrieve_call(B, c1)
    await expect(m2, "EventCallPartyState", **ids(c1, B), PartyState="Connected")
    await quiet(m1)


async def test_a_monitoring_client_resumes_with_what_it_missed(site: Site) -> None:
    a, b = await site.client(A), await site.client(B)
    m = await site.client(name="desk")
    c1 = await talking(a, b, A, B)
    await started(m, c1, {A: "Connected", B: "Connected"})
    session = m.session
    assert session is not None
    await m.close()
    await b.hold_call(B, c1)  # while the client is away

    back = await reconnect(site, session)
    try:
        await expect(back, "EventCallPartyState", **ids(c1, B), PartyState="Held")
        await expect(back, "EventServerInfo", ClientSessionID=session[0])
        await expect(back, "EventLinkConnected")
        await b.retrieve_call(B, c1)  # the subscription came back with the session
        await expect(back, "EventCallPartyState", **ids(c1, B), PartyState="Connected")
        await a.release_call(A, c1)
        await expect(back, "EventCallPartyDeleted", **ids(c1, A))
        await expect(back, "EventCallPartyDeleted", **ids(c1, B))
        await expect(back, "EventCallDeleted", **ids(c1))
    finally:
        await back.close()


async def test_no_monitoring_starts_while_the_link_is_down(site: Site) -> None:
    outage = await link_down_with_two_calls(site)
    m = await site.client(name="reporting", link_up=False)
    reference = m.send("RequestStartCallMonitoring", ConnID=outage.established)
    await expect(m, "EventError", ReferenceID=reference, ErrorCode=54)
