"""The settings of the parts that read several sections, each built by one function from
the configuration tree (the composition root passes the result whole).

    core_settings(config)       the T-Server core: [server] name and sessions, [switch]
                                name, reply-timeout and private-namespace, [options] and
                                [call-cleanup] whole
    pbx_config(config)          the embedded or stand-alone simulated PBX's lines: the site,
                                [pbxsim] whole and the [switch] keys both ends of the link
                                share

These are the only places where a value of one section is put beside another's.
"""

from __future__ import annotations

from ctiserver.app.config import Config
from ctiserver.ids import DeviceId
from ctiserver.model.states import DnKind
from ctiserver.pbxsim.config import AcdGroup, PbxConfig, RoutingPoint
from ctiserver.tserver.port import CoreSettings


def core_settings(config: Config) -> CoreSettings:
    server, switch = config.server, config.switch
    return CoreSettings(
        name=server.name,
        location=switch.name,
        answer_timeout=switch.reply_timeout,
        private_namespace=switch.private_namespace,
        options=config.options,
        cleanup=config.call_cleanup,
        sessions=server.sessions,
        member=config.ha.member if config.ha is not None else "",
    )


def pbx_config(config: Config) -> PbxConfig:
    """The switch's lines: `[dn]`, `[agents]`, `[routing-point.*]`, `[acd-queue.*]`, with
    `[pbxsim]` whole and the `[switch]` keys the simulated PBX shares with the link.
    Raises ValueError for what the simulated PBX cannot hold."""
    site, switch = config.site, config.switch

    def numbers(kind: DnKind) -> list[DeviceId]:
        return [dn for dn, dn_kind in site.dns.items() if dn_kind is kind]

    queues = site.acd_queues
    groups = tuple(
        AcdGroup(number=dn, wrap_up_time=queues[dn].wrap_up_time if dn in queues else 0.0)
        for dn in numbers(DnKind.ACD_QUEUE)
    )
    points = tuple(_routing_point(config, dn) for dn in numbers(DnKind.ROUTING_POINT))
    return PbxConfig(
        stations=tuple(numbers(DnKind.EXTENSION)),
        acd_groups=groups,
        routing_points=points,
        agents=site.agent_logins,
        agent_passwords=dict(site.agent_passwords),
        edition=switch.namespace,
        session_duration=switch.session_duration,
        name=switch.name,
        private_namespace=switch.private_namespace,
        settings=config.pbxsim,
    )


def _routing_point(config: Config, dn: DeviceId) -> RoutingPoint:
    settings = config.site.routing_points.get(dn)
    if settings is None:
        return RoutingPoint(number=dn)
    return RoutingPoint(
        number=dn,
        route_timeout=settings.route_timeout,
        default_destination=settings.default_destination,
    )
