"""Rejected documents of an execution, read back from its log lines.

Shapes that refuse documents log each one (the first 20 per shape call) as a
warning naming where, the document's position and the rule, and a message only
when it cannot quote the document's values. These are the lines the console
lists as "rejected documents"; the document itself is never in the store.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from atomnb.process.trace import LogEntry

__all__ = ["RejectedDocument", "rejected_documents"]


@dataclass(frozen=True)
class RejectedDocument:
    """One refused document as the log recorded it: never its contents."""

    shape: str | None
    where: str
    document: int | None
    rule: str
    message: str | None
    at: str


# "rejected: orders, document 3, total, rule minimum: must be positive" and the
# shorter forms: "refused: path/x.csv, rule link", "orders.zip, document 2, rule zip: …".
_RULE_LINE = re.compile(
    r"^(?:(?:rejected|refused): )?(?P<where>.+?)(?:, document (?P<document>\d+))?"
    r"(?:, (?P<path>[^,:]+?))?, rule (?P<rule>[^:]+?)(?:: (?P<message>.+))?$",
    re.DOTALL,
)
# "document 4 not written: rule name_template" (file_put).
_NOT_WRITTEN = re.compile(r"^document (?P<document>\d+) not written: rule (?P<rule>.+)$")


def _parse(entry: LogEntry) -> RejectedDocument | None:
    text = entry.message.strip()
    written = _NOT_WRITTEN.match(text)
    if written:
        return RejectedDocument(
            entry.shape,
            entry.shape or "",
            int(written["document"]),
            written["rule"],
            None,
            entry.at,
        )
    if not text.startswith(("rejected: ", "refused: ")) and ", rule " not in text:
        return None
    found = _RULE_LINE.match(text)
    if found is None:
        return None
    where = found["where"] + (f", {found['path']}" if found["path"] else "")
    document = int(found["document"]) if found["document"] else None
    return RejectedDocument(
        entry.shape, where, document, found["rule"].strip(), found["message"], entry.at
    )


def rejected_documents(logs: Sequence[LogEntry]) -> list[RejectedDocument]:
    """The rejections among an execution's warning lines, in the order they were logged."""
    found = []
    for entry in logs:
        if entry.level != "warning":
            continue
        parsed = _parse(entry)
        if parsed is not None:
            found.append(parsed)
    return found
