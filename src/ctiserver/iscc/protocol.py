"""The protocol between CTI servers of different sites (ISCC), sans-I/O.

One JSON object per line, `{"type": ..., ...}`, in both directions over one TCP
connection.  It carries the call-data transfer service (docs/iscc.md) and
keeps the connection alive ADDP-style:

    Hello        who is speaking (location, server), which protocol version, and a fresh
                 random nonce, the challenge for the peer's Proof
    Proof        after both Hellos, when the two sites share a secret: an HMAC-SHA256,
                 keyed by the secret, of both locations and both nonces (prove, below);
                 the secret itself never crosses the wire
    Poll/PollReply        the keep-alive; no traffic within the peer's timeout: drop
    Reserve      origin -> destination: reserve an access resource for transaction xid,
                 with its type, the destination DN, the call's UserData and token
    ReserveAgent origin -> destination: a Reserve that also reserves the agent the call is
                 for (RequestReserveAgentAndGetAccessNumber), named by its DN, its AgentID
                 or both; the agent stays reserved as long as the access resource
    Reserved     destination -> origin: the resource (the origin prefixes its access
                 code to make the access number), and a token when the type uses one
    Refused      destination -> origin: no resource, with an ISCC error code
    Cancel/Cancelled      origin -> destination and back: give the resource up
    CallIdentified        origin -> destination: the call's network call id, once known
    Started      origin -> destination: the call's ConnID at the origin, once it exists
    Matched      destination -> origin: the call arrived and was matched (its ConnID there)
    Failed       destination -> origin: it did not arrive in time (or was lost)
    Relinked     either way: a transfer or conference at the sender's site merged the
                 linked call into another; this is its ConnID there now
    DataChanged  either way: the UserData of a call linked across the two sites
    PartyEvent   either way: a party event of a linked call (event-propagation)
    Unlinked     either way: the sender's instance of a linked call ended

A field at its default value is not written, so that a peer of an earlier release
reads what it knows of a message that grew an optional field.

How to drive an IsccConnection: receive_data(bytes), then next_message() until NEED_DATA;
send(message) returns the bytes of one line.  A malformed line is a non-fatal
RemoteProtocolError; a line over MAX_LINE bytes is dropped up to its newline.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

import orjson

from ctiserver.errors import LocalProtocolError, RemoteProtocolError
from ctiserver.lines import NEED_LINE, OVERSIZE, LineBuffer
from ctiserver.tlib.requests import InvalidRequest, check_kv_list
from ctiserver.tlib.vocabulary import KVList

VERSION: Final = "ctiserver-iscc/1"
MAX_LINE: Final = 1 << 20
MAX_TEXT: Final = 256  # a DN, a ConnID, a token, a location: longer is not a real one
MAX_MESSAGE: Final = 2048  # the text of a refusal


class NeedData(enum.Enum):
    NEED_DATA = enum.auto()


NEED_DATA: Final = NeedData.NEED_DATA


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerMessage:
    TYPE: ClassVar[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Hello(PeerMessage):
    TYPE: ClassVar[str] = "hello"
    version: str = VERSION
    location: str
    server: str
    nonce: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Proof(PeerMessage):
    TYPE: ClassVar[str] = "proof"
    mac: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Poll(PeerMessage):
    TYPE: ClassVar[str] = "poll"
    id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PollReply(PeerMessage):
    TYPE: ClassVar[str] = "poll-reply"
    id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Reserve(PeerMessage):
    TYPE: ClassVar[str] = "reserve"
    xid: str
    xroute: str  # the transaction type: route, direct-callid, …
    dn: str  # the destination DN; "" for the destination's default-dn
    origin_conn_id: str = ""
    origin_dn: str = ""  # the DN the call leaves the origin from
    ani: str = ""  # the number the call presents (direct-ani)
    user_data: KVList = field(default_factory=dict)
    digits: str = ""  # direct-digits: the token, when the origin has one
    # Where the call first came from, when it crossed to the origin from a third site
    # (CallHistory: FirstTransferHomeLocation, FirstTransferConnID, FirstTransferOrigDN).
    first_location: str = ""
    first_conn_id: str = ""
    first_dn: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReserveAgent(Reserve):
    """A Reserve whose transaction also holds the agent at `dn` (or logged in as
    `agent_id`) reserved, until its call arrives, it is cancelled or its time is over."""

    TYPE: ClassVar[str] = "reserve-agent"
    agent_id: str = ""
    place: str = ""

    @classmethod
    def of(cls, reserve: Reserve, *, agent_id: str, place: str) -> ReserveAgent:
        """*reserve*, with the agent to hold reserved."""
        given = {spec.name: getattr(reserve, spec.name) for spec in dataclasses.fields(reserve)}
        return cls(**given, agent_id=agent_id, place=place)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reserved(PeerMessage):
    TYPE: ClassVar[str] = "reserved"
    xid: str
    resource: str
    token: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Refused(PeerMessage):
    TYPE: ClassVar[str] = "refused"
    xid: str
    code: int
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancel(PeerMessage):
    TYPE: ClassVar[str] = "cancel"
    xid: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancelled(PeerMessage):
    TYPE: ClassVar[str] = "cancelled"
    xid: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallIdentified(PeerMessage):
    TYPE: ClassVar[str] = "call-identified"
    xid: str
    network_call_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Started(PeerMessage):
    """Origin -> destination: the call the transaction moves is this ConnID here."""

    TYPE: ClassVar[str] = "started"
    xid: str
    conn_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Matched(PeerMessage):
    TYPE: ClassVar[str] = "matched"
    xid: str
    conn_id: str
    dn: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed(PeerMessage):
    TYPE: ClassVar[str] = "failed"
    xid: str
    code: int
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Relinked(PeerMessage):
    """The call linked by transaction `xid` is `conn_id` at the sender's site now."""

    TYPE: ClassVar[str] = "relinked"
    xid: str
    conn_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DataChanged(PeerMessage):
    """The UserData of a linked call changed at the sender's site.

    `conn_id` is the call's ConnID at the *receiver's* site; `by` the DN that changed it.
    """

    TYPE: ClassVar[str] = "data-changed"
    conn_id: str
    user_data: KVList
    by: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Unlinked(PeerMessage):
    """The sender's instance `far_conn_id` of the receiver's call `conn_id` ended."""

    TYPE: ClassVar[str] = "unlinked"
    conn_id: str
    far_conn_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyEvent(PeerMessage):
    """A party event of a linked call at the sender's site (`event-propagation`):
    `event` is its T-Library name (EventPartyChanged, EventPartyAdded, EventPartyDeleted),
    `conn_id` the call's ConnID at the receiver's site, `other_dn` the party at the
    sender's site that took over, joined or left, `by` who did it."""

    TYPE: ClassVar[str] = "party-event"
    conn_id: str
    event: str
    other_dn: str
    by: str = ""
    call_state: str = ""


