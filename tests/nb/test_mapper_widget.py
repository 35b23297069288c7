"""The mapper's state and the Map stay in sync both ways; its edits, preview and save are real."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from atomnb.components import Workspace
from atomnb.documents import Documents
from atomnb.errors import MapError
from atomnb.formats import read
from atomnb.maps import Map, Rule, Step, load_map
from atomnb.nb.widgets import mapping_ops as ops
from atomnb.nb.widgets.mapper import MapperWidget, mapper
from atomnb.nb.widgets.trees import tree_rows
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
    """What the browser's model.send does: a custom message to the kernel side."""
    widget._on_message(widget, content, [])


def test_tree_rows_flatten_the_profile_with_flags() -> None:
    rows = {r["path"]: r for r in tree_rows(load_profile("orders"))}
    assert rows["lines"]["repeating"] and rows["lines"]["record"] and rows["lines"]["mandatory"]
    assert rows["lines.sku"]["depth"] == 1 and rows["lines.sku"]["sample"] == "SKU-0803"
    assert not rows["notes"]["mandatory"]


def test_linking_inside_a_repeating_target_makes_the_item_by_item_parent(empty: Map) -> None:
    m = ops.link(empty, "lines.sku", "items.sku")
    m = ops.link(m, "lines.qty", "items.quantity")
    assert m.rules == (
        Rule("items", ("lines",), children=(Rule("sku", ("sku",)), Rule("quantity", ("qty",)))),
    )
    modes = {v.target: v.mode for v in ops.iter_links(m)}
    assert modes == {"items": "item by item", "items.sku": "single", "items.quantity": "single"}


def test_a_second_source_on_a_linked_target_is_one_more_input(empty: Map) -> None:
    m = ops.link(empty, "customer.firstName", "customer_name")
    m = ops.link(m, "customer.lastName", "customer_name")
    m = ops.add_step(m, "customer_name", "concat", {"separator": " "})
    assert m.rule("customer_name") == Rule(
        "customer_name",
        ("customer.firstName", "customer.lastName"),
        (Step("concat", {"separator": " "}),),
    )
    m = ops.unlink(m, "customer_name", "customer.lastName")
    assert m.rule("customer_name").sources == ("customer.firstName",)


def test_impossible_links_are_explained(empty: Map) -> None:
    with pytest.raises(MapError, match="customer is a record; link its fields"):
        ops.link(empty, "customer", "email")
    with pytest.raises(MapError, match="link a repeating source record to items first"):
        ops.link(empty, "orderId", "items.sku")
    with pytest.raises(MapError, match="no element 'nope'"):
        ops.link(empty, "nope", "email")


def test_lookup_steps_name_their_table_in_the_map(empty: Map) -> None:
    m = ops.link(empty, "customer.country", "country_code")
    m = ops.add_step(m, "country_code", "lookup")
    m = ops.set_step_args(
        m, "country_code", 0, {"table": "countries", "value_column": "iso2", "default": ""}
    )
    assert m.rule("country_code").steps == (
        Step("lookup", {"table": "countries", "value_column": "iso2"}),
    )
    assert m.tables == ("countries",)


def test_unmapped_mandatory_targets_follow_the_links(empty: Map) -> None:
    assert ops.unmapped_mandatory(empty) == ["invoice_id", "order_date"]
    assert ops.unmapped_mandatory(ops.link(empty, "orderId", "invoice_id")) == ["order_date"]


def test_python_assignment_redraws_the_widget_state(empty: Map, docs: Documents) -> None:
    widget = MapperWidget(empty, documents=docs)
    assert widget.links == [] and widget.preview["mapped"] == 0  # nothing linked, nothing mapped
    widget.map = empty.with_rule(Rule("invoice_id", ("orderId",), (Step("lower"),)))
    assert widget.rules == [
        {"target": "invoice_id", "source": "orderId", "steps": [{"fn": "lower"}]}
    ]
    assert widget.links[0]["target"] == "invoice_id"
    assert widget.preview["rows"][0]["outputs"][0]["invoice_id"] == "so-00001"
    assert widget.unmapped == ["order_date"]


