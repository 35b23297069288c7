"""Read executions: ``atomnb executions`` (list, show, find), from the atom or the local store.

With an atom configured (``--atom URL``, ``$ATOMNB_ATOM_URL`` or ``atom =`` in
atomnb.toml) the commands read the atom's API, which is where deployed and
scheduled runs are recorded; ``--local`` (or the global ``--store URL``) reads
the workspace's store, where ``atomnb run`` records. Which one was read is said
on stderr, and an id that is not where it was looked for is looked up in the
other place, so the error says where it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from atomnb.cli.present import (
    JSON_OPTION,
    echo_json,
    execution_json,
    log_json,
    params,
    seconds,
    shape_json,
    show_grid,
    show_records,
    status_style,
    terminal,
    when,
)
from atomnb.cli.root import Options, cli
from atomnb.components.atom_address import NO_ATOM_HINT, AtomAddress, locate_atom
from atomnb.errors import AtomnbError, NotFoundError, UnknownEntityError
from atomnb.store import ExecutionRecord, ExecutionStatus, ExecutionStore

if TYPE_CHECKING:
    from rich.console import Console

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
@JSON_OPTION
@click.pass_context
def executions(
    ctx: click.Context,
    limit: int,
    process: str | None,
    status: str | None,
    atom_url: str | None,
    local: bool,
    as_json: bool,
) -> None:
    """List recent executions (newest first): the atom's when one is configured.

    ``--json`` prints ``{"source": ..., "executions": [...]}``, each execution with
    the keys of the atom's API (``GET /api/executions``).
    """
    ctx.find_root().meta["atomnb.executions"] = {
        "atom_url": atom_url,
        "local": local,
        "json": as_json,
    }
    if ctx.invoked_subcommand is not None:
        return
    address = _atom(ctx, None, False)
    store = None
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
    if as_json:
        echo_json(
            {"source": _source(address, store), "executions": [execution_json(r) for r in records]}
        )
        return
    if not records:
        click.echo("no executions recorded yet")
        return
    show_records(records)


@executions.command("show")
@click.argument("execution_id")
@_ATOM
@_LOCAL
@JSON_OPTION
@click.pass_context
def executions_show(
    ctx: click.Context, execution_id: str, atom_url: str | None, local: bool, as_json: bool
) -> None:
    """Show one execution (an id or a unique prefix of one), with what it called.

    ``--json`` prints ``{"execution": ..., "shapes": [...], "calls": [...], "log": [...],
    "drift": [...]}`` (profile drift per profile: paths and document counts, never values).
    """
    from atomnb.atom.serialize import children_of, record_from_dict
    from atomnb.process.trace import LogEntry, ShapeRecord
    from atomnb.store.drift import drift_of

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
        drift = list(found.get("drift", []))
    else:
        _, store = ctx.obj.open()
        try:
            record = store.get(execution_id)
        except NotFoundError as exc:
            raise _elsewhere_than_store(ctx, atom_url, execution_id, exc) from None
        shapes, logs = store.shapes(record.id), store.logs(record.id)
        children = children_of(store, record.id)
        drift = drift_of(store, record.id)
    if as_json or _group_json(ctx):
        echo_json(
            {
                "execution": execution_json(record),
                "shapes": [shape_json(s) for s in shapes],
                "calls": [execution_json(c) for c in children],
                "log": [log_json(e) for e in logs],
                "drift": drift,
            }
        )
        return
    _show(record, shapes, children, logs)
    _show_drift(drift)


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
    console = terminal()
    if console is None:
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            click.echo(f"{key:<{width}}  {value}")
    else:
        _fields(console, rows)
    if shapes:
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
        click.echo()
        show_grid(header, lines, title="shapes")
    if children:
        called = [
            (c.id, c.process, c.status.value, seconds(c.duration_s), c.error_summary or "-")
            for c in children
        ]
        click.echo()
        show_grid(
            ("ID", "PROCESS", "STATUS", "DURATION", "ERROR"), called, title="calls", status_column=2
        )
    if logs:
        click.echo("\nlog")
        for entry in logs:
            click.echo(f"  {entry.level:<7} {entry.shape or '-'}: {entry.message}")


def _show_drift(reports: list[dict[str, Any]]) -> None:
    """Profile drift, one grid per drifted profile: kind, path, documents (never values)."""
    from atomnb.store.drift import drift_paths

    for report in reports:
        lines = [
            (kind, path, str(n), detail or "-") for kind, path, n, detail in drift_paths(report)
        ]
        click.echo()
        show_grid(
            ("DRIFT", "PATH", "DOCUMENTS", "DETAIL"),
            lines,
            title=f"profile drift: {report.get('profile')} ({report.get('documents')} document(s))",
        )


def _fields(console: Console, rows: list[tuple[str, str]]) -> None:
    """An execution's fields as a two-column rich grid, the status coloured."""
    from rich.table import Table
    from rich.text import Text

    shown = Table.grid(padding=(0, 2))
    shown.add_column(style="bold")
    shown.add_column(overflow="fold")
    for key, value in rows:
        text = Text(value)
        if key == "status":
            text.stylize(status_style(value) or "none")
        shown.add_row(key, text)
    console.print(shown)


def _group_json(ctx: click.Context) -> bool:
    """``atomnb executions --json show …``: the group's flag counts for its commands too."""
    return bool(ctx.find_root().meta.get("atomnb.executions", {}).get("json"))


def _source(address: AtomAddress | None, store: ExecutionStore | None) -> dict[str, Any]:
    """Where the executions were read, for ``--json``: the atom's URL, or the store's."""
    if address is not None:
        return {"kind": "atom", "url": address.url}
    url = store.engine.url.render_as_string(hide_password=True) if store is not None else None
    return {"kind": "store", "url": url}


@executions.command("find")
@click.argument("field")
@click.argument("value")
@_ATOM
@_LOCAL
@JSON_OPTION
@click.pass_context
def executions_find(
    ctx: click.Context, field: str, value: str, atom_url: str | None, local: bool, as_json: bool
) -> None:
    """Executions where a process tracked FIELD = VALUE (e.g. orderId SO-123).

    ``--json`` prints ``{"source", "field", "value", "found": [{"execution", "shape",
    "document"}]}``.
    """
    address = _atom(ctx, atom_url, local)
    store = None
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
    if as_json or _group_json(ctx):
        hits = [
            {"execution": execution_json(r), "shape": shape, "document": doc}
            for r, shape, doc in found
        ]
        echo_json(
            {"source": _source(address, store), "field": field, "value": value, "found": hits}
        )
        return
    if not found:
        click.echo(f"no execution {where} tracked {field} = {value!r} (also ask {elsewhere})")
        return
    rows = [
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
    show_grid(("ID", "PROCESS", "STATUS", "STARTED", "SHAPE", "DOCUMENT"), rows, status_column=2)


# `executions rejections` lives in its own module; importing it registers it on this group.
from atomnb.cli import execution_rejections as _execution_rejections  # noqa: E402, F401
