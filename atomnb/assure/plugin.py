"""The pytest plugin (entry point ``pytest11``): options first, everything else when asked.

pytest loads this module in every project where atomnb is installed, so it imports
nothing heavy until ``--atomnb`` is given: only then are ``case.json`` files of
recorded test cases (``tests/atomnb/NAME/case.json``) collected, each as one item
that replays the case (``atomnb.assure.items``).
"""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("atomnb", "atomnb recorded test cases")
    group.addoption(
        "--atomnb",
        action="store_true",
        help="collect recorded test cases (tests/atomnb/NAME/) and replay them",
    )
    group.addoption(
        "--atomnb-update",
        action="store_true",
        help="rewrite the expectations of replayed cases from this run (after review)",
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A recorded case's manifest, when replaying was asked for."""
    config = parent.config
    if file_path.name != "case.json" or not (
        config.getoption("atomnb") or config.getoption("atomnb_update")
    ):
        return None
    from atomnb.assure.items import CaseFile

    return CaseFile.from_parent(parent, path=file_path)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not terminalreporter.config.getoption("atomnb_update"):
        return
    from atomnb.assure.items import UPDATED

    updated = terminalreporter.config.stash.get(UPDATED, [])
    if updated:
        terminalreporter.write_line(
            f"atomnb: rewrote the expectations of {len(updated)} case(s): {', '.join(updated)}"
        )
