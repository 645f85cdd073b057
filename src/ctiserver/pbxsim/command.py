"""`ctiserver pbxsim` and the embedded simulated PBX: run one switch until cancelled.

serve() prints `listening csta=HOST:PORT` once the port is bound (with the port
actually bound when 0 was asked), and `listening trunk=HOST:PORT` after it when the
configuration has `trunk_listen`, so that a script or the embedding server can find
them.
"""

from __future__ import annotations

import ssl

from ctiserver.pbxsim.config import PbxConfig
from ctiserver.pbxsim.listener import PbxListener
from ctiserver.pbxsim.switch import Switch


async def serve(
    config: PbxConfig,
    host: str,
    port: int,
    *,
    tls: ssl.SSLContext | None = None,
    limits: tuple[int, int] = (16, 8),
) -> None:
    """Run a simulated PBX with *config* on *host*:*port* until cancelled; *limits* are
    its links in all and per address."""
    listener = PbxListener(
        Switch(config), host, port, tls=tls, max_links=limits[0], max_links_per_address=limits[1]
    )
    try:
        bound_host, bound_port = await listener.start()
        print(f"listening csta={bound_host}:{bound_port}", flush=True)
        if (trunk := listener.trunk_address) is not None:
            print(f"listening trunk={trunk[0]}:{trunk[1]}", flush=True)
        await listener.run()
    finally:
        await listener.stop()
