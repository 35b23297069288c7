from __future__ import annotations

from pathlib import Path

import pytest

from atomnb.errors import NotebookError, ParameterError
from atomnb.process import coerce, load_process, redact, resolve_parameters
from tests.conftest import make_notebook

PARAMS = """\
limit = 10  # how many rows
ratio = 0.5
name = "orders"
dry_run = False
tags = ["a"]
api_token = ""  # secret: the shop API token
since: str = None
"""


@pytest.fixture
def process(tmp_path: Path):
    return load_process(make_notebook(tmp_path / "orders.ipynb", "print(1)", parameters=PARAMS))


def test_parameters_cell_is_read_without_running_it(process) -> None:
    p = process.parameters
    assert list(p) == ["limit", "ratio", "name", "dry_run", "tags", "api_token", "since"]
    assert (p["limit"].default, p["limit"].type_name, p["limit"].help) == (
        10,
        "int",
        "how many rows",
    )
    assert p["ratio"].type_name == "float"
    assert p["dry_run"].type_name == "bool"
    assert p["since"].type_name == "str"  # from the annotation
    assert process.secret_names == {"api_token"}
    assert process.name == "orders" and process.kernel_name == "python3"


@pytest.mark.parametrize(
    ("text", "type_name", "expected"),
    [
        ("42", "int", 42),
        ("2.5", "float", 2.5),
        ("yes", "bool", True),
        ("0", "bool", False),
        ('["x", 1]', "list", ["x", 1]),
        ('{"k": 1}', "dict", {"k": 1}),
        ("abc", "str", "abc"),
    ],
)
def test_text_values_are_typed_by_the_default(text: str, type_name: str, expected: object) -> None:
    assert coerce(text, type_name, name="p") == expected


@pytest.mark.parametrize(("text", "type_name"), [("abc", "int"), ("maybe", "bool"), ("{", "list")])
def test_wrong_type_names_parameter_and_type(text: str, type_name: str) -> None:
    with pytest.raises(ParameterError, match=f"parameter 'p' expects .*got '{text}'"):
        coerce(text, type_name, name="p")


def test_layers_later_wins_and_unknown_is_refused(process) -> None:
    assert resolve_parameters(process, {"limit": 5}, {"limit": "7"}) == {"limit": 7}
    with pytest.raises(
        ParameterError, match=r"unknown parameter 'limt' \(the notebook declares: .*limit"
    ):
        resolve_parameters(process, {"limt": "1"})


def test_parameters_for_a_notebook_without_parameters_cell(tmp_path: Path) -> None:
    process = load_process(make_notebook(tmp_path / "bare.ipynb", "x = 1"))
    assert not process.has_parameters_cell
    assert resolve_parameters(process) == {}
    with pytest.raises(ParameterError, match="no cell tagged 'parameters'"):
        resolve_parameters(process, {"x": "1"})


def test_missing_and_corrupt_notebooks(tmp_path: Path) -> None:
    with pytest.raises(NotebookError, match="does not exist"):
        load_process(tmp_path / "nope.ipynb")
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")
    with pytest.raises(NotebookError, match="not a valid notebook file") as info:
        load_process(broken)
    assert str(broken) in str(info.value)


def test_parameters_cell_with_a_syntax_error(tmp_path: Path) -> None:
    path = make_notebook(tmp_path / "bad.ipynb", parameters="limit = = 1")
    with pytest.raises(NotebookError, match="cell 1: the parameters cell is not valid Python"):
        load_process(path)


def test_redact_hides_only_secrets() -> None:
    assert redact({"a": 1, "tok": "x"}, {"tok"}) == {"a": 1, "tok": "***"}