MESSAGES: dict[str, type[PeerMessage]] = {
    cls.TYPE: cls
    for cls in (
        Hello, Proof, Poll, PollReply, Reserve, ReserveAgent, Reserved, Refused, Cancel, Cancelled,
        CallIdentified, Started, Matched, Failed, Relinked, DataChanged, Unlinked, PartyEvent,
    )
}  # fmt: skip


def encode(message: PeerMessage) -> bytes:
    """One line.  Fields at their default are left out: a peer of an earlier release,
    which does not know a newer optional field, reads what it knows."""
    body = {"type": message.TYPE, **_given(message)}
    line = orjson.dumps(body, option=orjson.OPT_APPEND_NEWLINE)
    if len(line) > MAX_LINE:
        raise LocalProtocolError(f"a {message.TYPE} message of {len(line)} bytes is too long")
    return line


def _given(message: PeerMessage) -> dict[str, Any]:
    given: dict[str, Any] = {}
    for name, default in _DEFAULTS[type(message)]:
        value = getattr(message, name)
        if value != default or name == "version":  # a Hello always says its version
            given[name] = value
    return given


def decode(line: bytes) -> PeerMessage:
    """One message from one line.  Raises LocalProtocolError."""
    try:
        body = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise LocalProtocolError(f"not JSON: {exc}") from None
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        raise LocalProtocolError('a message must be a JSON object with a "type"')
    cls = MESSAGES.get(body.pop("type"))
    if cls is None:
        raise LocalProtocolError("unknown message type")
    return _build(cls, body)


