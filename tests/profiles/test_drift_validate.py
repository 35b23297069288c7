"""Unknown fields: ``validate`` warns of them per document and path (documents stay valid),
``apply_profile`` logs them and measures drift into an active collector."""

from __future__ import annotations

import logging

import pytest

import atomnb as ab
from atomnb.documents import Documents
from atomnb.profiles import Element, Profile, apply_profile, collecting_drift, validate
from atomnb.profiles import ElementType as T
from atomnb.profiles.validate import MAX_WARNINGS

PROFILE = Profile(
    "orders",
    (
        Element("id", T.INTEGER, mandatory=True),
        Element("customer", T.RECORD, children=(Element("name"),)),
        Element("lines", T.RECORD, max_occurs=None, children=(Element("sku"),)),
    ),
)

RECORDS = [
    {"id": "1", "customer": {"name": "Ada"}, "lines": [{"sku": "A"}]},
    {
        "id": "2",
        "customer": {"name": "Bo", "phone": "555-0100"},
        "lines": [{"sku": "B"}, {"sku": "C", "colour": "red"}],
        "loyalty": "gold",
    },
    {"id": "x", "loyalty": "silver"},  # invalid id and an unknown field
]


def test_validate_warns_of_unknown_fields_per_document_and_path() -> None:
    report = validate(Documents.from_records(RECORDS), PROFILE)
    assert report.unknown_fields == {"customer.phone": 1, "lines.colour": 1, "loyalty": 2}
    found = sorted((w.document, w.path, w.rule) for w in report.warnings)
    assert found == [
        (1, "customer.phone", "unknown_field"),
        (1, "lines[1].colour", "unknown_field"),
        (1, "loyalty", "unknown_field"),
        (2, "loyalty", "unknown_field"),
    ]
    # warnings do not make documents invalid: only the bad id does
    assert report.invalid_indices == (2,)
    assert [e.rule for e in report.errors] == ["type"]
    assert "unknown_fields=4" in repr(report)
    assert all("gold" not in str(w) and "555" not in str(w) for w in report.warnings)


def test_validate_of_known_fields_only_has_no_warnings() -> None:
    report = validate(Documents.from_records(RECORDS[:1]), PROFILE)
    assert report.ok
    assert report.warnings == ()
    assert report.unknown_fields == {}


def test_warnings_are_bounded_but_every_document_counted() -> None:
    docs = Documents.from_records([{"id": str(i), "extra": "e"} for i in range(MAX_WARNINGS + 50)])
    report = validate(docs, PROFILE)
    assert len(report.warnings) == MAX_WARNINGS
    assert report.unknown_fields == {"extra": MAX_WARNINGS + 50}


def test_apply_profile_logs_unknown_fields_and_feeds_the_collector(
    caplog: pytest.LogCaptureFixture,
) -> None:
    docs = Documents.from_records(RECORDS)
    with caplog.at_level(logging.WARNING, logger="atomnb.profiles"), collecting_drift() as found:
        typed = apply_profile(docs, PROFILE, source="orders.json")
    assert typed.to_arrow().column_names == ["id", "customer", "lines"]
    (line,) = [r.getMessage() for r in caplog.records if r.name == "atomnb.profiles"]
    assert line == (
        "orders.json: fields not in profile 'orders' left out of the typed documents: "
        "customer.phone (1), lines.colour (1), loyalty (2)"
    )
    (report,) = found.reports()
    assert report.new_fields == {"customer.phone": 1, "lines.colour": 1, "loyalty": 2}
    assert report.off_type == {"id": 1}
    assert report.documents == 3


def test_read_with_a_profile_measures_drift_over_every_batch() -> None:
    data = b"\n".join(
        b'{"id": "%d", "loyalty": "gold"}' % i if i % 3 == 0 else b'{"id": "%d"}' % i
        for i in range(10)
    )
    with collecting_drift() as collector:
        docs = ab.read(data, format="jsonl", profile=PROFILE, batch_size=4)
    assert len(docs) == 10
    (report,) = collector.reports()
    assert report.documents == 10
    assert report.new_fields == {"loyalty": 4}


def test_outside_a_collector_apply_profile_measures_nothing() -> None:
    with collecting_drift() as collector:
        pass
    apply_profile(Documents.from_records(RECORDS), PROFILE)
    assert collector.reports() == []
