"""Read executions from the store: ``atomnb executions`` (list, show, find)."""

from __future__ import annotations

import click

from atomnb.cli.present import grid, params, seconds, table, when
from atomnb.cli.root import Options, cli
from atomnb.store import ExecutionStatus

__all__ = []


@cli.group(invoke_without_command=True)
@click.option("--limit", "-n", default=20, show_default=True, help="How many to list.")
@click.option("--process", help="Only this process.")
@click.option(
    "--status", type=click.Choice([s.value for s in ExecutionStatus]), help="Only this status."
)
@click.option("--atom", "atom_url", metavar="URL", help="List an atom's executions instead.")
@click.pass_context
def executions(
    ctx: click.Context, limit: int, process: str | None, status: str | None, atom_url: str | None
) -> None:
    """List recent executions (newest first); `executions show ID` for one."""
    if ctx.invoked_subcommand is not None:
        return
    if atom_url:
        from atomnb.atom.client import AtomClient
        from atomnb.atom.serialize import record_from_dict

        with AtomClient(atom_url) as client:
            found = client.executions(process=process, status=status, limit=limit)
        records = [record_from_dict(r) for r in found]
    else:
        _, store = ctx.obj.open()
        records = store.recent(
            limit=limit, process=process, status=ExecutionStatus(status) if status else None
        )
    if not records:
        click.echo("no executions recorded yet")
        return
    click.echo(table(records))


@executions.command("show")
@click.argument("execution_id")
@click.option("--atom", "atom_url", metavar="URL", help="Ask this atom instead of the store.")
@click.pass_obj
def executions_show(options: Options, execution_id: str, atom_url: str | None) -> None:
    """Show one execution (an id or a unique prefix of one), with what it called."""
    from atomnb.atom.serialize import children_of, record_from_dict
    from atomnb.process.trace import LogEntry, ShapeRecord

    if atom_url:
        from atomnb.atom.client import AtomClient

        with AtomClient(atom_url) as client:
            found = client.execution(execution_id)
            record = record_from_dict(found)
            called = client._call("GET", f"/api/executions/{record.id}/calls").json()
        children = [record_from_dict(c) for c in called]
        shapes = [ShapeRecord(**s) for s in found.get("shapes", [])]
        logs = [LogEntry(**e) for e in found.get("logs", [])]
    else:
        _, store = options.open()
        record = store.get(execution_id)
        shapes, logs = store.shapes(record.id), store.logs(record.id)
        children = children_of(store, record.id)
    rows = [
        ("id", record.id),
        ("process", record.process),
        ("notebook", record.notebook),
        ("environment", record.environment),
        ("trigger", record.trigger.value),
        ("status", record.status.value),
        ("parameters", params(record.parameters) or "-"),
        ("secret parameters", ", ".join(record.secret_parameters) or "-"),
        ("started", when(record.started_at)),
        ("ended", when(record.ended_at)),
        ("duration", seconds(record.duration_s)),
        ("error", record.error_summary or "-"),
        ("output notebook", record.output_path or "-"),
        ("host", record.host or "-"),
        ("attempt", str(record.attempt)),
        ("called by", record.parent_id or "-"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        click.echo(f"{key:<{width}}  {value}")
    if shapes:
        click.echo("\nshapes")
        header = ("#", "KIND", "SHAPE", "IN", "OUT", "ERRORS", "TIME")
        table = [
            (
                str(s.index + 1),
                s.kind,
                s.name,
                str(s.documents_in),
                ", ".join(f"{k} {v}" for k, v in s.documents_out.items()) or "-",
                str(s.errors),
                f"{s.duration_s * 1000:.1f} ms",
            )
            for s in shapes
        ]
        click.echo(grid([header, *table]))
    if children:
        click.echo("\ncalls")
        lines = [("ID", "PROCESS", "STATUS", "DURATION", "ERROR")]
        lines += [
            (c.id, c.process, c.status.value, seconds(c.duration_s), c.error_summary or "-")
            for c in children
        ]
        click.echo(grid(lines))
    if logs:
        click.echo("\nlog")
        for entry in logs:
            click.echo(f"  {entry.level:<7} {entry.shape or '-'}: {entry.message}")


@executions.command("find")
@click.argument("field")
@click.argument("value")
@click.pass_obj
def executions_find(options: Options, field: str, value: str) -> None:
    """Executions where a process tracked FIELD = VALUE (e.g. orderId SO-123)."""
    _, store = options.open()
    found = store.find_tracked(field, value)
    if not found:
        click.echo(f"no execution tracked {field} = {value!r}")
        return
    rows = [("ID", "PROCESS", "STATUS", "STARTED", "SHAPE", "DOCUMENT")]
    rows += [
        (
            r.id,
            r.process,
            r.status.value,
            when(r.started_at),
            shape,
            "-" if doc is None else str(doc),
        )
        for r, shape, doc in found
    ]
    click.echo(grid(rows))
