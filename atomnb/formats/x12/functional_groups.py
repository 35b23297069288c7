"""Which functional group (GS01) each transaction set travels in.

A group carries sets of one kind: 850 purchase orders in a ``PO`` group, 810
invoices in ``IN``. A set in the wrong group (an 850 under ``GS*IN``) is routed
by the receiver's translator as the wrong document, so element validation
reports it as the 997/999 does: AK5/IK5 code 6, "missing or invalid transaction
set identifier". Only the pairs below are checked; a set not listed is not.
"""

from __future__ import annotations

from atomnb.formats.x12.loops import Problem
from atomnb.formats.x12.scan import Block

__all__ = ["FUNCTIONAL_IDS", "group_problem"]

#: transaction set id -> GS01 functional identifier code (X12 element 479)
FUNCTIONAL_IDS: dict[str, str] = {
    "204": "SM",
    "210": "IM",
    "214": "QM",
    "270": "HS",
    "271": "HB",
    "276": "HR",
    "277": "HN",
    "278": "HI",
    "810": "IN",
    "820": "RA",
    "824": "AG",
    "830": "PS",
    "832": "SC",
    "834": "BE",
    "835": "HP",
    "837": "HC",
    "846": "IB",
    "850": "PO",
    "852": "PD",
    "855": "PR",
    "856": "SH",
    "860": "PC",
    "864": "TX",
    "865": "CA",
    "940": "OW",
    "945": "SW",
    "990": "GF",
    "997": "FA",
    "999": "FA",
}


def group_problem(
    set_id: str, control_number: str, functional_id: str, block: Block, st: int, name: str
) -> Problem | None:
    """A problem when set ``set_id`` sits in a group whose GS01 is not its functional id."""
    expected = FUNCTIONAL_IDS.get(set_id.strip())
    found = functional_id.strip()
    if expected is None or found == expected:
        return None
    return Problem(
        f"transaction set {set_id} {control_number} is in a functional group with GS01 "
        f"{found!r}; a {set_id} travels in a {expected!r} group",
        block.where(name, st),
        "x12.functional-group",
        "6",
        "ST",
        1,
    )
