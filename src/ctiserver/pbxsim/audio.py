"""Microphone and speaker mute (ECMA-269 physical device features; docs/pbxsim.md
§ 4.15): SetMicrophoneMute and SetSpeakerMute set a station's flag and tell its monitors
(MicrophoneMuteEvent, SpeakerMuteEvent), even when the flag was set already.

A muted microphone is not heard in the station's calls; a muted speaker hears nothing.
Both end, without an event, when the station has no call left: a mute belongs to the
calls it was set in, as on most desk phones.
"""

from __future__ import annotations

from ctiserver.csta.audio import (
    MicrophoneMuteEvent,
    SetMicrophoneMute,
    SetMicrophoneMuteResponse,
    SetSpeakerMute,
    SetSpeakerMuteResponse,
    SpeakerMuteEvent,
)
from ctiserver.csta.failure import ErrorCategory
from ctiserver.ids import DeviceId
from ctiserver.pbxsim.outcome import Refused
from ctiserver.pbxsim.state import UNADDRESSED, Context


def _station(ctx: Context, device: DeviceId) -> DeviceId:
    if not ctx.state.directory.is_station(device):
        raise Refused(ErrorCategory.OPERATION, "invalidDeviceID")
    return device


def _flag(flags: set[DeviceId], device: DeviceId, on: bool) -> None:
    if on:
        flags.add(device)
    else:
        flags.discard(device)


def set_microphone_mute(ctx: Context, request: SetMicrophoneMute) -> None:
    device = _station(ctx, request.device)
    ctx.reply(SetMicrophoneMuteResponse())
    _flag(ctx.state.microphone_muted, device, request.microphone_mute_on)
    event = MicrophoneMuteEvent(
        monitor_cross_ref_id=UNADDRESSED,
        invoking_device=device,
        microphone_mute_on=request.microphone_mute_on,
    )
    ctx.publish_device(device, event)


def set_speaker_mute(ctx: Context, request: SetSpeakerMute) -> None:
    device = _station(ctx, request.device)
    ctx.reply(SetSpeakerMuteResponse())
    _flag(ctx.state.speaker_muted, device, request.speaker_mute_on)
    event = SpeakerMuteEvent(
        monitor_cross_ref_id=UNADDRESSED,
        invoking_device=device,
        speaker_mute_on=request.speaker_mute_on,
    )
    ctx.publish_device(device, event)


def settle(ctx: Context) -> None:
    """A station with no call left is muted no more."""
    state = ctx.state
    for flags in (state.microphone_muted, state.speaker_muted):
        for device in [d for d in flags if not state.connections_at(d)]:
            flags.discard(device)
