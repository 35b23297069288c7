"""One problem of an EDI transaction set or message, as both EDI readers report it.

X12 and EDIFACT problems carry the same facts: a message naming the file, the
segment and the rule; the rule; and what an acknowledgement needs (997/999
AK3/AK4/AK5 or CONTRL UCS/UCD: the code, the segment and its position, the
element and component). One record for both lets ``ab.acknowledge`` and the
partner policies read them alike; ``PROBLEMS_TYPE`` is their column type
(``x12.problems``, ``edifact.problems`` and ``Rejection.problems``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

__all__ = ["PROBLEMS_TYPE", "Problem"]


@dataclass(frozen=True)
class Problem:
    """Something wrong with one set or message (or its group or interchange).

    ``code`` is the standard's code for it (X12 AK5/AK4/AK9/TA1, EDIFACT 0085);
    ``segment_position`` counts from ST or UNH = 1.
    """

    message: str
    where: str
    rule: str
    code: str = ""
    segment_id: str = ""
    segment_position: int | None = None
    element_position: int | None = None
    component_position: int | None = None

    def as_dict(self) -> dict[str, object]:
        """The structured form: one entry of a ``*.problems`` column."""
        return {
            "segment_position": self.segment_position,
            "segment_id": self.segment_id,
            "element_position": self.element_position,
            "component_position": self.component_position,
            "code": self.code,
            "message": self.message,
        }


#: The column type of a set's or message's problems (a list of ``Problem.as_dict()``).
PROBLEMS_TYPE = pa.list_(
    pa.struct(
        [
            ("segment_position", pa.int64()),
            ("segment_id", pa.string()),
            ("element_position", pa.int64()),
            ("component_position", pa.int64()),
            ("code", pa.string()),
            ("message", pa.string()),
        ]
    )
)
