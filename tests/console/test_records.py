"""The console's record pages on a real atom: executions, one execution, deployments.

One atom for the module (``tests.console.records_atom``) with real executions:
succeeded, with warnings (a rejected document), failed, and a hostile output
notebook. HTTP tests check routes, headers and the API's filters; browser tests
(headless Debian Chromium through Playwright) check what a person sees, and
keep screenshots in ``$ATOMNB_TEST_ARTIFACTS``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from atomnb.atom.service import Atom
from tests.browser.conftest import CHROMIUM, TIMEOUT_MS, shared_browser
from tests.console.records_atom import RecordsAtom, build
from tests.console.test_sanitize_notebook import _check_harmless

pytestmark = pytest.mark.atom

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordsAtom]:
    built = build(tmp_path_factory.mktemp("records"))
    yield built
    built.atom.stop()


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()]


# -- HTTP --------------------------------------------------------------------------------


def test_the_old_execution_address_leads_to_the_console(records: RecordsAtom) -> None:
    failed = records.ids["failed"]
    answer = httpx.get(f"{records.url}/executions/{failed}", timeout=60, follow_redirects=True)
    assert answer.status_code == 200
    assert str(answer.url).endswith(f"/console/executions/{failed}")
    assert "the shop refused order A-2" in answer.text


def test_api_executions_filters_and_pages(records: RecordsAtom) -> None:
    ids = records.ids
    assert _ids(records.get("/api/executions", status="failed")) == [ids["failed"]]
    two = records.get("/api/executions", status=["failed", "succeeded_with_warnings"])
    assert set(_ids(two)) == {ids["failed"], ids["succeeded_with_warnings"]}
    tracked = records.get(
        "/api/executions", field="id", value="A-2", status="succeeded_with_warnings"
    )
    assert _ids(tracked) == [ids["succeeded_with_warnings"]]
    assert _ids(records.get("/api/executions", environment="nowhere")) == []

    # One row per page, followed by cursor: every shop execution, newest first, once.
    seen: list[str] = []
    params: dict[str, Any] = {"process": "shop", "limit": 1, "status": "failed,succeeded"}
    for _ in range(10):
        answer = records.get("/api/executions", **params)
        seen += _ids(answer)
        assert answer.headers["X-Total-Count"] == "2"
        cursor = answer.headers.get("X-Next-Cursor")
        if cursor is None:
            break
        params["after"] = cursor
    assert sorted(seen) == sorted([ids["failed"], ids["succeeded"]]) and len(seen) == 2

    wrong = records.get("/api/executions", status="exploded")
    assert wrong.status_code == 400 and "unknown execution status" in wrong.json()["error"]
    bad_date = records.get("/api/executions", **{"from": "last tuesday"})
    assert bad_date.status_code == 400 and "not a date" in bad_date.json()["error"]


def test_output_notebook_is_sanitized_and_locked_down(records: RecordsAtom) -> None:
    answer = records.get(f"/console/executions/{records.ids['hostile']}/notebook")
    assert answer.status_code == 200
    assert answer.headers["Content-Security-Policy"].startswith(CSP)
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "visible text" in answer.text
    _check_harmless(answer.text)
    page = records.get(f"/console/executions/{records.ids['hostile']}").text
    assert re.search(r"<iframe[^>]* sandbox[ >]", page), "the notebook is not in a sandbox"


def test_a_form_without_its_csrf_token_changes_nothing(records: RecordsAtom) -> None:
    before = len(_ids(records.get("/api/executions", process="shop", limit=1000)))
    answer = records.post_form(f"/console/executions/{records.ids['failed']}/retry", {})
    assert answer.status_code == 403
    wrong = records.post_form(
        f"/console/executions/{records.ids['failed']}/retry", {"csrf_token": "0" * 64}
    )
    assert wrong.status_code == 403
    assert len(_ids(records.get("/api/executions", process="shop", limit=1000))) == before


def test_cancel_button_cancels_a_running_execution(records: RecordsAtom) -> None:
    held = records.atom.client.trigger("shop", {"mode": "hold"})
    page = f"/console/executions/{held['id']}"
    records.atom.wait_for(
        lambda: records.atom.client.execution(held["id"])["status"] == "running",
        timeout_s=300,
        what="the held run to start",
    )
    assert "/cancel'" in records.get(page).text
    answer = records.post_form(f"{page}/cancel", {"csrf_token": records.csrf(page)})
    assert answer.status_code == 303 and answer.headers["location"].startswith(page)
    assert records.atom.finished(held["id"], timeout_s=300)["status"] == "cancelled"


def test_an_unknown_execution_is_a_404_page(records: RecordsAtom) -> None:
    answer = records.get("/console/executions/nope")
    assert answer.status_code == 404 and "no execution with id" in answer.text


# -- in the browser ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Any:
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"Chromium not found at {CHROMIUM}"
    elif importlib.util.find_spec("playwright") is None:
        missing = "playwright is not installed"
    if missing:
        if os.environ.get("ATOMNB_REQUIRE_BROWSER") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    return shared_browser()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("ATOMNB_TEST_ARTIFACTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    yield opened
    context.close()


@pytest.mark.browser
def test_a_failure_shows_its_reason_and_log_line(
    records: RecordsAtom, page: Any, artifacts: Path
) -> None:
    page.goto(f"{records.url}/console/executions/{records.ids['failed']}")
    reason = page.locator(".reason").inner_text()
    assert "RuntimeError: the shop refused order A-2" in reason
    assert "failed cell: 2" in reason
    line = page.locator("table.log tr.level-error")
    assert line.count() == 1
    assert "the shop refused order A-2" in line.inner_text()
    assert "notify" in line.inner_text()
    flow = page.locator(".flow .shape")
    assert [flow.nth(n).locator(".n").inner_text() for n in range(flow.count())] == [
        "1",
        "2",
        "3",
        "4",
    ]
    assert "true: 1" in flow.nth(1).inner_text() and "false: 2" in flow.nth(1).inner_text()
    page.screenshot(path=str(artifacts / "records-failed-execution.png"), full_page=True)


@pytest.mark.browser
def test_a_rejected_document_shows_its_rule(
    records: RecordsAtom, page: Any, artifacts: Path
) -> None:
    page.goto(f"{records.url}/console/executions/{records.ids['succeeded_with_warnings']}")
    rows = page.locator("table.rejections tbody tr")
    assert rows.count() == 1
    cells = rows.first.locator("td").all_inner_texts()
    assert cells[2:4] == ["3", "positive total"], cells
    assert "A-9" not in page.locator("table.rejections").inner_text()  # never the contents
    page.screenshot(path=str(artifacts / "records-rejected-document.png"), full_page=True)


@pytest.mark.browser
def test_filters_narrow_the_list(records: RecordsAtom, page: Any, artifacts: Path) -> None:
    page.goto(f"{records.url}/console/executions")
    ids = page.locator("table.executions tbody tr td:first-child").all_inner_texts()
    assert records.ids["succeeded"] in ids and records.ids["failed"] in ids
    page.select_option("select[name=status]", ["failed"])
    page.select_option("select[name=process]", "shop")
    page.click("button:text('Filter')")
    page.wait_for_url(re.compile(r".*status=failed.*"))
    rows = page.locator("table.executions tbody tr")
    statuses = rows.locator(".badge").all_inner_texts()
    assert statuses and set(statuses) == {"failed"}, statuses
    shown = rows.locator("td:first-child").all_inner_texts()
    assert records.ids["failed"] in shown and records.ids["succeeded"] not in shown
    page.screenshot(path=str(artifacts / "records-filtered-list.png"), full_page=True)


@pytest.mark.browser
def test_the_notebook_shows_in_its_sandbox_without_running_anything(
    records: RecordsAtom, page: Any
) -> None:
    page.goto(f"{records.url}/console/executions/{records.ids['hostile']}")
    frame = page.frame_locator("iframe.notebook")
    assert frame.locator(".output_html p").inner_text() == "visible text"
    assert page.title() != "pwned" and "pwned" not in page.locator("body").inner_text()


@pytest.mark.browser
def test_retry_runs_it_again(records: RecordsAtom, page: Any, artifacts: Path) -> None:
    failed = records.ids["failed"]
    page.goto(f"{records.url}/console/executions/{failed}")
    page.click("button:text('Retry')")
    page.wait_for_url(re.compile(r".*/console/executions/(?!" + failed + r")\w+\?notice=.*"))
    new_id = page.url.split("/console/executions/")[1].split("?")[0]
    assert new_id != failed
    assert f"a retry of {failed}" in page.locator(".notice").inner_text()
    again = records.atom.finished(new_id, timeout_s=300)
    assert (again["process"], again["parameters"], again["trigger"]) == (
        "shop",
        {"mode": "fail"},
        "manual",
    )
    assert again["status"] == "failed"
    assert (again["retry_of"], again["attempt"]) == (failed, 2)  # linked to what it retries
    page.reload()
    assert "RuntimeError: the shop refused order A-2" in page.locator(".reason").inner_text()
    page.screenshot(path=str(artifacts / "records-retried-execution.png"), full_page=True)


@pytest.mark.browser
def test_a_deployment_diff_reads_as_cells_and_files(
    records: RecordsAtom, page: Any, artifacts: Path
) -> None:
    page.goto(f"{records.url}/console/deployments")
    page.click("a[href='/console/deployments/evolving']")
    page.click("a:text('changes from 1')")
    diff = page.locator("div.diff")
    text = diff.inner_text()
    assert "Changes from version 1 to 2" in text
    assert "parameters cell 1" in text and "+limit = 4" in text and "-limit = 3" in text
    assert "-    total += n" in text and "+    total += n * 2" in text
    assert "print('added cell')" in text
    added = diff.locator("section.file-change", has_text="notebooks/data/rates.csv")
    assert added.locator(".change").inner_text() == "added"
    page.screenshot(path=str(artifacts / "records-deployment-diff.png"), full_page=True)


@pytest.mark.browser
def test_rollback_takes_effect(records: RecordsAtom, page: Any, artifacts: Path) -> None:
    if not callable(getattr(Atom, "rollback", None)):
        pytest.skip("the atom has no rollback yet (engineer runtime)")

    def active() -> int:
        history = records.get("/api/deployments/evolving").json()
        return int(next(d["version"] for d in history if d["active"]))

    assert active() == 2
    page.goto(f"{records.url}/console/deployments/evolving")
    assert page.locator(".active-version").inner_text() == "2"
    page.click("button:text('Roll back to 1')")
    page.wait_for_url(re.compile(r".*notice=.*"))
    assert page.locator(".active-version").inner_text() == "1"
    assert "version 1 is active" in page.locator(".notice").inner_text()
    page.screenshot(path=str(artifacts / "records-rolled-back.png"), full_page=True)
    assert active() == 1
    run = records.atom.client.trigger("evolving", {}, wait=True, wait_timeout_s=300)
    assert (run["status"], run["deployment_version"]) == ("succeeded", 1)
    deadline = time.monotonic() + 180  # generous on loaded cores
    while time.monotonic() < deadline:
        log = records.get(f"/api/executions/{run['id']}/notebook").text
        if "v1 total" in log:
            break
        time.sleep(0.5)
    assert "v1 total" in log and "v2 total" not in log


def test_rejections_are_listed_by_rule_without_contents(records: RecordsAtom) -> None:
    """business_rules only counted its rejections before: now each is a log line with its rule."""
    page = records.get(f"/console/executions/{records.ids['succeeded_with_warnings']}").text
    table = page.split("<table class='rejections'>")[1].split("</table>")[0]
    assert "<code>positive total</code>" in table and ">3</td>" in table
    assert "A-9" not in table and "-5" not in table
