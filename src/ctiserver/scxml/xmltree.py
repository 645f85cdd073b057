"""XmlValue to and from the plain tree that crosses into the ECMAScript DOM, via lxml.

The tree is JSON: a node list, where a text node is a string and an element is
`[namespace, local name, {attribute: value}, [children]]` (attribute names in Clark
notation when namespaced).  Parsing is ctiserver.safexml's, as for documents.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from lxml import etree

from ctiserver import safexml
from ctiserver.scxml.values import XmlValue

Tree: TypeAlias = list[Any]

_WRAPPER = "scxml-fragment"


def to_tree(value: XmlValue) -> Tree:
    """The node list of an XML fragment.  Raises ValueError if it is not well-formed."""
    wrapper = safexml.parse(f"<{_WRAPPER}>{value.source}</{_WRAPPER}>".encode())
    return _children(wrapper)


def _children(element: Any) -> Tree:
    nodes: Tree = []
    if element.text:
        nodes.append(element.text)
    for child in element:  # the parser dropped comments and processing instructions
        namespace, _, local = child.tag.rpartition("}")
        attributes = {str(k): str(v) for k, v in child.attrib.items()}
        nodes.append([namespace.lstrip("{"), local, attributes, _children(child)])
        if child.tail:
            nodes.append(child.tail)
    return nodes


def from_tree(nodes: Tree) -> XmlValue:
    """The XML fragment of a node list.  Raises ValueError if the tree is malformed."""
    wrapper = etree.Element(_WRAPPER)
    try:
        _append(wrapper, nodes)
    except (TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"malformed XML tree: {exc}") from None
    parts = [wrapper.text or ""]
    parts.extend(etree.tostring(child, encoding="unicode", with_tail=True) for child in wrapper)
    return XmlValue("".join(parts))


def _append(parent: Any, nodes: Tree, namespace_in_scope: str = "") -> None:
    last = None
    for node in nodes:
        if isinstance(node, str):
            if last is None:
                parent.text = (parent.text or "") + node
            else:
                last.tail = (last.tail or "") + node
            continue
        namespace, local, attributes, children = node
        tag = f"{{{namespace}}}{local}" if namespace else local
        # Declare a namespace as the default where it starts, as the source most likely did,
        # rather than let lxml invent ns0: prefixes.
        nsmap: Any = {None: namespace} if namespace and namespace != namespace_in_scope else None
        attributes = {str(k): str(v) for k, v in attributes.items()}
        last = etree.SubElement(parent, tag, attributes, nsmap=nsmap)
        _append(last, children, namespace)
