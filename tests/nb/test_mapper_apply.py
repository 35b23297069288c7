"""``%atomnb map apply`` prints counts that match the documents it returns."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from atomnb.components import Workspace
from atomnb.documents import Documents


def _sample(example_ws: Workspace) -> Path:
    """The example orders with two lines that are not JSON (rejected when read)."""
    lines = (example_ws.notebooks_dir / "data" / "orders.jsonl").read_text().splitlines()
    broken = [*lines[:5], "{not json", "[1, 2", *lines[5:]]
    path = example_ws.notebooks_dir / "data" / "orders_broken.jsonl"
    path.write_text("\n".join(broken) + "\n", encoding="utf-8")
    return path


def _head(shown: str) -> str:
    match = re.search(r"<div>map <b>[^<]+</b>: ([^<]+)</div>", shown)
    assert match, shown
    return match.group(1)


def test_counts_match_the_returned_documents_with_rejections_from_the_read(
    shell: Any, example_ws: Workspace
) -> None:
    path = _sample(example_ws)
    result = shell.run_cell("import atomnb as ab")
    result = shell.run_cell(f"docs = ab.read({str(path)!r})")
    assert result.success, result.error_in_exec
    docs = shell.user_ns["docs"]
    assert isinstance(docs, Documents) and len(docs) == 40 and len(docs.rejections) == 2
    result = shell.run_cell("%atomnb map apply order_to_invoice docs --as out")
    assert result.success, result.error_in_exec
    out = shell.user_ns["out"]
    assert isinstance(out, Documents)
    head = _head(shell.shown[-1])
    # 40 read → 39 mapped and 1 failed in the map; the 2 lines refused when read are said apart
    assert (len(out), len(out.rejections)) == (39, 3)
    assert head.startswith("40 document(s) in → 39 mapped, 1 failed in the map")
    assert "2 rejected before the map" in head and "3 rejection(s) in all" in head
    assert "3 document(s) failed:" in shell.shown[-1]


def test_fan_out_counts_target_documents_per_source_document(
    shell: Any, example_ws: Workspace
) -> None:
    result = shell.run_cell(
        "%atomnb map apply po850_to_lines notebooks/data/purchase_order_850.edi --as lines"
    )
    assert result.success, result.error_in_exec
    out = shell.user_ns["lines"]
    head = _head(shell.shown[-1])
    match = re.match(r"(\d+) document\(s\) in → (\d+) mapped \(one per \w+\), (\d+) failed", head)
    assert match, head
    assert int(match.group(2)) == len(out) and int(match.group(3)) == len(out.rejections)
