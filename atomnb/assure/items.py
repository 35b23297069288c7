"""Recorded test cases as pytest items: replay, compare, report (or update with review).

Loaded by the plugin only when ``--atomnb`` is given: it imports the executor,
the maps and pyarrow, which a project's ordinary test run does not need.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from atomnb.assure.cases import CASE_FILE, SHAPES, Case, load_case, run_case
from atomnb.assure.compare import compare_outputs, format_diffs, map_rules

__all__ = ["UPDATED", "CaseFile", "CaseItem", "ReplayMismatch"]

#: The cases ``--atomnb-update`` rewrote in this session (for the terminal summary).
UPDATED = pytest.StashKey[list[str]]()


class ReplayMismatch(Exception):
    """A replay's outputs differ from the recording; the message is the whole report."""


class CaseFile(pytest.File):
    """A case folder's ``case.json``: one item, the replay of the case."""

    def collect(self) -> Iterator[pytest.Item]:
        yield CaseItem.from_parent(self, name=self.path.parent.name)


class CaseItem(pytest.Item):
    """Replay one case and compare every shape's outputs with the recording."""

    def runtest(self) -> None:
        case = load_case(self.path.parent)
        update = bool(self.config.getoption("atomnb_update"))
        with tempfile.TemporaryDirectory(prefix="atomnb-replay-") as scratch:
            if case.kind == "map":
                from atomnb.process.map_cases import run_map_case

                shapes = Path(scratch) / SHAPES
                new, status = run_map_case(case.folder, case.data, shapes), None
            elif case.kind == "process":
                outcome = run_case(case, Path(scratch) / SHAPES)
                new = outcome.shapes
                recorded_status = str(case.data.get("status"))
                status = (
                    (recorded_status, outcome.status) if outcome.status != recorded_status else None
                )
                if status is not None and outcome.error:
                    status = (status[0], f"{status[1]} ({outcome.error})")
            else:
                raise ReplayMismatch(f"case {case.name}: unknown kind {case.kind!r}")
            diffs = compare_outputs(case.folder / SHAPES, new, _rule_finder(case))
            if not diffs and status is None:
                return
            if update:
                _accept(case, new, outcome_status=status[1] if status else None)
                self.config.stash.setdefault(UPDATED, []).append(case.name)
                return
            raise ReplayMismatch(format_diffs(case.name, diffs, status))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ReplayMismatch):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"atomnb case: {self.name}"


def _rule_finder(case: Case) -> Any:
    """For a map shape: its map's rules by target path, from the workspace as it is now."""
    cache: dict[str, Mapping[str, str] | None] = {}

    def find(name: str) -> Mapping[str, str] | None:
        if name not in cache:
            from atomnb.maps import load_map

            try:
                cache[name] = map_rules(load_map(name, workspace=case.workspace()).rules)
            except Exception:
                cache[name] = None
        return cache[name]

    return find


def _accept(case: Case, new: Path, outcome_status: str | None) -> None:
    """``--atomnb-update``: the replay's outputs become the expectations."""
    import json

    target = case.folder / SHAPES
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(new, target)
    if outcome_status is not None:
        data = dict(case.data) | {"status": outcome_status.split(" ")[0]}
        (case.folder / CASE_FILE).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
