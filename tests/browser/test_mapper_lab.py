"""The visual mapper inside a real JupyterLab: drag a link, add a function, preview, save.

Run alone with ``pytest -m browser``. Each step waits for what the user would see
(generous timeouts, no sleeps), and the end state is checked on disk too.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.browser.conftest import Lab, open_and_run

pytestmark = pytest.mark.browser

SETUP = (
    "%load_ext atomnb\n"
    "from atomnb.nb.widgets.mapper import mapper\n"
    "w = mapper(source='orders', target='invoice', name='{name}',\n"
    "           documents='../notebooks/data/orders.jsonl')\n"
    "w"
)


def first_cell(page: Any, column: str) -> Any:
    return page.locator(f".am-preview-table tbody tr >> nth=0 >> td[data-column='{column}']")


def test_drag_link_add_function_preview_and_save(page: Any, lab: Lab, artifacts: Any) -> None:
    path = lab.notebook("mapper_drag", SETUP.format(name="browser_map"))
    open_and_run(page, lab, path)
    mapper = page.locator(".atomnb-mapper")
    mapper.wait_for(state="visible")
    assert page.locator(".am-source .am-row").count() == 13

    # unmapped mandatory targets are marked before anything is linked
    invoice_id = page.locator(".am-target .am-row[data-path='invoice_id']")
    assert "am-unmapped" in (invoice_id.get_attribute("class") or "")

    # drag a source element onto a target element
    page.locator(".am-source .am-row[data-path='orderId']").drag_to(invoice_id)
    page.locator(".am-target .am-row.am-linked[data-path='invoice_id']").wait_for()
    page.wait_for_function(
        "() => document.querySelector(\".am-preview-table tbody td[data-column='invoice_id']\")"
        "?.textContent === 'SO-00001'"
    )
    assert page.locator(".am-lines path.am-line").count() == 1

    # the new link is open in the editor: add a function from the searchable library
    page.locator(".am-editor .am-add-function").click()
    page.locator(".am-palette-search").fill("replace")
    function = page.locator(".am-function[data-fn='replace']")
    assert "Replace" in function.inner_text() or "replace" in function.inner_text()
    function.click()
    step = page.locator(".am-step[data-fn='replace']")
    step.wait_for()
    step.locator("input[data-arg='old']").fill("SO-")
    step.locator("input[data-arg='old']").press("Tab")
    page.locator(".am-step[data-fn='replace'] input[data-arg='new']").fill("INV-")
    page.locator(".am-step[data-fn='replace'] input[data-arg='new']").press("Tab")
    page.wait_for_function(
        "() => document.querySelector(\".am-preview-table tbody td[data-column='invoice_id']\")"
        "?.textContent === 'INV-00001'"
    )

    mapper.screenshot(path=str(artifacts / "mapper_lab.png"))

    page.locator(".atomnb-mapper .am-save").click()
    page.wait_for_function(
        "() => document.querySelector('.atomnb-mapper .am-status')?.textContent.startsWith('saved')"
    )
    saved = lab.root / "components" / "maps" / "browser_map.yaml"
    body = yaml.safe_load(saved.read_text(encoding="utf-8"))["body"]
    assert body["rules"] == [
        {
            "target": "invoice_id",
            "source": "orderId",
            "steps": [{"fn": "replace", "args": {"old": "SO-", "new": "INV-"}}],
        }
    ]
    assert (artifacts / "mapper_lab.png").stat().st_size > 0


def test_keyboard_linking_select_source_select_target_press_l(page: Any, lab: Lab) -> None:
    path = lab.notebook("mapper_keys", SETUP.format(name="keyboard_map"))
    open_and_run(page, lab, path)
    page.locator(".atomnb-mapper").wait_for(state="visible")

    # L: select a source (Space), select a target (Space), press L
    page.locator(".am-source .am-row[data-path='orderId']").focus()
    page.keyboard.press(" ")
    page.locator(".am-source .am-row.am-selected[data-path='orderId']").wait_for()
    page.locator(".am-target .am-row[data-path='invoice_id']").focus()
    page.keyboard.press(" ")
    page.keyboard.press("l")
    page.locator(".am-target .am-row.am-linked[data-path='invoice_id']").wait_for()

    # Enter: Enter on a source selects it, Enter on a target links it
    page.locator(".am-source .am-row[data-path='customer.email']").focus()
    page.keyboard.press("Enter")
    target = page.locator(".am-target .am-row[data-path='email']")
    target.focus()
    page.keyboard.press("ArrowUp")  # arrows move along the tree
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.locator(".am-target .am-row.am-linked[data-path='email']").wait_for()
    page.wait_for_function(
        "() => document.querySelector(\".am-preview-table tbody td[data-column='email']\")"
        "?.textContent === 'buyer1@Example.com'"
    )
    # the notebook did not take the keys for itself (no new cells, still one cell)
    assert page.locator(".jp-Notebook .jp-Cell").count() == 1


def test_search_filters_a_large_profile(page: Any, lab: Lab) -> None:
    cells = (
        "%load_ext atomnb\n"
        "import atomnb as ab\n"
        "from atomnb.maps import Map\n"
        "from atomnb.nb.widgets.mapper import MapperWidget\n"
        "wide = ab.Profile('wide', tuple(ab.Element(f'field_{i:03d}') for i in range(250)))\n"
        "w = MapperWidget(Map('wide_map', wide, wide, ()))\n"
        "w"
    )
    path = lab.notebook("mapper_wide", cells)
    open_and_run(page, lab, path)
    page.locator(".atomnb-mapper").wait_for(state="visible")
    assert page.locator(".am-source .am-row").count() == 250
    page.locator(".am-source .am-search").fill("field_24")
    page.wait_for_function("() => document.querySelectorAll('.am-source .am-row').length === 10")
    assert page.locator(".am-target .am-row").count() == 250
