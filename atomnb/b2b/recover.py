"""A set a strict read refused only for a wrong SE01/UNT count, rebuilt and read again.

``receive_b2b`` reads bytes with ``counts="mark"``, so this matters for batches the
caller read strictly (``ab.read`` defaults) and hands over: under the partner's
"accept with errors" policy such a set is rebuilt in its own envelope with the
right count and delivered (marked E) instead of staying refused.
"""

from __future__ import annotations

from typing import Any

from atomnb.b2b.interchanges import InterchangeInfo, SetInfo
from atomnb.documents import Documents, Rejection
from atomnb.formats import read

__all__ = ["recover"]


def recover(
    rejection: Rejection, item: SetInfo, info: InterchangeInfo, documents: Documents
) -> Documents | None:
    """The refused set as one document with the right count, or None when it cannot be."""
    if any(i.level != "set" or i.code not in ("4", "29") for i in item.issues):
        return None
    raw = (rejection.raw or b"").decode("latin-1")
    if info.standard == "x12":
        text = _x12_text(raw, info, documents)
        fmt = "x12"
    else:
        text = _edifact_text(raw, info)
        fmt = "edifact"
    if text is None:
        return None
    try:
        recovered = read(text.encode("latin-1"), format=fmt)
    except Exception:
        return None
    return recovered if len(recovered) == 1 and not recovered.rejections else None


def _x12_text(raw: str, info: InterchangeInfo, documents: Documents) -> str | None:
    d = info.delimiters
    e, term = d.get("element", "*"), d.get("segment", "~")
    parts = [s for s in raw.split(term) if s.strip("\r\n")]
    if not parts or not parts[-1].strip("\r\n").startswith("SE"):
        return None
    trailer = parts[-1].strip("\r\n").split(e)
    parts[-1] = e.join(["SE", str(len(parts)), *trailer[2:]])
    gs = _group_text(documents, info)
    if gs is None:
        return None
    gs_number = gs.split(e)[6]
    body = [info.envelope, gs, *parts, f"GE{e}1{e}{gs_number}", f"IEA{e}1{e}{info.control_number}"]
    return term.join(body) + term


def _edifact_text(raw: str, info: InterchangeInfo) -> str | None:
    una = info.delimiters.get("una") or ""
    e = una[4] if una else "+"
    term = una[8] if una else "'"
    parts = [s for s in raw.split(term) if s.strip("\r\n")]
    if not parts or not parts[-1].strip("\r\n").startswith("UNT"):
        return None
    trailer = parts[-1].strip("\r\n").split(e)
    parts[-1] = e.join(["UNT", str(len(parts)), *trailer[2:]])
    body = [info.envelope, *parts, f"UNZ{e}1{e}{info.control_number}"]
    return una + term.join(body) + term


def _group_text(documents: Documents, info: InterchangeInfo) -> str | None:
    for index in range(len(documents)):
        props: dict[str, Any] = documents.properties_of(index)
        if props.get("x12.isa") == info.envelope and props.get("x12.gs"):
            return str(props["x12.gs"])
    return None
