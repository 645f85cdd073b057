"""What the embedding application provides to every session it runs: the Host.

One Host is shared by all the sessions of a driver: the custom-action handlers, the
datamodel limits, code to run in each new ECMAScript context (polyfills such as
`uneval`), and the extra I/O processors and invoke types the driver implements.
Per-session things (the document, its globals such as `_genesys`) are given to the
Session itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from ctiserver.scxml.actions import ActionRegistry
from ctiserver.scxml.datamodel import DataModel, NullDataModel
from ctiserver.scxml.ecmascript import EcmaScriptDataModel, Limits

SCXML_INVOKE_TYPES: Final = frozenset(
    {
        "http://www.w3.org/TR/scxml/",
        "http://www.w3.org/TR/scxml",
        "scxml",
    }
)
DEFAULT_MAX_STEPS: Final = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Host:
    """Configuration shared by every session of a driver.

    Attributes:
        actions: handlers for custom actions, by namespace.
        limits: time, memory and stack limits of each ECMAScript session.
        preludes: ECMAScript code run in every new context, before globals and data.
        event_processors: extra `<send>` types the driver can deliver, type URI →
            this platform's location for it (shown in `_ioprocessors`).
        invoke_types: extra `<invoke>` types the driver can start.
        max_steps: steps (microsteps and internal events) one macrostep may take before
            the session is ended as runaway; an eventless loop would never return.
        datamodels: extra or replacement datamodels by name (the `datamodel` attribute),
            each a factory given the limits; "ecmascript" (QuickJS) and "null" are built in.
    """

    actions: ActionRegistry = field(default_factory=ActionRegistry)
    limits: Limits = field(default_factory=Limits)
    preludes: tuple[str, ...] = ()
    event_processors: Mapping[str, str] = field(default_factory=dict)
    invoke_types: frozenset[str] = frozenset()
    max_steps: int = DEFAULT_MAX_STEPS
    datamodels: Mapping[str, Callable[[Limits], DataModel]] = field(default_factory=dict)

    @property
    def datamodel_names(self) -> frozenset[str]:
        """The datamodels a document may name: the built-in ones and the host's."""
        return frozenset(_BUILT_IN) | frozenset(self.datamodels)

    def datamodel(self, name: str) -> DataModel:
        """A fresh datamodel of the kind a document names.  Raises ValueError."""
        factory = self.datamodels.get(name) or _BUILT_IN.get(name)
        if factory is None:
            raise ValueError(f"unsupported datamodel {name!r}")
        return factory(self.limits)


_BUILT_IN: Final[Mapping[str, Callable[[Limits], DataModel]]] = {
    "ecmascript": EcmaScriptDataModel,
    "null": lambda _limits: NullDataModel(),
}
