"""``%load_ext atomnb``: the notebook face of a process — magics and test mode.

Loading registers the ``%atomnb`` / ``%%atomnb`` magics (``atomnb.nb.magics``).

After loading, every shape a cell calls shows a compact summary under the cell:
documents in, out per path, errors and time, and (interactively) a peek at the
first documents of each path — so an analyst sees what flowed through each step
without writing any code for it. Unattended runs show counts only, so output
notebooks kept on an atom never hold document contents.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from atomnb.documents import Documents
from atomnb.process.run import current_run
from atomnb.process.trace import ShapeRecord

__all__ = ["PEEK_ROWS", "load_ipython_extension", "shape_summary_html", "unload_ipython_extension"]

PEEK_ROWS = 3


def shape_summary_html(record: ShapeRecord, outputs: Mapping[str, Documents], *, peek: bool) -> str:
    """One shape as a small HTML block: the counts, then (if ``peek``) the first documents."""
    paths = ", ".join(f"{html.escape(k)}: {v}" for k, v in record.documents_out.items()) or "-"
    errors = f", <b style='color:#b00'>{record.errors} error(s)</b>" if record.errors else ""
    failed = (
        f" <b style='color:#b00'>failed: {html.escape(record.error)}</b>" if record.error else ""
    )
    head = (
        f"<div class='atomnb-shape'><code>{html.escape(record.kind)}</code> "
        f"<b>{html.escape(record.name)}</b>: {record.documents_in} in → {paths}{errors}"
        f" <span style='color:#888'>({record.duration_s * 1000:.1f} ms)</span>{failed}</div>"
    )
    if not peek:
        return head
    peeks = "".join(
        f"<details><summary>{html.escape(label)}</summary>{docs[:PEEK_ROWS]._repr_html_()}</details>"
        for label, docs in outputs.items()
        if len(docs)
    )
    return head + peeks


def _display(record: ShapeRecord, outputs: Mapping[str, Documents]) -> None:
    from IPython.display import HTML, display

    peek = current_run().context.interactive
    display(HTML(shape_summary_html(record, outputs, peek=peek)))


def load_ipython_extension(ipython: Any) -> None:
    """Called by ``%load_ext atomnb``: the ``%atomnb`` magics, and every shape's summary."""
    listeners = current_run().listeners
    if _display not in listeners:
        listeners.append(_display)
    if ipython is not None and hasattr(ipython, "register_magics"):
        from atomnb.nb.magics import AtomnbMagics  # IPython's magic machinery only when loaded

        ipython.register_magics(AtomnbMagics)


def unload_ipython_extension(ipython: Any) -> None:
    listeners = current_run().listeners
    if _display in listeners:
        listeners.remove(_display)
    manager = getattr(ipython, "magics_manager", None)
    if manager is not None:
        for kind in ("line", "cell"):
            manager.magics[kind].pop("atomnb", None)
