"""Run process notebooks here and now: ``atomnb init``, ``run``, ``run-all``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from atomnb.cli.present import (
    JSON_OPTION,
    echo_json,
    execution_json,
    print_outcome,
    print_shapes,
    seconds,
    show_records,
    status_style,
    terminal,
)
from atomnb.cli.root import EXIT_FAILED, Options, cli, loose_workspace
from atomnb.errors import NotebookError, WorkspaceNotFoundError
from atomnb.store import Trigger

if TYPE_CHECKING:
    from atomnb.components import Workspace
    from atomnb.runtime import PapermillExecutor, RunRequest
    from atomnb.store import ExecutionRecord

__all__: list[str] = []


@cli.command()
@click.argument("path", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--name", help="Workspace name (default: the folder's name).")
def init(path: Path, name: str | None) -> None:
    """Create a workspace that runs at once: a starter process, a sample file, a dev environment."""
    from atomnb.cli.starter import STARTER, write_starter
    from atomnb.components import Workspace

    workspace = Workspace.init(path, name)
    written = write_starter(workspace)
    click.echo(f"workspace {workspace.name!r} ready at {workspace.root}")
    for file in written:
        click.echo(f"  wrote {workspace.relative(file)}")
    notebook = f"notebooks/{STARTER}.ipynb"
    steps = [
        (f"atomnb run {notebook} --env dev", "run the starter now (recorded)"),
        ("atomnb executions", "what ran; `executions show ID` for its shapes"),
        ("atomnb atom start --home .atomnb/atom", "an atom, in another terminal"),
        (
            f"atomnb deploy {notebook} --atom http://127.0.0.1:8765 --env dev "
            '--schedule "0 2 * * *"',
            "deploy it, to run every night at 2",
        ),
        (f"jupyter lab {notebook}", "edit it cell by cell"),
    ]
    if workspace.root != Path.cwd().resolve():
        steps.insert(0, (f"cd {path}", ""))
    width = max(len(command) for command, _ in steps if len(command) < 60)
    click.echo("\nnext:")
    for command, why in steps:
        comment = f"  # {why}" if why else ""
        if len(command) > width:  # a long command: its comment on the next line
            click.echo(f"  {command}")
            command = ""
        click.echo(f"  {command:<{width}}{comment}".rstrip())


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
    "--record",
    "case_name",
    default=None,
    metavar="NAME",
    help="Record this run as test case tests/atomnb/NAME/ (as `atomnb record`; not in the store).",
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
    options: Options,
    notebook: Path,
    parameters: Sequence[tuple[str, str]],
    secrets: Sequence[tuple[str, str]],
    environment: str | None,
    cell_timeout: float | None,
    capture: bool,
    case_name: str | None,
    trigger: str,
) -> None:
    """Run a process notebook now with papermill and record the execution.

    A usage mistake (a missing or corrupt notebook, an unknown parameter, a value
    of the wrong type, an unknown environment) exits with 2 and records nothing;
    a process that fails exits with 1. A notebook outside any workspace runs as a
    workspace of its own: its record and output go to .atomnb/ beside it.
    """
    from atomnb.components import resolve_secret
    from atomnb.runtime import PapermillExecutor, RunRequest
    from atomnb.store import ExecutionStore

    if not notebook.exists():
        raise NotebookError(f"process notebook {notebook} does not exist")
    workspace = _workspace_for(options, notebook.resolve())
    request = RunRequest(
        notebook=notebook.resolve(),
        parameters=dict(parameters),
        secrets={name: resolve_secret(ref, name=name) for name, ref in secrets},
        environment=environment,
        trigger=Trigger(trigger),
        cell_timeout_s=cell_timeout,
        capture=capture,
    )
    check_request(workspace, request)  # a usage mistake is not an execution
    if case_name is not None:
        if secrets:
            raise click.UsageError("--record runs without secrets (a test case replays without)")
        from atomnb.cli.assure import record_and_report

        record_and_report(workspace, notebook, case_name, dict(parameters), environment)
        return
    store = ExecutionStore.open(workspace.store_url(options.store))
    record = PapermillExecutor(workspace, store).run(request)
    print_outcome(record)
    print_shapes(store.shapes(record.id))
    if not record.status.ok:
        sys.exit(EXIT_FAILED)


def _workspace_for(options: Options, notebook: Path) -> Workspace:
    """The notebook's workspace; outside any, its folder as a workspace of its own."""
    try:
        return options.find_workspace(notebook.parent)
    except WorkspaceNotFoundError:
        if options.workspace is not None:
            raise
    workspace = loose_workspace(notebook.parent)
    click.echo(
        f"note: no atomnb.toml above {notebook.name}: running it on its own; the record and "
        f"output go to {workspace.state_dir} (`atomnb init` makes a workspace)",
        err=True,
    )
    return workspace


