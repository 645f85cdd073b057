"""Who and which call a log line is about: context set by the shells, read by the log
formatters (logs.formats).

A shell that hands one input to the core (a client's request, a CSTA event, an ISCC
message) opens a context around that call:

    with about(client="3 tcp:127.0.0.1:51234 (desk)", dn="7001", conn_id="006b…"):
        runtime.perform(core.request(...))

and every line logged inside it, by the shell or by the core, carries those fields.  A
CSTA event names its call by the switch's callID, which the server maps to a ConnID; that
work is done only when a line is actually written (`subject=event, resolve=function`), so
a context costs a few hundred nanoseconds and no lookup when nothing is logged.

Rule: contexts nest; an inner field replaces the outer one, an absent field keeps it
(the ConnID and callID as a pair).  Opening one allocates one small object; merging
with the outer contexts waits until a line is written.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar, Token

Resolve = Callable[[object], dict[str, str]]  # subject -> {"conn_id": …, "call_id": …}

# The fields, in the order the text format shows them.
FIELDS = ("conn_id", "call_id", "dn", "client", "peer")
CALL_FIELDS = ("conn_id", "call_id")
LABELS = {"conn_id": "ConnID", "call_id": "callID", "dn": "DN", "client": "client", "peer": "peer"}


class Context:
    """The fields one shell set around one input, and the context it was set in."""

    __slots__ = ("call_id", "client", "conn_id", "dn", "outer", "peer", "resolve", "subject")

    def __init__(
        self,
        client: str | None,
        dn: str | None,
        conn_id: str | None,
        call_id: str | None,
        peer: str | None,
        subject: object,
        resolve: Resolve | None,
        outer: Context | None,
    ) -> None:
        self.client = client  # a T-Library client: its number, address and application
        self.dn = dn
        self.conn_id = conn_id
        self.call_id = call_id  # the switch's callID
        self.peer = peer  # the switch or an ISCC peer site
        self.subject = subject  # a message whose call is found only when a line is written
        self.resolve = resolve
        self.outer = outer

    def fields(self) -> dict[str, str]:
        """The non-empty fields, the subject's call resolved when there is one; a field
        this context leaves empty comes from the outer one (the call's fields as a group)."""
        values: dict[str, str | None] = {name: getattr(self, name) for name in FIELDS}
        if self.subject is not None and self.resolve is not None:
            try:
                found = self.resolve(self.subject)
            except Exception:  # a log line must never fail for want of its context
                found = {}
            for name, value in found.items():
                values[name] = values[name] or value
        if self.outer is not None:
            outer = self.outer.fields()
            own_call = values["conn_id"] or values["call_id"]
            for name, value in outer.items():
                if not values[name] and (name not in CALL_FIELDS or not own_call):
                    values[name] = value
        return {name: value for name, value in values.items() if value}


_current: ContextVar[Context | None] = ContextVar("ctiserver_log_context", default=None)


def enter(
    *,
    client: str | None = None,
    dn: str | None = None,
    conn_id: str | None = None,
    call_id: str | None = None,
    peer: str | None = None,
    subject: object = None,
    resolve: Resolve | None = None,
) -> Token[Context | None]:
    """Open a context (the fast form of about(), for the shells' hot paths); give the
    token to leave() when the input is handled."""
    outer = _current.get()
    return _current.set(Context(client, dn, conn_id, call_id, peer, subject, resolve, outer))


def leave(token: Token[Context | None]) -> None:
    _current.reset(token)


@contextlib.contextmanager
def about(
    *,
    client: str | None = None,
    dn: str | None = None,
    conn_id: str | None = None,
    call_id: str | None = None,
    peer: str | None = None,
    subject: object = None,
    resolve: Resolve | None = None,
) -> Iterator[None]:
    """Lines logged inside carry these fields (and those of any enclosing context)."""
    token = enter(
        client=client,
        dn=dn,
        conn_id=conn_id,
        call_id=call_id,
        peer=peer,
        subject=subject,
        resolve=resolve,
    )
    try:
        yield
    finally:
        leave(token)


def current() -> dict[str, str]:
    """The fields of the innermost context (empty outside any)."""
    context = _current.get()
    return {} if context is None else context.fields()


class ContextFilter(logging.Filter):
    """Puts the current context on each record as `record.context` (a dict)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "context"):
            record.context = current()
        return True
