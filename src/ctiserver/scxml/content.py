"""Executable content and literal content of SCXML, from lxml elements to the IR.

ContentReader knows one document's SCXML namespace; parser._Builder extends it with the
structure (states, transitions, data, invoke).  The rules of parser.py apply: every
structural error is a DocumentError naming the line, elements of another namespace in
executable content become CustomActions, unknown SCXML elements are errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urljoin

from lxml import etree

from ctiserver.scxml import xmltree
from ctiserver.scxml.delays import parse_delay
from ctiserver.scxml.document import (
    Action,
    Assign,
    Block,
    Branch,
    Cancel,
    Content,
    CustomAction,
    DocumentError,
    Foreach,
    If,
    Inline,
    Log,
    Param,
    Raise,
    Script,
    Send,
    XmlElement,
)
from ctiserver.scxml.values import XmlValue

Fetch = Callable[[str], str]

_NOT_EXECUTABLE: Final = frozenset(
    {
        *("scxml", "state", "parallel", "final", "history", "initial", "transition"),
        *("onentry", "onexit", "datamodel", "data", "invoke", "finalize", "donedata"),
        *("param", "content"),
    }
)


class ContentReader:
    """Reads executable content, parameters and literal content of one document.

    Args:
        namespace: the document's SCXML namespace ("" for a document without one).
        base_url: where the document came from; `src` URLs resolve against it.
        fetch: reads a URL's text, raising OSError or ValueError; None fetches nothing.
    """

    def __init__(self, namespace: str, base_url: str, fetch: Fetch | None) -> None:
        self.ns = namespace
        self.base_url = base_url
        self.fetch = fetch

    def _fetch(self, src: str) -> str:
        if self.fetch is None:
            raise ValueError("no fetcher configured")
        return self.fetch(urljoin(self.base_url, src))

    def _inline(self, element: Any) -> Inline | None:
        elements = [child for child in element if isinstance(child.tag, str)]
        text = (element.text or "") + "".join(child.tail or "" for child in element)
        if not elements and not text.strip():
            return None
        if not elements:
            return Inline(text=text)
        source = "".join(
            etree.tostring(child, encoding="unicode", with_tail=False) for child in elements
        )
        return Inline(text=text, xml=XmlValue(source))

    def _params(self, element: Any) -> tuple[Param, ...]:
        params: list[Param] = []
        for child in self._children(element, "param"):
            expr, location = child.get("expr"), child.get("location")
            if expr is not None and location is not None:
                raise DocumentError(
                    "<param> takes expr or location, not both", line=child.sourceline
                )
            if expr is None and location is None:
                raise DocumentError("<param> needs expr or location", line=child.sourceline)
            params.append(Param(name=self._required(child, "name"), expr=expr, location=location))
        return tuple(params)

    def _content(self, element: Any) -> Content:
        expr = element.get("expr")
        inline = self._inline(element)
        if expr is not None and inline is not None:
            raise DocumentError(
                "<content> takes expr or children, not both", line=element.sourceline
            )
        return Content(expr=expr, inline=inline)

    def _block(self, element: Any) -> Block:
        actions: list[Action] = []
        for child in element:
            if isinstance(child.tag, str):
                actions.extend(self._single(child))
        return tuple(actions)

    def _action(self, local: str, element: Any) -> Action:
        match local:
            case "raise":
                return Raise(event=self._required(element, "event"))
            case "log":
                return Log(label=element.get("label", ""), expr=element.get("expr"))
            case "assign":
                return self._assign(element)
            case "script":
                return self._script(element)
            case "if":
                return self._if(element)
            case "foreach":
                return Foreach(
                    array=self._required(element, "array"),
                    item=self._required(element, "item"),
                    index=element.get("index"),
                    actions=self._block(element),
                )
            case "send":
                return self._send(element)
            case "cancel":
                self._exclusive(element, "sendid", "sendidexpr", required=True)
                return Cancel(sendid=element.get("sendid"), sendidexpr=element.get("sendidexpr"))
            case "elseif" | "else":
                raise DocumentError(f"<{local}> outside <if>", line=element.sourceline)
            case _ if local in _NOT_EXECUTABLE:
                raise DocumentError(f"<{local}> is not executable content", line=element.sourceline)
        raise DocumentError(f"unknown SCXML element <{local}>", line=element.sourceline)

    def _assign(self, element: Any) -> Assign:
        expr = element.get("expr")
        inline = self._inline(element)
        if expr is not None and inline is not None:
            raise DocumentError(
                "<assign> takes expr or children, not both", line=element.sourceline
            )
        return Assign(location=self._required(element, "location"), expr=expr, inline=inline)

    def _script(self, element: Any) -> Script:
        src = element.get("src")
        if src is None:
            return Script(source=element.text or "")
        if (element.text or "").strip():
            raise DocumentError("<script> takes src or content, not both", line=element.sourceline)
        try:
            return Script(source=self._fetch(src))
        except (OSError, ValueError) as exc:
            # REC 5.8: a script that cannot be fetched makes the document non-conformant.
            raise DocumentError(
                f"cannot fetch script {src!r}: {exc}", line=element.sourceline
            ) from None

    def _if(self, element: Any) -> If:
        branches: list[Branch] = []
        cond: str | None = self._required(element, "cond")
        actions: list[Action] = []
        closed = False
        for child in element:
            if not isinstance(child.tag, str):
                continue
            local = self._local(child) if self._in_scxml(child) else ""
            if local in ("elseif", "else"):
                if closed:
                    raise DocumentError(f"<{local}> after <else>", line=child.sourceline)
                branches.append(Branch(cond=cond, actions=tuple(actions)))
                cond = self._required(child, "cond") if local == "elseif" else None
                closed = local == "else"
                actions = []
            else:
                actions.extend(self._single(child))
        branches.append(Branch(cond=cond, actions=tuple(actions)))
        return If(branches=tuple(branches))

    def _single(self, child: Any) -> Block:
        namespace, _, local = child.tag.rpartition("}")
        if namespace.lstrip("{") != self.ns:
            return (CustomAction(element=foreign(child)),)
        return (self._action(local, child),)

    def _send(self, element: Any) -> Send:
        self._exclusive(element, "event", "eventexpr")
        self._exclusive(element, "target", "targetexpr")
        self._exclusive(element, "type", "typeexpr")
        self._exclusive(element, "id", "idlocation")
        self._exclusive(element, "delay", "delayexpr")
        contents = [self._content(c) for c in self._children(element, "content")]
        params = self._params(element)
        namelist = tuple(element.get("namelist", "").split())
        if contents and (params or namelist):
            raise DocumentError(
                "<send> takes <content> or namelist/<param>, not both", line=element.sourceline
            )
        return Send(
            event=element.get("event"),
            eventexpr=element.get("eventexpr"),
            target=element.get("target"),
            targetexpr=element.get("targetexpr"),
            type=element.get("type"),
            typeexpr=element.get("typeexpr"),
            id=element.get("id"),
            idlocation=element.get("idlocation"),
            delay=self._delay(element),
            delayexpr=element.get("delayexpr"),
            namelist=namelist,
            params=params,
            content=contents[0] if contents else None,
        )

    def _delay(self, element: Any) -> float | None:
        value = element.get("delay")
        if value is None:
            return None
        try:
            return parse_delay(value)
        except ValueError as exc:
            raise DocumentError(str(exc), line=element.sourceline) from None

    def _local(self, element: Any) -> str:
        return str(element.tag).rpartition("}")[2] if isinstance(element.tag, str) else ""

    def _in_scxml(self, element: Any) -> bool:
        return str(element.tag).rpartition("}")[0].lstrip("{") == self.ns

    def _children(self, element: Any, local: str) -> list[Any]:
        return [
            c
            for c in element
            if isinstance(c.tag, str) and self._in_scxml(c) and self._local(c) == local
        ]

    def _required(self, element: Any, name: str) -> str:
        value = element.get(name)
        if value is None:
            raise DocumentError(f"<{self._local(element)}> needs {name}=", line=element.sourceline)
        return str(value)

    def _exclusive(self, element: Any, first: str, second: str, *, required: bool = False) -> None:
        given = (element.get(first) is not None) + (element.get(second) is not None)
        if given > 1:
            raise DocumentError(
                f"<{self._local(element)}> takes {first}= or {second}=, not both",
                line=element.sourceline,
            )
        if required and not given:
            raise DocumentError(
                f"<{self._local(element)}> needs {first}= or {second}=", line=element.sourceline
            )

    def _boolean(self, element: Any, name: str) -> bool:
        value = element.get(name, "false")
        if value not in ("true", "false"):
            raise DocumentError(f"{name}= must be true or false", line=element.sourceline)
        return bool(value == "true")


def inline_from_text(text: str) -> Inline:
    """Fetched `src` text: XML when it parses as an element, otherwise plain text."""
    stripped = text.strip()
    if stripped.startswith("<"):
        try:
            xmltree.to_tree(XmlValue(stripped))
        except ValueError:
            return Inline(text=text)
        return Inline(text="", xml=XmlValue(stripped))
    return Inline(text=text)


def foreign(element: Any) -> XmlElement:
    namespace, _, local = str(element.tag).rpartition("}")
    return XmlElement(
        namespace=namespace.lstrip("{"),
        name=local,
        attributes=tuple((str(k), str(v)) for k, v in element.attrib.items()),
        children=tuple(foreign(c) for c in element if isinstance(c.tag, str)),
        text=element.text or "",
        line=element.sourceline or 0,
    )
