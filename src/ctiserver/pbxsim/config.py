"""What the simulated PBX is made of: its numbers, queues, routing points, agents, private
services and trunks.

PbxConfig is a plain value of strings and numbers, built by the caller: the lines (the
application reads them from the site's sections), the names both ends of the link share,
and PbxsimSettings, the `[pbxsim]` section as the configuration reads it, whole.  It is
checked once, when built: a number is one kind of device only, every number is digits,
addresses are "HOST:PORT", trunk names and prefixes are unique.
expand_numbers() turns the configuration's number lists ("7001-7010" inclusive ranges,
single numbers) into numbers; parse_address() reads an address.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ctiserver.csta.schema import EDITIONS
from ctiserver.doors.address import Address

DEFAULT_ROUTE_TIMEOUT = 10.0
DEFAULT_SESSION_DURATION = 180
DEFAULT_CONFERENCE_SIZE = 6
DEFAULT_ANNOUNCEMENT_LENGTH = 3.0  # seconds an announcement plays (docs/pbxsim.md § 8.5)
DEFAULT_NO_ANSWER_TIME = 15.0  # seconds a call rings before forwarding on no answer (§ 4.14)
DEFAULT_PRIVATE_NAMESPACE = "urn:ctiserver:csta:private"
_MAX_RANGE = 100_000
_NUMBER = re.compile(r"[0-9]+")
_RANGE = re.compile(r"([0-9]+)\s*-\s*([0-9]+)")
_DIGITS = re.compile(r"[0-9*#]+")
_NAME = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingPoint:
    """A routing device (ECMA-269 § 21) and what pbxsim does when nobody routes."""

    number: str
    route_timeout: float = DEFAULT_ROUTE_TIMEOUT
    default_destination: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AcdGroup:
    """An ACD group: calls wait here until an agent of the group is ready."""

    number: str
    wrap_up_time: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Trunk:
    """A trunk to another simulated switch (docs/pbxsim.md § 9).

    Attributes:
        name: the trunk's name; it is the networkInterfaceUsed of NetworkReachedEvent,
            and both ends of a trunk may use it to share one connection.
        prefix: dialling prefix + N sends N over this trunk.
        peer: "HOST:PORT" of the other switch's trunk listener, which this switch
            dials and keeps dialled; None waits for the other end to dial in (or for
            PbxListener.connect_trunk()).
        ani_prefix: put before the caller's number sent as ANI on this trunk, so the far
            end sees a number it can dial back ("" sends the plain number).
    """

    name: str
    prefix: str
    peer: str | None = None
    ani_prefix: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PbxsimSettings:
    """`[pbxsim]` and its `[pbxsim.trunk."NAME"]` tables, as the server's configuration
    writes them: where the simulated PBX listens, with what TLS files and caps, and what
    it adds to its lines (the conference size, recordings, trunks).  The lines themselves
    (stations, groups, routing points, agents) come from the site's sections."""

    csta_listen: Address | None = None  # None: 127.0.0.1:0 embedded, 127.0.0.1:1040 alone
    conference_size: int = DEFAULT_CONFERENCE_SIZE
    trunk_listen: Address | None = None
    recordings: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_connections: int = 16
    max_connections_per_address: int = 8
    trunks: tuple[Trunk, ...] = ()
    announcement_length: float = DEFAULT_ANNOUNCEMENT_LENGTH  # treatments (§ 8.5)
    no_answer_time: float = DEFAULT_NO_ANSWER_TIME  # forwarding on no answer (§ 4.14)


