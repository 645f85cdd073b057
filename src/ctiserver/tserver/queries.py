"""Queries and subscriptions about the server rather than one DN (docs/protocol.md,
Queries):

    RequestQueryLocation    the other sites (ISCC) and whether their servers are up:
                            EventLocationInfo; or a subscription to their changes
    RequestQuerySwitch      the switch's date and time: EventSwitchInfo
    RequestRegisterAll      every DN's events, now and as DNs come: EventRegisteredAll
    RequestUnregisterAll    no longer: EventUnregisteredAll
    RequestSetInputMask     only these events (by name) from now on: EventACK

A subscription is a registration of a name that is no DN (`*` for every DN, `@SITE` or
`@*` for a site's or every site's changes), so that a resumed session, or the new
primary of a pair, has it back as it has the client's DNs (tserver.clients).  The input
mask is the session's too (a SessionMasked fact): a resumed session keeps it, and the
journal carries it to the backup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ctiserver.ids import DeviceId
from ctiserver.tlib.errors import TError
from ctiserver.tlib.events import EVENTS
from ctiserver.tlib.vocabulary import (
    KVList,
    LocationInfoType,
    RegisterMode,
    SwitchInfoType,
    TMessage,
)
from ctiserver.tserver.errors import InvalidAttribute
from ctiserver.tserver.iscc.refusals import IsccRefused
from ctiserver.tserver.port import Core, RequestContext, Site

EVERY_DN: Final = DeviceId("*")  # RequestRegisterAll
EVERY_SITE: Final = DeviceId("@*")  # RequestQueryLocation MonitorAllLocations
ALWAYS_SENT: Final = frozenset(
    {"EventError", "EventServerInfo", "EventLinkConnected", "EventLinkDisconnected"}
)


def site_subscription(location: str) -> DeviceId:
    """RequestQueryLocation MonitorLocation: a registration of this name."""
    return DeviceId(f"@{location}")


# --- locations (ISCC) --------------------------------------------------------------------------


def site_info(site: Site) -> KVList:
    """What EventLocationInfo says of one site: its server's status and access code."""
    info: KVList = {"status": site.status}
    if site.access_code:
        info["access-code"] = site.access_code
    return info


def site_event(site: Site) -> TMessage:
    """A monitored site changed (its server connected, disconnected, ...)."""
    return location_event(LocationInfoType.LOCATION_DATA, site.location, site_info(site))


def location_event(info_type: LocationInfoType, location: str | None, info: KVList) -> TMessage:
    event: TMessage = {"Event": "EventLocationInfo", "LocationInfoType": info_type}
    if location is not None:
        event["Location"] = location
    event["LocationInfo"] = info
    return event


def query_location(core: Core, ctx: RequestContext) -> None:
    info_type = LocationInfoType(
        ctx.message.get("LocationInfoType", LocationInfoType.ALL_LOCATIONS)
    )
    location = ctx.message.get("Location")
    sites = core.sites()
    if sites is None:
        raise IsccRefused(TError.FEATURE_NOT_INITED, "ISCC is not configured on this server")
    every: KVList = {site.location: site_info(site) for site in sites}
    match info_type:
        case LocationInfoType.ALL_LOCATIONS:
            core.reply(ctx, location_event(info_type, None, every))
        case LocationInfoType.LOCATION_DATA:
            site = _named(ctx, sites, location)
            core.reply(ctx, location_event(info_type, site.location, site_info(site)))
        case LocationInfoType.MONITOR_LOCATION:
            site = _named(ctx, sites, location)
            core.register(ctx.client, site_subscription(site.location), RegisterMode.MODE_MONITOR)
            core.reply(ctx, location_event(info_type, site.location, site_info(site)))
        case LocationInfoType.MONITOR_ALL_LOCATIONS:
            core.register(ctx.client, EVERY_SITE, RegisterMode.MODE_MONITOR)
            core.reply(ctx, location_event(info_type, None, every))
        case LocationInfoType.CANCEL_MONITOR_LOCATION:
            site = _named(ctx, sites, location)
            if not core.unregister(ctx.client, site_subscription(site.location), ctx.at):
                raise _bad(f"this client does not monitor the site {site.location}")
            answer = LocationInfoType.LOCATION_MONITOR_CANCELED
            core.reply(ctx, location_event(answer, site.location, {}))
        case LocationInfoType.CANCEL_MONITOR_ALL_LOCATIONS:
            if not core.unregister(ctx.client, EVERY_SITE, ctx.at):
                raise _bad("this client does not monitor every site (MonitorAllLocations)")
            answer = LocationInfoType.ALL_LOCATIONS_MONITOR_CANCELED
            core.reply(ctx, location_event(answer, None, {}))
        case _:
            raise _bad(f"LocationInfoType {info_type} is what the server answers, not a question")


