"""The execution page's list of rejected documents kept after the run, each with its bytes' link.

The kernel keeps every rejection in the execution's ``rejections.jsonl``
(``atomnb.process.rejections``); the page lists them from there (bytes left
out: they are fetched one at a time from the API's
``/api/executions/{id}/rejections/{n}/bytes``, never put in the page). An
execution with no such file is shown from its log lines, as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from atomnb.web.console.layout import esc, fmt_count

__all__ = ["KEPT_SHOWN", "kept_rejections"]

#: Rows shown on the page; the rest are counted and listed by the API and CLI.
KEPT_SHOWN = 500


def kept_rejections(execution_id: str, kept: Sequence[Mapping[str, Any]]) -> str:
    """A table of the kept rejections: shape, where, document, rule, message, bytes."""
    rows = "".join(_row(execution_id, number, r) for number, r in enumerate(kept[:KEPT_SHOWN]))
    more = len(kept) - KEPT_SHOWN
    note = (
        f"<p class='muted'>{fmt_count(len(kept))} rejected document(s) kept"
        + (f", the first {KEPT_SHOWN} listed" if more > 0 else "")
        + f". All of them: <code>atomnb executions rejections {esc(execution_id)} --out DIR"
        f"</code> or <code>GET /api/executions/{esc(execution_id)}/rejections</code>.</p>"
    )
    return (
        "<table class='rejections kept'><thead><tr><th>shape</th><th>where</th>"
        "<th class='num'>document</th><th>rule</th><th>message</th><th>bytes</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{note}"
    )


def _row(execution_id: str, number: int, r: Mapping[str, Any]) -> str:
    index = r.get("index")
    return (
        f"<tr><td>{esc(r.get('shape_name') or '')}</td><td>{esc(r.get('where') or '')}</td>"
        f"<td class='num'>{'—' if index is None else esc(index)}</td>"
        f"<td><code>{esc(r.get('rule') or '')}</code></td><td>{esc(r.get('message') or '')}</td>"
        f"<td>{_bytes(execution_id, number, r)}</td></tr>"
    )


def _bytes(execution_id: str, number: int, r: Mapping[str, Any]) -> str:
    size = r.get("size")
    if r.get("bytes_dropped"):
        why = "over the execution's cap" if r.get("dropped") == "cap" else "the mode keeps none"
        return f"<span class='muted'>not kept ({esc(why)})</span>"
    if size is None:
        return "<span class='muted'>none known</span>"
    href = f"/api/executions/{esc(execution_id)}/rejections/{number}/bytes"
    scrubbed = " <span class='muted'>(secrets scrubbed)</span>" if r.get("scrubbed") else ""
    return f"<a href='{href}' download>{fmt_count(int(size))} bytes</a>{scrubbed}"
