"""The EDI readers pause cyclic garbage collection only while they build a batch."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

import atomnb as ab
from atomnb.errors import FormatError
from atomnb.formats._paused_gc import collection_paused

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_collection_runs_again_whenever_the_caller_holds_a_batch() -> None:
    data = (SAMPLES / "x12" / "node-x12_850.edi").read_bytes()
    seen = []
    for batch in ab.read_stream(data * 3, format="x12", batch_size=1):
        seen.append((len(batch), gc.isenabled()))
    assert len(seen) == 3 and all(enabled for _, enabled in seen)
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off() -> None:
    gc.disable()
    try:
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_error_while_paused_turns_collection_back_on() -> None:
    with pytest.raises(ValueError, match="boom"), collection_paused():
        assert not gc.isenabled()
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_bad_file_read_halfway_leaves_collection_on(tmp_path: Path) -> None:
    broken = tmp_path / "truncated.edi"
    data = (SAMPLES / "x12" / "node-x12_850.edi").read_bytes()
    broken.write_bytes(data[: data.index(b"IEA")])
    with pytest.raises(FormatError, match="ends before"):
        list(ab.read_stream(broken, format="x12"))
    assert gc.isenabled()
