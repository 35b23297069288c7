"""The console's page frame and the formatting helpers every console page uses.

One frame so that every page (overview, processes, executions, deployments,
HTTP status, audit) has the same navigation, the same look and the same way of
writing numbers and times. Pages are plain server-rendered HTML with inline CSS:
no remote assets and no scripts, so the console works offline, behind a proxy
and in a notebook's iframe, and tests can read it as text.

Numbers and times are written for people: no Python reprs, no microseconds,
times always in UTC and said so.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "NAV",
    "STATUS_COLOURS",
    "console_page",
    "esc",
    "fmt_count",
    "fmt_duration",
    "fmt_percent",
    "fmt_time",
    "status_badge",
]

#: The console's sections: (key for ``active``, label, path).
NAV: tuple[tuple[str, str, str], ...] = (
    ("overview", "Overview", "/"),
    ("processes", "Processes", "/console/processes"),
    ("executions", "Executions", "/console/executions"),
    ("deployments", "Deployments", "/console/deployments"),
    ("http", "HTTP status", "/console/http"),
    ("audit", "Audit", "/console/audit"),
)

#: One colour per execution status, shared by badges and charts.
STATUS_COLOURS: dict[str, str] = {
    "succeeded": "#2e7d32",
    "succeeded_with_warnings": "#b08800",
    "failed": "#c62828",
    "interrupted": "#ef6c00",
    "cancelled": "#757575",
    "running": "#1565c0",
    "queued": "#78909c",
    "scheduled": "#5e35b1",
    "online": "#2e7d32",
    "offline": "#c62828",
    "paused": "#ef6c00",
}

#: How each status is written for people.
_STATUS_LABELS = {"succeeded_with_warnings": "succeeded with warnings"}

_CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;
background:#f6f8fa}
header.nav{display:flex;align-items:center;gap:1.2rem;background:#24292f;color:#fff;
padding:.55rem 1.5rem;flex-wrap:wrap}
header.nav .brand{font-weight:600;margin-right:.8rem}
header.nav nav{display:flex;gap:1.1rem;flex-wrap:wrap}
header.nav a{color:#d0d7de;text-decoration:none;padding:.2rem 0}
header.nav a:hover{color:#fff}
header.nav a.active{color:#fff;border-bottom:2px solid #fd8c73}
header.nav .user{margin-left:auto;display:flex;gap:.6rem;align-items:center;color:#d0d7de}
header.nav form{margin:0}
header.nav button{background:transparent;color:#d0d7de;border:1px solid #57606a;
border-radius:4px;padding:.1rem .5rem;cursor:pointer;font:inherit}
main{padding:1rem 1.5rem 2rem;max-width:1280px}
h1{font-size:1.45rem;margin:.4rem 0 .8rem}
h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
a{color:#0969da}
table{border-collapse:collapse;margin:.4rem 0 1rem;background:#fff;
border:1px solid #d0d7de;border-radius:6px}
th,td{padding:.3rem .65rem;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600;font-size:13px}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;color:#fff;border-radius:10px;padding:0 .5rem;font-size:12px;
white-space:nowrap}
.muted{color:#656d76}
.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:.4rem 0 1rem}
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.6rem .9rem;
min-width:10rem}
.card .big{font-size:1.5rem;font-weight:600}
.panel{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.6rem;
margin:.4rem 0 1rem;overflow-x:auto}
.windows a{margin-right:.6rem}
.windows a.active{font-weight:600;color:#1f2328;text-decoration:none}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
svg text{font-family:system-ui,sans-serif}
.error{color:#c62828}
"""


def esc(value: Any) -> str:
    """HTML-escaped text of ``value``; None is empty."""
    return html.escape("" if value is None else str(value))


def fmt_duration(seconds: float | None) -> str:
    """A duration for people: "850 ms", "12.4 s", "3 min 05 s", "2 h 03 min"; None is "—"."""
    if seconds is None:
        return "—"
    if seconds < 0:
        seconds = 0.0
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if round(seconds, 1) < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        minutes, secs = divmod(whole, 60)
        return f"{minutes} min {secs:02d} s"
    hours, rest = divmod(whole, 3600)
    return f"{hours} h {rest // 60:02d} min"


def fmt_time(moment: datetime | None) -> str:
    """A moment in UTC, to the second: "2026-12-04 18:57:03 UTC"; naive means UTC; None is "—"."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_count(n: int | float | None) -> str:
    """A count with thousands separators: "12,345"; None is "—"."""
    if n is None:
        return "—"
    return f"{round(n):,}"


def fmt_percent(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a whole percentage ("97%"), "—" when there is no whole.

    Never rounds up to 100% while something failed, nor down to 0% while something passed.
    """
    if whole <= 0:
        return "—"
    value = 100 * part / whole
    shown = round(value)
    if shown == 100 and part < whole:
        shown = 99
    elif shown == 0 and part > 0:
        shown = 1
    return f"{shown}%"


def status_badge(status: Any) -> str:
    """A coloured badge for an execution (or atom) status, written for people."""
    key = str(getattr(status, "value", status) or "")
    colour = STATUS_COLOURS.get(key, "#57606a")
    label = _STATUS_LABELS.get(key, key.replace("_", " "))
    return f"<span class='badge status-{esc(key)}' style='background:{colour}'>{esc(label)}</span>"


def _nav(active: str, user: str | None, logout_field: str) -> str:
    links = "".join(
        f"<a href='{path}'{' class=active aria-current=page' if key == active else ''}>"
        f"{esc(label)}</a>"
        for key, label, path in NAV
    )
    who = ""
    if user:
        who = (
            f"<span class='user'><span>signed in as <b>{esc(user)}</b></span>"
            f"<form method='post' action='/logout'>{logout_field}"
            "<button type='submit'>Log out</button></form></span>"
        )
    return (
        "<header class='nav'><span class='brand'>atomnb console</span>"
        f"<nav aria-label='console'>{links}</nav>{who}</header>"
    )


def console_page(
    title: str,
    body: str,
    *,
    active: str,
    user: str | None = None,
    refresh: int | None = None,
    logout_field: str = "",
) -> str:
    """A whole console page: ``body`` (HTML) under the nav bar with ``active`` highlighted.

    ``active`` is one of the keys in ``NAV`` ("overview", "processes", "executions",
    "deployments", "http", "audit"). ``user`` adds the user's name and a logout form
    (POST /logout); ``logout_field`` is the hidden CSRF input for it
    (``csrf_of(request).field(session_id)``). ``refresh`` reloads the page every so
    many seconds.
    """
    meta = f"<meta http-equiv='refresh' content='{int(refresh)}'>" if refresh else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"{meta}<title>{esc(title)} · atomnb</title><style>{_CSS}</style></head>"
        f"<body>{_nav(active, user, logout_field)}<main>{body}</main></body></html>"
    )
