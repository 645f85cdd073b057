"""`[iscc]` and its `[iscc.peer."LOCATION"]` tables as they are written (docs/iscc.md,
with the T-Server's option names): the settings of ISCC, read whole by the core's ISCC
(tserver.iscc) and by the connections to the other sites (iscc.peering).

What ISCC reads of other sections is given beside these settings by the composition
root: this site's name (`[switch] name`), the switch's private namespace, the server's
name and its TLS contexts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ctiserver.doors.address import Address
from ctiserver.ids import DeviceId
from ctiserver.iscc.transactions import TRANSACTION_TYPES, XRoute


@dataclass(frozen=True, slots=True)
class IsccPeer:
    """`[iscc.peer."LOCATION"]`."""

    address: Address
    access_code: str = ""  # dialled before a resource number to reach the peer's switch
    secret: str = ""  # shared with the peer, proven without being sent (docs/iscc.md)


@dataclass(frozen=True, slots=True)
class IsccSettings:
    """`[iscc]`."""

    listen: Address | None = None
    peers: Mapping[str, IsccPeer] = field(default_factory=dict)
    cast_types: tuple[XRoute, ...] = tuple(TRANSACTION_TYPES)  # no cast-type: every type
    request_timeout: float = 20.0
    timeout: float = 60.0
    reconnect_timeout: float = 5.0
    addp_timeout: float = 10.0
    default_dn: DeviceId | None = None
    match_call_once: bool = True
    direct_digits_key: str = "CDT_Track_Num"
    external_routing_points: tuple[DeviceId, ...] = ()
    dnis_pool: tuple[DeviceId, ...] = ()
    event_propagation: bool = False  # party events of linked calls reach the other sites
    max_reservations_per_peer: int = 1000  # a peer asking for more is refused (1006)
    network_call_id_wait: float = 2.0  # how long an arriving call waits for its id
    max_connections: int = 16
    max_connections_per_address: int = 4
    hello_timeout: float = 5.0  # not in the file
