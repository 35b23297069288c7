"""Record a process run as a replayable test case: ``atomnb record``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from atomnb.cli.root import EXIT_FAILED, Options, cli
from atomnb.errors import NotebookError

if TYPE_CHECKING:
    from atomnb.components import Workspace

__all__: list[str] = []


@cli.command()
@click.argument("notebook", type=click.Path(path_type=Path))
@click.option("--case", "case_name", required=True, help="Name of the test case folder.")
@click.option(
    "-p",
    "--parameter",
    "parameters",
    nargs=2,
    multiple=True,
    metavar="NAME VALUE",
    help="Set a parameter; the value is typed by the notebook's default (recorded).",
)
@click.option("--env", "environment", default=None, help="Environment whose extensions apply.")
@click.option(
    "--keep",
    type=click.IntRange(min=0),
    default=None,
    help="Keep only the first N output documents of every shape.",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=0),
    default=None,
    help="Size limit of all shape outputs together (default 50 MB); past it, counted only.",
)
@click.option(
    "--start",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Documents handed to the process (an Arrow IPC file), kept with the case.",
)
@click.option(
    "--cases",
    "cases_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the test cases (default: tests/atomnb/ in the workspace).",
)
@click.pass_obj
def record(
    options: Options,
    notebook: Path,
    case_name: str,
    parameters: Sequence[tuple[str, str]],
    environment: str | None,
    keep: int | None,
    max_bytes: int | None,
    start: Path | None,
    cases_dir: Path | None,
) -> None:
    """Run a process notebook once and record it as a test case that ``pytest --atomnb`` replays.

    The case folder (tests/atomnb/NAME/) gets the parameters, the environment's
    name, the start documents, every connector exchange (HTTP, database, files;
    never a secret) and each shape's output documents, with the clock and random
    ids pinned so a replay compares equal. The run is not recorded in the
    workspace's store. Exits with 1 when the process failed (the case is still
    written: its replay expects the failure).
    """
    from atomnb.cli.runs import check_request
    from atomnb.runtime import RunRequest

    if not notebook.exists():
        raise NotebookError(f"process notebook {notebook} does not exist")
    workspace = options.find_workspace(notebook.resolve().parent)
    check_request(
        workspace,
        RunRequest(notebook.resolve(), dict(parameters), environment=environment),
    )
    record_and_report(
        workspace,
        notebook,
        case_name,
        dict(parameters),
        environment,
        keep=keep,
        max_bytes=max_bytes,
        start=start,
        cases_dir=cases_dir,
    )


def record_and_report(
    workspace: Workspace,
    notebook: Path,
    case_name: str,
    parameters: dict[str, str],
    environment: str | None,
    *,
    keep: int | None = None,
    max_bytes: int | None = None,
    start: Path | None = None,
    cases_dir: Path | None = None,
) -> None:
    """Record the case, say what was recorded; exit 1 when the process failed."""
    from atomnb.assure.cases import CASES_DIR, record_case

    if not case_name.replace("-", "").replace("_", "").isalnum():
        raise click.BadParameter("use letters, digits, - and _ only", param_hint="--case")
    folder = (cases_dir or workspace.root / CASES_DIR) / case_name
    case, outcome = record_case(
        workspace,
        notebook,
        folder,
        parameters=parameters,
        environment=environment,
        keep=keep,
        max_bytes=max_bytes,
        start=start,
    )
    exchanges = len(list((folder / "exchanges").glob("*.json")))
    index = folder / "shapes" / "index.jsonl"
    shapes = len(index.read_text(encoding="utf-8").splitlines()) if index.exists() else 0
    click.echo(
        f"recorded case {case.name!r} in {folder}: {shapes} shape(s), "
        f"{exchanges} connector exchange(s), status {outcome.status}"
    )
    click.echo(f"replay it: pytest --atomnb {folder}")
    if outcome.error:
        click.echo(f"the process failed: {outcome.error}", err=True)
    if outcome.status == "failed":
        sys.exit(EXIT_FAILED)
