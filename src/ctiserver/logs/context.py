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

Rule: contexts nest; an inner field replaces the outer one, an absent field keeps it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

Resolve = Callable[[object], dict[str, str]]  # subject -> {"conn_id": …, "call_id": …}

# The fields, in the order the text format shows them.
FIELDS = ("conn_id", "call_id", "dn", "client", "peer")
LABELS = {"conn_id": "ConnID", "call_id": "callID", "dn": "DN", "client": "client", "peer": "peer"}


@dataclass(frozen=True, slots=True)
class Context:
    client: str | None = None  # a T-Library client: its number, address and application
    dn: str | None = None
    conn_id: str | None = None
    call_id: str | None = None  # the switch's callID
    peer: str | None = None  # the switch or an ISCC peer site
    subject: object = None  # a message whose call is found only when a line is written
    resolve: Resolve | None = None

    def fields(self) -> dict[str, str]:
        """The non-empty fields, the subject's call resolved when there is one."""
        values = {name: getattr(self, name) for name in FIELDS}
        if self.subject is not None and self.resolve is not None:
            try:
                found = self.resolve(self.subject)
            except Exception:  # a log line must never fail for want of its context
                found = {}
            for name, value in found.items():
                values[name] = values[name] or value
        return {name: value for name, value in values.items() if value}


_current: ContextVar[Context | None] = ContextVar("ctiserver_log_context", default=None)


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
    outer = _current.get()
    if outer is not None:
        client = client or outer.client
        dn = dn or outer.dn
        if conn_id is None and call_id is None and subject is None:
            conn_id, call_id = outer.conn_id, outer.call_id
            subject, resolve = outer.subject, outer.resolve
        peer = peer or outer.peer
    token = _current.set(Context(client, dn, conn_id, call_id, peer, subject, resolve))
    try:
        yield
    finally:
        _current.reset(token)


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
