"""How the CLI shows executions: tables and outcome lines for people, not reprs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from atomnb.process.trace import ShapeRecord
    from atomnb.store import ExecutionRecord

__all__ = ["grid", "params", "print_outcome", "print_shapes", "seconds", "short", "table", "when"]


def print_outcome(record: ExecutionRecord) -> None:
    colour = "green" if record.status.ok else "red"
    click.echo(
        f"execution {record.id} "
        + click.style(record.status.value, fg=colour, bold=True)
        + f" in {seconds(record.duration_s)}"
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


def table(records: Sequence[ExecutionRecord]) -> str:
    header = ("ID", "PROCESS", "ENV", "TRIGGER", "STATUS", "STARTED", "DURATION", "ERROR")
    rows = [
        (
            r.id,
            r.process,
            r.environment,
            r.trigger.value,
            r.status.value,
            when(r.started_at),
            seconds(r.duration_s),
            short(r.error_summary or ""),
        )
        for r in records
    ]
    return grid([header, *rows])


def grid(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines)


def when(stamp: datetime | None) -> str:
    return stamp.strftime("%Y-%m-%d %H:%M:%SZ") if stamp else "-"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def short(text: str, limit: int = 60) -> str:
    text = text.splitlines()[0] if text else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def params(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items())
