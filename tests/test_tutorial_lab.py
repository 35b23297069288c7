"""The tutorial walked in a real JupyterLab: run all, and the scheduled run shows in the dashboard.

Headless Chromium drives JupyterLab (tests/browser fixtures) on the tutorial,
pointed at a real atom through its ``atom_url`` parameter (the Lab server's
environment is fixed before the atom exists). Run alone with ``pytest -m browser``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

import nbformat
import pytest

from tests.atom.conftest import AtomProcess, start_atom
from tests.browser.conftest import (
    Lab,
    artifacts,
    browser,
    browser_ready,
    lab,
    open_and_run,
    page,
)
from tests.conftest import ROOT

__all__ = ["artifacts", "browser", "browser_ready", "lab", "page", "start_atom"]  # fixtures

pytestmark = [pytest.mark.browser, pytest.mark.atom]

PATH = "notebooks/tutorials/tutorial_sample_to_schedule.ipynb"
WAIT_MS = 600_000  # the whole tutorial on a loaded machine, and a schedule to fire


@pytest.mark.timeout(900)
def test_tutorial_run_in_jupyterlab_shows_the_scheduled_run(
    page: Any,
    lab: Lab,
    start_atom: Callable[..., AtomProcess],
    artifacts: Any,
) -> None:
    atom = start_atom()
    shutil.copytree(ROOT / "extensions", lab.root / "extensions", dirs_exist_ok=True)
    nb = nbformat.read(ROOT / PATH, as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert 'atom_url = ""' in params.source
    params.source = params.source.replace('atom_url = ""', f'atom_url = "{atom.url}"')
    (lab.root / PATH).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, lab.root / PATH)

    open_and_run(page, lab, PATH)

    # the mapper shows the targets the tutorial linked
    for target in ("invoice_id", "customer", "country_code", "total"):
        page.locator(f".am-target .am-row.am-linked[data-path='{target}']").wait_for(
            timeout=WAIT_MS
        )
    # the dashboard widget lists a succeeded run started by the schedule
    dashboard = page.locator(".atomnb-dashboard")
    dashboard.wait_for(state="visible", timeout=WAIT_MS)
    title = dashboard.locator(".ad-head b").inner_text()
    assert title.startswith(f"Executions on the atom at {atom.url}")
    scheduled = [
        e
        for e in atom.client.executions(process="sample_invoices", limit=100)
        if e["trigger"] == "schedule" and e["status"] == "succeeded"
    ]
    assert scheduled
    ids = dashboard.locator("tr.ad-run-succeeded").evaluate_all(
        "rows => rows.map(r => r.dataset.id)"
    )
    assert {e["id"] for e in scheduled} & set(ids)
    dashboard.screenshot(path=str(artifacts / "tutorial_dashboard.png"))
    # the last cells undeploy the process: no schedule of the tutorial is left on the atom
    page.locator(".atomnb-undeployed").wait_for(timeout=WAIT_MS)
    assert "sample_invoices" not in {s["process"] for s in atom.client.schedules()}
    assert "sample_invoices" not in {d["process"] for d in atom.client.deployments()}
