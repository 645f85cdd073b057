"""Which client has registered which DN, and how (RegisterMode).

Pure bookkeeping for the core.  ModeShare registrations coexist; a ModePrivate one
excludes every other client from the DN; ModeMonitor receives events but may not send
requests on the DN.
"""

from __future__ import annotations

from ctiserver.ids import ClientId, DeviceId
from ctiserver.tlib.vocabulary import RegisterMode


class Registry:
    def __init__(self) -> None:
        self._by_dn: dict[DeviceId, dict[ClientId, RegisterMode]] = {}
        self._by_client: dict[ClientId, dict[DeviceId, None]] = {}

    def add_client(self, client: ClientId) -> None:
        self._by_client.setdefault(client, {})

    def remove_client(self, client: ClientId) -> list[DeviceId]:
        dns = list(self._by_client.pop(client, {}))
        for dn in dns:
            self._drop(dn, client)
        return dns

    @property
    def clients(self) -> list[ClientId]:
        return list(self._by_client)

    def register(self, client: ClientId, dn: DeviceId, mode: RegisterMode) -> str | None:
        """Register; returns why it cannot be done, or None when done."""
        holders = self._by_dn.get(dn, {})
        others = {other: held for other, held in holders.items() if other != client}
        if mode is RegisterMode.MODE_PRIVATE and others:
            return f"DN {dn} is registered by another client; ModePrivate needs it alone"
        if any(held is RegisterMode.MODE_PRIVATE for held in others.values()):
            return f"DN {dn} is registered by another client in ModePrivate"
        self._by_dn.setdefault(dn, {})[client] = mode
        self._by_client.setdefault(client, {})[dn] = None
        return None

    def unregister(self, client: ClientId, dn: DeviceId) -> bool:
        if dn not in self._by_client.get(client, {}):
            return False
        del self._by_client[client][dn]
        self._drop(dn, client)
        return True

    def unregister_dn(self, dn: DeviceId) -> list[ClientId]:
        """Drop every registration of *dn* (the DN left the configuration)."""
        clients = list(self._by_dn.pop(dn, {}))
        for client in clients:
            self._by_client.get(client, {}).pop(dn, None)
        return clients

    def names(self, prefix: str) -> list[DeviceId]:
        """The DNs (and subscriptions' names) registered that start with *prefix*."""
        return [dn for dn in self._by_dn if dn.startswith(prefix)]

    def clients_of(self, dn: DeviceId) -> list[ClientId]:
        return list(self._by_dn.get(dn, {}))

    def has_clients(self, dn: DeviceId) -> bool:
        return bool(self._by_dn.get(dn))

    def mode(self, client: ClientId, dn: DeviceId) -> RegisterMode | None:
        return self._by_dn.get(dn, {}).get(client)

    def dns_of(self, client: ClientId) -> list[DeviceId]:
        return list(self._by_client.get(client, {}))

    def _drop(self, dn: DeviceId, client: ClientId) -> None:
        holders = self._by_dn.get(dn)
        if holders is not None:
            holders.pop(client, None)
            if not holders:
                del self._by_dn[dn]
