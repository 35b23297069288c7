from __future__ import annotations

import pytest

import atomnb as ab
from atomnb.profiles import ElementType
from atomnb.profiles.detect import detect
from tests.conftest import SAMPLES


@pytest.mark.parametrize(
    ("values", "expected", "mask"),
    [
        (["2026-03-04", "1999-12-31"], ElementType.DATE, "%Y-%m-%d"),
        (["20101127", "20260101"], ElementType.DATE, "%Y%m%d"),
        (["31.12.2025"], ElementType.DATE, "%d.%m.%Y"),
        (
            ["2026-03-04T10:22:33Z", "2026-03-04T10:22:33+02:00"],
            ElementType.DATETIME,
            "%Y-%m-%dT%H:%M:%S%z",
        ),
        (["10:22:33"], ElementType.TIME, "%H:%M:%S"),
        (["1", "-20", "300"], ElementType.INTEGER, None),
        (["12.99", "3"], ElementType.DECIMAL, None),
        (["true", "FALSE"], ElementType.BOOLEAN, None),
        (["007", "12"], ElementType.STRING, None),  # leading zeros: a code, not a number
        (["99999999"], ElementType.INTEGER, None),  # eight digits but not a date
        (["SKU-1", "2"], ElementType.STRING, None),
        ([], ElementType.STRING, None),
    ],
)
def test_detectors(values: list[str], expected: ElementType, mask: str | None) -> None:
    found = detect(values)
    assert found.type is expected
    assert found.mask == mask


def test_decimal_scale_is_the_most_digits_seen() -> None:
    assert detect(["1.5", "2.125", "3"]).scale == 3


def test_union_of_fields_and_widening_across_documents() -> None:
    docs = ab.Documents.from_records(
        [
            {"id": "1", "qty": "2", "lines": [{"sku": "A", "note": "x"}]},
            {"id": "2", "qty": "2.5", "lines": [{"sku": "B"}], "late": "2026-01-01"},
        ]
    )
    profile = ab.infer_profile(docs, name="o")
    assert [e.name for e in profile.elements] == ["id", "qty", "lines", "late"]
    assert profile.element("qty").type is ElementType.DECIMAL  # int and decimal widen to decimal
    assert profile.element("id").mandatory and not profile.element("late").mandatory
    lines = profile.element("lines")
    assert lines.repeating and lines.type is ElementType.RECORD and lines.min_occurs == 1
    assert profile.element("lines.sku").mandatory
    assert not profile.element("lines.note").mandatory
    assert profile.element("late").type is ElementType.DATE


def test_infer_from_the_github_push_sample() -> None:
    profile = ab.infer_profile(SAMPLES / "json" / "github_webhook_push.json")
    assert profile.name == "github_webhook_push" and profile.format == "json"
    assert profile.element("repository.owner.login").type is ElementType.STRING
    assert profile.element("repository.id").type is ElementType.INTEGER
    assert profile.element("repository.private").type is ElementType.BOOLEAN
    assert profile.element("repository.owner").type is ElementType.RECORD
    assert profile.element("commits").repeating
    assert profile.element("pusher.name").sample == "Codertocat"
    assert "repository: record mandatory" in profile.tree()


def test_infer_from_the_currency_csv_keeps_codes_as_text() -> None:
    profile = ab.infer_profile(SAMPLES / "csv" / "iso4217_currency_codes.csv")
    assert profile.format == "csv"
    assert profile.element("NumericCode").type is ElementType.STRING  # "008" etc.
    assert profile.element("Entity").mandatory
    assert not profile.element("WithdrawalDate").mandatory  # mostly empty


def test_unknown_path_is_a_clear_error() -> None:
    profile = ab.infer_profile(ab.Documents.from_records([{"a": {"b": "1"}}]))
    with pytest.raises(ab.AtomnbError, match=r"no element 'a\.c'"):
        profile.element("a.c")
