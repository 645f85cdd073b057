"""SCXML text to the frozen IR of document.py, refusing anything that is not valid SCXML.

Rule 1: parsing is hardened.  A document carrying a DTD or an entity declaration is
refused before lxml sees it; the parser never resolves entities, loads DTDs or touches
the network; the input size is bounded.
Rule 2: every structural error is a DocumentError naming the line; REC 3.1 ("the
processor MUST reject a document that is not conformant").
Rule 3: `src` of `<data>` and `<script>` is fetched here, through the caller's `fetch`
callable, so the interpreter never does I/O.  A `<script src>` that cannot be fetched
rejects the document (REC 5.8); a `<data src>` that cannot be fetched is recorded and
raises error.execution when the data is initialised (REC 5.3.2).
Rule 4: elements of another namespace inside executable content become CustomActions;
elsewhere they are ignored.  Unknown elements of the SCXML namespace are errors.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Final

from ctiserver import safexml
from ctiserver.scxml.content import ContentReader, Fetch, inline_from_text
from ctiserver.scxml.document import (
    Binding,
    Data,
    Document,
    DocumentError,
    DoneData,
    HistoryType,
    Invoke,
    State,
    StateKind,
    Transition,
    TransitionType,
    mentions,
)

SCXML_NAMESPACE: Final = "http://www.w3.org/2005/07/scxml"
MAX_DOCUMENT_BYTES: Final = 4 << 20
DATAMODELS: Final = frozenset({"ecmascript", "null"})

_STATE_TAGS: Final = {
    "state": StateKind.STATE,
    "parallel": StateKind.PARALLEL,
    "final": StateKind.FINAL,
    "history": StateKind.HISTORY,
}


def parse_document(
    source: bytes | str,
    *,
    base_url: str = "",
    fetch: Fetch | None = None,
    datamodels: Collection[str] = DATAMODELS,
) -> Document:
    """Parse an SCXML document.

    Args:
        source: the document text.
        base_url: the document's URL; relative `src` attributes resolve against it.
        fetch: reads the text at a URL, raising OSError or ValueError when it cannot;
            without it, every `src` counts as unreachable.
        datamodels: the datamodel names the host supports (Host.datamodels adds some).

    Raises:
        DocumentError: the text is not well-formed, hardened parsing refused it, or it is
            not a valid SCXML document.
    """
    root = _parse_xml(source.encode() if isinstance(source, str) else source)
    return parse_element(root, base_url=base_url, fetch=fetch, datamodels=datamodels)


def parse_element(
    root: Any,
    *,
    base_url: str = "",
    fetch: Fetch | None = None,
    datamodels: Collection[str] = DATAMODELS,
) -> Document:
    """Build the IR from an already parsed `<scxml>` element (used for inline invokes)."""
    namespace, _, local = root.tag.rpartition("}")
    if local != "scxml":
        raise DocumentError(f"the root element is <{local}>, not <scxml>", line=root.sourceline)
    return _Builder(namespace.lstrip("{"), base_url, fetch, datamodels).build(root)


def _parse_xml(data: bytes) -> Any:
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"document larger than {MAX_DOCUMENT_BYTES} bytes; refused")
    try:
        return safexml.parse(data)
    except safexml.UnsafeXml as exc:
        raise DocumentError(str(exc)) from None


@dataclass(slots=True)
class _Node:
    """A state while the document is being built (mutable; frozen into State later)."""

    index: int
    kind: StateKind
    element: Any
    parent: int | None
    id: str = ""
    children: list[int] = field(default_factory=list)
    transitions: list[tuple[int, Any]] = field(default_factory=list)
    initial_order: int = -1


class _Builder(ContentReader):
    """Walks one `<scxml>` element in document order and freezes what it finds."""

    def __init__(
        self, namespace: str, base_url: str, fetch: Fetch | None, datamodels: Collection[str]
    ) -> None:
        super().__init__(namespace, base_url, fetch)
        self.datamodels = datamodels
        self.nodes: list[_Node] = []
        self.ids: dict[str, int] = {}
        self.order = 0

    # --- structure ----------------------------------------------------------------------

    def build(self, root: Any) -> Document:
        version = root.get("version")
        if version is not None and version != "1.0":
            raise DocumentError(f"version must be 1.0, not {version!r}", line=root.sourceline)
        datamodel = root.get("datamodel", "ecmascript")
        if datamodel not in self.datamodels:
            raise DocumentError(f"unsupported datamodel {datamodel!r}", line=root.sourceline)
        binding = root.get("binding", "early")
        if binding not in ("early", "late"):
            raise DocumentError(
                f"binding must be early or late, not {binding!r}", line=root.sourceline
            )
        self._walk(root, StateKind.ROOT, None)
        states = tuple(self._freeze(node) for node in self.nodes)
        scripts = [self._script(child) for child in self._children(root, "script")]
        if len(scripts) > 1:
            raise DocumentError("<scxml> has more than one <script>", line=root.sourceline)
        script = scripts[0] if scripts else None
        return Document(
            name=root.get("name", ""),
            datamodel=datamodel,
            binding=Binding(binding),
            states=states,
            base_url=self.base_url,
            script=script,
            reads_event=mentions((states, script), "_event"),
        )

    def _walk(self, element: Any, kind: StateKind, parent: int | None) -> int:
        node = _Node(len(self.nodes), kind, element, parent)
        self.nodes.append(node)
        node.id = self._state_id(node)
        for child in element:
            local = self._local(child)
            if local in _STATE_TAGS and kind not in (StateKind.FINAL, StateKind.HISTORY):
                if kind is StateKind.ROOT and local == "history":
                    raise DocumentError(
                        "<history> cannot be a child of <scxml>", line=child.sourceline
                    )
                node.children.append(self._walk(child, _STATE_TAGS[local], node.index))
            elif local == "transition" and kind is not StateKind.ROOT:
                node.transitions.append((self._next_order(), child))
            elif local == "initial" and kind is StateKind.STATE:
                node.initial_order = self._next_order()
        return node.index

    def _next_order(self) -> int:
        self.order += 1
        return self.order - 1

    def _state_id(self, node: _Node) -> str:
        element = node.element
        state_id = element.get("id") if node.kind is not StateKind.ROOT else None
        if state_id is None:
            # REC 3.14: the processor generates ids for states that have none.
            return f"__{node.kind.value}{node.index}"
        if state_id in self.ids:
            raise DocumentError(f"duplicate state id {state_id!r}", line=element.sourceline)
        self.ids[state_id] = node.index
        return str(state_id)

    def _freeze(self, node: _Node) -> State:
        ancestors = self._ancestors(node)
        child_states = tuple(
            c for c in node.children if self.nodes[c].kind is not StateKind.HISTORY
        )
        initial = self._initial(node, child_states)  # first: a history takes its transition
        return State(
            index=node.index,
            id=node.id,
            kind=node.kind,
            parent=node.parent,
            children=tuple(node.children),
            ancestors=ancestors,
            ancestor_set=frozenset(ancestors),
            child_states=child_states,
            histories=tuple(c for c in node.children if c not in child_states),
            initial=initial,
            transitions=tuple(self._transition(node, o, e) for o, e in node.transitions),
            onentry=tuple(self._block(e) for e in self._children(node.element, "onentry")),
            onexit=tuple(self._block(e) for e in self._children(node.element, "onexit")),
            invokes=tuple(self._invoke(node, e) for e in self._children(node.element, "invoke")),
            data=self._datamodel(node.element),
            history_type=self._history_type(node),
            donedata=self._donedata(node),
            line=node.element.sourceline or 0,
        )

    def _ancestors(self, node: _Node) -> tuple[int, ...]:
        ancestors: list[int] = []
        parent = node.parent
        while parent is not None:
            ancestors.append(parent)
            parent = self.nodes[parent].parent
        return tuple(ancestors)

    def _initial(self, node: _Node, child_states: tuple[int, ...]) -> Transition | None:
        element = node.element
        if node.kind is StateKind.HISTORY:
            return self._history_default(node)
        if node.kind not in (StateKind.STATE, StateKind.ROOT) or not child_states:
            if element.get("initial") is not None:
                raise DocumentError("initial= on a state without children", line=element.sourceline)
            return None
        initial_elements = list(self._children(element, "initial"))
        if initial_elements and element.get("initial") is not None:
            raise DocumentError("both initial= and <initial>", line=element.sourceline)
        if initial_elements:
            return self._initial_element(node, initial_elements[0])
        if element.get("initial") is not None:
            targets = self._targets(element.get("initial"), element)
            self._check_descendants(node, targets, element)
            return Transition(order=self._next_order(), source=node.index, targets=targets)
        return Transition(order=self._next_order(), source=node.index, targets=child_states[:1])

    def _initial_element(self, node: _Node, initial: Any) -> Transition:
        transitions = list(self._children(initial, "transition"))
        if len(transitions) != 1 or transitions[0].get("target") is None:
            raise DocumentError(
                "<initial> needs one <transition> with a target", line=initial.sourceline
            )
        transition = self._transition(node, node.initial_order, transitions[0])
        self._check_descendants(node, transition.targets, initial)
        return transition

    def _history_default(self, node: _Node) -> Transition:
        """A history state's default transition.

        REC 3.10 requires one; when it is missing, the default is the parent's first
        child state, as if the history were not there.
        """
        transitions = list(self._children(node.element, "transition"))
        if len(transitions) > 1 or (transitions and transitions[0].get("target") is None):
            raise DocumentError(
                "<history> takes one <transition> with a target", line=node.element.sourceline
            )
        if transitions:
            order, element = node.transitions[0]
            node.transitions.clear()
            return self._transition(node, order, element)
        assert node.parent is not None  # the parser refuses <history> under <scxml>
        siblings = [
            c
            for c in self.nodes[node.parent].children
            if self.nodes[c].kind is not StateKind.HISTORY
        ]
        if not siblings:
            raise DocumentError(
                "<history> in a state without child states", line=node.element.sourceline
            )
        return Transition(order=self._next_order(), source=node.index, targets=(siblings[0],))

    def _check_descendants(self, node: _Node, targets: tuple[int, ...], element: Any) -> None:
        for target in targets:
            if node.index not in self._ancestors(self.nodes[target]):
                raise DocumentError(
                    f"initial state {self.nodes[target].id!r} is not a descendant of {node.id!r}",
                    line=element.sourceline,
                )

    def _history_type(self, node: _Node) -> HistoryType:
        if node.kind is not StateKind.HISTORY:
            return HistoryType.SHALLOW
        value = node.element.get("type", "shallow")
        if value not in ("shallow", "deep"):
            raise DocumentError(f"history type {value!r}", line=node.element.sourceline)
        return HistoryType(value)

    def _transition(self, node: _Node, order: int, element: Any) -> Transition:
        kind = element.get("type", "external")
        if kind not in ("external", "internal"):
            raise DocumentError(f"transition type {kind!r}", line=element.sourceline)
        target = element.get("target")
        events = tuple(element.get("event", "").split())
        cond = element.get("cond")
        if target is None and not events and cond is None and node.kind is not StateKind.HISTORY:
            raise DocumentError("a transition needs event, cond or target", line=element.sourceline)
        return Transition(
            order=order,
            source=node.index,
            targets=self._targets(target, element) if target is not None else (),
            events=events,
            cond=cond,
            type=TransitionType(kind),
            actions=self._block(element),
        )

    def _targets(self, value: str, element: Any) -> tuple[int, ...]:
        targets: list[int] = []
        for state_id in value.split():
            if state_id not in self.ids:
                raise DocumentError(f"no state has id {state_id!r}", line=element.sourceline)
            targets.append(self.ids[state_id])
        if not targets:
            raise DocumentError("empty target", line=element.sourceline)
        return tuple(targets)

    # --- data ---------------------------------------------------------------------------

    def _datamodel(self, element: Any) -> tuple[Data, ...]:
        data: list[Data] = []
        for datamodel in self._children(element, "datamodel"):
            for child in self._children(datamodel, "data"):
                data.append(self._data(child))
        return tuple(data)

    def _data(self, element: Any) -> Data:
        data_id = self._required(element, "id")
        expr, src = element.get("expr"), element.get("src")
        inline = self._inline(element)
        given = sum(x is not None for x in (expr, src)) + (inline is not None)
        if given > 1:
            raise DocumentError("<data> takes one of expr, src or content", line=element.sourceline)
        if src is None:
            return Data(id=data_id, expr=expr, inline=inline)
        try:
            text = self._fetch(src)
        except (OSError, ValueError) as exc:
            return Data(id=data_id, fetch_error=f"cannot fetch {src!r}: {exc}")
        return Data(id=data_id, inline=inline_from_text(text))

    def _donedata(self, node: _Node) -> DoneData | None:
        found = list(self._children(node.element, "donedata"))
        if not found:
            return None
        element = found[0]
        content = [self._content(c) for c in self._children(element, "content")]
        params = self._params(element)
        if content and params:
            raise DocumentError(
                "<donedata> takes <content> or <param>, not both", line=element.sourceline
            )
        return DoneData(params=params, content=content[0] if content else None)

    # --- invoke -------------------------------------------------------------------------

    def _invoke(self, node: _Node, element: Any) -> Invoke:
        self._exclusive(element, "type", "typeexpr")
        self._exclusive(element, "src", "srcexpr")
        self._exclusive(element, "id", "idlocation")
        contents = list(self._children(element, "content"))
        document = None
        if contents:
            documents = [c for c in contents[0] if self._local(c) == "scxml"]
            if documents:
                document = parse_element(
                    documents[0],
                    base_url=self.base_url,
                    fetch=self.fetch,
                    datamodels=self.datamodels,
                )
        finalize = list(self._children(element, "finalize"))
        return Invoke(
            state=node.index,
            type=element.get("type"),
            typeexpr=element.get("typeexpr"),
            src=element.get("src"),
            srcexpr=element.get("srcexpr"),
            id=element.get("id"),
            idlocation=element.get("idlocation"),
            namelist=tuple(element.get("namelist", "").split()),
            params=self._params(element),
            content=self._content(contents[0]) if contents and document is None else None,
            document=document,
            autoforward=self._boolean(element, "autoforward"),
            finalize=self._block(finalize[0]) if finalize else (),
        )
