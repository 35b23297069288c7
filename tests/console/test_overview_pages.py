"""The Overview, Processes and HTTP status pages of a real atom with real executions of
every status (the shared ``console_atom``)."""

from __future__ import annotations

import importlib.util
import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.browser.conftest import CHROMIUM, TIMEOUT_MS, artifacts, shared_browser
from tests.console.conftest import TICKER_ZONE, ConsoleAtom

__all__ = ["artifacts"]  # the session fixture, imported to be found here

pytestmark = pytest.mark.atom


def _get(console: ConsoleAtom, path: str) -> httpx.Response:
    return httpx.get(console.url + path, timeout=60)


def _row(page: str, process: str, version: str) -> str:
    rows = re.findall(rf"<tr class='process-row' data-process='{process}'>(.*?)</tr>", page)
    found = [r for r in rows if _cells(r)[1] == version]
    assert found, f"no row for {process} {version}"
    return found[0]


def _cells(row: str) -> list[str]:
    return [re.sub("<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]


def test_overview_shows_atoms_charts_and_the_failing_process(console_atom: ConsoleAtom) -> None:
    page = _get(console_atom, "/").text
    assert "<h1>Overview</h1>" in page and "href='/' class=active" in page
    # this atom, online
    assert "(this atom)" in page and "status-online" in page
    # the executions chart: axes, titles, legend with every status that happened
    assert "Executions by status, last day" in page
    assert re.search(r"class='x-title'[^>]*>time \(UTC\), buckets of 1 h<", page)
    assert "class='y-title' transform='rotate(-90)'" in page and ">executions</text>" in page
    for label in ("succeeded", "with warnings", "failed", "interrupted"):
        assert f"font-size='12'>{label}</text>" in page, label
    bars = re.findall(r"data-series='([^']+)' data-value='(\d+)'", page)
    per_status: dict[str, int] = {}
    for series, value in bars:
        per_status[series] = per_status.get(series, 0) + int(value)
    assert per_status["failed"] >= 1 and per_status["interrupted"] >= 1
    assert per_status["succeeded"] >= 3 and per_status["with warnings"] >= 1
    # top failing: orders, failed + interrupted of its finished runs; the last error
    failing = page.split("Top failing processes")[1].split("</table>")[0]
    assert "/console/processes/orders'>orders</a>" in failing and "2 of 5" in failing
    assert "ticker" not in failing
    assert "interrupted: the atom was stopped" in failing
    # latest executions link to the console's execution pages, times for people
    assert f"/console/executions/{console_atom.ids['failed']}" in page
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page)
    assert "<script" not in page


def test_overview_windows(console_atom: ConsoleAtom) -> None:
    hour = _get(console_atom, "/?window=hour").text
    assert "Executions by status, last hour" in hour and "buckets of 5 min" in hour
    assert "href='/?window=hour' class=active" in hour
    week = _get(console_atom, "/?window=week").text
    assert "Executions by status, last week" in week
    bad = _get(console_atom, "/?window=year")
    assert bad.status_code == 400
    assert "unknown window 'year'" in bad.json()["error"]


def test_processes_page_counts_each_version_apart(console_atom: ConsoleAtom) -> None:
    page = _get(console_atom, "/console/processes").text
    assert "href='/console/processes' class=active" in page
    # cells: process, version, rate, succeeded, warnings, failed, p50, p95, docs, tracked, last
    v1 = _cells(_row(page, "orders", "v1"))
    assert v1[2] == "67% of 3" and v1[3:6] == ["1", "1", "1"]
    # documents: 3 + 4 + 3 started; the last shapes: track kept 1, business rules 3 + 1, notify 1
    assert v1[8] == "10 → 6"
    assert v1[9] == "id"
    assert re.fullmatch(r"[\d.]+ (ms|s)|\d+ min \d\d s", v1[6]) and v1[7] != "—"
    v2 = _cells(_row(page, "orders", "v2 (active)"))
    assert v2[2] == "50% of 2" and v2[3:6] == ["1", "0", "1"] and v2[8] == "6 → 2"
    ticker = _cells(_row(page, "ticker", "v1 (active)"))
    assert ticker[2] == "100% of 1" and ticker[9] == "—"
    # the schedule: cron, time zone, next fire (tomorrow)
    schedules = page.split("Deployed and scheduled")[1].split("</table>")[0]
    assert f"<code>{console_atom.ticker_cron}</code>" in schedules
    assert TICKER_ZONE in schedules
    tomorrow = (datetime.now(UTC) + timedelta(hours=23)).strftime("%Y-%m-%d")
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert f"next: {tomorrow}" in schedules or f"next: {today}" in schedules
    assert "not scheduled" in schedules  # orders


def test_one_process_has_its_charts(console_atom: ConsoleAtom) -> None:
    page = _get(console_atom, "/console/processes/orders?window=hour").text
    assert "<h1>orders</h1>" in page and "Active version: v2" in page
    assert "Documents in and out of orders" in page
    assert "class='y-title' transform='rotate(-90)'" in page and ">documents</text>" in page
    points = re.findall(r"class='point' data-series='documents in' data-value='(\d+)'", page)
    assert sum(int(p) for p in points) == 10 + 6  # v1's three runs, v2's two
    assert "ticker" not in page.split("<h1>")[1]


def test_http_status_page(console_atom: ConsoleAtom) -> None:
    page = _get(console_atom, "/console/http?window=hour").text
    assert "<h1>HTTP status</h1>" in page and "href='/console/http' class=active" in page
    assert "all routes" in page and "p95" in page
    assert (
        "Requests by status code, last hour" in page
        or "no listener or API requests counted in the last hour" in page
    )


def test_old_execution_page_still_leads_to_the_execution(console_atom: ConsoleAtom) -> None:
    execution = console_atom.ids["failed"]
    answer = httpx.get(f"{console_atom.url}/executions/{execution}", timeout=60)
    assert answer.status_code in (200, 303, 307)
    if answer.status_code != 200:
        assert execution in answer.headers["location"]


# -- what a person sees, in headless Chromium ----------------------------------------------


@pytest.fixture
def chromium_page(artifacts: Path) -> Iterator[Any]:
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"Chromium not found at {CHROMIUM}"
    elif importlib.util.find_spec("playwright") is None:
        missing = "playwright is not installed"
    if missing:
        if os.environ.get("ATOMNB_REQUIRE_BROWSER") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    context = shared_browser().new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    elsewhere: list[str] = []

    def route(request_route: Any) -> None:  # the console must load nothing from elsewhere
        url = request_route.request.url
        if url.startswith("data:") or (urlsplit(url).hostname or "") == "127.0.0.1":
            request_route.continue_()
        else:
            elsewhere.append(url)
            request_route.abort()

    page.route("**/*", route)
    yield page
    context.close()
    assert elsewhere == []


@pytest.mark.browser
def test_a_person_sees_the_overview(
    console_atom: ConsoleAtom, chromium_page: Any, artifacts: Path
) -> None:
    page = chromium_page
    page.goto(console_atom.url + "/")
    chart = page.locator("svg.chart").first
    assert chart.is_visible()
    texts = chart.locator("text").all_text_contents()
    assert "executions" in texts and "time (UTC), buckets of 1 h" in texts
    assert {"succeeded", "failed", "interrupted", "with warnings"} <= set(texts)
    assert "0" in texts  # the value axis starts at zero
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 150
    failing = page.locator("table.failing")
    assert "orders" in failing.inner_text() and "2 of 5" in failing.inner_text()
    assert page.locator("nav a.active").inner_text() == "Overview"
    page.screenshot(path=str(artifacts / "console_overview.png"), full_page=True)


@pytest.mark.browser
def test_a_person_sees_success_rates_per_version(
    console_atom: ConsoleAtom, chromium_page: Any, artifacts: Path
) -> None:
    page = chromium_page
    page.goto(console_atom.url + "/console/processes")
    v1 = page.locator("tr.process-row", has_text="v1").filter(has_text="orders").first
    assert v1.locator(".rate").inner_text() == "67%"
    assert page.locator("table.schedules").inner_text().count(TICKER_ZONE) == 1
    page.get_by_role("link", name="orders").first.click()
    page.wait_for_selector("h1:text('orders')")
    titles = page.locator("svg.chart > title").all_text_contents()
    assert "Documents in and out of orders" in titles
    assert page.locator("svg.chart circle.point").count() > 0
    page.screenshot(path=str(artifacts / "console_processes_orders.png"), full_page=True)


@pytest.mark.browser
def test_a_person_sees_http_status_by_code_and_route(
    console_atom: ConsoleAtom, chromium_page: Any, artifacts: Path
) -> None:
    for _ in range(3):  # counted under the route's template, answered 404
        missing = httpx.post(f"{console_atom.url}/listen/no_such_process", json=[], timeout=60)
        assert missing.status_code == 404
    page = chromium_page

    def shows_the_404s() -> bool:  # counts reach the store every few seconds
        page.goto(console_atom.url + "/console/http?window=hour")
        return page.locator("svg.chart [data-series='404']").count() > 0

    deadline = time.monotonic() + 180  # generous on loaded cores
    while not shows_the_404s():
        assert time.monotonic() < deadline, "the 404s never reached the HTTP status page"
        time.sleep(1)
    chart = page.locator("svg.chart").first
    texts = chart.locator("text").all_text_contents()
    assert "requests" in texts and "404" in texts  # the value axis and the legend
    counted = sum(
        int(v)
        for v in chart.locator("[data-series='404']").evaluate_all(
            "bars => bars.map(b => b.getAttribute('data-value'))"
        )
    )
    assert counted >= 3
    route = page.locator("tr", has_text="/listen/{process}").first
    assert "404" in route.inner_text()
    assert page.locator("nav a.active").inner_text() == "HTTP status"
    page.screenshot(path=str(artifacts / "console_http_status.png"), full_page=True)
