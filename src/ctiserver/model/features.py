"""The features the switch reports of our DNs (docs/protocol.md, DN features): do not
disturb, forwarding, the message waiting lamp, and being out of service.

    DoNotDisturbEvent                   DnFeaturesChanged DND
    ForwardingEvent                     DnFeaturesChanged FORWARDING, per forwarding type
    MessageWaitingEvent                 DnFeaturesChanged MESSAGE_WAITING
    OutOfServiceEvent, BackInServiceEvent   DnFeaturesChanged SERVICE

Each is reported on the DN's own monitor, and is recorded whether or not it changes the
setting (the switch says so again when a client sets it again, and the client is told).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ctiserver.csta.logical_device import (
    BackInServiceEvent,
    DoNotDisturbEvent,
    ForwardingEvent,
    MessageWaitingEvent,
    OutOfServiceEvent,
)
from ctiserver.ids import DeviceId
from ctiserver.model.changes import DnFeature, DnFeaturesChanged
from ctiserver.model.state import State
from ctiserver.model.values import DnFeatures


def _mine(dn: DeviceId, device: DeviceId | None) -> bool:
    return device is None or device == dn


def _changed(
    state: State, dn: DeviceId, features: DnFeatures, what: DnFeature, forwarding_type: str = ""
) -> None:
    state.emit(
        DnFeaturesChanged(dn=dn, features=features, what=what, forwarding_type=forwarding_type)
    )


def on_do_not_disturb(state: State, dn: DeviceId, event: DoNotDisturbEvent) -> None:
    if _mine(dn, event.device):
        features = dataclasses.replace(state.features(dn), dnd=event.do_not_disturb_on)
        _changed(state, dn, features, DnFeature.DND)


def on_forwarding(state: State, dn: DeviceId, event: ForwardingEvent) -> None:
    if not _mine(dn, event.device) or event.forwarding_type is None:
        return
    kind = event.forwarding_type.value
    forwarding = {k: v for k, v in state.features(dn).forwarding.items() if k != kind}
    if event.forward_status and event.forward_to:
        forwarding[kind] = event.forward_to
    features = dataclasses.replace(state.features(dn), forwarding=forwarding)
    _changed(state, dn, features, DnFeature.FORWARDING, kind)


def on_message_waiting(state: State, dn: DeviceId, event: MessageWaitingEvent) -> None:
    if _mine(dn, event.target_device):
        on = event.message_waiting_on
        features = dataclasses.replace(state.features(dn), message_waiting=on)
        _changed(state, dn, features, DnFeature.MESSAGE_WAITING)


def on_out_of_service(state: State, dn: DeviceId, event: OutOfServiceEvent) -> None:
    if _mine(dn, event.device):
        features = dataclasses.replace(state.features(dn), out_of_service=True)
        _changed(state, dn, features, DnFeature.SERVICE)


def on_back_in_service(state: State, dn: DeviceId, event: BackInServiceEvent) -> None:
    if _mine(dn, event.device):
        features = dataclasses.replace(state.features(dn), out_of_service=False)
        _changed(state, dn, features, DnFeature.SERVICE)


def resynced(state: State, snapshot: Mapping[DeviceId, DnFeatures]) -> None:
    """The switch's word on the features of the DNs in *snapshot* (after the link came
    back): each that differs from what the model holds is recorded as if just reported.
    Service is not in a snapshot: the model keeps what it last heard."""
    for dn, seen in snapshot.items():
        if not state.is_ours(dn):
            continue
        known = state.features(dn)
        if seen.dnd != known.dnd:
            known = dataclasses.replace(known, dnd=seen.dnd)
            _changed(state, dn, known, DnFeature.DND)
        if seen.message_waiting != known.message_waiting:
            known = dataclasses.replace(known, message_waiting=seen.message_waiting)
            _changed(state, dn, known, DnFeature.MESSAGE_WAITING)
        for kind in sorted(set(seen.forwarding) | set(known.forwarding)):
            if seen.forwarding.get(kind) != known.forwarding.get(kind):
                forwarding = {k: v for k, v in known.forwarding.items() if k != kind}
                if kind in seen.forwarding:
                    forwarding[kind] = seen.forwarding[kind]
                known = dataclasses.replace(known, forwarding=forwarding)
                _changed(state, dn, known, DnFeature.FORWARDING, kind)
