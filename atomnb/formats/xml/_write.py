"""Writing: Documents back to XML elements, names and namespaces restored from the metadata."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from lxml import etree

from atomnb.documents import Documents
from atomnb.errors import FormatError
from atomnb.formats.xml._common import NAMESPACES_KEY, RECORD_KEY, TEXT, WRAPPER_KEY, XML_NS

_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def write_documents(
    documents: Documents,
    sink: IO[bytes],
    *,
    root: str | None,
    record: str | None,
    namespaces: Mapping[str, str] | None,
    indent: bool,
) -> None:
    """One XML document: the documents as elements, wrapped when there are several."""
    metadata = documents.schema.metadata or {}
    prefixes: dict[str, str] = json.loads(metadata.get(NAMESPACES_KEY, b"{}"))
    prefixes.update(namespaces or {})
    names = _Names(prefixes)
    record_name = record or metadata.get(RECORD_KEY, b"").decode() or None
    if record_name is None:
        raise FormatError(
            "cannot tell which element each document should become",
            hint="pass record='Order' (and root='Orders' to wrap several documents)",
        )
    wrapper: list[str] = [root] if root else json.loads(metadata.get(WRAPPER_KEY, b"[]"))
    if not wrapper and len(documents) != 1:
        raise FormatError(
            f"{len(documents)} documents cannot share one XML document without a root",
            hint="pass root='Name' to wrap them in one element, or write them one by one",
        )
    top: Any = None
    parent: Any = None
    for depth, name in enumerate(wrapper):
        clark = names.clark(name, where="root element")
        if depth == 0:
            top = parent = _element(clark, names.nsmap(), where="root element")
        else:
            try:
                parent = etree.SubElement(parent, clark)
            except ValueError as exc:
                raise FormatError(f"cannot write element {name!r}: {exc}") from None
    for index, document in enumerate(documents):
        where = f"document {index}"
        clark = names.clark(record_name, where=where)
        if parent is None:
            top = element = _element(clark, names.nsmap(), where=where)
        else:
            element = etree.SubElement(parent, clark)
        _fill(element, document, names, where)
    body = etree.tostring(top, encoding="UTF-8", xml_declaration=False, pretty_print=indent)
    sink.write(_DECLARATION + body + (b"" if body.endswith(b"\n") else b"\n"))


class _Names:
    """Qualified names (``cbc:ID``) to lxml's ``{uri}local`` using the documents' prefixes."""

    def __init__(self, prefixes: Mapping[str, str]) -> None:
        self.prefixes = {p: uri for p, uri in prefixes.items() if p != "xml"}

    def nsmap(self) -> dict[str | None, str]:
        return {(p or None): uri for p, uri in self.prefixes.items()}

    def clark(self, qname: str, *, where: str, attribute: bool = False) -> str:
        prefix, colon, local = qname.rpartition(":")
        if not colon:
            default = None if attribute else self.prefixes.get("")
            return f"{{{default}}}{local}" if default else local
        if prefix == "xml":
            return f"{{{XML_NS}}}{local}"
        uri = self.prefixes.get(prefix)
        if uri is None:
            raise FormatError(
                f"namespace prefix {prefix!r} of {qname!r} is not declared",
                where=where,
                hint=f"pass namespaces={{{prefix!r}: 'urn:…'}}",
            )
        return f"{{{uri}}}{local}"


def _element(clark: str, nsmap: dict[str | None, str], *, where: str) -> Any:
    try:
        return etree.Element(clark, nsmap=nsmap)
    except ValueError as exc:
        raise FormatError(f"cannot write element {clark!r}: {exc}", where=where) from None


def _fill(element: Any, value: Any, names: _Names, where: str) -> None:
    if not isinstance(value, Mapping):
        _set_text(element, value, where)
        return
    for key, item in value.items():
        if item is None:
            continue
        path = f"{where}, field {key}"
        if key == TEXT:
            _set_text(element, item, path)
        elif key.startswith("@"):
            clark = names.clark(key[1:], where=path, attribute=True)
            try:
                element.set(clark, _text(item))
            except ValueError as exc:
                raise FormatError(f"cannot write attribute {key!r}: {exc}", where=path) from None
        else:
            clark = names.clark(key, where=path)
            for one in item if isinstance(item, list) else [item]:
                if one is None:
                    continue
                try:
                    child = etree.SubElement(element, clark)
                except ValueError as exc:
                    raise FormatError(f"cannot write element {key!r}: {exc}", where=path) from None
                _fill(child, one, names, path)


def _set_text(element: Any, value: Any, where: str) -> None:
    if isinstance(value, list):
        raise FormatError("a list cannot be the text of an element", where=where)
    try:
        element.text = _text(value)
    except ValueError as exc:
        raise FormatError(f"cannot write text: {exc}", where=where) from None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
