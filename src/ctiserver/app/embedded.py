"""The simulated PBX as the server's switch: built from the same configuration and
reached over loopback TCP, exactly as a real switch would be (DESIGN.md § 1, part 2).

Also `serve_standalone`, behind `ctiserver pbxsim`.
"""

from __future__ import annotations

from collections.abc import Callable

from ctiserver.app.config import Address, Config
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind
from ctiserver.pbxsim.command import serve
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
        listen = config.csta_listen or EMBEDDED_LISTEN
        self.switch = Switch(pbx_config(config))
        self.listener = PbxListener(self.switch, listen.host, listen.port)

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
    listens."""
    listen = config.csta_listen or STANDALONE_LISTEN
    await serve(pbx_config(config), listen.host, listen.port, started=started)
