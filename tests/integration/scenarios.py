"""Steps shared by the call-model scenarios: getting two DNs talking, and the like."""

from __future__ import annotations

from ctiserver.client.connection import TClient
from tests.integration.conftest import expect


async def talking(a: TClient, b: TClient, dn_a: str, dn_b: str) -> str:
    """A call from *dn_a* answered at *dn_b*, every event consumed; returns its ConnID."""
    conn_id: str = (await a.make_call(dn_a, dn_b))["ConnID"]
    await expect(a, "EventDialing", ConnID=conn_id)
    await expect(b, "EventRinging", ConnID=conn_id)
    await b.answer_call(dn_b, conn_id)
    await expect(b, "EventEstablished", ConnID=conn_id)
    await expect(a, "EventEstablished", ConnID=conn_id)
    return conn_id


async def consulting(
    b: TClient,
    c: TClient,
    dn_b: str,
    dn_c: str,
    c1: str,
    *,
    conference: bool = False,
    answer: bool = True,
) -> str:
    """B (talking on c1) consults C; returns the consultation's ConnID."""
    initiate = b.initiate_conference if conference else b.initiate_transfer
    held = await initiate(dn_b, c1, dn_c)
    assert (held["Event"], held["ConnID"]) == ("EventHeld", c1)
    await expect(b, "EventHeld", ConnID=c1)
    dialing = await expect(b, "EventDialing", CallType="Consult", PreviousConnID=c1, OtherDN=dn_c)
    c2: str = dialing["ConnID"]
    assert dialing["ReferenceID"] == held["ReferenceID"]
    await expect(c, "EventRinging", ConnID=c2, CallType="Consult", PreviousConnID=c1, OtherDN=dn_b)
    if answer:
        await c.answer_call(dn_c, c2)
        await expect(c, "EventEstablished", ConnID=c2)
        await expect(b, "EventEstablished", ConnID=c2, ReferenceID=None)
    return c2
