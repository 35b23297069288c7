"""``%atomnb components``: "used by" comes from parsed calls, not from a name found in text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from atomnb.components import Workspace
from atomnb.nb.inventory import notebook_references, workspace_components


def _notebook(path: Path, *cells: str) -> None:
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": c,
                "outputs": [],
                "execution_count": None,
            }
            for c in cells
        ]
        + [{"cell_type": "markdown", "metadata": {}, "source": 'ab.load_map("invoice")'}],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb), encoding="utf-8")


def _used_by(ws: Workspace) -> dict[str, tuple[str, ...]]:
    return {f"{c.kind}:{c.name}": c.used_by for c in workspace_components(ws)}


def test_calls_keywords_aliases_and_magics_count(example_ws: Workspace) -> None:
    _notebook(
        example_ws.notebooks_dir / "uses.ipynb",
        "%load_ext atomnb\nimport atomnb as ab\n"
        "from atomnb.nb.widgets.mapper import mapper as open_mapper",
        'm = ab.load_map("order_to_invoice")\nrows = ab.read("x.csv", profile="x12_850")',
        'w = open_mapper(name="draft", source="po_line", target="tutorial_invoice")',
        "%atomnb map apply po850_to_lines docs --as lines",
        'shop = ab.connection("tutorial_shop_db")\n'
        'out = ab.map(docs, "tutorial_orders_to_invoices")',
    )
    refs = notebook_references(example_ws)["uses.ipynb"]
    assert refs == {
        "map:order_to_invoice",
        "profile:x12_850",
        "map:draft",
        "profile:po_line",
        "profile:tutorial_invoice",
        "map:po850_to_lines",
        "connection:tutorial_shop_db",
        "map:tutorial_orders_to_invoices",
    }
    used = _used_by(example_ws)
    assert "notebook:uses.ipynb" in used["map:order_to_invoice"]
    assert "notebook:uses.ipynb" in used["connection:tutorial_shop_db"]
    assert "notebook:uses.ipynb" in used["profile:po_line"]


def test_comments_strings_and_other_names_do_not_count(example_ws: Workspace) -> None:
    _notebook(
        example_ws.notebooks_dir / "mentions.ipynb",
        '# ab.load_map("order_to_invoice") is what we used to call\n'
        "note = \"the invoice profile and 'orders' are related\"\n"
        "print('countries')",
        'label = {"map": "order_to_invoice"}\nopen("orders")\nmap(str, ["invoice"])',
        "this cell does not parse (",
    )
    assert notebook_references(example_ws)["mentions.ipynb"] == set()
    used = _used_by(example_ws)
    for key in ("map:order_to_invoice", "profile:invoice", "profile:orders", "xref:countries"):
        assert "notebook:mentions.ipynb" not in used[key], key


def test_the_example_notebooks_are_found_by_their_calls(shell: Any, example_ws: Workspace) -> None:
    root = Path(__file__).resolve().parents[2] / "notebooks"
    for name in ("orders_to_invoices.ipynb", "edi_850_to_warehouse.ipynb"):
        (example_ws.notebooks_dir / name).write_bytes((root / name).read_bytes())
    used = _used_by(example_ws)
    assert "notebook:orders_to_invoices.ipynb" in used["map:order_to_invoice"]
    assert "notebook:edi_850_to_warehouse.ipynb" in used["map:po850_to_lines"]
    result = shell.run_cell("%atomnb components --kind map")
    assert result.success, result.error_in_exec
    assert "notebook:orders_to_invoices.ipynb" in shell.shown[-1]


def test_notebooks_in_subfolders_count_and_outputs_do_not(example_ws: Workspace) -> None:
    """A tutorial in notebooks/tutorials/ uses components too; an output notebook is no user."""
    (example_ws.notebooks_dir / "tutorials").mkdir(exist_ok=True)
    _notebook(
        example_ws.notebooks_dir / "tutorials" / "walk.ipynb",
        'm = ab.load_map("order_to_invoice")',
    )
    (example_ws.notebooks_dir / "output").mkdir(exist_ok=True)
    _notebook(example_ws.notebooks_dir / "output" / "run.ipynb", 'ab.load_map("order_to_invoice")')
    refs = notebook_references(example_ws)
    assert refs["tutorials/walk.ipynb"] == {"map:order_to_invoice"}
    assert not any(name.startswith("output/") for name in refs)
    assert "notebook:tutorials/walk.ipynb" in _used_by(example_ws)["map:order_to_invoice"]
