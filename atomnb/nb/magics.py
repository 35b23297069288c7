"""``%atomnb …`` / ``%%atomnb …``: the notebook's short way to the library, each with ``--help``.

The magics only parse arguments and call library functions (profiles, maps,
components, connections, the widgets), so everything they do is plain Python a
process notebook can do as well. A user's mistake becomes one ``UsageError``
paragraph — the message, where, and a hint — never a traceback.

::

    %atomnb profile infer data/orders.jsonl --name orders --save --as orders_profile
    %atomnb profile show orders
    %atomnb map open order_to_invoice --sample data/orders.jsonl
    %atomnb map apply order_to_invoice docs --as invoices
    %atomnb components --kind map
    %atomnb dashboard                    (the configured atom's executions, else the local store)
    %atomnb deploy notebooks/orders.ipynb --env prod --schedule "0 3 * * *" --timezone Europe/Berlin
    %atomnb trigger orders -p limit 5000 --wait
    %atomnb rollback orders --to 3       (default: the version before the active one)
    %atomnb undeploy orders              (its schedule stops; deploy brings it back)
    %%atomnb connection warehouse        (cell body: kind and settings, secrets by reference)
    %atomnb connection test warehouse
    %atomnb connection list
    %atomnb record notebooks/orders.ipynb --case nightly   (a replayable test case)
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable
from typing import Any, NoReturn

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from atomnb.errors import AtomnbError
from atomnb.nb.partner_command import add_partner_parser
from atomnb.nb.record_command import add_record_parser

__all__ = ["AtomnbMagics", "build_parser"]

Command = Callable[[Any, argparse.Namespace, "str | None"], Any]
#: Sub-commands of one word (the others are a group and an action: ``profile infer``).
_ONE_WORD = frozenset(
    {
        "components",
        "dashboard",
        "deploy",
        "trigger",
        "rollback",
        "undeploy",
        "connection",
        "partner",
        "record",
    }
)


class _HelpShown(Exception):
    """``--help`` printed the usage; nothing else to do."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports instead of exiting the kernel."""

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            raise UsageError(message.strip())
        raise _HelpShown

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\n\n{self.format_usage().strip()}  (add --help for more)")


