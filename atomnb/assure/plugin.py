"""The pytest plugin (entry point ``pytest11``): options first, everything else when asked.

pytest loads this module in every project where atomnb is installed, so it imports
nothing heavy until ``--atomnb`` is given.
"""

from __future__ import annotations

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
