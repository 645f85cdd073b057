"""The simulated PBX as the server's switch: built from the same configuration and
reached over loopback TCP, exactly as a real switch would be (docs/pbxsim.md).

Also `serve_standalone`, behind `ctiserver pbxsim`.
"""

from __future__ import annotations

import ssl

from ctiserver.app.binding import PBXSIM, bind
from ctiserver.app.config import Address, Config
from ctiserver.doors.tls import server_context
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind
from ctiserver.pbxsim.config import AcdGroup, PbxConfig, RoutingPoint, Trunk
from ctiserver.pbxsim.listener import PbxListener
from ctiserver.pbxsim.switch import Switch

EMBEDDED_LISTEN = Address("127.0.0.1", 0)
STANDALONE_LISTEN = Address("127.0.0.1", 1040)


def pbx_config(config: Config) -> PbxConfig:
    """The switch's lines: `[dn]`, `[agents]`, `[routing-point.*]`, `[acd-queue.*]`."""

    def numbers(kind: DnKind) -> list[DeviceId]:
        return [dn for dn, dn_kind in config.dns.items() if dn_kind is kind]

    groups = tuple(
        AcdGroup(number=dn, wrap_up_time=_queue_wrap_up(config, dn))
        for dn in numbers(DnKind.ACD_QUEUE)
    )
    points = []
    for dn in numbers(DnKind.ROUTING_POINT):
        settings = config.routing_points.get(dn)
        points.append(
            RoutingPoint(
                number=dn,
                route_timeout=settings.route_timeout if settings else 10.0,
                default_destination=settings.default_destination if settings else None,
            )
        )
    trunks = tuple(
        Trunk(
            name=name,
            prefix=trunk.prefix,
            peer=str(trunk.peer) if trunk.peer is not None else None,
            ani_prefix=trunk.ani_prefix,
        )
        for name, trunk in config.trunks.items()
    )
    return PbxConfig(
        stations=tuple(numbers(DnKind.EXTENSION)),
        acd_groups=groups,
        routing_points=tuple(points),
        agents=config.agent_logins,
        agent_passwords=dict(config.agent_passwords),
        conference_size=config.conference_size,
        edition=config.namespace,
        session_duration=config.session_duration,
        name=config.switch_name,
        private_namespace=config.private_namespace,
        recordings=str(config.recordings) if config.recordings is not None else None,
        trunk_listen=str(config.trunk_listen) if config.trunk_listen is not None else None,
        trunks=trunks,
    )


def _queue_wrap_up(config: Config, dn: DeviceId) -> float:
    settings = config.acd_queues.get(dn)
    return settings.wrap_up_time if settings else 0.0


class EmbeddedSwitch:
    """pbxsim running inside `ctiserver run`."""

    def __init__(self, config: Config) -> None:
        self.listener = _listener(config, config.csta_listen or EMBEDDED_LISTEN)
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


async def serve_standalone(config: Config) -> None:
    """`ctiserver pbxsim`: the switch alone, until cancelled.  Raises StartupError when
    a port cannot be had."""
    listen = config.csta_listen or STANDALONE_LISTEN
    listener = _listener(config, listen)
    try:
        host, port = await bind(listener.start(), PBXSIM, listen)
        print(f"listening csta={host}:{port}", flush=True)
        if (trunk := listener.trunk_address) is not None:
            print(f"listening trunk={trunk[0]}:{trunk[1]}", flush=True)
        await listener.run()
    finally:
        await listener.stop()


def _listener(config: Config, listen: Address) -> PbxListener:
    """The switch of *config* behind its CSTA listener on *listen*, with its TLS and caps."""
    return PbxListener(
        Switch(pbx_config(config)),
        listen.host,
        listen.port,
        tls=pbxsim_tls(config),
        max_links=config.pbxsim_max_connections,
        max_links_per_address=config.pbxsim_max_connections_per_address,
    )


def pbxsim_tls(config: Config) -> ssl.SSLContext | None:
    """`[pbxsim] tls-cert`/`tls-key`: the CSTA listener on TLS."""
    if config.pbxsim_tls_cert is None or config.pbxsim_tls_key is None:
        return None
    return server_context(config.pbxsim_tls_cert, config.pbxsim_tls_key)
