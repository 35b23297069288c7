"""Data quality shapes: cleanse, business rules and find changes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from atomnb.documents import Documents
from atomnb.errors import ProcessError
from atomnb.process.context import ExecutionContext
from atomnb.process.run import PERSISTED_IN, PERSISTED_OUT, ProcessRun, current_run, new_run
from atomnb.process.shapes import business_rules, cleanse, find_changes, raw_documents
from atomnb.process.trace import ShapeRecord
from atomnb.profiles import Element, ElementType, Profile

SECRET = "s3cr3t-Tok3n-9z"

PROFILE = Profile(
    "customer",
    (
        Element("id", ElementType.INTEGER, mandatory=True),
        Element("country", enum=("DE", "FR")),
        Element("name", max_length=5),
        Element(
            "lines",
            ElementType.RECORD,
            max_occurs=None,
            children=(Element("qty", ElementType.INTEGER, mandatory=True),),
        ),
    ),
)


def interactive(tmp_path: Path) -> ExecutionContext:
    return ExecutionContext(None, None, "test", "test", tmp_path / "output", None)


def execution(folder: Path, execution_id: str) -> ExecutionContext:
    return ExecutionContext(execution_id, "proc", "test", "schedule", folder / "output", None)


@pytest.fixture(autouse=True)
def run(tmp_path: Path) -> ProcessRun:
    return new_run(interactive(tmp_path))


def last(kind: str) -> ShapeRecord:
    records = [s for s in current_run().trace.shapes if s.kind == kind]
    assert records, f"no {kind} shape recorded"
    return records[-1]


# -- cleanse ------------------------------------------------------------------------


def test_cleanse_repairs_safely_and_rejects_with_every_reason() -> None:
    docs = Documents.from_records(
        [
            {"id": " 7 ", "country": " de", "name": "Ann", "lines": [{"qty": "1"}]},
            {"id": "x", "country": "XX", "name": "Annabel", "lines": [{"qty": None}]},
            {"id": "8", "country": "FR", "name": " Bo  ", "lines": []},
        ],
        properties={"file_name": ["a", "b", "c"]},
    )
    clean, rejected = cleanse(docs, PROFILE)
    assert clean.to_pylist() == [
        {"id": "7", "country": "DE", "name": "Ann", "lines": [{"qty": "1"}]},
        {"id": "8", "country": "FR", "name": "Bo", "lines": []},
    ]
    assert clean.property("cleanse.repaired").to_pylist() == [["id", "country"], ["name"]]
    assert clean.property("file_name").to_pylist() == ["a", "c"]
    # Rejected documents come back as received, with every problem.
    assert rejected.to_pylist() == [docs[1]]
    assert rejected.properties_of(0)["cleanse.errors"] == [
        "document 1, id, rule type: 'x' is not an integer",
        "document 1, country, rule enum: 'XX' is not one of: DE, FR",
        "document 1, name, rule max_length: 7 characters, at most 5 allowed",
        "document 1, lines[0].qty, rule mandatory: mandatory value is missing",
    ]
    record = last("cleanse")
    assert (record.name, record.documents_in) == ("customer", 3)
    assert (record.documents_out, record.errors) == ({"clean": 2, "rejected": 1}, 1)
    assert current_run().trace.has_warnings


def test_cleanse_never_invents_a_missing_mandatory_value() -> None:
    clean, rejected = cleanse(Documents.from_records([{"id": "  ", "name": "A"}]), PROFILE)
    assert len(clean) == 0
    assert rejected.properties_of(0)["cleanse.errors"] == [
        "document 0, id, rule mandatory: mandatory value is missing"
    ]


def test_cleanse_truncates_only_when_asked() -> None:
    docs = Documents.from_records([{"id": "1", "name": "Annabel"}])
    _, rejected = cleanse(docs, PROFILE)
    assert len(rejected) == 1
    clean, rejected = cleanse(docs, PROFILE, truncate=True)
    assert (clean.to_pylist(), len(rejected)) == ([{"id": "1", "name": "Annab"}], 0)
    assert clean.property("cleanse.repaired").to_pylist() == [["name"]]


def test_cleanse_without_repair_rejects_what_repair_would_fix() -> None:
    docs = Documents.from_records([{"id": "1", "country": "de"}])
    clean, rejected = cleanse(docs, PROFILE, repair=False)
    assert len(clean) == 0
    assert "cleanse.repaired" not in clean.property_names
    assert rejected.properties_of(0)["cleanse.errors"] == [
        "document 0, country, rule enum: 'de' is not one of: DE, FR"
    ]


def test_cleanse_empty_batch_and_every_document_failing() -> None:
    clean, rejected = cleanse(Documents.from_records([]), Profile("p", (Element("a"),)))
    assert (len(clean), len(rejected)) == (0, 0)
    assert last("cleanse").documents_out == {"clean": 0, "rejected": 0}
    docs = Documents.from_records([{"id": "a"}, {"id": "b"}])
    clean, rejected = cleanse(docs, PROFILE)
    assert (len(clean), len(rejected), last("cleanse").errors) == (0, 2, 2)


# -- business rules -----------------------------------------------------------------


ORDERS = Documents.from_records(
    [
        {"id": "A", "total": 50, "country": "DE"},
        {"id": "B", "total": -5, "country": "US"},
        {"id": "C", "total": None, "country": "FR"},
        {"id": "D", "total": 10, "country": "US"},
    ],
    properties={"partner": ["P1", "P2", "P3", "P4"]},
)


def test_business_rules_list_every_failed_message_filled_from_the_document() -> None:
    accepted, rejected = business_rules(
        ORDERS,
        [
            ("positive", pl.col("total") > 0, "order {id}: total {total} is not positive"),
            ("eu", "country IN ('DE', 'FR')", "order {id} from {partner} is outside the EU"),
            ("not B", lambda d: d["id"] != "B", "B is blocked"),
        ],
        name="order rules",
    )
    assert accepted.to_pylist() == [ORDERS[0]]
    assert rejected.to_pylist() == [ORDERS[1], ORDERS[2], ORDERS[3]]
    assert rejected.property("rules.failed").to_pylist() == [
        [
            "order B: total -5 is not positive",
            "order B from P2 is outside the EU",
            "B is blocked",
        ],
        ["order C: total None is not positive"],
        ["order D from P4 is outside the EU"],
    ]
    assert rejected.property("partner").to_pylist() == ["P2", "P3", "P4"]
    record = last("business_rules")
    assert (record.name, record.documents_in) == ("order rules", 4)
    assert (record.documents_out, record.errors) == ({"accepted": 1, "rejected": 3}, 3)


def test_business_rules_as_a_mapping_name_the_rule() -> None:
    _, rejected = business_rules(ORDERS, {"positive": "total > 0"})
    assert rejected.property("rules.failed").to_pylist() == [
        ["rule positive failed"],
        ["rule positive failed"],
    ]


def test_business_rules_pairs_default_their_message_and_rules_must_give_booleans() -> None:
    _, rejected = business_rules(ORDERS, [("known total", "total IS NOT NULL")])
    assert rejected.property("rules.failed").to_pylist() == [["rule known total failed"]]
    with pytest.raises(ProcessError, match="rule 'word' must give true or false"):
        business_rules(ORDERS, {"word": lambda d: "yes"})


def test_business_rules_empty_batch_all_failing_and_no_rules() -> None:
    accepted, rejected = business_rules(Documents.from_records([]), {"r": "total > 0"})
    assert (len(accepted), len(rejected)) == (0, 0)
    accepted, rejected = business_rules(ORDERS, {"never": lambda d: False})
    assert (len(accepted), len(rejected), last("business_rules").errors) == (0, 4, 4)
    with pytest.raises(ProcessError, match="at least one rule"):
        business_rules(ORDERS, {})


def test_business_rules_bad_condition_fails_the_shape() -> None:
    with pytest.raises(ProcessError, match="the condition failed"):
        business_rules(ORDERS, {"r": pl.col("nope") > 1})
    assert last("business_rules").error is not None


# -- find changes -------------------------------------------------------------------


def test_find_changes_first_run_adds_everything_then_compares() -> None:
    first = Documents.from_records(
        [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bob"}, {"id": 3, "name": "Cy"}]
    )
    added, updated, deleted = find_changes(first, "id", snapshot="crm")
    assert (len(added), len(updated), len(deleted)) == (3, 0, 0)
    now = Documents.from_records(
        [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bobby"}, {"id": 4, "name": "Di"}],
        properties={"file_name": ["f", "f", "f"]},
    )
    added, updated, deleted = find_changes(now, ["id"], snapshot="crm", name="crm changes")
    assert added.to_pylist() == [{"id": 4, "name": "Di"}]
    assert updated.to_pylist() == [{"id": 2, "name": "Bobby"}]
    assert deleted.to_pylist() == [{"id": 3}]
    assert deleted.schema.field("id").type == now.schema.field("id").type
    record = last("find_changes")
    assert record.name == "crm changes"
    assert record.documents_out == {"added": 1, "updated": 1, "deleted": 1}


def test_find_changes_ignores_properties_and_field_order() -> None:
    find_changes(Documents.from_records([{"id": "a", "v": 1}]), "id", snapshot="s")
    again = Documents.from_records([{"v": 1, "id": "a"}], properties={"file_name": ["new"]})
    added, updated, deleted = find_changes(again, "id", snapshot="s")
    assert (len(added), len(updated), len(deleted)) == (0, 0, 0)


def test_find_changes_compound_key_and_unparsed_content_keyed_by_property() -> None:
    docs = Documents.from_records([{"co": "X", "n": 1, "v": "a"}, {"co": "Y", "n": 1, "v": "b"}])
    find_changes(docs, ["co", "n"], snapshot="pair")
    _, updated, deleted = find_changes(docs.take([1]), ["co", "n"], snapshot="pair")
    assert (len(updated), deleted.to_pylist()) == (0, [{"co": "X", "n": 1}])
    raw = raw_documents([b"one", b"two"], {"file_name": ["a.txt", "b.txt"]})
    find_changes(raw, "file_name", snapshot="files")
    changed = raw_documents([b"one", b"TWO"], {"file_name": ["a.txt", "b.txt"]})
    added, updated, _ = find_changes(changed, "file_name", snapshot="files")
    assert (len(added), updated.properties_of(0)) == (0, {"file_name": "b.txt"})


def test_find_changes_hashes_fields_polars_cannot_write_as_json() -> None:
    docs = Documents.from_records([{"id": 1, "blob": b"a"}, {"id": 2, "blob": b"b"}])
    find_changes(docs, "id", snapshot="blobs")
    changed = Documents.from_records([{"id": 1, "blob": b"a"}, {"id": 2, "blob": b"B"}])
    added, updated, deleted = find_changes(changed, "id", snapshot="blobs")
    assert (len(added), updated.to_pylist(), len(deleted)) == (0, [{"id": 2, "blob": b"B"}], 0)


def test_find_changes_rejects_documents_without_a_key() -> None:
    docs = Documents.from_records([{"id": 1}, {"id": None}])
    added, _, _ = find_changes(docs, "id", snapshot="k")
    assert added.to_pylist() == [{"id": 1}]
    assert [(r.rule, r.index) for r in added.rejections] == [("key", 1)]
    assert last("find_changes").errors == 1
    added, updated, deleted = find_changes(
        Documents.from_records([{"id": None}, {"id": None}]), "id", snapshot="none"
    )
    assert (len(added), len(updated), len(deleted), len(added.rejections)) == (0, 0, 0, 2)
    assert last("find_changes").errors == 2
    with pytest.raises(ProcessError, match="no key field"):
        find_changes(docs, "code", snapshot="k2")
    with pytest.raises(ProcessError, match="taken with key"):
        find_changes(docs, ["id", "x"], snapshot="k")


def test_find_changes_empty_batch_deletes_everything_in_the_snapshot() -> None:
    find_changes(Documents.from_records([{"id": "a"}, {"id": "b"}]), "id", snapshot="e")
    added, updated, deleted = find_changes(Documents.from_records([]), "id", snapshot="e")
    assert (len(added), len(updated), deleted.to_pylist()) == (0, 0, [{"id": "a"}, {"id": "b"}])


def test_find_changes_snapshot_is_persisted_for_the_next_successful_run(tmp_path: Path) -> None:
    folder = tmp_path / "exec-1"
    new_run(execution(folder, "exec-1"))
    find_changes(
        Documents.from_records([{"id": 1, "d": date(2026, 1, 1)}, {"id": 2, "d": None}]),
        "id",
        snapshot="crm",
    )
    kept = json.loads((folder / PERSISTED_OUT).read_text(encoding="utf-8"))
    snapshot = kept["find_changes.crm"]
    assert snapshot["keys"] == ["id"]
    assert sorted(snapshot["hashes"]) == ["1", "2"]
    assert all(len(h) == 16 for h in snapshot["hashes"].values())
    # The executor hands the values of the last successful run to the next one.
    following = tmp_path / "exec-2"
    following.mkdir()
    (following / PERSISTED_IN).write_text(json.dumps(kept), encoding="utf-8")
    new_run(execution(following, "exec-2"))
    added, updated, deleted = find_changes(
        Documents.from_records([{"id": 1, "d": date(2026, 1, 2)}]), "id", snapshot="crm"
    )
    assert (len(added), updated.to_pylist(), deleted.to_pylist()) == (
        0,
        [{"id": 1, "d": date(2026, 1, 2)}],
        [{"id": 2}],
    )


# -- the trace never holds contents -------------------------------------------------


def test_quality_trace_holds_counts_never_contents() -> None:
    docs = Documents.from_records([{"id": SECRET, "country": SECRET, "total": 1}])
    cleanse(docs, PROFILE)
    business_rules(docs, [("r", "total > 5", "{id} too small")])
    find_changes(docs, "id", snapshot="secret")
    text = json.dumps(current_run().trace.to_dict(), default=str)
    assert SECRET not in text
    assert [s.kind for s in current_run().trace.shapes] == [
        "cleanse",
        "business_rules",
        "find_changes",
    ]
