"""The notebook view of a batch: a compact HTML table, so test mode shows what flowed.

Kept apart from the batch so the rendering (escaping, truncation) can change
without touching the data type.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from atomnb.documents.rejections import Rejection

__all__ = ["documents_html"]

PREVIEW_ROWS = 10
CELL_CHARS = 80


def documents_html(
    table: pa.Table,
    properties: Mapping[str, pa.ChunkedArray],
    rejections: Sequence[Rejection] = (),
    rows: int = PREVIEW_ROWS,
) -> str:
    """Render the first ``rows`` documents; nested values are shown as compact JSON-like text."""
    head = table.slice(0, rows).to_pylist()
    prop_names = list(properties)
    header = "".join(f"<th>{html.escape(name)}</th>" for name in table.column_names)
    header += "".join(
        f"<th style='font-style:italic'>@{html.escape(name)}</th>" for name in prop_names
    )
    body = []
    for index, record in enumerate(head):
        cells = "".join(f"<td>{_cell(record.get(name))}</td>" for name in table.column_names)
        cells += "".join(f"<td>{_cell(properties[n][index].as_py())}</td>" for n in prop_names)
        body.append(f"<tr><th>{index}</th>{cells}</tr>")
    more = table.num_rows - len(head)
    footer = f"<p>… {more} more document(s)</p>" if more > 0 else ""
    caption = f"<b>Documents</b>: {table.num_rows} document(s), {table.num_columns} column(s)" + (
        f", properties: {html.escape(', '.join(prop_names))}" if prop_names else ""
    )
    return (
        f"<div class='atomnb-documents'><p>{caption}</p>"
        f"<table><thead><tr><th></th>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        f"{footer}{_rejections_html(rejections, rows)}</div>"
    )


def _rejections_html(rejections: Sequence[Rejection], rows: int) -> str:
    if not rejections:
        return ""
    items = "".join(f"<li>{html.escape(str(r))}</li>" for r in rejections[:rows])
    more = f"<li>… {len(rejections) - rows} more</li>" if len(rejections) > rows else ""
    return (
        f"<p style='color:#b00'><b>{len(rejections)} document(s) rejected</b></p>"
        f"<ul>{items}{more}</ul>"
    )


def _cell(value: Any) -> str:
    if value is None:
        return "<span style='color:#999'>null</span>"
    text = str(value)
    if len(text) > CELL_CHARS:
        text = text[: CELL_CHARS - 1] + "…"
    return html.escape(text)
