"""Which code serves each T-Library request: the handlers' table (one module per family
of requests), and the way there.  A client must have registered first; the backup of a
pair serves only registration and RequestQueryServer; a request naming another site's
Location (or an ISCC request) goes to the core's ISCC, one naming this site to its
handler.  CARRY_OUT is what ISCC calls back once the other site gave an access number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from ctiserver.iscc.transactions import PURPOSES, Purpose, site_of
from ctiserver.tlib.errors import TError
from ctiserver.tlib.requests import REQUESTS
from ctiserver.tlib.vocabulary import ServerRole
from ctiserver.tserver import (
    addresses,
    agents,
    call_monitoring,
    calls,
    dtmf,
    features,
    older_treatments,
    predictive,
    private,
    queries,
    reservations,
    routing,
    supervision,
    transfers,
    treatments,
    user_events,
    userdata,
)
from ctiserver.tserver.calls import Destination
from ctiserver.tserver.clients import Clients
from ctiserver.tserver.errors import (
    InvalidAttribute,
    NotSupported,
    NotYetRegisteredClient,
    OnBackup,
)
from ctiserver.tserver.iscc.refusals import IsccRefused
from ctiserver.tserver.iscc.site import Iscc
from ctiserver.tserver.port import Core, RequestContext

Handler = Callable[..., None]
HANDLERS: Mapping[str, Handler] = {
    **addresses.HANDLERS,
    **calls.HANDLERS,
    **transfers.HANDLERS,
    **routing.HANDLERS,
    **agents.HANDLERS,
    **userdata.HANDLERS,
    **private.HANDLERS,
    **reservations.HANDLERS,
    **supervision.HANDLERS,
    **queries.HANDLERS,
    **call_monitoring.HANDLERS,
    # calls: DTMF, treatments, user events, DN features
    **dtmf.HANDLERS,
    **treatments.HANDLERS,
    **user_events.HANDLERS,
    **features.HANDLERS,
    **older_treatments.HANDLERS,
    **predictive.HANDLERS,
}
# What carries out a request on a call moving to another site, with the access number.
CARRY_OUT: Mapping[Purpose, Callable[..., None]] = {
    Purpose.ROUTE: routing.route_call,
    Purpose.MAKE_CALL: calls.make_call,
    Purpose.CONSULT_TRANSFER: transfers.initiate_transfer,
    Purpose.CONSULT_CONFERENCE: transfers.initiate_conference,
    Purpose.MUTE_TRANSFER: transfers.mute_transfer,
    Purpose.SINGLE_STEP_TRANSFER: transfers.single_step_transfer,
}
ISCC_REQUESTS = frozenset({"RequestGetAccessNumber", "RequestCancelReqGetAccessNumber"})
# What the backup of a pair does itself; everything else is the primary's to do.
BACKUP_SERVES = frozenset(
    {
        "RequestRegisterClient",
        "RequestQueryServer",
        "RequestRegisterAddress",
        "RequestUnregisterAddress",
    }
)


class Host(Core, Protocol):
    """The core, as the way to the handlers sees it."""

    clients: Clients
    iscc: Iscc | None


def dispatch(core: Host, ctx: RequestContext) -> None:
    """Serve *ctx*.  Raises CtiError for a request refused before any handler."""
    if ctx.name != "RequestRegisterClient" and not core.clients.greeted(ctx.client):
        raise NotYetRegisteredClient()
    if core.role is ServerRole.BACKUP and ctx.name not in BACKUP_SERVES:
        raise OnBackup(ctx.name)
    if ctx.name in ISCC_REQUESTS or (ctx.name in PURPOSES and "Location" in ctx.message):
        _to_another_site(core, ctx)
        return
    handler = HANDLERS.get(ctx.name)
    if handler is None:
        raise NotSupported(f"{ctx.name} is not supported by this server")
    handler(core, ctx)


def carry_out(core: Core, ctx: RequestContext, purpose: Purpose, to: Destination) -> None:
    """Do what *ctx* asked, with *to* (an access number) as its destination."""
    CARRY_OUT[purpose](core, ctx, to)


def _to_another_site(core: Host, ctx: RequestContext) -> None:
    """A request naming a Location, or an ISCC request (docs/iscc.md).  A missing
    Location, or this site's, means here."""
    location = ctx.message.get("Location")
    here = location is None or site_of(str(location)) == core.settings.location
    if ctx.name in PURPOSES and here:
        _serve_here(core, ctx)
    elif core.iscc is None:
        raise IsccRefused(TError.FEATURE_NOT_INITED, "ISCC is not configured on this server")
    elif ctx.name == "RequestCancelReqGetAccessNumber":
        core.iscc.origin.cancel(ctx)
    else:
        core.iscc.origin.start(ctx)


def _serve_here(core: Host, ctx: RequestContext) -> None:
    """A request that names this very site as its Location."""
    missing = REQUESTS[ctx.name].missing_here(ctx.message)
    if missing is not None:
        raise InvalidAttribute(f"{ctx.name} for this site needs {missing}")
    HANDLERS[ctx.name](core, ctx)
