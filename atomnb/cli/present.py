"""How the CLI shows executions: rich tables on a terminal, plain text in a pipe, JSON for scripts.

On a terminal (as rich sees it: a TTY, or ``FORCE_COLOR``/``TTY_COMPATIBLE``)
listings are rich tables, statuses coloured unless ``NO_COLOR`` is set. Into a
pipe or a file they are plain, aligned text with no escape codes and no cut
cells, the same as before rich came in, so ``grep``/``awk`` keep working. Every
listing also takes ``--json``: one JSON document on stdout, stable keys, no
colour (``json_document`` says which keys).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console

    from atomnb.process.trace import LogEntry, ShapeRecord
    from atomnb.store import ExecutionRecord

__all__ = [
    "JSON_OPTION",
    "echo_json",
    "execution_json",
    "grid",
    "params",
    "print_outcome",
    "print_shapes",
    "seconds",
    "shape_json",
    "short",
    "show_grid",
    "show_records",
    "status_style",
    "table",
    "terminal",
    "when",
]

F = TypeVar("F", bound=Callable[..., Any])

JSON_OPTION: Callable[[F], F] = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON document (stable keys, no colour) instead of a table, for scripts.",
)

#: Status → rich style: green done, yellow with warnings or waiting, red failed.
_STATUS_STYLES = {
    "succeeded": "green",
    "succeeded_with_warnings": "yellow",
    "failed": "bold red",
    "cancelled": "magenta",
    "queued": "cyan",
    "running": "blue",
}
RECORD_HEADER = ("ID", "PROCESS", "ENV", "TRIGGER", "STATUS", "STARTED", "DURATION", "ERROR")


def no_color() -> bool:
    """``NO_COLOR`` set to anything but empty (https://no-color.org)."""
    return os.environ.get("NO_COLOR", "") != ""


def terminal(stderr: bool = False) -> Console | None:
    """A rich console for stdout (or stderr) when it is a terminal; None for plain text."""
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False, soft_wrap=False)
    return console if console.is_terminal else None


def status_style(status: str) -> str:
    return _STATUS_STYLES.get(status, "")


def print_outcome(record: ExecutionRecord) -> None:
    colour = "green" if record.status.ok else "red"
    click.echo(
        f"execution {record.id} "
        + click.style(record.status.value, fg=colour, bold=True)
        + f" in {seconds(record.duration_s)}",
        color=False if no_color() else None,
    )
    click.echo(f"  process: {record.process} (environment {record.environment})")
    if record.output_path:
        click.echo(f"  output:  {record.output_path}")
    if record.error_summary:
        click.echo(f"  error:   {record.error_summary}")


def print_shapes(shapes: Sequence[ShapeRecord]) -> None:
    """Each shape's counts, one line each: what a test run of a process is for."""
    if not shapes:
        return
    click.echo("  shapes:")
    width = max(len(s.name) for s in shapes)
    for s in shapes:
        out = ", ".join(f"{path} {count}" for path, count in s.documents_out.items()) or "-"
        errors = f", {s.errors} rejected" if s.errors else ""
        click.echo(f"    {s.name:<{width}}  {s.kind}: in {s.documents_in} → {out}{errors}")


def _record_row(r: ExecutionRecord) -> tuple[str, ...]:
    return (
        r.id,
        r.process,
        r.environment,
        r.trigger.value,
        r.status.value,
        when(r.started_at),
        seconds(r.duration_s),
        short(r.error_summary or ""),
    )


def table(records: Sequence[ExecutionRecord]) -> str:
    """Executions as plain aligned text (the form for pipes and files)."""
    return grid([RECORD_HEADER, *(_record_row(r) for r in records)])


def show_records(records: Sequence[ExecutionRecord], title: str | None = None) -> None:
    """Executions on stdout: a rich table on a terminal, else ``table``'s plain text."""
    show_grid(RECORD_HEADER, [_record_row(r) for r in records], title=title, status_column=4)


def show_grid(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    status_column: int | None = None,
) -> None:
    """A listing on stdout: a rich table on a terminal, else plain aligned columns.

    ``title`` is a heading line; ``status_column`` names the column whose cells are
    statuses (coloured on a terminal unless ``NO_COLOR``).
    """
    console = terminal()
    if console is None:
        if title:
            click.echo(title)
        click.echo(grid([tuple(header), *rows]))
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    shown = Table(
        title=Text(title) if title else None,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        header_style="bold",
        pad_edge=False,
    )
    for index, name in enumerate(header):
        # An id is copied into the next command: never folded over two lines.
        whole = max((len(str(row[index])) for row in rows), default=0) if name == "ID" else None
        shown.add_column(name, overflow="fold", no_wrap=whole is not None, min_width=whole)
    for row in rows:  # Text, not markup: an error's "[Errno 2]" is shown as it is
        cells = [Text(str(c)) for c in row]
        style = status_style(str(row[status_column])) if status_column is not None else ""
        if style and status_column is not None:
            cells[status_column].stylize(style)
        shown.add_row(*cells)
    console.print(shown)


def grid(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines)


def echo_json(document: Any) -> None:
    """One JSON document on stdout: indented, keys in a fixed order, never coloured."""
    click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str), color=False)


def execution_json(record: ExecutionRecord) -> dict[str, Any]:
    """An execution as the atom's API has it (``GET /api/executions/{id}``): the same keys."""
    from atomnb.atom.serialize import record_dict

    return record_dict(record)


def shape_json(shape: ShapeRecord) -> dict[str, Any]:
    """A shape's counts, numbered from 1 in the order it ran (``number``), as on the web."""
    return {"number": shape.index + 1, **asdict(shape)}


def log_json(entry: LogEntry) -> dict[str, Any]:
    return asdict(entry)


def when(stamp: datetime | None) -> str:
    return stamp.strftime("%Y-%m-%d %H:%M:%SZ") if stamp else "-"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def short(text: str, limit: int = 60) -> str:
    text = text.splitlines()[0] if text else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def params(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items())
