"""HTML views for the notebook: a profile as a tree table, components with where-used.

Plain functions returning HTML strings, so they are tested without a browser and
render the same in JupyterLab, a papermill output notebook and nbviewer.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from atomnb.profiles import Element, ElementType, Profile
from atomnb.store import ExecutionRecord

if TYPE_CHECKING:
    from atomnb.nb.inventory import ComponentInfo

__all__ = ["components_html", "execution_line_html", "occurs", "profile_tree_html"]

_STYLE = (
    "<style>.atomnb-tree td,.atomnb-tree th{text-align:left;padding:1px 8px;}"
    ".atomnb-tree .m{color:#c62828;font-weight:bold}.atomnb-tree .s{color:#777;font-style:italic}"
    ".atomnb-tree .t{color:#555}</style>"
)


def occurs(element: Element) -> str:
    """Occurrence as ``min..max`` (``1``, ``0..1``, ``1..*``)."""
    low = max(element.min_occurs, 1 if element.mandatory else 0)
    high = "*" if element.max_occurs is None else str(element.max_occurs)
    return "1" if (low, high) == (1, "1") else f"{low}..{high}"


def profile_tree_html(profile: Profile, *, max_sample: int = 40) -> str:
    """The profile as an indented table: element, type (mask), occurs, mandatory, sample."""
    rows = []
    for path, element in profile.walk():
        depth = path.count(".")
        marker = "▾ " if element.type is ElementType.RECORD else ""
        repeat = "[]" if element.repeating else ""
        kind = element.type.value + (f" ({element.mask})" if element.mask else "")
        sample = "" if element.sample is None else element.sample
        if len(sample) > max_sample:
            sample = sample[: max_sample - 1] + "…"
        rows.append(
            f"<tr data-path='{html.escape(path, quote=True)}'>"
            f"<td style='padding-left:{0.5 + depth * 1.4:.1f}em'>{marker}"
            f"<b>{html.escape(element.name)}</b>{repeat}</td>"
            f"<td class='t'>{html.escape(kind)}</td>"
            f"<td>{occurs(element)}</td>"
            f"<td class='m'>{'✔ mandatory' if element.mandatory else ''}</td>"
            f"<td class='s'>{html.escape(sample)}</td></tr>"
        )
    head = (
        f"<div><b>{html.escape(profile.name)}</b> "
        f"<span class='t'>({html.escape(profile.format or 'any format')}, "
        f"{sum(1 for _ in profile.walk())} elements)</span></div>"
    )
    return (
        f"{_STYLE}<div class='atomnb-tree'>{head}<table>"
        "<thead><tr><th>element</th><th>type</th><th>occurs</th><th></th><th>sample</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def components_html(components: Sequence[ComponentInfo]) -> str:
    """Components as a table: kind, name, version, description, depends on, used by."""
    if not components:
        return "<div class='atomnb-components'>The workspace holds no components yet.</div>"
    rows = "".join(
        f"<tr><td>{html.escape(c.kind)}</td><td><b>{html.escape(c.name)}</b></td>"
        f"<td>{c.version}</td><td>{html.escape(c.description)}</td>"
        f"<td>{html.escape(', '.join(c.references) or '-')}</td>"
        f"<td>{html.escape(', '.join(c.used_by) or '-')}</td></tr>"
        for c in components
    )
    return (
        "<table class='atomnb-components'><thead><tr><th>kind</th><th>name</th><th>version</th>"
        "<th>description</th><th>depends on</th><th>used by</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def execution_line_html(record: ExecutionRecord) -> str:
    """One execution as a line: id, process, status (coloured), duration, and its error if any."""
    colour = "#2e7d32" if record.status.ok else "#c62828"
    if not record.status.finished:
        colour = "#555"
    took = "" if record.duration_s is None else f" in {record.duration_s:.2f} s"
    error = (
        f"<div style='color:#c62828'>{html.escape(record.error_summary)}</div>"
        if record.error_summary
        else ""
    )
    return (
        f"<div class='atomnb-execution'>execution <code>{html.escape(record.id)}</code> of "
        f"<b>{html.escape(record.process)}</b> (environment {html.escape(record.environment)}): "
        f"<b style='color:{colour}'>{html.escape(record.status.value)}</b>{took}</div>{error}"
    )