def _bad(message: str) -> IsccRefused:
    return IsccRefused(TError.ISCC_BAD_LOCATION_QUERY_REQUEST, message)


def _named(ctx: RequestContext, sites: list[Site], location: str | None) -> Site:
    if location is None:
        raise _bad(f"LocationInfoType {ctx.message.get('LocationInfoType')} needs Location")
    found = next((site for site in sites if site.location == location), None)
    if found is None:
        raise IsccRefused(TError.NO_SUCH_SERVER, f"no site {location} is configured for ISCC")
    return found


# --- the switch --------------------------------------------------------------------------------


def query_switch(core: Core, ctx: RequestContext) -> None:
    """The switch's date and time: ECMA-269 has no service that asks a switch for it, so
    the server answers with its own clock (docs/protocol.md).  A CSTA switch has no call
    classifiers to report (ClassifierStat)."""
    info_type = SwitchInfoType(ctx.message.get("SwitchInfoType", SwitchInfoType.DATE_TIME))
    if info_type is not SwitchInfoType.DATE_TIME:
        raise InvalidAttribute(
            "SwitchInfoType ClassifierStat: a CSTA switch reports no call classifiers"
        )
    seconds = int(ctx.at.wall)
    event: TMessage = {
        "Event": "EventSwitchInfo",
        "SwitchInfoType": info_type,
        "TimeinSecs": seconds,
        "TimeinuSecs": round((ctx.at.wall - seconds) * 1_000_000) % 1_000_000,
    }
    core.reply(ctx, event)


# --- every DN, and the events a client takes ------------------------------------------------


def register_all(core: Core, ctx: RequestContext) -> None:
    """Every DN's events, those configured later too, to this client (as ModeMonitor:
    it may not control a DN it has not registered)."""
    core.register(ctx.client, EVERY_DN, RegisterMode.MODE_MONITOR)  # no one holds "*" alone
    core.reply(ctx, {"Event": "EventRegisteredAll"})


def unregister_all(core: Core, ctx: RequestContext) -> None:
    """Ends RequestRegisterAll; the DNs the client registered one by one stay."""
    if not core.unregister(ctx.client, EVERY_DN, ctx.at):
        raise InvalidAttribute("this client has not registered every DN (RequestRegisterAll)")
    core.reply(ctx, {"Event": "EventUnregisteredAll"})


def set_input_mask(core: Core, ctx: RequestContext) -> None:
    """InputMask: the names of the events the client takes from now on (answers to its
    own requests, EventError, and the server and link events always come); an empty list
    takes every event again."""
    wanted = ctx.message["InputMask"]
    unknown = sorted(name for name in wanted if name not in EVENTS)
    if unknown:
        raise InvalidAttribute(f"InputMask names no events the server sends: {', '.join(unknown)}")
    core.set_input_mask(ctx.client, frozenset(wanted) | ALWAYS_SENT if wanted else None)
    core.reply(ctx, {"Event": "EventACK"})


HANDLERS: dict[str, Callable[[Core, RequestContext], None]] = {
    "RequestQueryLocation": query_location,
    "RequestQuerySwitch": query_switch,
    "RequestRegisterAll": register_all,
    "RequestUnregisterAll": unregister_all,
    "RequestSetInputMask": set_input_mask,
}
