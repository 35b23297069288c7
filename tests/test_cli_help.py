"""``atomnb --help``: every command with its whole one-line help, without loading the stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from tests.conftest import run_cli

#: What ``--help`` must not import: the kernel runner, the data stack, the web server, the store.
HEAVY = (
    "papermill",
    "nbformat",
    "jsonschema",
    "pyarrow",
    "polars",
    "pandas",
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "httpx",
)


def _all_commands() -> dict[str, click.Command]:
    """Every command of the tree, loaded for real (path → command)."""
    from atomnb.cli import cli

    found: dict[str, click.Command] = {}

    def walk(group: click.Group, prefix: str) -> None:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None, f"{prefix}{name} is listed but cannot be loaded"
            found[prefix + name] = command
            if isinstance(command, click.Group):
                walk(command, f"{prefix}{name} ")

    walk(cli, "")
    return found


def test_help_shows_each_commands_whole_first_line(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path, env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    listing = result.stdout.split("Commands:", 1)[1]
    assert "..." not in listing
    commands = _all_commands()
    for name, command in commands.items():
        if " " in name:
            continue
        first_line = (command.help or "").strip().splitlines()[0]
        assert f"  {name} " in listing
        assert first_line in listing, f"{name}: {first_line!r} is cut short"


def test_sub_group_help_is_whole_too(tmp_path: Path) -> None:
    result = run_cli("atom", "--help", cwd=tmp_path, env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "Start an atom in the foreground; Ctrl-C or SIGTERM stops it cleanly." in result.stdout


def test_help_imports_none_of_the_heavy_stack(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPROFILEIMPORTTIME"}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "atomnb", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0
    imported = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert imported & set(HEAVY) == set()


def test_the_list_read_from_source_is_the_real_tree() -> None:
    """What ``--help`` reads from the modules' source is what loading them registers."""
    from atomnb.cli.root import COMMAND_MODULES
    from atomnb.cli.root import cli as top

    scanned = dict(top.scanned)
    commands = _all_commands()
    assert {name for name in commands if " " not in name} == set(scanned)
    for name, (module, text) in scanned.items():
        assert text == commands[name].get_short_help_str()
        assert commands[name].callback is not None
        assert commands[name].callback.__module__ == module
    assert set(COMMAND_MODULES) == {module for module, _ in scanned.values()}
