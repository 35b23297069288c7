"""Saving a map: refused with reasons when invalid, no new version when unchanged, from Python too,
and re-running the cell that opens the mapper does not start over what was saved."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from atomnb.components import Workspace
from atomnb.documents import Documents
from atomnb.errors import ValidationErrorGroup
from atomnb.formats import read
from atomnb.maps import Map, Rule, Step, load_map
from atomnb.nb.widgets.mapper import MapperWidget, mapper
from atomnb.profiles import load_profile


@pytest.fixture
def docs(example_ws: Workspace) -> Documents:
    out = read(example_ws.notebooks_dir / "data" / "orders.jsonl")
    assert isinstance(out, Documents)
    return out


@pytest.fixture
def valid(example_ws: Workspace) -> Map:
    """A map that passes check_map: both mandatory targets are given a value."""
    return Map(
        "saved_map",
        load_profile("orders"),
        load_profile("invoice"),
        (
            Rule("invoice_id", ("orderId",)),
            Rule(
                "order_date", ("orderDate",), (Step("parse_date", {"mask": "%Y-%m-%dT%H:%M:%SZ"}),)
            ),
            Rule("status", ("status",), (Step("in_list", {"values": ["10", "20"]}),)),
        ),
    )


def send(widget: MapperWidget, **content: object) -> None:
    widget._on_message(widget, content, [])


def version(ws: Workspace, name: str) -> int:
    path = ws.components_dir / "maps" / f"{name}.yaml"
    return int(yaml.safe_load(path.read_text(encoding="utf-8"))["version"])


def test_save_refuses_an_invalid_map_listing_every_reason(
    example_ws: Workspace, docs: Documents
) -> None:
    widget = mapper(source="orders", target="invoice", name="half_done", documents=docs)
    send(widget, action="link", source="customer.email", target="email")
    send(widget, action="save")
    assert widget.status["level"] == "error"
    assert widget.status["text"].startswith("not saved: 2 problem(s)")
    assert widget.status["problems"] == [
        "rule invoice_id: mandatory target element is not mapped",
        "rule order_date: mandatory target element is not mapped",
    ]
    assert not (example_ws.components_dir / "maps" / "half_done.yaml").exists()
    with pytest.raises(ValidationErrorGroup):
        widget.save()


def test_saving_unchanged_content_keeps_the_version(example_ws: Workspace, valid: Map) -> None:
    path = valid.save()
    assert path == example_ws.components_dir / "maps" / "saved_map.yaml"
    assert version(example_ws, "saved_map") == 1
    valid.save()  # the same map again
    assert version(example_ws, "saved_map") == 1
    widget = MapperWidget(load_map("saved_map"))
    widget.save()
    assert version(example_ws, "saved_map") == 1
    assert "unchanged, version 1" in widget.status["text"]
    send(widget, action="unlink", target="status")
    send(widget, action="save")
    assert version(example_ws, "saved_map") == 2
    assert widget.status["text"].endswith("(version 2)")


def test_map_save_from_python_checks_first(example_ws: Workspace, valid: Map) -> None:
    with pytest.raises(ValidationErrorGroup, match="not valid"):
        replace(valid, rules=valid.rules[:1]).save()
    assert not (example_ws.components_dir / "maps" / "saved_map.yaml").exists()
    valid.save("renamed")
    assert Map.load("renamed").rules == load_map("renamed").rules
    assert load_map("renamed").rule("status").steps[0].args == {"values": ["10", "20"]}


def test_rerunning_the_cell_that_opens_the_mapper_keeps_what_was_saved(
    example_ws: Workspace, valid: Map, docs: Documents
) -> None:
    # the cell as the tutorial has it, run a first time; links are made in the widget, saved
    cell = {"source": "orders", "target": "invoice", "name": "saved_map", "documents": docs}
    first = mapper(**cell)  # type: ignore[arg-type]
    first.map = replace(first.map, rules=valid.rules)
    send(first, action="link", source="customer.email", target="email")
    send(first, action="save")
    assert first.status["level"] == "info", first.status
    # the same cell again: the saved links come back (not an empty map that a save would write)
    again = mapper(**cell)  # type: ignore[arg-type]
    assert again.map.rule("email") == Rule("email", ("customer.email",))
    assert again.status["text"].startswith("opened the saved map saved_map (version 1)")
    again.save()
    assert version(example_ws, "saved_map") == 1
    # new=True starts empty, on purpose
    assert mapper(**cell, new=True).map.rules == ()  # type: ignore[arg-type]
    # a saved map of the same name between other profiles: warned, not silently replaced
    other = mapper(source="invoice", target="invoice", name="saved_map")
    assert (
        other.status["level"] == "warning"
        and "saving this one replaces it" in (other.status["text"])
    )
