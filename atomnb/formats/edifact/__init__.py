"""UN/EDIFACT: interchanges read as one document per message (UNH..UNT), and written back.

Document shape (one row per message)::

    message_type   "DESADV"                      (UNH S009 message type)
    UNH            {"UNH01": "142", "UNH02": "DESADV", "UNH02_02": "0", ...}
    BGM            {"BGM01": "351", "BGM02": "Y02197250", "BGM03": "700101"}
    DTM            [{"DTM01": "11", "DTM01_02": "20160726", "DTM01_03": "102"}]
    SG2            [{"NAD": {"NAD01": "SU", ...}, "SG3": [...]}, ...]

* A segment is a struct of element fields named by position: ``<TAG><nn>`` is
  component 1 of element nn, ``<TAG><nn>_<mm>`` component mm (``IMD03_04``).
  Values are strings exactly as in the file after release-character unescaping;
  a field is "" when the element was there but empty, null when it was absent,
  so trailing empty elements/components round-trip.
* With a definition (``definitions/<TYPE>.json``: ORDERS, INVOIC, DESADV), the
  top-level columns are the message's segments and segment groups in directory
  order; a segment that may repeat is a list of structs, one that may not is a
  struct; a group ``SGn`` is always a list of structs holding its segments and
  nested groups. UNT is not stored: the writer counts segments afresh.
* Without a definition, the body is ``segments``: a list of
  ``{"tag": "IFT", "elements": [["3"], ["NO MORE FLIGHTS 1"]]}``.

Document properties (besides ``file_name``): ``edifact.una`` (UNA text or ""),
``edifact.unb`` / ``edifact.ung`` (the service segment text, escapes kept),
``edifact.interchange_ref``, ``edifact.group_ref``, ``edifact.message_ref``,
``edifact.sender``, ``edifact.recipient`` (first component), ``edifact.syntax``
(UNOA...), ``edifact.version`` ("D:96A:UN"), ``edifact.encoding`` (the codec the
message was decoded with), ``edifact.segment_end`` / ``edifact.trailer_end``
(line breaks after terminators and after UNZ, for byte-identical round trips),
``edifact.warnings`` (list: charset problems, use of the repetition separator
and, with ``on_error="warn"``, control and definition problems),
``edifact.problems`` (list of ``{segment_position, segment_id, element_position,
component_position, code, message}`` with CONTRL 0085 codes: what the message
was delivered with under ``counts="mark"``, ``strict=False`` or
``on_error="warn"``; the same shape as ``x12.problems`` and ``Rejection.problems``).

Read options: ``on_error`` = "reject" (default: bad messages become
Rejections with their bytes) | "raise" (ValidationErrorGroup with every problem)
| "warn" (keep them, problems in ``edifact.warnings``); ``charset`` =
"lenient" (default) | "strict"; ``encoding`` overrides the UNB syntax
identifier; ``counts`` = "reject" (default) | "mark" (a message whose only fault
is a UNT/UNE/UNZ count that does not match is delivered with the problem in
``edifact.problems``; other problems still follow ``on_error``); ``strict`` =
True (default) | False (as X12's: element problems found with ``validate=True``
and a segment the definition has no place for mark the message in
``edifact.problems`` instead of refusing it; such a message is kept in the
generic ``segments`` shape; reference, charset and missing-trailer problems
still refuse). Write options:
``syntax``, ``sender``, ``recipient``, ``interchange_ref``, ``segment_end`` for
documents without envelope properties.

Not supported: the syntax-4 repetition separator does not split values; an
element with repeats is kept as one value (``edifact.warnings`` says so) and is
written back with the separator escaped, as data. Syntax identifiers atomnb
does not know (UNOX with ISO 2022 code extension, KECA, ...) are read as UTF-8
with a warning; pass ``encoding=`` to say otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from atomnb.documents import Documents
from atomnb.errors import FormatError
from atomnb.formats.base import Source
from atomnb.formats.edifact.reader import read_messages
from atomnb.formats.edifact.writer import write_interchanges

__all__ = ["EdifactFormat"]

_READ_OPTIONS = frozenset({"on_error", "charset", "encoding", "validate", "counts", "strict"})
_WRITE_OPTIONS = frozenset({"syntax", "sender", "recipient", "interchange_ref", "segment_end"})


class EdifactFormat:
    name = "edifact"
    extensions = (".edi", ".edifact")
    #: Documents per batch when the caller gives no batch_size: EDI and XML documents are
    #: large nested trees, so a batch of 65k of them would not keep memory bounded.
    default_batch_size = 1_000

    def read_batches(
        self, source: Source, *, batch_size: int, **options: Any
    ) -> Iterator[Documents]:
        _reject_unknown(options, _READ_OPTIONS)
        return read_messages(source, batch_size=batch_size, **options)

    def write(self, documents: Documents, sink: IO[bytes], **options: Any) -> None:
        _reject_unknown(options, _WRITE_OPTIONS)
        write_interchanges(documents, sink, **options)


def _reject_unknown(options: dict[str, Any], known: frozenset[str]) -> None:
    unknown = sorted(set(options) - known)
    if unknown:
        raise FormatError(
            f"unknown EDIFACT option(s): {', '.join(unknown)}",
            hint=f"known: {', '.join(sorted(known))}",
        )
