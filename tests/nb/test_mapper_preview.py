"""The preview: nothing "mapped" by an empty map, the source value beside a failed row, and an
impossible date named as such."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atomnb.components import Workspace
from atomnb.documents import Documents
from atomnb.formats import read
from atomnb.maps import Map
from atomnb.nb.widgets.mapper import MapperWidget
from atomnb.profiles import load_profile


@pytest.fixture
def docs(example_ws: Workspace) -> Documents:
    out = read(example_ws.notebooks_dir / "data" / "orders.jsonl")
    assert isinstance(out, Documents)
    return out


@pytest.fixture
def empty(example_ws: Workspace) -> Map:
    return Map("draft", load_profile("orders"), load_profile("invoice"), ())


def send(widget: MapperWidget, **content: object) -> None:
    widget._on_message(widget, content, [])


def test_an_empty_map_maps_nothing(empty: Map, docs: Documents) -> None:
    widget = MapperWidget(empty, documents=docs)
    assert widget.preview["mapped"] == 0 and widget.preview["rejected"] == 0
    assert widget.preview["documents"] == 20 and widget.preview["empty"] is True
    assert all(row["outputs"] == [] for row in widget.preview["rows"])
    assert widget.preview["rows"][0]["source"]["orderId"] == "SO-00001"  # samples still shown
    send(widget, action="link", source="orderId", target="invoice_id")
    assert widget.preview["mapped"] == 20 and "empty" not in widget.preview


def test_a_failed_row_shows_the_source_value_and_names_an_impossible_date(
    empty: Map, docs: Documents
) -> None:
    widget = MapperWidget(empty, documents=docs)
    send(widget, action="link", source="orderDate", target="order_date")
    send(widget, action="add_step", target="order_date", fn="parse_date")
    send(
        widget, action="set_args", target="order_date", index=0, args={"mask": "%Y-%m-%dT%H:%M:%SZ"}
    )
    failed = [row for row in widget.preview["rows"] if row["errors"]]
    assert [row["index"] for row in failed] == [6]  # SO-00007 is dated 2026-02-30
    assert failed[0]["errors"] == [
        {
            "rule": "order_date",
            "target": "order_date",
            "message": "impossible date (fits mask %Y-%m-%dT%H:%M:%SZ, but no such day, month "
            "or time)",
            "values": {"orderDate": "2026-02-30T10:00:00Z"},
        }
    ]
    # a text of another shape is still "does not match mask", with its value beside it
    send(widget, action="set_args", target="order_date", index=0, args={"mask": "%d.%m.%Y"})
    first = widget.preview["rows"][0]["errors"][0]
    assert first["message"] == "does not match mask %d.%m.%Y"
    assert first["values"] == {"orderDate": "2026-02-11T16:32:00Z"}


def test_a_failed_repeating_field_shows_the_values_of_its_repetitions(
    empty: Map, tmp_path: Path
) -> None:
    lines = [{"sku": "A", "qty": 1, "unitPrice": 1.5}, {"sku": "B", "qty": 2, "unitPrice": 2.0}]
    order = {
        "orderId": "SO-1",
        "orderDate": "2026-01-01T00:00:00Z",
        "customer": {"firstName": "A", "lastName": "B", "country": "France"},
        "lines": lines,
        "status": 10,
    }
    sample = tmp_path / "one.jsonl"
    sample.write_text(json.dumps(order) + "\n", encoding="utf-8")
    docs = read(sample)
    assert isinstance(docs, Documents)
    widget = MapperWidget(empty, documents=docs)
    send(widget, action="link", source="lines.sku", target="items.sku")
    send(
        widget,
        action="add_step",
        target="items.sku",
        fn="lookup",
        args={"table": "countries", "not_found": "error"},
    )
    (error,) = widget.preview["rows"][0]["errors"]
    assert error["target"] == "items.sku"
    assert error["values"] == {"lines.sku": ["A", "B"]}
