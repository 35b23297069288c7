"""The ``atomnb`` command: a thin shell over the library, one sub-command per task.

Commands parse options and call into the layers below; they hold no logic of
their own beyond presenting results. A user's mistake (an ``AtomnbError``) is
printed as one paragraph with exit code 2; a failed process exits with 1.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from atomnb import __version__
from atomnb.components import Workspace
from atomnb.errors import AtomnbError, NotebookError
from atomnb.store import ExecutionRecord, ExecutionStatus, ExecutionStore, Trigger

__all__ = ["cli", "main"]

EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclass
class _Options:
    workspace: Path | None
    store: str | None

    def open(self, start: Path | None = None) -> tuple[Workspace, ExecutionStore]:
        workspace = Workspace.find(self.workspace or start)
        return workspace, ExecutionStore.open(workspace.store_url(self.store))


class _Cli(click.Group):
    """Turns a user's mistake into one readable paragraph instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AtomnbError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            ctx.exit(EXIT_USAGE)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="atomnb")
@click.option(
    "--workspace",
    "-w",
    type=click.Path(file_okay=False, path_type=Path),
    help="Workspace root (default: the folder with atomnb.toml above the current one).",
)
@click.option("--store", metavar="URL", help="Execution store URL (default: SQLite in .atomnb/).")
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None, store: str | None) -> None:
    """atomnb: build, run and manage integrations as Jupyter notebooks."""
    ctx.obj = _Options(workspace, store)


@cli.command()
@click.argument("path", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--name", help="Workspace name (default: the folder's name).")
def init(path: Path, name: str | None) -> None:
    """Create a workspace: atomnb.toml, components/, notebooks/, extensions/, .atomnb/."""
    workspace = Workspace.init(path, name)
    click.echo(f"workspace {workspace.name!r} ready at {workspace.root}")


@cli.command()
@click.argument("notebook", type=click.Path(path_type=Path))
@click.option(
    "-p",
    "--parameter",
    "parameters",
    nargs=2,
    multiple=True,
    metavar="NAME VALUE",
    help="Set a parameter; the value is typed by the notebook's default.",
)
@click.option(
    "-s",
    "--secret",
    "secrets",
    nargs=2,
    multiple=True,
    metavar="NAME REF",
    help="Set a secret parameter from a reference (env:VAR or file:PATH); never recorded.",
)
@click.option("--env", "environment", default=None, help="Environment whose extensions apply.")
@click.option("--cell-timeout", type=float, default=None, help="Fail a cell running longer (s).")
@click.option(
    "--capture",
    is_flag=True,
    help="Debugging run: keep the first documents of every shape in capture.jsonl.",
)
@click.option(
    "--trigger",
    type=click.Choice([t.value for t in Trigger]),
    default=Trigger.MANUAL.value,
    show_default=True,
    help="What started this run (recorded).",
)
@click.pass_obj
def run(
    options: _Options,
    notebook: Path,
    parameters: Sequence[tuple[str, str]],
    secrets: Sequence[tuple[str, str]],
    environment: str | None,
    cell_timeout: float | None,
    capture: bool,
    trigger: str,
) -> None:
    """Run a process notebook now with papermill and record the execution."""
    from atomnb.components import resolve_secret
    from atomnb.runtime import PapermillExecutor, RunRequest

    if not notebook.exists():
        raise NotebookError(f"process notebook {notebook} does not exist")
    workspace, store = options.open(notebook.resolve().parent)
    request = RunRequest(
        notebook=notebook.resolve(),
        parameters=dict(parameters),
        secrets={name: resolve_secret(ref, name=name) for name, ref in secrets},
        environment=environment,
        trigger=Trigger(trigger),
        cell_timeout_s=cell_timeout,
        capture=capture,
    )
    record = PapermillExecutor(workspace, store).run(request)
    _print_outcome(record)
    if not record.status.ok:
        sys.exit(EXIT_FAILED)


@cli.command("run-all")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option("--env", "environment", default=None, help="Environment whose extensions apply.")
@click.pass_obj
def run_all(options: _Options, folder: Path | None, environment: str | None) -> None:
    """Run every process notebook in a folder (default: notebooks/) and summarise."""
    from atomnb.runtime import PapermillExecutor, RunRequest

    workspace, store = options.open(folder)
    folder = folder or workspace.notebooks_dir
    notebooks = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith(("_", ".")))
    if not notebooks:
        raise NotebookError(f"no process notebooks (*.ipynb) in {folder}")
    executor = PapermillExecutor(workspace, store)
    records = []
    for notebook in notebooks:
        click.echo(f"running {workspace.relative(notebook)} …")
        records.append(executor.run(RunRequest(notebook=notebook, environment=environment)))
    click.echo()
    click.echo(_table(records))
    failed = [r for r in records if not r.status.ok]
    warned = sum(r.status is ExecutionStatus.SUCCEEDED_WITH_WARNINGS for r in records)
    note = f" ({warned} with warnings)" if warned else ""
    store_url = store.engine.url.render_as_string(hide_password=True)
    click.echo(
        f"\n{len(records) - len(failed)} of {len(records)} process(es) succeeded{note}; "
        f"store: {store_url}"
    )
    if failed:
        sys.exit(EXIT_FAILED)


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
    click.echo(_table(records))


@executions.command("show")
@click.argument("execution_id")
@click.option("--atom", "atom_url", metavar="URL", help="Ask this atom instead of the store.")
@click.pass_obj
def executions_show(options: _Options, execution_id: str, atom_url: str | None) -> None:
    """Show one execution (an id or a unique prefix of one)."""
    from atomnb.process.trace import LogEntry, ShapeRecord

    if atom_url:
        from atomnb.atom.client import AtomClient
        from atomnb.atom.serialize import record_from_dict

        with AtomClient(atom_url) as client:
            found = client.execution(execution_id)
        record = record_from_dict(found)
        shapes = [ShapeRecord(**s) for s in found.get("shapes", [])]
        logs = [LogEntry(**e) for e in found.get("logs", [])]
    else:
        _, store = options.open()
        record = store.get(execution_id)
        shapes, logs = store.shapes(record.id), store.logs(record.id)
    rows = [
        ("id", record.id),
        ("process", record.process),
        ("notebook", record.notebook),
        ("environment", record.environment),
        ("trigger", record.trigger.value),
        ("status", record.status.value),
        ("parameters", _params(record.parameters) or "-"),
        ("secret parameters", ", ".join(record.secret_parameters) or "-"),
        ("started", _when(record.started_at)),
        ("ended", _when(record.ended_at)),
        ("duration", _seconds(record.duration_s)),
        ("error", record.error_summary or "-"),
        ("output notebook", record.output_path or "-"),
        ("host", record.host or "-"),
        ("attempt", str(record.attempt)),
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
        click.echo(_grid([header, *table]))
    if logs:
        click.echo("\nlog")
        for entry in logs:
            click.echo(f"  {entry.level:<7} {entry.shape or '-'}: {entry.message}")


@executions.command("find")
@click.argument("field")
@click.argument("value")
@click.pass_obj
def executions_find(options: _Options, field: str, value: str) -> None:
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
            _when(r.started_at),
            shape,
            "-" if doc is None else str(doc),
        )
        for r, shape, doc in found
    ]
    click.echo(_grid(rows))


