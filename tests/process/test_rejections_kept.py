"""Rejected documents written beside the trace as shapes refuse them (kernel side, in-process).

The run writes ``rejections.jsonl`` in the execution folder: one scrubbed line per
new rejection, with the original bytes up to a cap, none in modes that keep no
documents, and nothing at all for an interactive session.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from atomnb.documents import Documents
from atomnb.maps import Map, Rule
from atomnb.process import secrets
from atomnb.process.context import ExecutionContext
from atomnb.process.rejections import MAX_BYTES_ENV, MODE_ENV, REJECTIONS_FILE, read_rejections
from atomnb.process.run import new_run
from atomnb.process.shapes import custom, map, parse_documents, raw_documents
from atomnb.profiles import Element, ElementType, Profile

SECRET = "Rj-s3cr3t-V4lue-77"
SOURCE = Profile("src", (Element("id"), Element("n", ElementType.INTEGER)))
TARGET = Profile("tgt", (Element("id"), Element("n", ElementType.INTEGER)))
COPY = Map("copy", SOURCE, TARGET, (Rule("id", ("id",)), Rule("n", ("n",))))
GOOD = [b'{"id": "a", "n": "1"}', b'{"id": "b", "n": "2"}']
BAD_JSON = b'{"id": "c", "n": '  # cut mid-object


@pytest.fixture(autouse=True)
def general(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MODE_ENV, "general")
    monkeypatch.delenv(MAX_BYTES_ENV, raising=False)


@pytest.fixture
def secret_known() -> Iterator[None]:
    secrets.register_secret(SECRET)
    yield
    with secrets._lock:
        secrets._registered.discard(SECRET)
        secrets._scrubber = None


def _execution(tmp_path: Path) -> Path:
    folder = tmp_path / "exec-1"
    new_run(ExecutionContext("exec-1", "proc", "test", "schedule", folder / "output", None))
    return folder


def _kept(folder: Path) -> list[dict[str, Any]]:
    path = folder / REJECTIONS_FILE
    return read_rejections(path.read_bytes()) if path.exists() else []


def test_parse_and_map_rejections_are_kept_with_their_bytes(tmp_path: Path) -> None:
    folder = _execution(tmp_path)
    raw = raw_documents([*GOOD, BAD_JSON], {"file_name": ["a.json", "b.json", "c.json"]})
    parsed = parse_documents(raw, "json", name="read orders")
    assert len(_kept(folder)) == 1  # written when the shape ends, before the next one runs
    mapped = map(parsed.with_rejections([]), COPY, name="copy")
    assert len(mapped) == 2
    bad_row = Documents.from_records([{"id": "d", "n": "x"}])
    map(bad_row, COPY, name="copy again")
    kept = _kept(folder)
    assert [(k["shape"], k["shape_name"], k["kind"]) for k in kept] == [
        (0, "read orders", "parse"),
        (2, "copy again", "map"),
    ]
    first, second = kept
    assert (first["rule"], first["where"], first["index"]) == ("format", "c.json", 2)
    assert base64.b64decode(first["bytes"]) == BAD_JSON
    assert first["size"] == len(BAD_JSON) and first["bytes_dropped"] is False
    assert first["properties"] == {"file_name": "c.json"}
    assert json.loads(base64.b64decode(second["bytes"])) == {"id": "d", "n": "x"}
    assert second["index"] == 0 and second["message"]


def test_a_rejection_carried_on_is_written_once(tmp_path: Path) -> None:
    folder = _execution(tmp_path)
    parsed = parse_documents(raw_documents([BAD_JSON, GOOD[0]]), "json")
    map(parsed, COPY)  # the parse's rejection rides along on the map's output
    assert len(_kept(folder)) == 1


def test_a_rejection_an_inner_shape_kept_is_not_kept_again_by_the_outer_one(
    tmp_path: Path,
) -> None:
    folder = _execution(tmp_path)
    bad_row = Documents.from_records([{"id": "d", "n": "x"}, {"id": "e", "n": "3"}])
    out = custom(bad_row, lambda docs: map(docs, COPY, name="inner"), name="outer")
    assert len(out.rejections) == 1
    assert [k["shape_name"] for k in _kept(folder)] == ["inner"]


def test_secret_values_are_scrubbed_from_text_properties_and_bytes(
    tmp_path: Path, secret_known: None
) -> None:
    folder = _execution(tmp_path)
    bad = b'{"token": "' + SECRET.encode() + b'", "cut": '
    parse_documents(raw_documents([bad], {"file_name": [f"{SECRET}.json"]}), "json")
    text = (folder / REJECTIONS_FILE).read_text()
    assert SECRET not in text
    assert base64.b64encode(SECRET.encode()).decode() not in text
    (line,) = _kept(folder)
    kept = base64.b64decode(line["bytes"])
    assert SECRET.encode() not in kept and b"***" in kept
    assert line["scrubbed"] is True and line["size"] == len(bad)


def test_past_the_cap_rejections_are_kept_without_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MAX_BYTES_ENV, str(len(BAD_JSON) * 2))
    folder = _execution(tmp_path)
    parse_documents(raw_documents([BAD_JSON] * 3), "json")
    kept = _kept(folder)
    assert len(kept) == 3
    assert [k["bytes_dropped"] for k in kept] == [False, False, True]
    assert kept[2]["bytes"] is None and kept[2]["dropped"] == "cap"
    assert kept[2]["size"] == len(BAD_JSON) and kept[2]["rule"] == "format"


@pytest.mark.parametrize("mode", ["bridge", "low_latency"])
def test_modes_that_keep_no_documents_keep_metadata_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv(MODE_ENV, mode)
    folder = _execution(tmp_path)
    parse_documents(raw_documents([BAD_JSON]), "json")
    (line,) = _kept(folder)
    assert line["bytes"] is None and line["bytes_dropped"] is True and line["dropped"] == "mode"
    assert line["rule"] == "format" and line["size"] == len(BAD_JSON)
    assert b'"cut' not in (folder / REJECTIONS_FILE).read_bytes()


def test_a_kernel_not_told_its_mode_keeps_no_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The executor hands every kernel its mode; without it nothing is kept (fail closed)."""
    monkeypatch.delenv(MODE_ENV)
    folder = _execution(tmp_path)
    parse_documents(raw_documents([BAD_JSON]), "json")
    (line,) = _kept(folder)
    assert line["bytes"] is None and line["dropped"] == "mode unknown"
    assert line["rule"] == "format" and line["size"] == len(BAD_JSON)


def test_an_interactive_session_keeps_nothing(tmp_path: Path) -> None:
    new_run(ExecutionContext(None, None, "test", "test", tmp_path / "output", None))
    parse_documents(raw_documents([BAD_JSON]), "json")
    assert not list(tmp_path.rglob(REJECTIONS_FILE))


def test_a_half_written_last_line_is_skipped() -> None:
    data = b'{"rule": "format"}\n{"rule": "ma'
    assert read_rejections(data) == [{"rule": "format"}]
