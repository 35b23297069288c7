"""The notebook dashboard's report drawn in a real JupyterLab (headless Chromium): the
chart's axes and legend, a process's success rate and its latest failure, from a real atom."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from atomnb.components import Workspace
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
from tests.conftest import make_notebook

__all__ = ["artifacts", "browser", "browser_ready", "lab", "page", "start_atom"]  # fixtures

pytestmark = [pytest.mark.browser, pytest.mark.atom]

WAIT_MS = 240_000


@pytest.mark.timeout(600)
def test_the_dashboard_report_renders_in_jupyterlab(
    page: Any,
    lab: Lab,
    start_atom: Callable[..., AtomProcess],
    artifacts: Path,
    tmp_path: Path,
) -> None:
    atom = start_atom()
    notebook = make_notebook(
        Workspace.init(tmp_path / "ws", name="picky").notebooks_dir / "picky.ipynb",
        "if fail:\n    raise RuntimeError('picky refused the order')",
        parameters="fail = False",
    )
    atom.deploy(notebook)
    ok = atom.client.trigger("picky", {}, wait=True, wait_timeout_s=240)
    bad = atom.client.trigger("picky", {"fail": True}, wait=True, wait_timeout_s=240)
    assert (ok["status"], bad["status"]) == ("succeeded", "failed")

    path = lab.notebook(
        "dash",
        f"from atomnb.nb.widgets.dashboard import dashboard\ndashboard(atom='{atom.url}')",
    )
    open_and_run(page, lab, path)
    report = page.locator(".atomnb-dashboard .ad-report")
    report.wait_for(state="visible", timeout=WAIT_MS)
    chart = report.locator("svg.chart")
    texts = chart.locator("text").all_text_contents()
    assert "hour (UTC)" in texts and "executions" in texts
    assert {"succeeded", "failed"} <= set(texts)  # the legend
    box = chart.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100
    assert report.locator("td.ad-rate").first.inner_text() == "50%"
    failures = report.locator("ul.ad-failures").inner_text()
    assert bad["id"] in failures and "picky refused the order" in failures
    page.locator(".atomnb-dashboard").screenshot(path=str(artifacts / "nb_dashboard_report.png"))
