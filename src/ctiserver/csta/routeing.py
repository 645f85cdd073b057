"""Routeing services (ECMA-269 § 21; "routeing" is the standard's spelling).

RouteRegister is confirmed.  The routeing dialogue itself is unconfirmed invocations:
the switch sends RouteRequest, ReRoute and RouteUsed; the application sends RouteSelect;
either side may send RouteEnd.  A dialogue is named by its routingCrossRefID.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctiserver.csta.enumerations import EventCause
from ctiserver.csta.schema import Request, Response, Unconfirmed, xml
from ctiserver.csta.types import CallingDeviceID, ConnectionID, PrivateData
from ctiserver.ids import DeviceId

_EXTENSIONS = "extensions/privateData/private"


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRegisterResponse(Response):
    route_register_req_id: str = xml("routeRegisterReqID")


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRegister(Request):
    RESPONSE = RouteRegisterResponse
    routeing_device: DeviceId


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRegisterCancelResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRegisterCancel(Request):
    RESPONSE = RouteRegisterCancelResponse
    route_register_req_id: str = xml("routeRegisterReqID")


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRequest(Unconfirmed):
    route_register_req_id: str = xml("routeRegisterReqID")
    routing_cross_ref_id: str = xml("routingCrossRefID")
    current_route: DeviceId
    calling_device: CallingDeviceID | None = None
    routed_call: ConnectionID
    reply_timeout: int | None = None
    correlator_data: str = ""
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReRoute(Unconfirmed):
    route_register_req_id: str = xml("routeRegisterReqID")
    routing_cross_ref_id: str = xml("routingCrossRefID")


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteSelect(Unconfirmed):
    route_register_req_id: str = xml("routeRegisterReqID")
    routing_cross_ref_id: str = xml("routingCrossRefID")
    route_selected: DeviceId
    route_used_req: bool | None = None
    correlator_data: str = ""
    private_data: PrivateData | None = xml(_EXTENSIONS, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteUsed(Unconfirmed):
    route_register_req_id: str = xml("routeRegisterReqID")
    routing_cross_ref_id: str = xml("routingCrossRefID")
    route_used: DeviceId
    calling_device: CallingDeviceID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteEnd(Unconfirmed):
    route_register_req_id: str = xml("routeRegisterReqID")
    routing_cross_ref_id: str = xml("routingCrossRefID")
    cause: EventCause | None = None
