"""Run process notebooks here and now: ``atomnb init``, ``run``, ``run-all``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from atomnb.cli.present import print_outcome, table
from atomnb.cli.root import EXIT_FAILED, Options, cli
from atomnb.components import Workspace
from atomnb.errors import NotebookError
from atomnb.store import ExecutionStatus, Trigger

__all__ = []


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
    options: Options,
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
    print_outcome(record)
    if not record.status.ok:
        sys.exit(EXIT_FAILED)


@cli.command("run-all")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option("--env", "environment", default=None, help="Environment whose extensions apply.")
@click.pass_obj
def run_all(options: Options, folder: Path | None, environment: str | None) -> None:
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
    click.echo(table(records))
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
