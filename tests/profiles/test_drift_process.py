"""In a process run, drift found while parsing with a profile is one line in the log, paths
and counts only: information by default, a warning under the drift policy warn/notify."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from atomnb.process.context import ExecutionContext
from atomnb.process.run import ProcessRun, current_run, new_run
from atomnb.process.shapes import parse_documents, raw_documents
from atomnb.profiles import Element, ElementType, Profile

drift_module = importlib.import_module("atomnb.profiles.drift_collect")
SECRET = "s3cr3t-Tok3n-9z"
PROFILE = Profile(
    "orders",
    (
        Element("id", ElementType.INTEGER, mandatory=True),
        Element("status", enum=("open", "closed")),
    ),
    format="json",
)


@pytest.fixture(autouse=True)
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProcessRun:
    monkeypatch.setattr(drift_module, "_RUN_COLLECTOR", None)  # no run's counts outlive a test
    ctx = ExecutionContext(
        execution_id=None,
        process=None,
        environment="test",
        trigger="test",
        output_dir=tmp_path / "output",
        workspace=None,
    )
    return new_run(ctx)


@pytest.mark.parametrize(
    ("policy", "level"),
    [(None, "info"), ("record", "info"), ("warn", "warning"), ("notify", "warning")],
)
def test_drift_while_parsing_is_one_line_with_paths_and_counts(
    policy: str | None, level: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if policy is None:
        monkeypatch.delenv("ATOMNB_DRIFT", raising=False)
    else:
        monkeypatch.setenv("ATOMNB_DRIFT", policy)
    raw = raw_documents(
        [
            b'[{"id": "1", "status": "open", "note": "%s"}, {"id": "2", "status": "%s"}]'
            % (SECRET.encode(), SECRET.encode()),
            b'[{"id": "3", "status": "closed", "note": "x"}, {"status": "open"}]',
        ],
        {"file_name": ["a.json", "b.json"]},
    )
    docs = parse_documents(raw, profile=PROFILE, name="read orders")
    assert len(docs) == 2  # the new code and the missing id are rejected by validation
    drift_lines = [e for e in current_run().trace.logs if e.message.startswith("profile drift")]
    (line,) = drift_lines
    assert line.level == level
    assert line.message == (
        "profile drift: drift from profile 'orders' in 4 document(s): new field: note (2); "
        "missing mandatory: id (1); new codes: status (1 new code(s) in 1)"
    )
    assert SECRET not in json.dumps(current_run().trace.to_dict(), default=str)


def test_no_drift_no_warning() -> None:
    raw = raw_documents([b'[{"id": "1", "status": "open"}]'])
    parse_documents(raw, profile=PROFILE)
    assert not [e for e in current_run().trace.logs if e.message.startswith("profile drift")]


def test_the_ignore_policy_measures_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATOMNB_DRIFT", "ignore")
    raw = raw_documents([b'[{"id": "1", "status": "open", "note": "x"}]'])
    assert len(parse_documents(raw, profile=PROFILE)) == 1
    assert not [e for e in current_run().trace.logs if e.message.startswith("profile drift")]
