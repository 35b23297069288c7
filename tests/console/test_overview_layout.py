"""The console's frame and formatting helpers: what a person reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from atomnb.store import ExecutionStatus
from atomnb.web.console.layout import (
    console_page,
    fmt_count,
    fmt_duration,
    fmt_percent,
    fmt_time,
    status_badge,
)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.85, "850 ms"),
        (0.0004, "0 ms"),
        (12.44, "12.4 s"),
        (59.96, "1 min 00 s"),
        (185, "3 min 05 s"),
        (7390, "2 h 03 min"),
        (None, "—"),
    ],
)
def test_durations_for_people(seconds: float | None, text: str) -> None:
    assert fmt_duration(seconds) == text


def test_times_in_utc_to_the_second() -> None:
    naive = datetime(2026, 12, 4, 18, 57, 3, 123456)
    assert fmt_time(naive) == "2026-12-04 18:57:03 UTC"
    plus_one = datetime(2026, 12, 4, 19, 57, 3, 999, tzinfo=timezone(timedelta(hours=1)))
    assert fmt_time(plus_one) == "2026-12-04 18:57:03 UTC"
    assert fmt_time(datetime(2026, 1, 2, tzinfo=UTC)) == "2026-01-02 00:00:00 UTC"
    assert fmt_time(None) == "—"


def test_counts_and_percentages() -> None:
    assert fmt_count(1234567) == "1,234,567"
    assert fmt_count(0) == "0"
    assert fmt_percent(999, 1000) == "99%"  # not rounded up to 100% while one failed
    assert fmt_percent(1, 1000) == "1%"
    assert fmt_percent(3, 4) == "75%"
    assert fmt_percent(0, 0) == "—"


def test_status_badge_says_the_status_in_words() -> None:
    badge = status_badge(ExecutionStatus.SUCCEEDED_WITH_WARNINGS)
    assert ">succeeded with warnings<" in badge
    assert "status-succeeded_with_warnings" in badge
    assert ">failed<" in status_badge("failed")
    assert "&lt;b&gt;" in status_badge("<b>")


def test_frame_has_every_section_and_marks_the_active_one() -> None:
    page = console_page("Processes", "<p>body</p>", active="processes")
    for label, path in [
        ("Overview", "/"),
        ("Processes", "/console/processes"),
        ("Executions", "/console/executions"),
        ("Deployments", "/console/deployments"),
        ("HTTP status", "/console/http"),
        ("Audit", "/console/audit"),
    ]:
        assert f"href='{path}'" in page and f">{label}</a>" in page
    assert "href='/console/processes' class=active" in page
    assert "href='/' class=active" not in page
    assert "<p>body</p>" in page
    assert "Log out" not in page  # no user, no logout form
    assert "<script" not in page and "http://" not in page and "https://" not in page


def test_frame_with_a_user_has_a_logout_form_and_refresh() -> None:
    page = console_page(
        "<x>", "", active="overview", user="ann<", refresh=10, logout_field="<input name=c>"
    )
    assert "signed in as <b>ann&lt;</b>" in page
    assert "action='/logout'" in page and "<input name=c>" in page
    assert "content='10'" in page
    assert "<title>&lt;x&gt; · atomnb</title>" in page
