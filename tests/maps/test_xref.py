"""Cross-reference table components, loaded for lookups from the workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

import atomnb as ab
from atomnb.errors import ComponentError
from atomnb.maps import Map, Rule, Step, XrefTable, load_xref, save_xref
from atomnb.profiles import Element, ElementType, Profile

S = ElementType.STRING
SOURCE = Profile("src", (Element("country", S),))
TARGET = Profile("dst", (Element("iso2", S), Element("erp", S)))


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ab.Workspace:
    workspace = ab.Workspace.init(tmp_path / "ws")
    monkeypatch.chdir(workspace.root)
    table = XrefTable(
        "countries",
        ("name", "iso2", "erp"),
        (("Germany", "DE", "D01"), ("France", "FR", "F07"), ("Japan", "JP", None)),
    )
    save_xref(table, workspace=workspace)
    return workspace


def test_round_trip_and_lookup_by_column(ws: ab.Workspace) -> None:
    assert load_xref("countries", workspace=ws).rows[2] == ("Japan", "JP", None)
    m = Map(
        "m",
        SOURCE,
        TARGET,
        (
            Rule(
                "iso2",
                ("country",),
                (Step("lookup", {"table": "countries", "value_column": "iso2", "default": "XX"}),),
            ),
            Rule(
                "erp",
                ("country",),
                (
                    Step(
                        "lookup",
                        {"table": "countries", "value_column": "erp", "not_found": "error"},
                    ),
                ),
            ),
        ),
    )
    docs = ab.Documents.from_records(
        [{"country": "France"}, {"country": "Peru"}, {"country": "Germany"}]
    )
    out = m(docs)  # tables come from components/xrefs/ in the workspace
    assert out.to_pylist() == [{"iso2": "FR", "erp": "F07"}, {"iso2": "DE", "erp": "D01"}]
    (missed,) = out.rejections
    assert missed.index == 1 and missed.rule == "erp"


def test_two_column_table_needs_no_column_arguments(ws: ab.Workspace) -> None:
    save_xref(XrefTable.from_pairs("status", {"10": "NEW", "20": "PAID"}), workspace=ws)
    m = Map(
        "m",
        Profile("s", (Element("code", S),)),
        Profile("t", (Element("name", S),)),
        (Rule("name", ("code",), (Step("lookup", {"table": "status", "default": "?"}),)),),
    )
    out = m(ab.Documents.from_records([{"code": "20"}, {"code": "99"}]))
    assert [d["name"] for d in out] == ["PAID", "?"]


def test_table_from_a_csv_file(ws: ab.Workspace) -> None:
    docs = ab.read(b"code,label\nA,Alpha\nB,Beta\n", format="csv")
    table = XrefTable.from_documents("letters", docs)
    assert table.as_lookup()["B"] == {"code": "B", "label": "Beta", "value": "Beta"}


def test_ragged_table_file_is_named(ws: ab.Workspace) -> None:
    path = ws.components_dir / "xrefs" / "bad.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "kind: xref\nbody:\n  columns: [a, b]\n  rows:\n    - [1, 2]\n    - [3]\n", encoding="utf-8"
    )
    with pytest.raises(ComponentError, match=r"bad\.yaml: .*row 2: 1 values for 2 columns"):
        load_xref("bad", workspace=ws)
