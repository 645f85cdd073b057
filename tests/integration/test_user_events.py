"""RequestDistributeUserEvent through sockets (docs/protocol.md, User events)."""

from __future__ import annotations

from tests.integration.conftest import Site, check, expect, quiet

A, B = "7001", "7002"


async def test_a_user_event_reaches_the_registrants_of_the_dn(site: Site) -> None:
    sender, desk, other = await site.client(), await site.client(A), await site.client(B)
    ack = await sender.request(
        "RequestDistributeUserEvent", ThisDN=A, UserData={"wallboard": "queue is long"}
    )
    check(ack, "EventACK", ThisDN=A)
    await expect(sender, "EventACK", ReferenceID=ack["ReferenceID"])
    await expect(
        desk, "EventUserEvent", ThisDN=A, UserData={"wallboard": "queue is long"}, ReferenceID=None
    )
    await quiet(other)
    await quiet(sender)
    reference = sender.send("RequestDistributeUserEvent", ThisDN="6999", UserData={})
    await expect(sender, "EventError", ReferenceID=reference, ErrorCode=59)