def test_browser_state_changes_become_the_map(empty: Map, docs: Documents) -> None:
    widget = MapperWidget(empty, documents=docs)
    # what the comm does when the front end sets and saves the synced `rules` trait
    widget.set_state(
        {"rules": [{"target": "email", "source": "customer.email", "steps": ["upper"]}]}
    )
    assert widget.map.rule("email") == Rule("email", ("customer.email",), (Step("upper"),))
    assert widget.preview["rows"][0]["outputs"][0]["email"] == "BUYER1@EXAMPLE.COM"
    widget.set_state({"fan_out": "lines"})
    assert widget.map.fan_out == "lines"


def test_messages_edit_and_errors_land_beside_the_rule(empty: Map, docs: Documents) -> None:
    widget = MapperWidget(empty, documents=docs)
    send(widget, action="link", source="orderDate", target="order_date")
    assert widget.selected == "order_date"
    assert widget.preview["problems"][0]["target"] == "order_date"
    assert "add a parse_date step" in widget.preview["problems"][0]["hint"]
    send(widget, action="add_step", target="order_date", fn="parse_date")
    send(widget, action="set_args", target="order_date", index=0, args={"mask": "%Y-%m-%d"})
    assert widget.preview["problems"] == []
    errors = widget.preview["rows"][0]["errors"]
    assert errors == [
        {
            "rule": "order_date",
            "target": "order_date",
            "message": "does not match mask %Y-%m-%d",
            "values": {"orderDate": "2026-02-11T16:32:00Z"},
        }
    ]
    send(widget, action="add_step", target="order_date", fn="nonsense")
    assert widget.status["level"] == "error" and "nonsense" in widget.status["text"]


def test_repeating_source_into_single_target_offers_aggregate_or_fan_out(
    empty: Map, docs: Documents
) -> None:
    widget = MapperWidget(empty, documents=docs)
    send(widget, action="link", source="lines.qty", target="line_count")
    assert widget.links[0]["mode"] == "repeating"
    assert "add an aggregate step" in widget.preview["problems"][0]["message"]
    send(widget, action="add_step", target="line_count", fn="count")
    assert widget.links[0]["mode"] == "aggregate"
    assert widget.preview["rows"][0]["outputs"][0]["line_count"] == 4
    send(widget, action="remove_step", target="line_count", index=0)
    send(widget, action="fan_out", element="lines")
    assert widget.fan_out == "lines" and widget.links[0]["mode"] == "fan out"
    assert len(widget.preview["rows"][0]["outputs"]) == 4  # one target document per line


def test_save_and_reopen_shows_the_same_map(
    example_ws: Workspace, empty: Map, docs: Documents
) -> None:
    widget = mapper(replace(empty, name="drafted"), documents=docs)
    send(widget, action="link", source="orderId", target="invoice_id")
    send(
        widget,
        action="add_step",
        target="invoice_id",
        fn="replace",
        args={"old": "SO-", "new": "INV-"},
    )
    send(widget, action="link", source="orderDate", target="order_date")
    send(widget, action="add_step", target="order_date", fn="parse_date")
    mask = {"mask": "%Y-%m-%dT%H:%M:%SZ"}
    send(widget, action="set_args", target="order_date", index=0, args=mask)
    send(widget, action="save")
    path = example_ws.components_dir / "maps" / "drafted.yaml"
    assert widget.status["path"] == str(path)
    body = yaml.safe_load(path.read_text())["body"]
    assert body["rules"][0] == {
        "target": "invoice_id",
        "source": "orderId",
        "steps": [{"fn": "replace", "args": {"old": "SO-", "new": "INV-"}}],
    }
    reopened = mapper("drafted", documents=docs)
    assert reopened.map == load_map("drafted") and reopened.rules == widget.rules
    assert reopened.preview["rows"][0]["outputs"][0]["invoice_id"] == "INV-00001"


def test_the_function_catalogue_has_groups_descriptions_and_arguments(empty: Map) -> None:
    widget = MapperWidget(empty)
    lookup = next(f for f in widget.functions if f["name"] == "lookup")
    assert lookup["group"] == "lookup" and lookup["description"]
    assert [a["name"] for a in lookup["args"]][:3] == ["table", "key_column", "value_column"]
    assert widget.tables["countries"] == ["name", "iso2", "erp_region"]
    assert {f["group"] for f in widget.functions} >= {"string", "lookup"}
