"""The Deployments pages: what runs now, each process's versions, a diff, rollback."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from atomnb.errors import AtomError
from atomnb.store.deployments import RUN_SETTINGS, Deployment
from atomnb.web.console.layout import console_page, esc, fmt_count, fmt_time
from atomnb.web.records.diff import (
    CellChange,
    FileChange,
    VersionDiff,
    diff_packages,
    diff_settings,
)

__all__ = ["deployment_page", "deployments_page", "version_diff"]

_CSS = """
pre.diff{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.4rem .6rem;
overflow-x:auto;margin:.2rem 0 .8rem}
pre.diff .add{background:#e6ffec;display:block}pre.diff .del{background:#ffebe9;display:block}
pre.diff .hunk{color:#8250df;display:block}
.change{font-weight:600}.change.added{color:#1a7f37}.change.removed{color:#cf222e}
form.rollback{display:inline;margin:0}form.diffpick{margin:.4rem 0 1rem}
tr.active td{background:#f0f7ff}
"""


def _settings(d: Deployment) -> dict[str, Any]:
    return {name: getattr(d, name) for name in RUN_SETTINGS}


def version_diff(
    package_dir: Callable[[str, int], Path],
    history: Sequence[Deployment],
    old: str | None,
    new: str | None,
) -> VersionDiff | None:
    """The diff between versions ``old`` and ``new`` (texts from the query); None if not asked."""
    if not old and not new:
        return None
    by_version = {d.version: d for d in history}

    def version(text: str | None, which: str) -> Deployment:
        try:
            number = int(str(text).lstrip("v"))
        except ValueError:
            raise AtomError(f"'{which}' must be a version number, not {str(text)[:20]!r}") from None
        if number not in by_version:
            known = ", ".join(str(v) for v in sorted(by_version))
            raise AtomError(f"there is no version {number}", hint=f"versions: {known}")
        return by_version[number]

    a, b = version(old, "from"), version(new, "to")
    diff = VersionDiff(settings=diff_settings(_settings(a), _settings(b)))
    if a.notebook != b.notebook:
        diff.settings.insert(0, ("notebook", a.notebook, b.notebook))
    roots = {d.version: package_dir(d.process, d.version) for d in (a, b)}
    diff.missing = [v for v, root in roots.items() if not root.is_dir()]
    if not diff.missing:
        diff.files = diff_packages(roots[a.version], roots[b.version])
        main = PurePosixPath(b.notebook).as_posix()
        diff.files.sort(key=lambda f: (f.path != main, f.path))
    return diff


def deployments_page(
    active: Sequence[Deployment], schedules: Mapping[str, Any], *, user: str | None = None
) -> str:
    """Every process deployed now, with its active version and how it runs."""
    rows = []
    for d in active:
        schedule = schedules.get(d.process)
        cron = d.schedule or "—"
        if schedule is not None and getattr(schedule, "paused", False):
            cron += " (paused)"
        rows.append(
            f"<tr><td><a href='/console/deployments/{esc(d.process)}'><b>{esc(d.process)}</b></a>"
            f"</td><td class='num'>{d.version}</td><td>{esc(d.environment)}</td>"
            f"<td><code>{esc(cron)}</code> {esc(d.timezone if d.schedule else '')}</td>"
            f"<td>{fmt_time(d.deployed_at)}</td><td>{esc(d.deployed_by or '—')}</td></tr>"
        )
    table = (
        "<table class='deployments'><thead><tr><th>process</th><th class='num'>version</th>"
        "<th>environment</th><th>schedule</th><th>deployed</th><th>by</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p class='muted'>Nothing is deployed on this store.</p>"
    )
    body = f"<h1>Deployments</h1>{table}"
    return console_page("Deployments", body, active="deployments", user=user)


def _diff_lines(lines: Sequence[str]) -> str:
    out = []
    for line in lines:
        if line.startswith(("+++", "---")):
            continue
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "")
        out.append(f"<span class='{kind}'>{esc(line)}</span>" if kind else esc(line) + "\n")
    return f"<pre class='diff'>{''.join(out)}</pre>"


def _cell(change: CellChange) -> str:
    number = change.new_number if change.new_number is not None else change.old_number
    what = "parameters cell" if change.parameters else f"{change.cell_type} cell"
    moved = (
        f" (was cell {change.old_number})"
        if change.change == "changed" and change.old_number != change.new_number
        else ""
    )
    return (
        f"<div class='cell-change'><span class='change {change.change}'>{change.change}</span> "
        f"{esc(what)} {number}{esc(moved)}{_diff_lines(change.lines)}</div>"
    )


def _file(change: FileChange) -> str:
    head = (
        f"<h3><span class='change {change.change}'>{change.change}</span> "
        f"<code>{esc(change.path)}</code></h3>"
    )
    parts = [head]
    if change.note:
        parts.append(f"<p class='muted'>{esc(change.note)}</p>")
    if change.cells:
        parts.extend(_cell(c) for c in change.cells)
    elif change.lines:
        parts.append(_diff_lines(change.lines))
    return "<section class='file-change'>" + "".join(parts) + "</section>"


def _diff(diff: VersionDiff, old: str, new: str) -> str:
    parts = [f"<h2>Changes from version {esc(old)} to {esc(new)}</h2>"]
    if diff.settings:
        rows = "".join(
            f"<tr><td>{esc(k)}</td><td><code>{esc(a)}</code></td><td><code>{esc(b)}</code></td></tr>"
            for k, a, b in diff.settings
        )
        parts.append(
            "<table class='settings-diff'><thead><tr><th>setting</th>"
            f"<th>version {esc(old)}</th><th>version {esc(new)}</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    if diff.missing:
        gone = ", ".join(str(v) for v in diff.missing)
        parts.append(
            f"<p class='error'>The package of version {esc(gone)} is no longer kept on this "
            "atom (package_versions_kept): its files cannot be compared.</p>"
        )
    elif diff.files:
        parts.append(f"<p class='muted'>{fmt_count(len(diff.files))} files differ.</p>")
        parts.extend(_file(f) for f in diff.files)
    elif not diff.settings:
        parts.append("<p class='muted'>No differences.</p>")
    return "<div class='diff'>" + "".join(parts) + "</div>"


def deployment_page(
    process: str,
    history: Sequence[Deployment],
    diff: VersionDiff | None,
    *,
    csrf_field: str,
    can_rollback: bool,
    diff_from: str | None = None,
    diff_to: str | None = None,
    notice: str | None = None,
    error: str | None = None,
    user: str | None = None,
) -> str:
    """One process's versions (newest first) with who deployed each and when."""
    active = next((d for d in history if d.active), None)
    rows = []
    for n, d in enumerate(history):
        older = history[n + 1].version if n + 1 < len(history) else None
        compare = (
            f"<a href='/console/deployments/{esc(process)}?from={older}&amp;to={d.version}'>"
            f"changes from {older}</a>"
            if older is not None
            else ""
        )
        action = ""
        if can_rollback and not d.active:
            action = (
                f"<form class='rollback' method='post' "
                f"action='/console/deployments/{esc(process)}/rollback'>{csrf_field}"
                f"<input type='hidden' name='to' value='{d.version}'>"
                f"<button type='submit'>Roll back to {d.version}</button></form>"
            )
        state = "<b>active</b>" if d.active else ""
        rows.append(
            f"<tr class='{'active' if d.active else ''}' data-version='{d.version}'>"
            f"<td class='num'>{d.version}</td><td>{state}</td><td>{fmt_time(d.deployed_at)}</td>"
            f"<td>{esc(d.deployed_by or '—')}</td><td>{esc(d.environment)}</td>"
            f"<td><code>{esc(d.schedule or '—')}</code></td><td>{compare}</td>"
            f"<td>{action}</td></tr>"
        )
    summary = (
        f"<p>Active: version <b class='active-version'>{active.version}</b>, "
        f"environment {esc(active.environment)}, notebook <code>{esc(active.notebook)}</code>.</p>"
        if active
        else "<p class='error'>Not deployed now (undeployed).</p>"
    )
    versions = [str(d.version) for d in history]

    def pick(name: str, chosen: str | None) -> str:
        options = "".join(
            f"<option{' selected' if v == chosen else ''}>{v}</option>" for v in versions
        )
        return f"<label>{name} <select name='{name}'>{options}</select></label>"

    chooser = (
        f"<form class='diffpick' method='get' action='/console/deployments/{esc(process)}'>"
        f"Compare {pick('from', diff_from or (versions[1] if len(versions) > 1 else None))} "
        f"{pick('to', diff_to or versions[0])} <button type='submit'>Show changes</button></form>"
    )
    note = f"<p class='notice' role='status'>{esc(notice)}</p>" if notice else ""
    problem = f"<p class='error' role='alert'>{esc(error)}</p>" if error else ""
    body = (
        f"<style>{_CSS}</style><p><a href='/console/deployments'>← deployments</a></p>"
        f"<h1>{esc(process)}</h1>{note}{problem}{summary}"
        "<table class='versions'><thead><tr><th class='num'>version</th><th></th>"
        "<th>deployed</th><th>by</th><th>environment</th><th>schedule</th><th></th><th></th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>{chooser}"
        f"{_diff(diff, diff_from or '', diff_to or '') if diff else ''}"
        f"<p><a href='/console/executions?process={esc(process)}'>its executions</a></p>"
    )
    return console_page(process, body, active="deployments", user=user)
