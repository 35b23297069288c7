"""Shape output limits (first N per shape, a total size), and a plugin that stays cheap to load."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import atomnb as ab
from atomnb.connectors.recording import documents_jsonl
from atomnb.process.case_outputs import ShapeOutputs
from atomnb.process.trace import ShapeRecord


def _record(index: int) -> ShapeRecord:
    return ShapeRecord(index=index, name=f"shape {index}", kind="custom", documents_in=0)


def test_total_size_limit_counts_what_it_does_not_write(tmp_path: Path) -> None:
    docs = ab.Documents.from_records([{"n": i, "text": "x" * 100} for i in range(50)])
    lines = documents_jsonl(docs)
    outputs = ShapeOutputs(tmp_path, keep=None, max_bytes=sum(len(x) + 1 for x in lines[:30]))
    outputs(_record(0), {"out": docs})  # 30 of 50 fit
    outputs(_record(1), {"out": docs})  # nothing left
    index = [json.loads(x) for x in (tmp_path / "index.jsonl").read_text().splitlines()]
    assert [(e["outputs"]["out"]["documents"], e["outputs"]["out"]["kept"]) for e in index] == [
        (50, 30),
        (50, 0),
    ]
    assert len((tmp_path / "001-out.jsonl").read_text().splitlines()) == 30
    assert (tmp_path / "002-out.jsonl").read_text() == ""


def test_keep_first_n_per_shape_and_path(tmp_path: Path) -> None:
    docs = ab.Documents.from_records([{"n": i} for i in range(10)])
    ShapeOutputs(tmp_path, keep=3, max_bytes=10**6)(_record(0), {"a b/c": docs, "d": docs[:2]})
    assert [json.loads(x)["document"]["n"] for x in (tmp_path / "001-a_b_c.jsonl").open()] == [
        0,
        1,
        2,
    ]
    assert len((tmp_path / "001-d.jsonl").read_text().splitlines()) == 2


def test_the_pytest_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys, atomnb.assure.plugin; "
        "print(sorted(m for m in sys.modules if m.startswith(('atomnb.', 'pyarrow', 'sqlalchemy',"
        " 'httpx', 'papermill', 'polars'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "['atomnb.assure', 'atomnb.assure.plugin']", out.stderr
