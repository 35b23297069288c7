"""Click groups that load a command's module only when it runs, and show whole one-line helps.

``atomnb --help`` used to import every command module, and through them the
store, nbformat (whose jsonschema import alone took seconds) and SQLAlchemy,
to print a list. The top group now reads each command's name and docstring
from its module's source (``ast``, a few milliseconds) and imports the module
only when that command is invoked (or its own ``--help`` is asked for). The
names and help lines come from the same source the decorators use, so the list
cannot drift from the commands.

Click cuts a command's description in a listing at 45 characters; every group
and command here shows the whole first sentence instead.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

__all__ = ["AtomnbCommand", "AtomnbGroup", "LazyGroup", "scan_commands"]


def _whole_short_help(command: click.Command) -> str:
    return click.Command.get_short_help_str(command, limit=10_000)


class AtomnbCommand(click.Command):
    """A command whose listing shows its whole first sentence."""

    def get_short_help_str(self, limit: int = 45) -> str:
        return _whole_short_help(self)


class AtomnbGroup(click.Group):
    """A group whose own listing and whose sub-commands' listings are whole sentences."""

    command_class = AtomnbCommand
    group_class: type[click.Group] | type[type] = type  # sub-groups are of this class too

    def get_short_help_str(self, limit: int = 45) -> str:
        return _whole_short_help(self)


class LazyGroup(AtomnbGroup):
    """The top group: sub-commands registered by modules imported on first use."""

    group_class = AtomnbGroup

    def __init__(self, *args: Any, lazy_modules: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_modules = tuple(lazy_modules)
        self._scanned: dict[str, tuple[str, str]] | None = None

    @property
    def scanned(self) -> dict[str, tuple[str, str]]:
        """Command name → (module, one-line help), read from the modules' source."""
        if self._scanned is None:
            self._scanned = {}
            for module in self.lazy_modules:
                for name, text in scan_commands(_source_of(module)).items():
                    self._scanned[name] = (module, text)
        return self._scanned

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(self.scanned))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            found = self.scanned.get(cmd_name)
            modules = [found[0]] if found else self.lazy_modules  # unknown: load them all
            for module in modules:
                importlib.import_module(module)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is not None:
                if command.hidden:
                    continue
                rows.append((name, command.get_short_help_str()))
            else:
                rows.append((name, self.scanned[name][1]))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _source_of(module: str) -> str:
    package, _, leaf = module.rpartition(".")
    here = Path(__file__).parent
    if package != __name__.rpartition(".")[0]:
        raise ValueError(f"{module} is not a module of {__package__}")
    return (here / f"{leaf}.py").read_text(encoding="utf-8")


def scan_commands(source: str) -> dict[str, str]:
    """The ``@cli.command``/``@cli.group`` functions of a module: name → one-line help."""
    found: dict[str, str] = {}
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            name = _registered_name(decorator, node.name)
            if name is not None:
                assert isinstance(decorator, ast.Call)
                given = [k.value for k in decorator.keywords if k.arg in ("short_help", "help")]
                text = given[0].value if given and isinstance(given[0], ast.Constant) else None
                found[name] = _first_sentence(str(text or ast.get_docstring(node) or ""))
    return found


def _registered_name(decorator: ast.expr, function: str) -> str | None:
    if not (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and isinstance(decorator.func.value, ast.Name)
        and decorator.func.value.id == "cli"
        and decorator.func.attr in ("command", "group")
    ):
        return None
    for keyword in decorator.keywords:
        if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    if decorator.args and isinstance(decorator.args[0], ast.Constant):
        return str(decorator.args[0].value)
    name = function.lower().replace("_", "-")  # as click names it
    left, sep, suffix = name.rpartition("-")
    return left if sep and suffix in {"command", "cmd", "group", "grp"} else name


def _first_sentence(doc: str) -> str:
    """What click shows for a docstring with no limit: the first sentence of its first paragraph."""
    command = AtomnbCommand("scan", help=doc)
    return command.get_short_help_str()
