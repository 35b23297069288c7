"""``%atomnb record``: make a replayable test case from the notebook.

::

    %atomnb record notebooks/orders.ipynb --case nightly -p limit 50 --keep 20
    %atomnb record --map order_to_invoice --sample orders --case invoice_ids

A process case runs the notebook as ``atomnb record`` does (a kernel of its own,
connectors recorded, the clock pinned), so it runs the command itself; a map
case maps the sample (a variable or a file) with the saved map and keeps both
(``atomnb.process.map_cases``). ``pytest --atomnb`` replays either.
"""

from __future__ import annotations

import argparse
import html
import subprocess
import sys
from typing import Any

from atomnb.errors import ConfigError
from atomnb.nb.sources import resolve_sample
from atomnb.process.map_cases import save_map_case

__all__ = ["add_record_parser", "run"]

_TIMEOUT_S = 3600


def add_record_parser(groups: Any) -> None:
    """Declare ``record`` on the ``%atomnb`` parser."""
    sub = groups.add_parser(
        "record", help="record a process run or a map's output as a replayable test case"
    )
    sub.add_argument("notebook", nargs="?", help="the process notebook (not with --map)")
    sub.add_argument("--case", required=True, help="the test case's name (tests/atomnb/NAME)")
    sub.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE")
    )
    sub.add_argument("--env", dest="environment", help="environment whose extensions apply")
    sub.add_argument("--keep", type=int, help="keep the first N output documents per shape")
    sub.add_argument("--map", dest="map_name", help="record a map case of this saved map")
    sub.add_argument("--sample", help="the map case's sample (a variable or a file path)")


def run(shell: Any, args: argparse.Namespace, _cell: str | None) -> None:
    if args.map_name:
        if args.notebook or not args.sample:
            raise ConfigError("a map case takes --map MAP --sample SAMPLE and no notebook")
        namespace = shell.user_ns if shell is not None else {}
        folder = save_map_case(args.map_name, resolve_sample(args.sample, namespace), args.case)
        _show(f"saved map case {args.case!r} in {folder}; replay it: pytest --atomnb {folder}")
        return
    if not args.notebook:
        raise ConfigError("name the process notebook to record (or --map for a map case)")
    command = [sys.executable, "-m", "atomnb", "record", args.notebook, "--case", args.case]
    for name, value in args.parameter:
        command += ["-p", name, value]
    if args.environment:
        command += ["--env", args.environment]
    if args.keep is not None:
        command += ["--keep", str(args.keep)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False)
    if done.returncode not in (0, 1):  # 1: recorded, the process failed (its case says so)
        raise ConfigError(f"atomnb record failed: {(done.stderr or done.stdout).strip()}")
    _show((done.stdout + done.stderr).strip())


def _show(text: str) -> None:
    from IPython.display import HTML, display

    display(HTML(f"<pre>{html.escape(text)}</pre>"))