def _build(cls: type[PeerMessage], body: dict[str, Any]) -> PeerMessage:
    expected = _KINDS[cls]
    if unknown := body.keys() - expected.keys():
        raise LocalProtocolError(f"{cls.TYPE} has unknown fields {sorted(unknown)}")
    for name, value in body.items():
        if not _acceptable(name, expected[name], value):
            raise LocalProtocolError(f"{cls.TYPE}.{name} has the wrong type or is too long")
    try:
        return cls(**body)
    except TypeError as exc:
        raise LocalProtocolError(f"{cls.TYPE}: {exc}") from None


def _acceptable(name: str, annotation: str, value: Any) -> bool:
    if annotation == "int":
        return type(value) is int
    if annotation == "str":
        limit = MAX_MESSAGE if name == "message" else MAX_TEXT
        return isinstance(value, str) and len(value) <= limit
    if annotation == "KVList":
        try:
            check_kv_list("user_data", value, depth=1)
        except InvalidRequest:
            return False
        return True
    return False


def _default(spec: dataclasses.Field[Any]) -> Any:
    if spec.default_factory is not dataclasses.MISSING:
        return spec.default_factory()  # compared with, never handed out
    return spec.default


# Per message class, made once: each field's default (what is not written), and each
# field's type by name (what a peer's value must be).
_DEFAULTS: Final[dict[type[PeerMessage], tuple[tuple[str, Any], ...]]] = {
    cls: tuple((spec.name, _default(spec)) for spec in dataclasses.fields(cls))
    for cls in MESSAGES.values()
}
_KINDS: Final[dict[type[PeerMessage], dict[str, str]]] = {
    cls: {spec.name: str(spec.type) for spec in dataclasses.fields(cls)}
    for cls in MESSAGES.values()
}


def prove(secret: str, *, sender: str, receiver: str, challenge: str, nonce: str) -> str:
    """The Proof *sender* gives *receiver* that it holds *secret*: an HMAC-SHA256 keyed by
    the secret over the protocol version, both locations, the receiver's nonce (the
    *challenge*, fresh for this connection, so a proof cannot be replayed) and the
    sender's own *nonce* (so the receiver cannot have us sign what it chose alone)."""
    text = "\n".join((VERSION, "proof", sender, receiver, challenge, nonce))
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def proof_matches(
    proof: Proof, secret: str, *, sender: str, receiver: str, challenge: str, nonce: str
) -> bool:
    """Whether *proof*, received from *sender*, was made with *secret* (constant time)."""
    expected = prove(secret, sender=sender, receiver=receiver, challenge=challenge, nonce=nonce)
    return hmac.compare_digest(proof.mac.encode(), expected.encode())


class IsccConnection:
    """One peer connection's byte stream, cut into messages."""

    def __init__(self) -> None:
        self._lines = LineBuffer(MAX_LINE)

    def receive_data(self, data: bytes) -> None:
        self._lines.receive_data(data)

    def next_message(self) -> PeerMessage | NeedData:
        """The next message, or NEED_DATA.  Raises RemoteProtocolError (non-fatal)."""
        while True:
            line = self._lines.next_line()
            if line is NEED_LINE:
                return NEED_DATA
            if line is OVERSIZE:
                raise RemoteProtocolError(f"a line over {MAX_LINE} bytes was dropped")
            assert isinstance(line, bytes)
            if line.strip():
                try:
                    return decode(line)
                except LocalProtocolError as exc:
                    raise RemoteProtocolError(f"bad message from the peer: {exc}") from exc

    @staticmethod
    def send(message: PeerMessage) -> bytes:
        return encode(message)
