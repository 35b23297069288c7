"""The ``atomnb`` command: a thin shell over the library, one sub-command per task.

Commands parse options and call into the layers below; they hold no logic of
their own beyond presenting results. A user's mistake (an ``AtomnbError``) is
printed as one paragraph with exit code 2; a failed process exits with 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from atomnb import __version__
from atomnb.components import Workspace
from atomnb.errors import AtomnbError
from atomnb.store import ExecutionStore

__all__ = ["ATOM_URL", "EXIT_FAILED", "EXIT_USAGE", "Options", "cli"]

EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclass
class Options:
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
    ctx.obj = Options(workspace, store)


ATOM_URL = click.option(
    "--atom",
    "atom_url",
    envvar="ATOMNB_ATOM_URL",
    metavar="URL",
    help="The atom's URL (default: $ATOMNB_ATOM_URL).",
)
