"""The simulated PBX as the server's switch: built from the same configuration and
reached over loopback TCP, exactly as a real switch would be (docs/pbxsim.md).

Also `serve_standalone`, behind `ctiserver pbxsim`.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

from ctiserver.app.binding import PBXSIM, bind
from ctiserver.app.config import Config
from ctiserver.app.parts import pbx_config
from ctiserver.doors.address import Address
from ctiserver.doors.tls import server_context
from ctiserver.pbxsim.config import PbxsimSettings
from ctiserver.pbxsim.listener import PbxListener
from ctiserver.pbxsim.switch import Switch

EMBEDDED_LISTEN = Address("127.0.0.1", 0)
STANDALONE_LISTEN = Address("127.0.0.1", 1040)


class EmbeddedSwitch:
    """pbxsim running inside `ctiserver run`."""

    def __init__(self, config: Config) -> None:
        self.listener = _listener(config, config.pbxsim.csta_listen or EMBEDDED_LISTEN)
        self.switch = self.listener.switch

    async def start(self) -> tuple[str, int]:
        """Start; the CSTA address, and the trunk address when trunks are configured."""
        return await self.listener.start()

    @property
    def trunk_address(self) -> tuple[str, int] | None:
        return self.listener.trunk_address

    async def stop(self) -> None:
        await self.listener.stop()

    def reconfigure(self, config: Config) -> None:
        self.switch.reconfigure(pbx_config(config))


async def serve_standalone(config: Config, *, started: Callable[[], None] | None = None) -> None:
    """`ctiserver pbxsim`: the switch alone, until cancelled; *started* is called once it
    listens.  Raises StartupError when a port cannot be had."""
    listen = config.pbxsim.csta_listen or STANDALONE_LISTEN
    listener = _listener(config, listen)
    try:
        host, port = await bind(listener.start(), PBXSIM, listen)
        print(f"listening csta={host}:{port}", flush=True)
        if (trunk := listener.trunk_address) is not None:
            print(f"listening trunk={trunk[0]}:{trunk[1]}", flush=True)
        if started is not None:
            started()
        await listener.run()
    finally:
        await listener.stop()


def _listener(config: Config, listen: Address) -> PbxListener:
    """The switch of *config* behind its CSTA listener on *listen*, with its TLS and caps."""
    return PbxListener(
        Switch(pbx_config(config)),
        listen.host,
        listen.port,
        tls=pbxsim_tls(config.pbxsim),
        max_links=config.pbxsim.max_connections,
        max_links_per_address=config.pbxsim.max_connections_per_address,
    )


def pbxsim_tls(settings: PbxsimSettings) -> ssl.SSLContext | None:
    """`[pbxsim] tls-cert`/`tls-key`: the CSTA listener on TLS."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    return server_context(settings.tls_cert, settings.tls_key)
