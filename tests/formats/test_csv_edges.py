"""CSV edges: files with no line break, rows located in one pass, headers that look like data."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

import atomnb as ab
from atomnb.errors import FormatError

_READ_AND_EXIT = """
import sys
import atomnb as ab
from atomnb.errors import FormatError
try:
    ab.read(sys.argv[1], format="csv", block_bytes=int(sys.argv[2]))
except FormatError as exc:
    print("refused:", exc)
"""


@pytest.mark.parametrize(
    ("content", "block"),
    [
        (b"x" * (20 << 20), 1 << 20),
        (b"x" * (20 << 20), 4 << 20),
        (b"a,b,c" + b",x" * (8 << 20), 1 << 20),
    ],
)
def test_a_failed_read_of_a_file_with_no_line_break_exits_cleanly(
    tmp_path: Path, content: bytes, block: int
) -> None:
    path = tmp_path / "one_line.csv"
    path.write_bytes(content)
    for _ in range(3):  # the abort at exit came about one time in two
        done = subprocess.run(
            [sys.executable, "-c", _READ_AND_EXIT, str(path), str(block)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stderr == ""
        assert "refused:" in done.stdout
        assert f"no line break in the first {block:,} bytes" in done.stdout


def test_a_short_file_with_no_line_break_reads() -> None:
    docs = ab.read(b"a,b,c", format="csv")
    assert docs.column_names == ["a", "b", "c"] and len(docs) == 0
    docs = ab.read(b"1,2,3", format="csv", header=False)
    assert docs.to_pylist() == [{"f0": "1", "f1": "2", "f2": "3"}]


def test_many_ragged_rows_with_cr_line_ends_are_located_in_one_pass(tmp_path: Path) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes(b"a,b\r" + b"1,2,3\r" * 20_000 + b"4,5\r")
    docs = ab.read(path)  # used to rescan the whole file for each of them (a hang)
    assert docs.to_pylist() == [{"a": "4", "b": "5"}]
    assert len(docs.rejections) == 20_000
    assert docs.rejections[0].where == f"{path}, line 2"
    assert docs.rejections[-1].where == f"{path}, line 20001"


def test_no_header_row_can_be_said(tmp_path: Path) -> None:
    data = b"1001,2026-03-04,19.90\n1002,2026-03-05,5.00\n"
    assert len(ab.read(data, format="csv", header=False)) == 2
    named = ab.read(data, format="csv", header=False, column_names=["id", "on", "amount"])
    assert named[0] == {"id": "1001", "on": "2026-03-04", "amount": "19.90"}
    renamed = ab.read(b"x,y,z\n" + data, format="csv", column_names=["id", "on", "amount"])
    assert len(renamed) == 2 and renamed[1]["id"] == "1002"


def test_a_header_that_looks_like_data_is_said(caplog: pytest.LogCaptureFixture) -> None:
    data = b"1001,2026-03-04,19.90\n1002,2026-03-05,5.00\n"
    with caplog.at_level(logging.WARNING, logger="atomnb.formats"):
        assert len(ab.read(data, format="csv")) == 1
    (record,) = [r for r in caplog.records if "header" in r.getMessage()]
    message = record.getMessage()
    assert message.startswith("<bytes>, line 1: the header row looks like data")
    assert "numbers or dates" in message and "header=False" in message


def test_a_header_with_a_duplicate_name_is_refused_with_a_hint() -> None:
    with pytest.raises(
        FormatError, match=r"<bytes>, line 1: the header row has a duplicate"
    ) as info:
        ab.read(b"id,name,id\n1,a,2\n", format="csv")
    assert "header=False" in str(info.value)
    docs = ab.read(b"id,name,id\n1,a,2\n", format="csv", column_names=["id", "name", "id2"])
    assert docs.to_pylist() == [{"id": "1", "name": "a", "id2": "2"}]


def test_a_ragged_row_under_a_data_like_header_hints_header_false() -> None:
    with pytest.raises(FormatError, match="header=False") as info:
        ab.read(b"1,2\n3,4,5\n", format="csv", on_error="raise")
    assert "line 2" in str(info.value)


def test_a_plain_header_gives_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="atomnb.formats"):
        ab.read(b"id,name\n1,a\n", format="csv")
    assert not caplog.records