# -- the atom -----------------------------------------------------------------------------

_ATOM_URL = click.option(
    "--atom",
    "atom_url",
    envvar="ATOMNB_ATOM_URL",
    metavar="URL",
    help="The atom's URL (default: $ATOMNB_ATOM_URL).",
)


@cli.group()
def atom() -> None:
    """Run an atom: the host that runs deployed processes on schedules and on request."""


@atom.command("start")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The atom's folder: its id, deployed versions, outputs and (default) SQLite store.",
)
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--store", "store_url", metavar="URL", help="Store URL (default: SQLite in home).")
@click.option("--workers", type=int, default=None, help="Executions at once (default 2).")
@click.option("--misfire-grace", type=float, default=None, help="Seconds before a fire is missed.")
@click.option("--stop-grace", type=float, default=30.0, show_default=True, help="On Ctrl-C (s).")
@click.option(
    "--stale-after",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds without a heartbeat before another atom on the store counts as dead.",
)
@click.option(
    "--deploy",
    "deploy_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Deploy this notebook, or every process notebook in this folder, at start.",
)
@click.option("--env", "environment", default="default", help="Environment for --deploy.")
@click.option("--run-deployed", is_flag=True, help="Run each process from --deploy once.")
@click.option("--exit-after-run", is_flag=True, help="Stop once those runs have finished.")
def atom_start(
    home: Path,
    port: int,
    host: str,
    store_url: str | None,
    workers: int | None,
    misfire_grace: float | None,
    stop_grace: float,
    stale_after: float,
    deploy_paths: Sequence[Path],
    environment: str,
    run_deployed: bool,
    exit_after_run: bool,
) -> None:
    """Start an atom in the foreground; Ctrl-C stops it cleanly."""
    from atomnb.atom.server import serve

    notebooks = _process_notebooks(deploy_paths)
    outcome: list[ExecutionRecord] = []

    def after_start(atom: Any) -> bool:
        from atomnb.atom.deployer import DeployOptions
        from atomnb.atom.package import build_package, deploy_defaults

        names = []
        for notebook in notebooks:
            package = build_package(notebook)
            declared = deploy_defaults(notebook) | {"environment": environment}
            deployment, _ = atom.deployer.deploy(
                package.data, DeployOptions(notebook=package.notebook, **declared)
            )
            names.append(deployment.process)
            click.echo(f"deployed {deployment.process} v{deployment.version} ({environment})")
        if run_deployed:
            queued = [atom.trigger(name, trigger=Trigger.MANUAL) for name in names]
            outcome.extend(atom.wait(r.id, timeout_s=600) for r in queued)
            click.echo(_table(outcome))
            ok = sum(r.status.ok for r in outcome)
            click.echo(f"{ok} of {len(outcome)} deployed process(es) succeeded")
        return exit_after_run

    serve(
        home,
        host=host,
        port=port,
        store_url=store_url,
        workers=workers,
        misfire_grace_s=misfire_grace,
        stop_grace_s=stop_grace,
        stale_after_s=stale_after,
        after_start=after_start if notebooks or exit_after_run else None,
    )
    if any(not r.status.ok for r in outcome):
        sys.exit(EXIT_FAILED)


