"""The settings of ISCC in the T-Server core: this site, its peers and the [iscc] options
(docs/iscc.md, with the T-Server's option names)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ctiserver.ids import DeviceId
from ctiserver.iscc.transactions import TRANSACTION_TYPES, XRoute


@dataclass(frozen=True, slots=True)
class PeerSettings:
    access_code: str = ""  # dialled before a resource number to reach the peer's switch


@dataclass(frozen=True, slots=True)
class IsccSettings:
    location: str
    peers: Mapping[str, PeerSettings] = field(default_factory=dict)
    cast_types: tuple[XRoute, ...] = tuple(TRANSACTION_TYPES)
    request_timeout: float = 20.0
    timeout: float = 60.0
    default_dn: DeviceId | None = None
    match_call_once: bool = True
    direct_digits_key: str = "CDT_Track_Num"
    external_routing_points: tuple[DeviceId, ...] = ()
    dnis_pool: tuple[DeviceId, ...] = ()
    private_namespace: str = "urn:ctiserver:csta:private"
    event_propagation: bool = False  # party events of linked calls reach the other sites
    max_reservations_per_peer: int = 1000  # a peer asking for more is refused (1006)
    network_call_id_wait: float = 2.0  # how long an arriving call waits for its id
