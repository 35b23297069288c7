"""What an X12 element check reports: `ElementProblem` and the 997 AK4-03 / 999 IK4-03 codes.

EDIFACT's element checks report the same `ElementProblem` (with CONTRL 0085 codes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = [
    "CONDITIONAL_MISSING",
    "EXCLUSION",
    "INVALID_CHARACTER",
    "INVALID_CODE",
    "INVALID_DATE",
    "INVALID_TIME",
    "MISSING",
    "TOO_LONG",
    "TOO_MANY_COMPONENTS",
    "TOO_MANY_ELEMENTS",
    "TOO_MANY_REPETITIONS",
    "TOO_SHORT",
    "ElementProblem",
]

#: 997 AK4-03 / 999 IK4-03 element syntax error codes.
MISSING = 1
CONDITIONAL_MISSING = 2
TOO_MANY_ELEMENTS = 3
TOO_SHORT = 4
TOO_LONG = 5
INVALID_CHARACTER = 6
INVALID_CODE = 7
INVALID_DATE = 8
INVALID_TIME = 9
EXCLUSION = 10
TOO_MANY_REPETITIONS = 12
TOO_MANY_COMPONENTS = 13


@dataclass(frozen=True)
class ElementProblem:
    """One element (or segment syntax-note) problem, placed for an acknowledgement.

    ``code`` is the X12 AK4-03/IK4-03 code, or for EDIFACT the CONTRL syntax
    error code (0085). Positions are 1-based; the set's ST (or UNH) is segment 1.
    """

    segment_position: int
    segment_id: str
    element_position: int | None
    component_position: int | None
    code: int
    level: Literal["segment", "element"]
    message: str
    element_id: str | None = None
    repetition: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
