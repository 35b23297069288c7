"""XML bounds checked before libxml2 parses: a huge start tag costs no memory to refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

import atomnb as ab
from atomnb.errors import FormatError
from tests.formats.memory import measure


def _many_attributes(count: int, *, spaced: bool = False) -> bytes:
    pattern = b'a%d = ">" ' if spaced else b'a%d="v" '
    return b"<r " + b"".join(pattern % i for i in range(count)) + b"/>"


def test_a_200_mb_start_tag_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "tag.xml"
    with path.open("wb") as handle:
        handle.write(b"<?xml version='1.0'?>\n<orders>\n  <order ")
        for block in range(200):  # 200 x 1 MB of short attributes
            handle.write(b"".join(b'a%d_%d="v" ' % (block, i) for i in range(87_000))[: 1 << 20])
        handle.write(b"/>\n</orders>\n")
    assert path.stat().st_size > 200 << 20
    run = measure("ab.read(sys.argv[1])", str(path), warm="ab.read(b'<a/>', format='xml')")
    assert not run.killed, "the read grew past 2 GB"
    assert run.returncode == 0, run.stderr
    assert run.error is not None
    assert "line 3 (byte 33): a tag with more than 10,000 attributes" in run.error
    assert run.rise_mb < 150, run


def test_quoted_closing_brackets_do_not_hide_attributes() -> None:
    with pytest.raises(FormatError, match="more than 10,000 attributes"):
        ab.read(_many_attributes(20_000, spaced=True), format="xml")


def test_max_attributes_is_an_option() -> None:
    docs = ab.read(_many_attributes(12_000), format="xml", max_attributes=20_000)
    assert docs[0]["@a11999"] == "v"
    with pytest.raises(FormatError, match=r"<bytes>, line 1 \(byte 0\): a tag with more than 5"):
        ab.read(_many_attributes(6), format="xml", max_attributes=5)


def test_a_run_without_markup_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "spaces.xml"
    path.write_bytes(b"<a>\n<r" + b" " * (40 << 20) + b"/></a>")
    run = measure("ab.read(sys.argv[1])", str(path), warm="ab.read(b'<a/>', format='xml')")
    assert run.returncode == 0 and not run.killed, run.stderr
    assert run.error is not None and "line 2 (byte 4): more than 16,777,216 bytes" in run.error
    assert run.rise_mb < 60, run


def test_a_long_text_node_under_libxml2_limit_still_reads() -> None:
    text = b"QUJD" * (2 << 20)  # 8 MB of base64, no markup
    docs = ab.read(b"<doc><blob>" + text + b"</blob></doc>", format="xml")
    assert len(docs[0]["blob"]) == len(text)
