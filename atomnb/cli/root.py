"""The ``atomnb`` command: a thin shell over the library, one sub-command per task.

Commands parse options and call into the layers below; they hold no logic of
their own beyond presenting results. A user's mistake (an ``AtomnbError``) is
printed as one paragraph with exit code 2; a failed process exits with 1.

Command modules are imported only when their command runs (``atomnb.cli.lazy``),
so ``atomnb --help`` answers without loading the store or the kernel stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from atomnb import __version__
from atomnb.cli.lazy import LazyGroup
from atomnb.errors import AtomnbError, WorkspaceNotFoundError

if TYPE_CHECKING:
    from atomnb.components import Workspace
    from atomnb.store import ExecutionStore

__all__ = [
    "ATOM_HOME",
    "ATOM_STORE",
    "ATOM_URL",
    "COMMAND_MODULES",
    "EXIT_FAILED",
    "EXIT_USAGE",
    "Options",
    "cli",
]

EXIT_FAILED = 1
EXIT_USAGE = 2

#: The modules that register the sub-commands (each imported when one of its commands runs).
COMMAND_MODULES = (
    "atomnb.cli.runs",
    "atomnb.cli.executions",
    "atomnb.cli.atom",
    "atomnb.cli.deploy",
    "atomnb.cli.secrets",
    "atomnb.cli.operations",
    "atomnb.cli.tokens",
    "atomnb.cli.apis",
    "atomnb.cli.partners",
    "atomnb.cli.assure",
)


@dataclass
class Options:
    workspace: Path | None
    store: str | None

    def find_workspace(self, start: Path | None = None) -> Workspace:
        """The workspace around ``start``; a folder that holds a one-notebook store counts too."""
        from atomnb.components import Workspace

        try:
            return Workspace.find(self.workspace or start)
        except WorkspaceNotFoundError:
            here = (self.workspace or start or Path.cwd()).resolve()
            if self.workspace is None and (here / ".atomnb" / "store.db").is_file():
                return loose_workspace(here)  # where `atomnb run x.ipynb` kept its record
            raise

    def open(self, start: Path | None = None) -> tuple[Workspace, ExecutionStore]:
        from atomnb.store import ExecutionStore

        workspace = self.find_workspace(start)
        return workspace, ExecutionStore.open(workspace.store_url(self.store))


def loose_workspace(folder: Path) -> Workspace:
    """A folder with no ``atomnb.toml`` taken as a workspace of its own (its state in .atomnb/)."""
    from atomnb.components import Workspace

    folder = folder.resolve()
    return Workspace(folder, {"workspace": {"name": folder.name}})


class _Cli(LazyGroup):
    """Turns a user's mistake into one readable paragraph instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AtomnbError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            ctx.exit(EXIT_USAGE)


@click.group(
    cls=_Cli,
    lazy_modules=COMMAND_MODULES,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120},
)
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
    metavar="URL",
    help="The atom's URL (default: $ATOMNB_ATOM_URL, then atom = in atomnb.toml).",
)
#: An atom's home folder, for changes made on its machine straight in its store.
ATOM_HOME = click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="The atom's folder, on its machine: change its store directly (no running atom needed).",
)
#: With ``ATOM_HOME``: the store an atom started with ``--store`` uses.
ATOM_STORE = click.option(
    "--store",
    "store_url",
    metavar="URL",
    help="With --home: the atom's store URL when it was started with --store.",
)
