"""Argument fields are typed by the function's signature; text is converted on the kernel side."""

from __future__ import annotations

import pytest

from atomnb.components import Workspace
from atomnb.documents import Documents
from atomnb.formats import read
from atomnb.maps import Map, Step, function_library
from atomnb.nb.widgets.mapper import MapperWidget
from atomnb.profiles import ElementType, load_profile


@pytest.fixture
def docs(example_ws: Workspace) -> Documents:
    out = read(example_ws.notebooks_dir / "data" / "orders.jsonl")
    assert isinstance(out, Documents)
    return out


@pytest.fixture
def widget(example_ws: Workspace, docs: Documents) -> MapperWidget:
    mapping = Map("draft", load_profile("orders"), load_profile("invoice"), ())
    return MapperWidget(mapping, documents=docs)


def send(widget: MapperWidget, **content: object) -> None:
    widget._on_message(widget, content, [])


def test_the_catalogue_says_which_field_each_argument_is() -> None:
    described = {f.name: f.describe() for f in function_library().values()}
    inputs = {a["name"]: a for a in described["round"]["args"]}
    assert inputs["digits"]["input"] == "integer"
    assert inputs["mode"]["input"] == "choice"
    assert inputs["mode"]["choices"] == ["half_even", "half_up"]
    assert described["greater_than"]["args"][0]["input"] == "value"
    assert described["concat"]["args"][1]["input"] == "boolean"
    assert described["in_list"]["args"][0]["input"] == "list"
    assert described["replace"]["args"][0]["input"] == "text"


def test_typed_number_reaches_the_map_as_a_number_and_the_preview_fills(
    widget: MapperWidget,
) -> None:
    send(widget, action="link", source="status", target="priority")
    send(widget, action="add_step", target="priority", fn="greater_than")
    link = next(x for x in widget.links if x["target"] == "priority")
    assert link["value_inputs"] == ["number"]  # status is an integer in the orders profile
    send(widget, action="set_args", target="priority", index=0, args={"value": "15"})
    assert widget.map.rule("priority").steps == (Step("greater_than", {"value": 15}),)
    assert widget.errors == {} and widget.status == {}
    assert widget.preview["problems"] == []
    outputs = [row["outputs"][0]["priority"] for row in widget.preview["rows"]]
    assert set(outputs) == {"true", "false"}  # no blank rows


def test_text_that_is_not_a_number_is_refused_beside_the_field(widget: MapperWidget) -> None:
    send(widget, action="link", source="status", target="priority")
    send(widget, action="add_step", target="priority", fn="greater_than", args={"value": 5})
    send(widget, action="set_args", target="priority", index=0, args={"value": "50x0"})
    assert widget.errors == {
        "priority/0/value": {
            "message": "'50x0' is not a number — write it like 5000 or 12.5",
            "raw": "50x0",
        }
    }
    # the map keeps the last good value, and says nothing false in the preview
    assert widget.map.rule("priority").steps == (Step("greater_than", {"value": 5}),)
    send(widget, action="set_args", target="priority", index=0, args={"value": "7"})
    assert widget.errors == {} and widget.map.rule("priority").steps[0].args == {"value": 7}


def test_whole_numbers_choices_and_booleans_convert_or_name_the_problem(
    widget: MapperWidget,
) -> None:
    send(widget, action="link", source="lines.unitPrice", target="items.amount")
    send(widget, action="add_step", target="items.amount", fn="round")
    send(
        widget,
        action="set_args",
        target="items.amount",
        index=0,
        args={"digits": "2.5", "mode": "upwards"},
    )
    assert widget.errors["items.amount/0/digits"]["message"] == "'2.5' is not a whole number"
    assert widget.errors["items.amount/0/mode"]["message"] == (
        "'upwards' is not one of half_even, half_up"
    )
    send(
        widget,
        action="set_args",
        target="items.amount",
        index=0,
        args={"digits": "2", "mode": "half_up"},
    )
    assert widget.errors == {}
    assert widget.map.rule("items").children[0].steps == (
        Step("round", {"digits": 2, "mode": "half_up"}),
    )
    # removing the step clears what was said about its fields
    send(widget, action="set_args", target="items.amount", index=0, args={"digits": "x"})
    assert widget.errors
    send(widget, action="remove_step", target="items.amount", index=0)
    assert widget.errors == {}
    send(widget, action="add_step", target="items.amount", fn="round", args={"digits": "x"})
    assert list(widget.errors) == ["items.amount/0/digits"]
    send(widget, action="unlink", target="items.amount")
    assert widget.errors == {}


def test_conversions_by_declared_kind() -> None:
    from atomnb.maps.functions.arguments import convert_arg

    library = function_library()
    value = library["greater_than"].args[0]
    assert convert_arg(value, "5000", ElementType.DECIMAL) == 5000
    assert convert_arg(value, "12.5", ElementType.INTEGER) == 12.5
    assert convert_arg(value, "5000", ElementType.STRING) == "5000"
    assert convert_arg(value, "2024-02-29", ElementType.DATE) == "2024-02-29"
    with pytest.raises(Exception, match="impossible date"):
        convert_arg(value, "2024-02-30", ElementType.DATE)
    with pytest.raises(Exception, match="not true or false"):
        convert_arg(value, "maybe", ElementType.BOOLEAN)
    skip = library["concat"].args[1]
    assert convert_arg(skip, "false") is False and convert_arg(skip, True) is True
    assert convert_arg(library["in_list"].args[0], "10, 20") == ["10", "20"]
    assert convert_arg(library["choose"].args[0], '{"10": "NEW"}') == {"10": "NEW"}
    assert convert_arg(library["left"].args[0], "") is None
