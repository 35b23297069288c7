"""XML: one document per file, or one per repeating element, streamed with a hardened lxml.

Parsing is hardened: no DTD is loaded, nothing is fetched from the network, no entity is
expanded and libxml2's size limits stay on (no ``huge_tree``). A DOCTYPE that only names an
external DTD (as cXML does) is ignored; one that *declares* entities is refused with
"entity expansion refused" before any content is read, which stops billion-laughs bombs and
``<!ENTITY x SYSTEM "file:///etc/passwd">`` alike. Comments, processing instructions and the
DOCTYPE are dropped; CDATA sections become plain text.

Reading. By default the root element is one document. ``record_path`` makes every matching
element a document instead, read with ``lxml.etree.iterparse`` and cleared as soon as it is
converted, so a file larger than memory streams a batch at a time. ``"/Orders/Order"`` is an
absolute path; ``"Order"``, ``"//Order"`` or ``"Orders/Order"`` match at any depth (not inside
another match). A step without a prefix also matches a prefixed element of that local name,
and ``*`` matches any element.

How an element becomes a record (every value is a string; profiles give types later):

* a child element becomes a field named by its qualified name, with the prefix the document
  uses (``cbc:ID``); an element with neither attributes nor children is a plain string (an
  empty one is ``""``, a missing one is null);
* an attribute becomes a field ``@name`` (``@currencyID``, ``@xml:lang``);
* an element with attributes or children becomes a struct; its own text goes into ``#text``;
* mixed content: when an element has children *and* non-blank text, the text pieces (before,
  between and after the children) are joined, in order, into ``#text`` and the children stay
  fields; the writer puts ``#text`` before the first child. Blank pieces (indentation) are
  dropped. No character is lost, but the position of the text between children is;
* an element seen more than once under one parent anywhere in the batch, or named in
  ``repeating=[...]`` (a name, a local name, or a path like ``"Order/Line"``), becomes a list
  everywhere, so the Arrow schema is stable. What is learned sticks for later batches; an
  element that starts repeating only after a batch was already handed out is a FormatError
  asking for ``repeating=``;
* namespaces: the prefix -> URI map, the record element's name and the names of the elements
  wrapping the records are kept in the schema metadata (``atomnb.xml.*``) so the writer
  restores them. A URI is always written with the first prefix the document gave it; a
  default namespace declared below the root (``<Signature xmlns="urn:sig">``) gets a prefix
  of its own (``ns1:Signature``), so unprefixed names always mean the root's namespace.

For example ``<Money currency="EUR">85.00</Money>`` reads as
``{"Money": {"@currency": "EUR", "#text": "85.00"}}`` and
``<a><b>1</b><b>2</b><c/></a>`` as ``{"b": ["1", "2"], "c": ""}``.

Writing gives UTF-8 with an XML declaration, each document one element named as it was read
(or ``record=``), fields in schema order (so element order is that of the first occurrence of
each name: interleaved repeats such as ``a b a`` come back as ``a a b``). Documents read with
``record_path`` are wrapped in the elements they were found in (their attributes are not
kept); ``root=`` wraps in an element of that name; several documents with neither are an
error, since an XML document has one root. ``indent=False`` writes no indentation.

Not kept: comments, processing instructions, the DOCTYPE, the attributes of the elements
wrapping ``record_path`` records, and the position of namespace declarations (all go on the
outermost element). Elements taken out of a default namespace with ``xmlns=""`` are written
back into it. A namespace first declared after the first batch was read is missing from the
first batch's metadata (which is the one ``Documents.concat`` keeps). A batch whose documents
have no field at all is a table with no columns.

Bounds: libxml2's own limits stay on (names, text nodes and attribute values of 10 MB at
most), and before the parser sees them the bytes are checked (``_guard``): a tag with more
than ``max_attributes`` (10,000) attributes, or a run of 16 MB without markup, is refused
with its line and byte offset, so a huge start tag never builds gigabytes inside libxml2.

Errors: well-formedness errors are FormatErrors with file, line and column; bytes that are not
valid in the declared encoding give the byte offset. Inside a ``record_path`` read, a record
holding an entity reference that cannot be expanded is rejected (see ``Documents.rejections``)
and the other records go on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from atomnb.documents import Documents
from atomnb.errors import FormatError
from atomnb.formats.base import Source
from atomnb.formats.xml._common import reject_unknown
from atomnb.formats.xml._guard import MAX_ATTRIBUTES
from atomnb.formats.xml._read import read_batches
from atomnb.formats.xml._write import write_documents

__all__ = ["XmlFormat"]


class XmlFormat:
    name = "xml"
    extensions = (".xml",)
    #: Documents per batch when the caller gives no batch_size: EDI and XML documents are
    #: large nested trees, so a batch of 65k of them would not keep memory bounded.
    default_batch_size = 1_000

    def read_batches(
        self,
        source: Source,
        *,
        batch_size: int,
        record_path: str | None = None,
        repeating: Sequence[str] = (),
        max_attributes: int = MAX_ATTRIBUTES,
        **options: Any,
    ) -> Iterator[Documents]:
        reject_unknown(options)
        if batch_size < 1:
            raise FormatError("batch_size must be at least 1")
        if isinstance(repeating, str):
            repeating = [repeating]
        yield from read_batches(source, batch_size, record_path, tuple(repeating), max_attributes)

    def write(
        self,
        documents: Documents,
        sink: IO[bytes],
        *,
        root: str | None = None,
        record: str | None = None,
        namespaces: Mapping[str, str] | None = None,
        indent: bool = True,
        **options: Any,
    ) -> None:
        reject_unknown(options)
        write_documents(
            documents, sink, root=root, record=record, namespaces=namespaces, indent=indent
        )