def _process_notebooks(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p for p in path.glob("*.ipynb") if not p.name.startswith(("_", ".", "tutorial"))
            )
        else:
            found.append(path)
    return found


@cli.command()
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def package(notebook: Path, output: Path | None) -> None:
    """Build a process's deployment package (a zip) without deploying it."""
    from atomnb._files import write_bytes_atomically
    from atomnb.atom.package import build_package

    built = build_package(notebook)
    target = output or Path(f"{notebook.stem}.atomnb.zip")
    write_bytes_atomically(target, built.data)
    click.echo(
        f"wrote {target} ({len(built.data) / 1024:.0f} KiB): process {notebook.stem}, "
        f"notebook {built.notebook}, content {built.content_hash[:12]}"
    )


@cli.command()
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_ATOM_URL
@click.option("--env", "environment", default=None, help="Environment (default: default).")
@click.option("--schedule", metavar="CRON", help="Cron expression (six fields: seconds last).")
@click.option("--timezone", default=None, help="Time zone of the schedule (default UTC).")
@click.option("--catch-up", type=click.Choice(["once", "skip"]), default=None, help="Default once.")
@click.option("--timeout", type=float, default=None, help="Whole-execution limit (s).")
@click.option("--retries", type=int, default=None, help="Retries of a failed run (default 0).")
@click.option("--retry-delay", type=float, default=None, help="First backoff (s, default 5).")
@click.option("--max-concurrent", type=int, default=None, help="Runs at once (default 1).")
@click.option(
    "--overlap",
    type=click.Choice(["queue", "skip"]),
    default=None,
    help="A fire time while a run is on: queue it (default) or skip it.",
)
@click.option("--notify-webhook", metavar="URL", help="POST a JSON summary on failure.")
@click.option("--notify-email", multiple=True, metavar="ADDRESS", help="Email on failure.")
@click.option("--notify-success", is_flag=True, help="Notify on success too.")
def deploy(
    notebook: Path,
    atom_url: str | None,
    environment: str | None,
    schedule: str | None,
    timezone: str | None,
    catch_up: str | None,
    timeout: float | None,
    retries: int | None,
    retry_delay: float | None,
    max_concurrent: int | None,
    overlap: str | None,
    notify_webhook: str | None,
    notify_email: Sequence[str],
    notify_success: bool,
) -> None:
    """Deploy a process notebook (with its components), or a built package, as a new version.

    NOTEBOOK may be a package from ``atomnb package`` (a ``.zip``). Options not
    given here come from the notebook's metadata (``atomnb.deploy``), where a
    process can say how it wants to run (retries, timeout, schedule …).
    """
    from atomnb.atom.client import AtomClient
    from atomnb.atom.package import build_package, deploy_defaults, read_package

    notify: dict[str, Any] = {}
    if notify_webhook:
        notify["webhook"] = notify_webhook
    if notify_email:
        notify["email"] = list(notify_email)
    if notify and notify_success:
        notify["on"] = ["failure", "success"]
    given = {
        "environment": environment,
        "schedule": schedule,
        "timezone": timezone,
        "catch_up": catch_up,
        "timeout_s": timeout,
        "retries": retries,
        "retry_delay_s": retry_delay,
        "max_concurrent": max_concurrent,
        "overlap": overlap,
        "notify": notify or None,
    }
    if notebook.suffix == ".zip":
        package, declared = read_package(notebook.read_bytes())
    else:
        package, declared = build_package(notebook), deploy_defaults(notebook)
    options = declared | {k: v for k, v in given.items() if v is not None}
    with AtomClient(atom_url) as client:
        answer = client.deploy(package, **options)
    d = answer["deployment"]
    state = "deployed" if answer["created"] else "unchanged, still"
    when = f", schedule {d['schedule']} ({d['timezone']})" if d.get("schedule") else ""
    click.echo(f"{state} {d['process']} v{d['version']} on {client.url}{when}")


