"""Call supervision through real sockets against pbxsim (docs/supervision.md): a
supervisor monitors an agent's next call silently, barges in with mute off, and the
agent's release leaves it with the customer; mute and listen for an ordinary party; the
errors; with the events of every party's desktop and the switch's own state."""

from __future__ import annotations

from ctiserver.client.connection import TClient
from tests.integration.conftest import Site, expect, quiet

A, B, S = "7001", "7002", "7003"  # customer, agent, supervisor
OBSERVED = {"MonitorNextCallType": "OneCall", "Extensions": {"MonitorMode": "mute", "MonitorScope": "call"}}  # fmt: skip


async def connected(site: Site) -> tuple[TClient, TClient, TClient]:
    return await site.client(A), await site.client(B), await site.client(S)


def participation(site: Site, device: str) -> str:
    switch = site.service.embedded.switch.view()  # type: ignore[union-attr]
    (call,) = switch.calls
    (connection,) = [c for c in call.connections if c.device == device]
    return connection.participation


async def test_a_supervisor_monitors_then_barges_in(site: Site) -> None:
    a, b, s = await connected(site)
    asked = s.send("RequestMonitorNextCall", ThisDN=S, OtherDN=B)
    await expect(s, "EventMonitoringNextCall", ReferenceID=asked, ThisDN=S, OtherDN=B, **OBSERVED)
    await expect(b, "EventMonitoringNextCall", ReferenceID=None, ThisDN=S, OtherDN=B)
    c1 = (await a.make_call(A, B))["ConnID"]
    await expect(a, "EventDialing", ConnID=c1)
    await expect(b, "EventRinging", ConnID=c1)
    await b.answer_call(B, c1)
    await expect(b, "EventEstablished", ConnID=c1)
    await expect(b, "EventMonitoringCancelled", ThisDN=S, OtherDN=B)
    await expect(
        s,
        "EventRinging",
        ConnID=c1,
        ThisDNRole="Observer",
        CallState="Bridged",
        OtherDN=A,
        OtherDNRole="Origination",
    )
    await expect(s, "EventMonitoringCancelled", ThisDN=S, OtherDN=B, ReferenceID=None)
    assert participation(site, S) == "silent"
    await s.answer_call(S, c1)
    await expect(s, "EventEstablished", ThisDNRole="Observer", CallState="Bridged", OtherDN=A)
    await expect(
        b, "EventPartyAdded", ConnID=c1, OtherDN=S, OtherDNRole="Observer", CallState="Bridged"
    )
    barge = s.send("RequestSetMuteOff", ThisDN=S, ConnID=c1)
    await expect(
        s,
        "EventMuteOff",
        ReferenceID=barge,
        ThisDN=S,
        ConnID=c1,
        Extensions={"MonitorMode": "connect"},
    )
    assert participation(site, S) == "active"
    await b.release_call(B, c1)
    await expect(b, "EventReleased", ConnID=c1)
    await expect(s, "EventPartyDeleted", ConnID=c1, OtherDN=B, OtherDNRole="DeletedParty")
    await a.release_call(A, c1)
    await expect(s, "EventReleased", ConnID=c1, ThisDNRole="Observer")
    await expect(a, "EventEstablished", ConnID=c1)
    await expect(a, "EventReleased", ConnID=c1)
    await quiet(a)  # the customer never heard of the supervisor


async def test_mute_and_listen_for_a_party(site: Site) -> None:
    a, b, _ = await connected(site)
    c1 = (await a.make_call(A, B))["ConnID"]
    await expect(a, "EventDialing", ConnID=c1)
    await expect(b, "EventRinging")
    await b.answer_call(B, c1)
    await expect(b, "EventEstablished")
    await expect(a, "EventEstablished")
    muted = b.send("RequestSetMuteOn", ThisDN=B, ConnID=c1)
    await expect(b, "EventMuteOn", ReferenceID=muted, ThisDN=B, ConnID=c1)
    switch = site.service.embedded.switch.view()  # type: ignore[union-attr]
    assert switch.microphone_muted == {B}
    deaf = b.send("RequestListenDisconnect", ThisDN=B, ConnID=c1, OtherDN=A)
    await expect(b, "EventListenDisconnected", ReferenceID=deaf, ThisDN=B, OtherDN=A, ConnID=c1)
    await expect(a, "EventListenDisconnected", ReferenceID=None, ThisDN=A, OtherDN=A, ConnID=c1)
    back = b.send("RequestListenReconnect", ThisDN=B, ConnID=c1, OtherDN=A)
    await expect(b, "EventListenReconnected", ReferenceID=back, OtherDN=A)
    await expect(a, "EventListenReconnected", OtherDN=A)
    unmuted = b.send("RequestSetMuteOff", ThisDN=B, ConnID=c1)
    await expect(b, "EventMuteOff", ReferenceID=unmuted)
    bogus = b.send("RequestSetMuteOn", ThisDN=B, ConnID="00000000deadbeef")
    await expect(b, "EventError", ReferenceID=bogus, ErrorCode=56)
    await quiet(a)


async def test_monitoring_errors(site: Site) -> None:
    _, b, s = await connected(site)
    other = await site.client("7004")
    s.send("RequestMonitorNextCall", ThisDN=S, OtherDN=B)
    await expect(s, "EventMonitoringNextCall")
    await expect(b, "EventMonitoringNextCall")
    taken = other.send("RequestMonitorNextCall", ThisDN="7004", OtherDN=B)
    error = await expect(other, "EventError", ReferenceID=taken, ErrorCode=42)
    assert error["ErrorMessage"] == f"DN {B} is monitored by supervisor {S}"
    unregistered = other.send("RequestMonitorNextCall", ThisDN=A, OtherDN="7004")
    await expect(other, "EventError", ReferenceID=unregistered, ErrorCode=41)
    cancel = s.send("RequestCancelMonitoring", ThisDN=S, OtherDN="7004")
    await expect(s, "EventError", ReferenceID=cancel, ErrorCode=53)
    await quiet(b)
