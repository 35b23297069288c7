"""Charts as server-side SVG: stacked bars over time and lines, with axes, ticks and a legend.

Why SVG drawn on the server and not a JavaScript charting library:

- nothing to ship, pin and audit: no bundled JS, no licence file, no CDN;
- it works offline, behind a proxy, in a page with no scripts allowed (the console
  sends none) and in a notebook's output or iframe, where JS may be blocked;
- it is testable as text: a test reads the axis titles, tick labels, legend and the
  bar heights from the markup, without a browser;
- it is accessible: every chart has ``<title>`` and ``<desc>``, every bar and point a
  ``<title>`` with its value, and a person reads the numbers as text labels.

The charts are small on purpose: a time axis (buckets of a minute, an hour or a
day) or a plain category axis, a value axis from zero with "nice" ticks, and a
legend. Empty data says so in words instead of drawing empty axes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

__all__ = ["Series", "bar_chart", "line_chart", "nice_ticks", "time_label"]

_W, _H = 720, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 16, 64
_PALETTE = ("#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#757575")


@dataclass(frozen=True)
class Series:
    """One named row of values, aligned with the chart's x positions (None: no value)."""

    name: str
    values: Sequence[float | None]
    colour: str | None = None


def nice_ticks(top: float, count: int = 5, *, whole: bool = False) -> list[float]:
    """Ticks from 0 to at least ``top`` in steps of 1, 2 or 5 times a power of ten
    (``whole``: steps of at least 1, for counts)."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if whole:
        step = max(1, step)
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def time_label(at: datetime, step: timedelta) -> str:
    """A tick label for a bucket starting at ``at``: the time for minutes and hours, the date
    for days (UTC)."""
    if step >= timedelta(days=1):
        return at.strftime("%b %d")
    if at.hour == 0 and at.minute == 0:
        return at.strftime("%b %d")  # midnight: the day changes here
    return at.strftime("%H:%M")


def _tick_every(n: int, most: int = 8) -> int:
    """Label every k-th bucket so that at most ``most`` labels show."""
    return max(1, math.ceil(n / most))


def _fmt(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _e(text: object) -> str:
    return escape(str(text))


def _frame(
    title: str,
    desc: str,
    labels: Sequence[str],
    label_every: int,
    ticks: list[float],
    x_title: str,
    y_title: str,
    plot: str,
    series: Sequence[Series],
    y_fmt: str,
) -> str:
    width, height = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    top = ticks[-1] or 1.0
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' role='img' "
        f"viewBox='0 0 {_W} {_H + 24}' width='{_W}' height='{_H + 24}' "
        f"aria-label='{_e(title)}'><title>{_e(title)}</title><desc>{_e(desc)}</desc>"
    ]
    for tick in ticks:  # value axis: grid lines and labels
        y = _TOP + height - height * tick / top
        parts.append(
            f"<line x1='{_LEFT}' x2='{_LEFT + width}' y1='{y:.1f}' y2='{y:.1f}' "
            f"stroke='#eaeef2'/><text class='y-tick' x='{_LEFT - 6}' y='{y + 4:.1f}' "
            f"text-anchor='end' font-size='11' fill='#57606a'>{_e(_fmt(tick) + y_fmt)}</text>"
        )
    slot = width / max(1, len(labels))
    for n, label in enumerate(labels):  # x axis labels
        if n % label_every:
            continue
        x = _LEFT + slot * (n + 0.5)
        parts.append(
            f"<text class='x-tick' x='{x:.1f}' y='{_TOP + height + 16}' text-anchor='middle' "
            f"font-size='11' fill='#57606a'>{_e(label)}</text>"
        )
    parts.append(plot)
    parts.append(  # axes and their titles
        f"<line class='axis' x1='{_LEFT}' x2='{_LEFT}' y1='{_TOP}' y2='{_TOP + height}' "
        f"stroke='#57606a'/><line class='axis' x1='{_LEFT}' x2='{_LEFT + width}' "
        f"y1='{_TOP + height}' y2='{_TOP + height}' stroke='#57606a'/>"
        f"<text class='x-title' x='{_LEFT + width / 2}' y='{_TOP + height + 36}' "
        f"text-anchor='middle' font-size='12'>{_e(x_title)}</text>"
        f"<text class='y-title' transform='rotate(-90)' x='{-(_TOP + height / 2)}' y='14' "
        f"text-anchor='middle' font-size='12'>{_e(y_title)}</text>"
    )
    x = _LEFT
    for s in series:  # legend
        parts.append(
            f"<g class='legend'><rect x='{x}' y='{_H + 4}' width='12' height='12' "
            f"fill='{s.colour}'/><text x='{x + 16}' y='{_H + 14}' font-size='12'>"
            f"{_e(s.name)}</text></g>"
        )
        x += 28 + 7 * len(s.name)
    parts.append("</svg>")
    return "".join(parts)


def _empty(title: str, message: str) -> str:
    return (
        f"<figure class='chart empty'><figcaption>{_e(title)}</figcaption>"
        f"<p class='muted'>{_e(message)}</p></figure>"
    )


def _coloured(series: Sequence[Series], colours: Mapping[str, str] | None) -> list[Series]:
    out = []
    for n, s in enumerate(series):
        colour = s.colour or (colours or {}).get(s.name) or _PALETTE[n % len(_PALETTE)]
        out.append(Series(s.name, s.values, colour))
    return out


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    x_title: str,
    y_title: str,
    colours: Mapping[str, str] | None = None,
    empty: str = "no data in this window",
    y_unit: str = "",
) -> str:
    """Stacked bars: one bar per label, one segment per series (e.g. executions per hour
    by status). Each segment has a ``<title>`` "label · series: value"."""
    series = _coloured(series, colours)
    totals = [sum(s.values[n] or 0 for s in series) for n in range(len(labels))]
    if not labels or not any(totals):
        return _empty(title, empty)
    ticks = nice_ticks(max(totals), whole=True)
    width, height = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    slot = width / len(labels)
    bar = max(1.0, slot * 0.7)
    plot = []
    for n, label in enumerate(labels):
        base = 0.0
        for s in series:
            value = s.values[n] or 0
            if not value:
                continue
            y0 = _TOP + height - height * base / ticks[-1]
            h = height * value / ticks[-1]
            x = _LEFT + slot * n + (slot - bar) / 2
            plot.append(
                f"<rect class='bar' data-series='{_e(s.name)}' data-value='{value:g}' "
                f"x='{x:.1f}' y='{y0 - h:.1f}' width='{bar:.1f}' height='{h:.1f}' "
                f"fill='{s.colour}'><title>{_e(label)} · {_e(s.name)}: {_e(_fmt(value))}"
                f"{_e(y_unit)}</title></rect>"
            )
            base += value
    total = sum(totals)
    desc = f"{title}: {_fmt(total)} in all over {len(labels)} buckets; " + ", ".join(
        f"{s.name} {_fmt(sum(v or 0 for v in s.values))}" for s in series
    )
    return _frame(
        title,
        desc,
        labels,
        _tick_every(len(labels)),
        ticks,
        x_title,
        y_title,
        "".join(plot),
        series,
        y_unit,
    )


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    x_title: str,
    y_title: str,
    colours: Mapping[str, str] | None = None,
    empty: str = "no data in this window",
    y_unit: str = "",
) -> str:
    """Lines through the values of each series (gaps where a value is None), a dot and a
    ``<title>`` per value."""
    series = _coloured(series, colours)
    values = [v for s in series for v in s.values if v is not None]
    if not labels or not values:
        return _empty(title, empty)
    ticks = nice_ticks(max(values))
    width, height = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    slot = width / len(labels)
    plot = []
    for s in series:
        points: list[str] = []
        runs: list[list[str]] = [points]
        for n, value in enumerate(s.values):
            if value is None:
                points = []
                runs.append(points)
                continue
            x = _LEFT + slot * (n + 0.5)
            y = _TOP + height - height * value / ticks[-1]
            points.append(f"{x:.1f},{y:.1f}")
            plot.append(
                f"<circle class='point' data-series='{_e(s.name)}' data-value='{value:g}' "
                f"cx='{x:.1f}' cy='{y:.1f}' r='3' fill='{s.colour}'><title>{_e(labels[n])} · "
                f"{_e(s.name)}: {_e(_fmt(value))}{_e(y_unit)}</title></circle>"
            )
        for run in runs:
            if len(run) > 1:
                plot.append(
                    f"<polyline class='line' fill='none' stroke='{s.colour}' stroke-width='2' "
                    f"points='{' '.join(run)}'/>"
                )
    desc = f"{title}: " + ", ".join(
        f"{s.name} up to {_fmt(max((v for v in s.values if v is not None), default=0))}{y_unit}"
        for s in series
    )
    return _frame(
        title,
        desc,
        labels,
        _tick_every(len(labels)),
        ticks,
        x_title,
        y_title,
        "".join(plot),
        series,
        y_unit,
    )
