"""Helpers for the SCXML tests: documents from snippets, drivers that record effects."""

from __future__ import annotations

from ctiserver.scxml.document import Document
from ctiserver.scxml.effects import Effect
from ctiserver.scxml.interpreter import Session
from ctiserver.scxml.parser import parse_document

SCXML = "http://www.w3.org/2005/07/scxml"


def scxml(body: str, **attributes: str) -> str:
    """An `<scxml>` document around *body*, ECMAScript datamodel unless told otherwise."""
    attributes.setdefault("datamodel", "ecmascript")
    extra = " ".join(f'{name}="{value}"' for name, value in attributes.items())
    return f'<scxml xmlns="{SCXML}" version="1.0" {extra}>{body}</scxml>'


def document(body: str, **attributes: str) -> Document:
    """The parsed document of scxml(body, ...)."""
    return parse_document(scxml(body, **attributes))


class Recorder:
    """A driver's on_effect that keeps every effect, for assertions."""

    def __init__(self) -> None:
        self.effects: list[tuple[str, Effect]] = []

    def __call__(self, session_id: str, effect: Effect) -> None:
        self.effects.append((session_id, effect))

    def of_type(self, kind: type[Effect]) -> list[Effect]:
        return [effect for _, effect in self.effects if isinstance(effect, kind)]


def started(body: str, *, now: float = 0.0, **attributes: str) -> tuple[Session, list[Effect]]:
    """A bare Session (no driver) started on *body*, with the effects of its start."""
    session = Session(document(body, **attributes), session_id="s1")
    return session, session.start(now)
