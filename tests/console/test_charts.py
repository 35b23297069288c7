"""Server-side SVG charts: axes, ticks, titles and legend are there, values are placed
proportionally, and empty data says so in words."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

from atomnb.web.charts import Series, bar_chart, line_chart, nice_ticks, time_label

SVG = "{http://www.w3.org/2000/svg}"


def _bars(svg: str) -> dict[tuple[str, str], float]:
    root = ElementTree.fromstring(svg)
    heights = {}
    for rect in root.iter(f"{SVG}rect"):
        if rect.get("class") == "bar":
            label = rect.find(f"{SVG}title").text.split(" · ")[0]  # type: ignore[union-attr]
            heights[(label, rect.get("data-series") or "")] = float(rect.get("height") or 0)
    return heights


def test_stacked_bars_have_axes_ticks_titles_and_a_legend() -> None:
    svg = bar_chart(
        "Executions per hour",
        ["10:00", "11:00", "12:00"],
        [Series("succeeded", [4, 0, 2]), Series("failed", [1, 3, 0])],
        x_title="hour (UTC)",
        y_title="executions",
    )
    root = ElementTree.fromstring(svg)  # well-formed SVG
    assert root.find(f"{SVG}title").text == "Executions per hour"  # type: ignore[union-attr]
    assert "succeeded 6" in (root.find(f"{SVG}desc").text or "")  # type: ignore[union-attr]
    texts = {t.get("class"): [] for t in root.iter(f"{SVG}text")}
    for t in root.iter(f"{SVG}text"):
        texts[t.get("class")].append(t.text)
    assert texts["x-title"] == ["hour (UTC)"] and texts["y-title"] == ["executions"]
    assert texts["x-tick"] == ["10:00", "11:00", "12:00"]
    assert texts["y-tick"][0] == "0" and float(texts["y-tick"][-1]) >= 5
    assert [t for t in texts[None] if t in ("succeeded", "failed")] == ["succeeded", "failed"]
    assert len([e for e in root.iter(f"{SVG}line") if e.get("class") == "axis"]) == 2


def test_bar_heights_are_proportional_to_values() -> None:
    svg = bar_chart(
        "x",
        ["a", "b"],
        [Series("ok", [4, 2]), Series("bad", [1, 0])],
        x_title="x",
        y_title="y",
    )
    bars = _bars(svg)
    assert ("b", "bad") not in bars  # a zero draws nothing
    assert abs(bars[("a", "ok")] - 2 * bars[("b", "ok")]) < 0.2
    assert abs(bars[("a", "ok")] - 4 * bars[("a", "bad")]) < 0.2


def test_line_points_are_placed_by_value_with_gaps() -> None:
    svg = line_chart(
        "Duration",
        ["1", "2", "3", "4"],
        [Series("p95", [10, 20, None, 5])],
        x_title="hour",
        y_title="seconds",
        y_unit=" s",
    )
    root = ElementTree.fromstring(svg)
    points = list(root.iter(f"{SVG}circle"))
    assert [p.get("data-value") for p in points] == ["10", "20", "5"]
    bottom = 260 - 64
    ys = [bottom - float(p.get("cy") or 0) for p in points]
    assert abs(ys[1] - 2 * ys[0]) < 0.2 and abs(ys[0] - 2 * ys[2]) < 0.2
    assert "2 · p95: 20 s" in svg
    assert len(list(root.iter(f"{SVG}polyline"))) == 1  # the gap splits the line


def test_empty_data_says_so() -> None:
    for chart in (bar_chart, line_chart):
        html = chart(
            "Executions",
            ["a"],
            [Series("ok", [0 if chart is bar_chart else None])],
            x_title="x",
            y_title="y",
            empty="no executions in this window",
        )
        assert "no executions in this window" in html and "<svg" not in html
    assert "no data" in bar_chart("x", [], [], x_title="x", y_title="y")


def test_many_buckets_show_at_most_a_few_labels() -> None:
    labels = [f"{n:02d}:00" for n in range(24)] * 7
    svg = bar_chart("w", labels, [Series("ok", [1] * len(labels))], x_title="x", y_title="y")
    assert 4 <= len(re.findall("class='x-tick'", svg)) <= 8


def test_nice_ticks_and_time_labels() -> None:
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(0.9)[-1] >= 0.9 and nice_ticks(0) == [0, 1]
    assert nice_ticks(1234)[-1] >= 1234
    assert nice_ticks(2, whole=True) == [0, 1, 2] and nice_ticks(2)[1] == 0.5
    hour = timedelta(hours=1)
    assert time_label(datetime(2026, 12, 4, 18, tzinfo=UTC), hour) == "18:00"
    assert time_label(datetime(2026, 12, 5, 0, tzinfo=UTC), hour) == "Dec 05"
    assert time_label(datetime(2026, 12, 5, tzinfo=UTC), timedelta(days=1)) == "Dec 05"
