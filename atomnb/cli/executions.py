"""Read executions: ``atomnb executions`` (list, show, find), from the atom or the local store.

With an atom configured (``--atom URL``, ``$ATOMNB_ATOM_URL`` or ``atom =`` in
atomnb.toml) the commands read the atom's API, which is where deployed and
scheduled runs are recorded; ``--local`` (or the global ``--store URL``) reads
the workspace's store, where ``atomnb run`` records. Which one was read is said
on stderr, and an id that is not where it was looked for is looked up in the
other place, so the error says where it is.
"""

from __future__ import annotations

from typing import Any

import click

from atomnb.cli.present import grid, params, seconds, table, when
from atomnb.cli.root import Options, cli
from atomnb.components.atom_address import NO_ATOM_HINT, AtomAddress, locate_atom
from atomnb.errors import AtomnbError, NotFoundError, UnknownEntityError
from atomnb.store import ExecutionRecord, ExecutionStatus

__all__: list[str] = []

_ATOM = click.option(
    "--atom",
    "atom_url",
    metavar="URL",
    help="Read this atom (default: $ATOMNB_ATOM_URL, else atom = in atomnb.toml).",
)
_LOCAL = click.option(
    "--local", is_flag=True, help="Read the workspace's store even when an atom is configured."
)


def _atom(ctx: click.Context, atom_url: str | None, local: bool) -> AtomAddress | None:
    """The atom to read, or None for the local store (the group's options count too)."""
    options: Options = ctx.obj
    group = ctx.find_root().meta.get("atomnb.executions", {})
    atom_url = atom_url or group.get("atom_url")
    if local or group.get("local") or (options.store and not atom_url):
        return None
    return locate_atom(atom_url, start=options.workspace)


def _say_source(ctx: click.Context, address: AtomAddress | None) -> None:
    """One line on stderr naming what was read (stdout stays the table, for scripts)."""
    options: Options = ctx.obj
    if address is not None:
        where = address.describe()
    elif options.store:
        where = "the store given with --store"
    else:
        where = "the workspace's local store (atomnb run records there)"
    click.secho(f"executions on {where}", err=True, dim=True)


@cli.group(invoke_without_command=True)
@click.option("--limit", "-n", default=20, show_default=True, help="How many to list.")
@click.option("--process", help="Only this process.")
@click.option(
    "--status", type=click.Choice([s.value for s in ExecutionStatus]), help="Only this status."
)
@_ATOM
@_LOCAL
@click.pass_context
def executions(
    ctx: click.Context,
    limit: int,
    process: str | None,
    status: str | None,
    atom_url: str | None,
    local: bool,
) -> None:
    """List recent executions (newest first): the atom's when one is configured."""
    ctx.find_root().meta["atomnb.executions"] = {"atom_url": atom_url, "local": local}
    if ctx.invoked_subcommand is not None:
        return
    address = _atom(ctx, None, False)
    if address is not None:
        from atomnb.atom.client import AtomClient
        from atomnb.atom.serialize import record_from_dict

        with AtomClient(address) as client:
            found = client.executions(process=process, status=status, limit=limit)
        records = [record_from_dict(r) for r in found]
    else:
        _, store = ctx.obj.open()
        records = store.recent(
            limit=limit, process=process, status=ExecutionStatus(status) if status else None
        )
    _say_source(ctx, address)
    if not records:
        click.echo("no executions recorded yet")
        return
    click.echo(table(records))


@executions.command("show")
@click.argument("execution_id")
@_ATOM
@_LOCAL
@click.pass_context
def executions_show(
    ctx: click.Context, execution_id: str, atom_url: str | None, local: bool
) -> None:
    """Show one execution (an id or a unique prefix of one), with what it called."""
    from atomnb.atom.serialize import children_of, record_from_dict
    from atomnb.process.trace import LogEntry, ShapeRecord

    address = _atom(ctx, atom_url, local)
    if address is not None:
        from atomnb.atom.client import AtomClient

        with AtomClient(address) as client:
            try:
                found = client.execution(execution_id)
            except UnknownEntityError as exc:
                raise _elsewhere_than_atom(ctx, address, execution_id, exc) from None
            record = record_from_dict(found)
            called = client.calls(record.id)
        children = [record_from_dict(c) for c in called]
        shapes = [ShapeRecord(**s) for s in found.get("shapes", [])]
        logs = [LogEntry(**e) for e in found.get("logs", [])]
    else:
        _, store = ctx.obj.open()
        try:
            record = store.get(execution_id)
        except NotFoundError as exc:
            raise _elsewhere_than_store(ctx, atom_url, execution_id, exc) from None
        shapes, logs = store.shapes(record.id), store.logs(record.id)
        children = children_of(store, record.id)
    _show(record, shapes, children, logs)


