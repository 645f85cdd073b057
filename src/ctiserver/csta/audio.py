"""A device's microphone and speaker: the mute services and events of ECMA-269's
physical device features (Set Microphone Mute, Set Speaker Mute; Microphone Mute and
Speaker Mute events).

They belong to a device, not to a call: the T-Server uses the microphone for
RequestSetMuteOn/Off (the device is not heard) and the speaker for
RequestListenDisconnect/Reconnect (the device hears nothing).  `auditoryApparatus`
(which handset or headset) is left out: the device's only one is meant.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctiserver.csta.schema import Event, Request, Response, xml
from ctiserver.csta.types import SubjectDeviceID
from ctiserver.ids import DeviceId


@dataclass(frozen=True, slots=True, kw_only=True)
class SetMicrophoneMuteResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class SetMicrophoneMute(Request):
    RESPONSE = SetMicrophoneMuteResponse
    device: DeviceId
    microphone_mute_on: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SetSpeakerMuteResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class SetSpeakerMute(Request):
    RESPONSE = SetSpeakerMuteResponse
    device: DeviceId
    speaker_mute_on: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class MicrophoneMuteEvent(Event):
    invoking_device: SubjectDeviceID = xml("invokingDevice")
    microphone_mute_on: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeakerMuteEvent(Event):
    invoking_device: SubjectDeviceID = xml("invokingDevice")
    speaker_mute_on: bool
