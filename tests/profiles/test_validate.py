from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import jsonschema
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import atomnb as ab
from atomnb.errors import ValidationErrorGroup
from atomnb.profiles import (
    Element,
    ElementType,
    Profile,
    apply_profile,
    to_arrow_schema,
    to_json_schema,
)

ORDER = Profile(
    "order",
    (
        Element("id", ElementType.STRING, mandatory=True, max_length=6),
        Element("on", ElementType.DATE, mandatory=True, mask="%Y%m%d"),
        Element("status", ElementType.STRING, enum=("NEW", "PAID")),
        Element("total", ElementType.DECIMAL, scale=2),
        Element(
            "lines",
            ElementType.RECORD,
            min_occurs=1,
            max_occurs=3,
            children=(
                Element("sku", ElementType.STRING, mandatory=True, min_length=2),
                Element("qty", ElementType.INTEGER, mandatory=True),
            ),
        ),
    ),
    format="json",
)

GOOD = {
    "id": "SO-1",
    "on": "20260304",
    "status": "NEW",
    "total": "12.50",
    "lines": [{"sku": "AB", "qty": "2"}],
}


def _docs(*records: dict) -> ab.Documents:
    return ab.Documents.from_records(list(records))


def test_valid_documents_pass_untouched() -> None:
    report = ab.validate(_docs(GOOD, GOOD), ORDER)
    assert report.ok and len(report.valid) == 2 and len(report.invalid) == 0


@pytest.mark.parametrize(
    ("change", "path", "rule"),
    [
        ({"id": ""}, "id", "mandatory"),
        ({"id": "SO-1234"}, "id", "max_length"),
        ({"on": "2026-03-04"}, "on", "type"),
        ({"on": "20260231"}, "on", "type"),
        ({"status": "LOST"}, "status", "enum"),
        ({"total": "12.505"}, "total", "type"),
        ({"lines": []}, "lines", "min_occurs"),
        ({"lines": [{"sku": "AB", "qty": "1"}] * 4}, "lines", "max_occurs"),
        (
            {"lines": [{"sku": "AB", "qty": "1"}, {"sku": "A", "qty": "1"}]},
            "lines[1].sku",
            "min_length",
        ),
        ({"lines": [{"sku": "AB", "qty": "x"}]}, "lines[0].qty", "type"),
        ({"lines": [{"sku": None, "qty": "1"}]}, "lines[0].sku", "mandatory"),
    ],
)
def test_each_rule_names_document_path_and_rule(change: dict, path: str, rule: str) -> None:
    report = ab.validate(_docs(GOOD, {**GOOD, **change}), ORDER)
    assert [(e.document, e.path, e.rule) for e in report.errors] == [(1, path, rule)]
    assert len(report.valid) == 1 and report.valid[0]["id"] == "SO-1"
    assert report.invalid.properties_of(0)["validation_errors"].startswith(f"document 1, {path}")


def test_every_problem_is_reported_not_just_the_first() -> None:
    bad = {**GOOD, "id": "", "status": "LOST", "lines": [{"sku": "A", "qty": "x"}]}
    report = ab.validate(_docs(bad, GOOD, bad), ORDER)
    assert len(report.errors) == 8
    assert report.invalid_indices == (0, 2)
    with pytest.raises(ValidationErrorGroup) as info:
        report.raise_for_errors()
    assert len(info.value.exceptions) == 8
    assert "2 of 3 document(s)" in str(info.value)


def test_missing_mandatory_column() -> None:
    report = ab.validate(_docs({"on": "20260304", "lines": [{"sku": "AB", "qty": "1"}]}), ORDER)
    assert [(e.path, e.rule) for e in report.errors] == [("id", "mandatory")]


def test_apply_profile_types_the_valid_and_rejects_the_rest() -> None:
    typed = apply_profile(_docs(GOOD, {**GOOD, "on": "nope"}), ORDER, source="orders.json")
    assert len(typed) == 1
    assert typed[0] == {
        "id": "SO-1",
        "on": dt.date(2026, 3, 4),
        "status": "NEW",
        "total": Decimal("12.50"),
        "lines": [{"sku": "AB", "qty": 2}],
    }
    assert typed.schema == to_arrow_schema(ORDER)
    (rejected,) = typed.rejections
    assert (
        rejected.index == 1
        and rejected.where == "orders.json"
        and "on, rule type" in rejected.message
    )
    assert b'"on": "nope"' in (rejected.raw or b"")


def test_read_with_a_profile_component_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = ab.Workspace.init(tmp_path / "ws")
    ORDER.save(workspace=ws)
    monkeypatch.chdir(ws.root)
    docs = ab.read(
        b'[{"id": "SO-9", "on": "20260101", "lines": [{"sku": "XY", "qty": "3"}]}]',
        format="json",
        profile="order",
    )
    assert docs[0]["lines"] == [{"sku": "XY", "qty": 3}] and docs[0]["on"] == dt.date(2026, 1, 1)


def test_arrow_schema_types() -> None:
    schema = to_arrow_schema(ORDER)
    assert schema.field("on").type == pa.date32()
    assert schema.field("total").type == pa.decimal128(38, 2)
    assert schema.field("lines").type == pa.list_(
        pa.struct([("sku", pa.string()), ("qty", pa.int64())])
    )


def test_json_schema_accepts_good_and_refuses_bad_documents() -> None:
    schema = to_json_schema(ORDER)
    jsonschema.Draft202012Validator.check_schema(schema)
    good = {
        "id": "SO-1",
        "on": "2026-03-04",
        "status": "NEW",
        "total": 12.5,
        "lines": [{"sku": "AB", "qty": 2}],
    }
    jsonschema.validate(good, schema)
    for bad in (
        {**good, "status": "LOST"},
        {**good, "lines": []},
        {k: v for k, v in good.items() if k != "id"},
        {**good, "lines": [{"sku": "AB", "qty": "two"}]},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


records = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.text(min_size=0, max_size=8),
            "count": st.integers(min_value=-(10**12), max_value=10**12),
            "price": st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False).map(
                str
            ),
            "day": st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 1, 1)).map(str),
        }
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=40, deadline=None)
@given(records)
def test_inferred_profile_validates_the_documents_it_came_from(rows: list[dict]) -> None:
    data = ab.write(ab.Documents.from_records(rows), format="json")
    docs = ab.read(data, format="json")
    profile = ab.infer_profile(docs)
    assert ab.validate(docs, profile).ok