def _elsewhere_than_atom(
    ctx: click.Context, address: AtomAddress, execution_id: str, exc: AtomnbError
) -> AtomnbError:
    """Not on the atom: is it in the local store? The error says where to look."""
    message = f"no execution with id {execution_id!r} on {address.describe()}"
    try:
        _, store = ctx.obj.open()
        record = store.get(execution_id)
    except AtomnbError:
        return NotFoundError(
            message + ", nor in the local store",
            hint="list them with: atomnb executions (add --local for this workspace's store)",
        )
    return NotFoundError(
        message,
        hint=f"the local store has it ({record.process}, {record.status.value}): "
        f"atomnb executions show {record.id} --local",
    )


def _elsewhere_than_store(
    ctx: click.Context, atom_url: str | None, execution_id: str, exc: NotFoundError
) -> AtomnbError:
    """Not in the local store: did it run on the configured atom? The error says where to look."""
    options: Options = ctx.obj
    try:
        address = locate_atom(atom_url, start=options.workspace)
    except AtomnbError:
        address = None
    if address is None:
        return NotFoundError(
            f"{exc.message} in the local store",
            hint="if it ran on an atom, ask the atom: atomnb executions show ID --atom URL; "
            + NO_ATOM_HINT,
        )
    from atomnb.atom.client import AtomClient

    try:
        with AtomClient(address, timeout_s=30) as client:
            found = client.execution(execution_id)
    except AtomnbError:
        return NotFoundError(
            f"{exc.message} in the local store, nor on {address.describe()}",
            hint="list them with: atomnb executions (the atom's) or atomnb executions --local",
        )
    return NotFoundError(
        f"{exc.message} in the local store",
        hint=f"it ran on {address.describe()} ({found['process']}, {found['status']}): "
        f"atomnb executions show {found['id']} (without --local)",
    )


def _show(record: ExecutionRecord, shapes: list[Any], children: list[Any], logs: list[Any]) -> None:
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
        lines = [
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
        click.echo(grid([header, *lines]))
    if children:
        click.echo("\ncalls")
        called = [("ID", "PROCESS", "STATUS", "DURATION", "ERROR")]
        called += [
            (c.id, c.process, c.status.value, seconds(c.duration_s), c.error_summary or "-")
            for c in children
        ]
        click.echo(grid(called))
    if logs:
        click.echo("\nlog")
        for entry in logs:
            click.echo(f"  {entry.level:<7} {entry.shape or '-'}: {entry.message}")


@executions.command("find")
@click.argument("field")
@click.argument("value")
@_ATOM
@_LOCAL
@click.pass_context
def executions_find(
    ctx: click.Context, field: str, value: str, atom_url: str | None, local: bool
) -> None:
    """Executions where a process tracked FIELD = VALUE (e.g. orderId SO-123)."""
    address = _atom(ctx, atom_url, local)
    if address is not None:
        from atomnb.atom.client import AtomClient
        from atomnb.atom.serialize import record_from_dict

        with AtomClient(address) as client:
            answer = client.tracked(field, value)
        found = [(record_from_dict(a["execution"]), a["shape"], a["document"]) for a in answer]
        where = f"on {address.describe()}"
        elsewhere = f"the local store: atomnb executions find {field} {value} --local"
    else:
        _, store = ctx.obj.open()
        found = store.find_tracked(field, value)
        where = "in the local store"
        elsewhere = "an atom: atomnb executions find FIELD VALUE --atom URL"
    _say_source(ctx, address)
    if not found:
        click.echo(f"no execution {where} tracked {field} = {value!r} (also ask {elsewhere})")
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