def check_request(workspace: Workspace, request: RunRequest) -> None:
    """Refuse what the executor would refuse before starting, without recording anything.

    The same checks as the executor's preparation: the notebook reads as a
    process, the environment exists, every parameter is declared and typed right,
    every secret given names a declared parameter.
    """
    from atomnb.components import load_environment
    from atomnb.process import filter_declared, load_process, resolve_parameters

    process = load_process(request.notebook)
    environment = load_environment(workspace.extensions_dir, request.environment)
    env_values = filter_declared(process, environment.parameters_for(process.name))
    runtime = {k: v for k, v in request.parameters.items() if k not in process.secret_names}
    resolve_parameters(process, env_values, runtime)
    unknown = sorted(set(request.secrets) - set(process.parameters))
    if unknown:
        resolve_parameters(process, dict.fromkeys(unknown, ""))  # raises, naming them


@cli.command("run-all")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option("--env", "environment", default=None, help="Environment whose extensions apply.")
@JSON_OPTION
@click.pass_obj
def run_all(options: Options, folder: Path | None, environment: str | None, as_json: bool) -> None:
    """Run every process notebook in a folder (default: notebooks/) and summarise.

    A process is a notebook with a cell tagged ``parameters``, unless its metadata
    says ``"atomnb": {"process": false}`` (or ``true``): the same rule as
    ``atomnb atom start --deploy FOLDER``. On a terminal a progress display shows
    which one runs; ``--json`` prints the summary as one JSON document (``executions``,
    ``succeeded``, ``failed``, ``with_warnings``, ``skipped``, ``store``). Exits with 1
    when any failed.
    """
    from atomnb.cli.discover import process_notebooks
    from atomnb.runtime import PapermillExecutor
    from atomnb.store import ExecutionStatus

    workspace, store = options.open(folder)
    folder = folder or workspace.notebooks_dir
    notebooks, skipped = process_notebooks([folder])
    if skipped and not as_json:
        names = ", ".join(p.name for p in skipped)
        click.echo(f"not processes (no parameters cell, or atomnb.process false): {names}")
    if not notebooks:
        raise NotebookError(f"no process notebooks (*.ipynb with a parameters cell) in {folder}")
    executor = PapermillExecutor(workspace, store)
    records = _run_each(executor, workspace, notebooks, environment, quiet=as_json)
    failed = [r for r in records if not r.status.ok]
    warned = sum(r.status is ExecutionStatus.SUCCEEDED_WITH_WARNINGS for r in records)
    store_url = store.engine.url.render_as_string(hide_password=True)
    if as_json:
        echo_json(
            {
                "executions": [execution_json(r) for r in records],
                "succeeded": len(records) - len(failed),
                "failed": len(failed),
                "with_warnings": warned,
                "skipped": [workspace.relative(p) for p in skipped],
                "store": store_url,
            }
        )
    else:
        click.echo()
        show_records(records)
        note = f" ({warned} with warnings)" if warned else ""
        click.echo(
            f"\n{len(records) - len(failed)} of {len(records)} process(es) succeeded{note}; "
            f"store: {store_url}"
        )
    if failed:
        sys.exit(EXIT_FAILED)


def _run_each(
    executor: PapermillExecutor,
    workspace: Workspace,
    notebooks: Sequence[Path],
    environment: str | None,
    *,
    quiet: bool,
) -> list[ExecutionRecord]:
    """Run the notebooks one by one: a rich progress display on a terminal (stderr), else a
    line per notebook (on stdout, or nothing with ``quiet``, so --json stays one document)."""
    from atomnb.runtime import RunRequest

    console = terminal(stderr=True)
    records = []
    if console is None:
        for notebook in notebooks:
            if not quiet:
                click.echo(f"running {workspace.relative(notebook)} …")
            records.append(executor.run(RunRequest(notebook=notebook, environment=environment)))
        return records
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as shown:
        task = shown.add_task("run-all", total=len(notebooks))
        for notebook in notebooks:
            name = workspace.relative(notebook)
            shown.update(task, description=f"running {name}")
            record = executor.run(RunRequest(notebook=notebook, environment=environment))
            records.append(record)
            line = Text(f"{name} ")
            line.append(record.status.value, style=status_style(record.status.value) or "none")
            line.append(f" in {seconds(record.duration_s)}")
            shown.console.print(line)
            shown.advance(task)
    return records
