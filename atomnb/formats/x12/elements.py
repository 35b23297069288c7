"""X12 element validation: mandatory elements, lengths, types, components and code lists.

The structural definitions (``definitions/``) say which segments a set holds;
this module checks what is inside each segment against the element dictionary
of the version (``dictionary/004010.json``, ``dictionary/005010.json``) and
returns every problem with the 997 AK4-03 / 999 IK4-03 code an acknowledgement
needs, instead of stopping at the first. The dictionary is compiled once per
version and set into tuples and regexes (cached): this runs for every set of a
gigabyte file, so the per-element work is a length test and, for the typed
elements only, one regex match.

An unknown version or set gives ``[]`` (nothing to check against), and so does
a segment the dictionary lacks: the structural definition reports unknown
segments. ``lenient=True`` keeps only the hard errors (missing mandatory
elements, too many elements, repetitions or components, too long values) and
skips code lists, minimum lengths, characters, dates, times and syntax notes.

The work is split by job: `element_codes` (what a problem is, its AK4-03 codes),
`element_book` (the dictionary compiled per version and set), `element_check` (the
walk over segments, elements, components and values) and `syntax_notes` (P, R, E, C
and L notes). This module is the entry point the reader (through ``validation``),
EDIFACT's checks and the tests import.
"""

from __future__ import annotations

from collections.abc import Sequence

from atomnb.formats.x12.element_book import compiled, dictionary_version
from atomnb.formats.x12.element_check import Checker
from atomnb.formats.x12.element_codes import ElementProblem

__all__ = ["ElementProblem", "dictionary_version", "validate_elements"]


def validate_elements(
    set_id: str,
    version: str,
    segments: Sequence[tuple[str, Sequence[str]]],
    component_separator: str,
    repetition_separator: str | None,
    *,
    lenient: bool = False,
) -> list[ElementProblem]:
    """Every element problem of one set (ST to SE), in segment order; [] for unknown sets.

    ``segments`` are (id, raw element texts after the id); ``version`` is GS08.
    """
    base = dictionary_version(version)
    if base is None:
        return []
    specs = compiled(base, set_id)
    if specs is None:
        return []
    problems: list[ElementProblem] = []
    check = Checker(problems, component_separator, repetition_separator, lenient)
    for number, (segment_id, elements) in enumerate(segments, 1):
        spec = specs.get(segment_id)
        if spec is not None:
            check.segment(number, spec, elements)
    return problems
