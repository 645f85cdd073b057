"""Identifiers shared by every layer, as NewTypes so a reader sees which id is which.

ConnID (T-Library) is ours: 16 lowercase hexadecimal digits, unique per server and never
reused while it runs.  CallID (CSTA callID) belongs to the switch and may be reused by it
once a call is over, which is why calls are keyed by ConnID and the CallID is only an index.
"""

from __future__ import annotations

from typing import NewType

ConnId = NewType("ConnId", str)
CallId = NewType("CallId", str)
DeviceId = NewType("DeviceId", str)
InvokeId = NewType("InvokeId", int)
ReferenceId = NewType("ReferenceId", int)
MonitorCrossRefId = NewType("MonitorCrossRefId", str)
ClientId = NewType("ClientId", int)
AgentId = NewType("AgentId", str)

_CONN_ID_COUNTER_BITS = 32


class ConnIdAllocator:
    """Hands out ConnIDs: a 32-bit *epoch* above a 32-bit counter.

    The epoch (the server's start, in milliseconds, modulo 2**32) keeps the ConnIDs of
    consecutive server runs apart; the counter never wraps while the server runs (four
    billion calls), so a ConnID is never reused.
    """

    def __init__(self, epoch: int) -> None:
        self._prefix = (epoch & 0xFFFF_FFFF) << _CONN_ID_COUNTER_BITS
        self._counter = 0

    def allocate(self) -> ConnId:
        self._counter += 1
        if self._counter >= 1 << _CONN_ID_COUNTER_BITS:
            raise OverflowError("ConnID counter exhausted; restart the server")
        return ConnId(f"{self._prefix | self._counter:016x}")
