"""Reading a partner's XML (pain.002, camt.053) with the standard library's C parser, safely.

Entity expansion (the "billion laughs"), external entities and external DTDs all need a document type declaration,
so a document that carries one is refused before it is parsed; so is one that is not in an ASCII-compatible
encoding (UTF-16/32 by its byte-order mark or NUL bytes), where that check could not see the declaration. What is
left is plain elements, which ``xml.etree.ElementTree``'s C parser reads several times faster than ``defusedxml``'s
Python-level hooks (a statement or status report of hundreds of thousands of lines). A long file is read with
:func:`iterparse_tags` (libxml2 through lxml, entities never resolved, nothing fetched): only the elements asked for
come back to Python, not an event per element (ADR 0025)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from lxml import etree as lxml_etree

Event = Literal["start", "end"]


class UnsafeXml(ValueError):
    """A document type declaration, or an encoding the declaration check cannot read."""


def check(document: bytes) -> None:
    head = document[:4]
    if head.startswith((b"\xfe\xff", b"\xff\xfe", b"\x00\x00\xfe\xff")) or b"\x00" in head:
        raise UnsafeXml("not an ASCII-compatible encoding")
    if b"<!DOCTYPE" in document or b"<!ENTITY" in document:
        raise UnsafeXml("document type declarations are refused")


def fromstring(document: bytes) -> ET.Element:
    """The parsed document; ``UnsafeXml`` or ``ET.ParseError`` otherwise."""
    check(document)
    return ET.fromstring(document)  # noqa: S314 (no DTD: nothing to expand or fetch, checked above)


def iterparse(document: bytes, events: tuple[Event, ...] = ("end",)) -> Iterator[tuple[str, ET.Element]]:
    """``ET.iterparse`` over the document; ``UnsafeXml`` (before any event) or ``ET.ParseError`` otherwise."""
    check(document)
    return ET.iterparse(io.BytesIO(document), events=events)  # noqa: S314 (no DTD, checked above)


ERRORS = (ET.ParseError, lxml_etree.XMLSyntaxError, UnsafeXml)
"""What reading a partner's XML raises on a document it refuses."""


def iterparse_tags(
    document: bytes, tags: Sequence[str], events: tuple[Event, ...] = ("start", "end")
) -> Iterator[tuple[str, Any]]:
    """Events of the elements named ``tags`` only (``{namespace}name``), read by libxml2 without resolving entities,
    loading a DTD or using the network; ``UnsafeXml`` (before any event) or ``lxml.etree.XMLSyntaxError``
    otherwise. The elements have ElementTree's interface (``tag``, ``text``, ``get``, iteration over children)."""
    check(document)
    return iter(
        lxml_etree.iterparse(
            io.BytesIO(document),
            events=events,
            tag=list(tags),
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            huge_tree=True,
        )
    )