@dataclass(frozen=True, slots=True, kw_only=True)
class PbxConfig:
    """The switch's lines.

    Attributes:
        stations: extension numbers; each is one line.
        acd_groups: ACD groups, with their wrap-up time in seconds.
        routing_points: routing devices, with route timeout and default destination.
        agents: the agent ids that may log in.
        agent_passwords: the password of an agent id, for those that have one.
        edition: the ECMA-323 edition written until an application negotiates one.
        session_duration: seconds an ECMA-354 session lasts when none is requested.
        name: this switch's name towards other switches; it qualifies network call ids
            ("NAME-7"), so each switch of a network needs its own.
        private_namespace: the XML namespace of the private services' vocabulary.
        settings: `[pbxsim]`, whole: the most connections a call may have, the file
            each ended recording is appended to (one JSON line), where other switches'
            trunks are accepted, the trunks this switch dials out on, how long an
            announcement plays and a call rings before forwarding on no answer.
    """

    stations: tuple[str, ...] = ()
    acd_groups: tuple[AcdGroup, ...] = ()
    routing_points: tuple[RoutingPoint, ...] = ()
    agents: tuple[str, ...] = ()
    agent_passwords: Mapping[str, str] = field(default_factory=dict)
    edition: str = "ed4"
    session_duration: int = DEFAULT_SESSION_DURATION
    name: str = "pbxsim"
    private_namespace: str = DEFAULT_PRIVATE_NAMESPACE
    settings: PbxsimSettings = field(default_factory=PbxsimSettings)

    def __post_init__(self) -> None:
        numbers = [
            *self.stations,
            *(group.number for group in self.acd_groups),
            *(point.number for point in self.routing_points),
        ]
        _check_unique("device number", numbers)
        _check_unique("agent id", list(self.agents))
        for number in numbers:
            if not _NUMBER.fullmatch(number):
                raise ValueError(f"device number {number!r} is not digits")
        for point in self.routing_points:
            _check_routing_point(point)
        for group in self.acd_groups:
            if group.wrap_up_time < 0:
                raise ValueError(f"ACD group {group.number}: wrap-up time below zero")
        if unknown := set(self.agent_passwords) - set(self.agents):
            raise ValueError(f"passwords for agents that are not configured: {sorted(unknown)}")
        if self.edition not in EDITIONS:
            raise ValueError(f"unknown ECMA-323 edition {self.edition!r}; one of {EDITIONS}")
        if self.session_duration <= 0:
            raise ValueError("the ECMA-354 session duration must be above zero")
        self._check_settings()
        self._check_private_services()
        self._check_trunks()

    def _check_settings(self) -> None:
        settings = self.settings
        if settings.conference_size < 3:
            raise ValueError(f"conference size {settings.conference_size} is below 3")
        if settings.announcement_length <= 0:
            raise ValueError("the announcement length must be above zero")
        if settings.no_answer_time <= 0:
            raise ValueError("the no-answer time must be above zero")

    def _check_private_services(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"switch name {self.name!r} is not letters, digits, '_', '.', '-'")
        if not self.private_namespace.strip():
            raise ValueError("the private namespace is empty")

    def _check_trunks(self) -> None:
        trunks = self.settings.trunks
        _check_unique("trunk", [trunk.name for trunk in trunks])
        _check_unique("trunk prefix", [trunk.prefix for trunk in trunks])
        for trunk in trunks:
            if not _NAME.fullmatch(trunk.name):
                raise ValueError(f"trunk name {trunk.name!r} is not letters, digits, '_', '.', '-'")
            if not _DIGITS.fullmatch(trunk.prefix):
                raise ValueError(f"trunk {trunk.name}: prefix {trunk.prefix!r} is not digits")
            if trunk.ani_prefix and not _DIGITS.fullmatch(trunk.ani_prefix):
                raise ValueError(
                    f"trunk {trunk.name}: ANI prefix {trunk.ani_prefix!r} is not digits"
                )
            if trunk.peer is not None:
                parse_address(trunk.peer)


def _check_unique(what: str, values: Sequence[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value} is configured twice")
        seen.add(value)


def _check_routing_point(point: RoutingPoint) -> None:
    if point.route_timeout <= 0:
        raise ValueError(f"routing point {point.number}: route timeout must be above zero")
    destination = point.default_destination
    if destination is not None and not _NUMBER.fullmatch(destination):
        raise ValueError(f"routing point {point.number}: default destination is not digits")


def parse_address(text: str) -> tuple[str, int]:
    """Read "HOST:PORT" (or "[v6 host]:PORT").  Raises ValueError."""
    host, colon, port = text.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{text!r} is not an address HOST:PORT")
    return host, int(port)


def expand_numbers(specs: Iterable[str | int]) -> tuple[str, ...]:
    """Expand number lists such as ``["7001-7003", 8001]`` into single numbers.

    A range is inclusive.  When both ends have the same number of digits, the numbers
    keep that width ("0098-0101" gives "0098" … "0101").

    Raises:
        ValueError: a spec is not a number or a range, or a range runs backwards or is
            larger than 100,000 numbers.
    """
    numbers: list[str] = []
    for spec in specs:
        numbers.extend(_expand_one(spec))
    return tuple(numbers)


def _expand_one(spec: str | int) -> list[str]:
    if isinstance(spec, bool) or not isinstance(spec, str | int):
        raise ValueError(f"{spec!r} is neither a number nor a range")
    if isinstance(spec, int):
        if spec < 0:
            raise ValueError(f"{spec} is not a device number")
        return [str(spec)]
    text = spec.strip()
    if _NUMBER.fullmatch(text):
        return [text]
    match = _RANGE.fullmatch(text)
    if match is None:
        raise ValueError(f"{spec!r} is neither a number nor a range such as 7001-7010")
    first, last = match.group(1), match.group(2)
    low, high = int(first), int(last)
    if low > high:
        raise ValueError(f"range {spec!r} runs backwards")
    if high - low >= _MAX_RANGE:
        raise ValueError(f"range {spec!r} has more than {_MAX_RANGE} numbers")
    width = len(first) if len(first) == len(last) else 0
    return [str(number).zfill(width) for number in range(low, high + 1)]
