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

    # a map with a mandatory target not mapped is not saved; the status says why
    page.locator(".atomnb-mapper .am-save").click()
    page.wait_for_function(
        "() => document.querySelector('.atomnb-mapper .am-status')?.textContent"
        ".startsWith('not saved: 1 problem(s)')"
    )
    assert "order_date" in page.locator(".atomnb-mapper .am-status").inner_text()
    saved = lab.root / "components" / "maps" / "browser_map.yaml"
    assert not saved.exists()

    order_date = page.locator(".am-target .am-row[data-path='order_date']")
    page.locator(".am-source .am-row[data-path='orderDate']").drag_to(order_date)
    page.locator(".am-target .am-row.am-linked[data-path='order_date']").wait_for()
    page.locator(".am-editor .am-add-function").click()
    page.locator(".am-palette-search").fill("parse_date")
    page.locator(".am-function[data-fn='parse_date']").click()
    mask = page.locator(".am-step[data-fn='parse_date'] input[data-arg='mask']")
    mask.fill("%Y-%m-%dT%H:%M:%SZ")
    mask.press("Tab")
    page.wait_for_function(
        "() => document.querySelector(\".am-preview-table tbody td[data-column='order_date']\")"
        "?.textContent === '2026-02-11'"
    )
    page.locator(".atomnb-mapper .am-save").click()
    page.wait_for_function(
        "() => document.querySelector('.atomnb-mapper .am-status')?.textContent.startsWith('saved')"
    )
    body = yaml.safe_load(saved.read_text(encoding="utf-8"))["body"]
    assert body["rules"][0] == {
        "target": "invoice_id",
        "source": "orderId",
        "steps": [{"fn": "replace", "args": {"old": "SO-", "new": "INV-"}}],
    }
    assert (artifacts / "mapper_lab.png").stat().st_size > 0


def test_arguments_are_typed_fields_and_errors_show_beside_them(page: Any, lab: Lab) -> None:
    path = lab.notebook("mapper_typed", SETUP.format(name="typed_map"))
    open_and_run(page, lab, path)
    page.locator(".atomnb-mapper").wait_for(state="visible")

    # greater_than on an integer: its value is a number field, and the preview fills
    priority = page.locator(".am-target .am-row[data-path='priority']")
    page.locator(".am-source .am-row[data-path='status']").drag_to(priority)
    page.locator(".am-target .am-row.am-linked[data-path='priority']").wait_for()
    page.locator(".am-editor .am-add-function").click()
    page.locator(".am-palette-search").fill("greater_than")
    page.locator(".am-function[data-fn='greater_than']").click()
    value = page.locator(".am-step[data-fn='greater_than'] input[data-arg='value']")
    value.wait_for()
    assert value.get_attribute("type") == "number"
    value.fill("15")
    value.press("Tab")
    page.wait_for_function(
        "() => document.querySelector(\".am-preview-table tbody td[data-column='priority']\")"
        "?.textContent === 'false'"
    )

    # round's digits is a whole number: 2.5 is refused beside the field, as typed
    line_count = page.locator(".am-target .am-row[data-path='line_count']")
    page.locator(".am-source .am-row[data-path='status']").drag_to(line_count)
    page.locator(".am-target .am-row.am-linked[data-path='line_count']").wait_for()
    page.locator(".am-editor .am-add-function").click()
    page.locator(".am-palette-search").fill("round")
    page.locator(".am-function[data-fn='round']").click()
    digits = page.locator(".am-step[data-fn='round'] input[data-arg='digits']")
    digits.wait_for()
    assert digits.get_attribute("type") == "number"
    digits.fill("2.5")
    digits.press("Tab")
    error = page.locator(".am-step[data-fn='round'] .am-arg-error[data-arg='digits']")
    error.wait_for()
    assert error.inner_text() == "'2.5' is not a whole number"
    field = page.locator(".am-step[data-fn='round'] input[data-arg='digits']")
    assert field.input_value() == "2.5" and field.get_attribute("aria-invalid") == "true"


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