@cli.command()
@click.argument("process")
@_ATOM_URL
@click.option("-p", "--parameter", "parameters", nargs=2, multiple=True, metavar="NAME VALUE")
@click.option(
    "-s", "--secret", "secrets", nargs=2, multiple=True, metavar="NAME REF", help="env:/file:"
)
@click.option("--wait", is_flag=True, help="Wait for the execution to finish.")
def trigger(
    process: str,
    atom_url: str | None,
    parameters: Sequence[tuple[str, str]],
    secrets: Sequence[tuple[str, str]],
    wait: bool,
) -> None:
    """Run a deployed process on an atom now."""
    from atomnb.atom.client import AtomClient
    from atomnb.atom.serialize import record_from_dict
    from atomnb.components import resolve_secret

    values = {name: resolve_secret(ref, name=name) for name, ref in secrets}
    with AtomClient(atom_url) as client:
        record = record_from_dict(client.trigger(process, dict(parameters), values, wait=wait))
    if wait:
        _print_outcome(record)
        if not record.status.ok:
            sys.exit(EXIT_FAILED)
    else:
        click.echo(f"execution {record.id} {record.status.value}")


@cli.command()
@click.argument("execution_id")
@_ATOM_URL
def cancel(execution_id: str, atom_url: str | None) -> None:
    """Cancel a queued or running execution on an atom."""
    from atomnb.atom.client import AtomClient

    with AtomClient(atom_url) as client:
        answer = client.cancel(execution_id)
    click.echo(f"execution {answer['id']} {answer['status']}")


@cli.command()
@click.argument("execution_id")
@_ATOM_URL
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def download(execution_id: str, atom_url: str | None, output: Path | None) -> None:
    """Download an execution's output notebook from an atom."""
    from atomnb._files import write_bytes_atomically
    from atomnb.atom.client import AtomClient

    with AtomClient(atom_url) as client:
        record = client.execution(execution_id)
        data = client.output_notebook(record["id"])
    target = output or Path(f"{record['process']}-{record['id']}.ipynb")
    write_bytes_atomically(target, data)
    click.echo(f"wrote {target}")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``atomnb`` console script."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="atomnb")


# -- presentation ------------------------------------------------------------------------


def _print_outcome(record: ExecutionRecord) -> None:
    colour = "green" if record.status.ok else "red"
    click.echo(
        f"execution {record.id} "
        + click.style(record.status.value, fg=colour, bold=True)
        + f" in {_seconds(record.duration_s)}"
    )
    click.echo(f"  process: {record.process} (environment {record.environment})")
    if record.output_path:
        click.echo(f"  output:  {record.output_path}")
    if record.error_summary:
        click.echo(f"  error:   {record.error_summary}")


def _table(records: Sequence[ExecutionRecord]) -> str:
    header = ("ID", "PROCESS", "ENV", "TRIGGER", "STATUS", "STARTED", "DURATION", "ERROR")
    rows = [
        (
            r.id,
            r.process,
            r.environment,
            r.trigger.value,
            r.status.value,
            _when(r.started_at),
            _seconds(r.duration_s),
            _short(r.error_summary or ""),
        )
        for r in records
    ]
    return _grid([header, *rows])


def _grid(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines)


def _when(stamp: datetime | None) -> str:
    return stamp.strftime("%Y-%m-%d %H:%M:%SZ") if stamp else "-"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _short(text: str, limit: int = 60) -> str:
    text = text.splitlines()[0] if text else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _params(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items())
