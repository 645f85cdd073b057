"""Hypothesis strategies that build any CSTA message from its declaration."""

from __future__ import annotations

import dataclasses
import enum
import types
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from hypothesis import strategies as st

from ctiserver.csta.failure import CSTAErrorCode, ErrorCategory
from ctiserver.csta.plans import catalogue
from ctiserver.csta.types import ConnectionID, PrivateData, PrivateElement

# XML 1.0 characters, no controls, no surrogates or non-characters; the codec strips
# surrounding whitespace and reads "" as absent, so texts have neither.
TEXT = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cn", "Co")),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)
NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,10}", fullmatch=True)


def private_elements(depth: int = 2) -> st.SearchStrategy[PrivateElement]:
    children = st.just(()) if depth == 0 else st.lists(private_elements(depth - 1), max_size=2)
    return st.builds(PrivateElement, NAME, st.one_of(st.just(""), TEXT), children.map(tuple))


PRIVATE = st.builds(
    PrivateData,
    st.sampled_from(["urn:ctiserver:test", "http://www.siemens.com/schema/csta"]),
    st.lists(private_elements(), min_size=1, max_size=3).map(tuple),
)
CONNECTION = st.builds(ConnectionID, TEXT, TEXT)


def value_for(annotation: Any) -> st.SearchStrategy[Any]:
    optional = False
    if get_origin(annotation) in (Union, types.UnionType):
        (annotation,) = [a for a in get_args(annotation) if a is not type(None)]
        optional = True
    strategy = _required_value(annotation)
    return st.one_of(st.none(), strategy) if optional else strategy


def _required_value(annotation: Any) -> st.SearchStrategy[Any]:
    if get_origin(annotation) is Annotated:
        return TEXT
    if get_origin(annotation) is tuple:
        return st.lists(_required_value(get_args(annotation)[0]), max_size=3).map(tuple)
    while hasattr(annotation, "__supertype__"):
        annotation = annotation.__supertype__
    if annotation is str:
        return TEXT
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(-(2**31), 2**31)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return st.sampled_from(list(annotation))
    if annotation is ConnectionID:
        return CONNECTION
    if annotation is PrivateData:
        return PRIVATE
    return structs(annotation)


def structs(cls: type) -> st.SearchStrategy[Any]:
    hints = get_type_hints(cls, include_extras=True)
    arguments = {}
    for spec in dataclasses.fields(cls):
        strategy = value_for(hints[spec.name])
        if spec.default == "":
            strategy = st.one_of(st.just(""), strategy)
        arguments[spec.name] = strategy
    return st.builds(cls, **arguments)


def messages() -> st.SearchStrategy[Any]:
    classes = sorted(catalogue().values(), key=lambda cls: cls.__name__)
    error = st.builds(CSTAErrorCode, category=st.sampled_from(list(ErrorCategory)), value=TEXT)
    return st.one_of(error, *(structs(cls) for cls in classes if cls is not CSTAErrorCode))
