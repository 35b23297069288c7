"""Names shared by the XML reader and writer: schema metadata keys and special fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atomnb.errors import FormatError

#: Schema metadata: the prefix -> URI map, the record element's name, the wrapping elements.
NAMESPACES_KEY = b"atomnb.xml.namespaces"
RECORD_KEY = b"atomnb.xml.record"
WRAPPER_KEY = b"atomnb.xml.wrapper"
#: The field holding an element's own text when it also has attributes or children.
TEXT = "#text"
XML_NS = "http://www.w3.org/XML/1998/namespace"


def reject_unknown(options: Mapping[str, Any]) -> None:
    if options:
        raise FormatError(f"unknown XML option(s): {', '.join(sorted(options))}")
