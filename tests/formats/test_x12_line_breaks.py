"""Line breaks after terminators are layout; a line break inside a value is data."""

from __future__ import annotations

from pathlib import Path

import pytest

import atomnb as ab

ORDER = (Path(__file__).parents[1] / "samples" / "x12" / "node-x12_850.edi").read_bytes()


@pytest.mark.parametrize("after", [b"~", b"~\n", b"~\r\n", b"~\r\n\r\n"])
def test_breaks_after_terminators_do_not_reach_the_values(after: bytes) -> None:
    (order,) = ab.read(ORDER.replace(b"~\n", after), format="x12")
    assert order["N1_loop"][0]["N1"]["N102"] == "XYZ RETAIL"
    assert order["BEG"]["BEG03"] == ab.read(ORDER, format="x12")[0]["BEG"]["BEG03"]


def test_a_break_inside_a_value_is_kept() -> None:
    data = ORDER.replace(b"~\n", b"~\r\n").replace(b"N1*ST*XYZ", b"N1*ST*XY\r\nZ", 1)
    (order,) = ab.read(data, format="x12")
    assert order["N1_loop"][0]["N1"]["N102"] == "XY\r\nZ RETAIL"
    assert order["N1_loop"][0]["N1"]["N103"] == "9"
