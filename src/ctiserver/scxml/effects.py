"""What a session asks its driver to do: the interpreter's only way to reach the world.

The interpreter never does I/O and never reads a clock; every call into a Session
returns a list of these, in the order they arose, and the driver carries them out
(driver.py synchronously on a virtual clock; an asyncio runtime the same way).

Rule 1: effects are frozen; the driver may keep them (a scheduled send) or log them.
Rule 2: hosts add their own effects by subclassing Effect (custom actions return them
through ActionContext.emit); a driver passes on the ones it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ctiserver.scxml.document import Document
from ctiserver.scxml.events import Event
from ctiserver.scxml.values import UNDEFINED, Value


@dataclass(frozen=True, slots=True, kw_only=True)
class Effect:
    """Base of every effect; hosts subclass it for their own."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SendEvent(Effect):
    """Deliver *event* to *target* through the I/O processor *type* (REC 6.2).

    Attributes:
        send_id: the send's id (given or generated); `<cancel>` and error.communication
            refer to it.
        target: the target URI; "" means the sending session's own external queue.
        due: when to deliver (on the clock given to the session), or None for now.
    """

    send_id: str
    target: str
    type: str
    event: Event
    due: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelEvent(Effect):
    """Forget the delayed send *send_id* of this session, if it is still pending (REC 6.3)."""

    send_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StartInvoke(Effect):
    """Start a child session (REC 6.4) whose events come back tagged with *invoke_id*.

    Exactly one of `document` (inline `<content><scxml>`), `src` (a URL, already resolved
    against the invoking document) and `content` (the value of `<content expr>`: SCXML
    text or XML) says what to run.

    Attributes:
        params: from namelist and `<param>`; they initialise the child's top-level data.
    """

    invoke_id: str
    type: str
    document: Document | None = None
    src: str | None = None
    content: Value = UNDEFINED
    params: dict[str, Value] = field(default_factory=dict)
    autoforward: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelInvoke(Effect):
    """Stop the child session *invoke_id*: its state was exited (REC 6.4.1)."""

    invoke_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ForwardEvent(Effect):
    """Pass a copy of an external event to the child *invoke_id* (autoforward, REC 6.4)."""

    invoke_id: str
    event: Event


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteLog(Effect):
    """`<log>` output (REC 4.5)."""

    label: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionEnded(Effect):
    """The session is over: it reached a top-level final state, was cancelled, or failed.

    Attributes:
        final: the id of the top-level final state reached, or None.
        donedata: that state's `<donedata>`, for the parent's done.invoke event.
        reason: why the session ended without a final state ("" otherwise).
    """

    final: str | None
    donedata: Value = UNDEFINED
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlatformError(Effect):
    """An error event was raised (error.execution, error.communication): what went wrong.

    The event itself goes on the internal queue with no data; this effect only tells the
    driver why, for its logs.
    """

    event: str
    message: str