def build_parser() -> argparse.ArgumentParser:
    """The ``%atomnb`` command line: one sub-command per kind of thing, each with --help."""
    root = _Parser(prog="%atomnb", description="atomnb in the notebook.")
    groups = root.add_subparsers(
        dest="group",
        metavar="{profile,map,components,dashboard,deploy,trigger,rollback,undeploy,connection,"
        "partner,record}",
    )
    groups.required = True

    profile = groups.add_parser("profile", help="infer, show and save profiles")
    profile_cmds = profile.add_subparsers(dest="action", metavar="{infer,show,save}")
    profile_cmds.required = True
    infer = profile_cmds.add_parser(
        "infer", help="infer a profile from a sample file, Documents or a DataFrame"
    )
    infer.add_argument("sample", help="a variable (Documents, DataFrame, records) or a file path")
    infer.add_argument("--name", help="the profile's name (default: the sample's name)")
    infer.add_argument("--format", help="the file's format when its extension does not say")
    infer.add_argument("--save", action="store_true", help="save it as a profile component")
    infer.add_argument("--as", dest="var", help="keep the Profile in this notebook variable")
    show = profile_cmds.add_parser("show", help="show a profile as a tree")
    show.add_argument("profile", help="a Profile variable or a profile component name")
    save = profile_cmds.add_parser("save", help="save a Profile variable as a component")
    save.add_argument("profile", help="a Profile variable")
    save.add_argument("--name", help="save under this name (default: the profile's own)")

    mapping = groups.add_parser("map", help="open the visual mapper, apply a map")
    map_cmds = mapping.add_subparsers(dest="action", metavar="{open,apply}")
    map_cmds.required = True
    open_ = map_cmds.add_parser("open", help="open the visual mapper on a map (new or saved)")
    open_.add_argument("name", help="the map's name (a saved map opens as it was saved)")
    open_.add_argument("--source", help="source profile (variable or component) for a new map")
    open_.add_argument("--target", help="target profile (variable or component) for a new map")
    open_.add_argument("--sample", help="sample documents for the preview (variable or path)")
    open_.add_argument("--as", dest="var", help="keep the mapper in this notebook variable")
    apply = map_cmds.add_parser("apply", help="map documents and show the result")
    apply.add_argument("name", help="a Map variable or a map component name")
    apply.add_argument("sample", help="the documents (variable or file path)")
    apply.add_argument("--as", dest="var", help="keep the mapped Documents in this variable")

    components = groups.add_parser("components", help="list the workspace's components")
    components.add_argument("--kind", help="only this kind (profile, map, xref, connection …)")

    dash = groups.add_parser("dashboard", help="recent executions with a chart")
    dash.add_argument("--process", help="only this process")
    dash.add_argument("--limit", type=int, default=20, help="how many executions (default 20)")
    dash.add_argument("--store", help="an execution store URL (default: the workspace's)")
    dash.add_argument("--atom", metavar="URL", help="this atom's executions")
    dash.add_argument(
        "--local", action="store_true", help="the workspace's store even when an atom is set"
    )

    atom_help = "the atom (default: $ATOMNB_ATOM_URL, else atom = … in atomnb.toml)"
    dep = groups.add_parser("deploy", help="deploy a process notebook to an atom")
    dep.add_argument("notebook", help="the process notebook (.ipynb)")
    dep.add_argument("--atom", metavar="URL", help=atom_help)
    dep.add_argument("--env", dest="environment", help="environment (default: default)")
    dep.add_argument("--schedule", metavar="CRON", help="cron expression (a 6th field: seconds)")
    dep.add_argument("--timezone", help="the schedule's time zone (default UTC)")
    dep.add_argument("--catch-up", choices=["once", "skip"], help="after downtime (default once)")
    dep.add_argument("--timeout", type=float, help="whole-execution limit in seconds")
    dep.add_argument("--retries", type=int, help="retries of a failed run (default 0)")

    trig = groups.add_parser("trigger", help="run a deployed process on an atom now")
    trig.add_argument("process", help="the deployed process's name")
    trig.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE")
    )
    trig.add_argument("--atom", metavar="URL", help=atom_help)
    trig.add_argument("--wait", action="store_true", help="wait for the execution to finish")

    back = groups.add_parser("rollback", help="make an earlier version of a process active again")
    back.add_argument("process", help="the deployed process's name")
    back.add_argument(
        "--to", type=int, metavar="VERSION", help="default: the version before the active one"
    )
    back.add_argument("--atom", metavar="URL", help=atom_help)

    off = groups.add_parser(
        "undeploy", help="take a process off an atom: its schedule stops, triggers are refused"
    )
    off.add_argument("process", help="the deployed process's name")
    off.add_argument("--atom", metavar="URL", help=atom_help)

    conn = groups.add_parser(
        "connection",
        help="define (%%%%atomnb connection NAME), test and list connections",
        description="As a cell magic, `%%atomnb connection NAME` saves the connection the "
        "cell body describes (kind: and settings, one per line; secrets as env:VAR, file:PATH "
        "or `ask` for a password field). As a line magic: `test NAME` or `list`.",
    )
    conn.add_argument("words", nargs="+", metavar="NAME | test NAME | list")
    conn.add_argument("--env", help="environment whose extension applies (test)")
    conn.add_argument("--kind", help="connection kind when the body does not say it")

    # %atomnb partner NAME | list | create NAME ... | %%atomnb partner NAME
    add_partner_parser(groups)
    # %atomnb record NOTEBOOK --case NAME | %atomnb record --map MAP --sample S --case NAME
    add_record_parser(groups)
    return root


@magics_class
class AtomnbMagics(Magics):
    """The ``%atomnb`` line magic and ``%%atomnb`` cell magic."""

    @line_cell_magic
    def atomnb(self, line: str, cell: str | None = None) -> Any:
        """atomnb in the notebook: profile, map, components, dashboard, deploy, trigger,
        rollback, undeploy, connection (--help)."""
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            raise UsageError(f"cannot read the arguments: {exc}") from None
        try:
            args = build_parser().parse_args(words)
        except _HelpShown:
            return None
        command = _command(args)
        try:
            return command(self.shell, args, cell)
        except AtomnbError as exc:
            raise UsageError(str(exc)) from None


def _command(args: argparse.Namespace) -> Command:
    from atomnb.nb import commands

    key = args.group if args.group in _ONE_WORD else f"{args.group} {args.action}"
    return commands.COMMANDS[key]
