"""Profile drift: new fields, off-type values, missing mandatory values and new codes,
counted per path over hand-made documents; no value ever appears in the report."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import atomnb as ab
from atomnb.documents import Documents
from atomnb.profiles import Element, Profile, apply_profile
from atomnb.profiles import ElementType as T
from atomnb.profiles.drift import DriftReport, drift

PROFILE = Profile(
    "orders",
    (
        Element("id", T.STRING, mandatory=True),
        Element("total", T.DECIMAL),
        Element("date", T.DATE, mask="%Y-%m-%d"),
        Element("status", T.STRING, enum=("open", "closed")),
        Element("customer", T.RECORD, children=(Element("name", mandatory=True), Element("email"))),
        Element(
            "lines",
            T.RECORD,
            max_occurs=None,
            children=(Element("sku", mandatory=True), Element("qty", T.INTEGER)),
        ),
    ),
)

GOOD = {
    "id": "1",
    "total": "5.00",
    "date": "2026-01-01",
    "status": "open",
    "customer": {"name": "Ada", "email": "ada@example.org"},
    "lines": [{"sku": "S-1", "qty": "1"}],
}

# values that must never reach a report
SECRETS = ["Zebulon Quist", "zq@secret.example", "VIP-PENDING", "VIP-VOID", "31/12/2026", "12abc"]


def _drifted() -> list[dict[str, object]]:
    return [
        GOOD,
        {
            "id": "2",
            "total": "12abc",  # off type
            "date": "31/12/2026",  # off mask
            "status": "VIP-PENDING",  # new code
            "customer": {"name": "Zebulon Quist", "phone": "555-0100"},  # new nested field
            "lines": [
                {"sku": "S-2", "qty": "x", "colour": "red"},  # off type, new field in a list
                {"qty": "2"},  # missing mandatory sku
            ],
            "loyalty": "gold",  # new top-level field
        },
        {
            "total": "1",  # id missing
            "status": "VIP-VOID",
            "customer": {"email": "zq@secret.example"},  # name missing
            "lines": [{"sku": "S-3", "qty": "2", "colour": "blue"}],
            "loyalty": "silver",
        },
        {**GOOD, "id": "4", "status": "VIP-VOID"},
    ]


def test_no_drift_on_fitting_documents() -> None:
    report = drift(Documents.from_records([GOOD, {**GOOD, "id": "2"}]), PROFILE)
    assert not report.drifted
    assert report.documents == 2
    assert "no drift" in report.summary()


def test_each_kind_counted_per_path() -> None:
    report = drift(Documents.from_records(_drifted()), PROFILE)
    assert report.documents == 4
    assert report.new_fields == {"customer.phone": 1, "lines.colour": 2, "loyalty": 2}
    assert report.off_type == {"date": 1, "lines.qty": 1, "total": 1}
    assert report.missing_mandatory == {"customer.name": 1, "id": 1, "lines.sku": 1}
    codes = report.new_codes["status"]
    assert (codes.distinct, codes.documents, codes.capped) == (2, 3, False)
    assert set(report.new_codes) == {"status"}
    assert report.drifted


def test_counts_do_not_depend_on_batch_size_or_input_kind() -> None:
    records = _drifted()
    whole = drift(records, PROFILE).to_dict()
    assert drift(Documents.from_records(records), PROFILE, batch_size=1).to_dict() == whole
    assert drift(Documents.from_records(records).to_arrow(), PROFILE).to_dict() == whole
    stream = ab.DocumentStream(iter([Documents.from_records([r]) for r in records]))
    assert drift(stream, PROFILE).to_dict() == whole


def test_a_whole_column_of_the_wrong_type() -> None:
    docs = Documents.from_records([{"id": "1", "total": True, "customer": "flat"}])
    report = drift(docs, PROFILE)
    assert report.off_type == {"customer": 1, "total": 1}


def test_no_value_appears_in_the_report() -> None:
    report = drift(_drifted(), PROFILE)
    texts = [
        str(report),
        repr(report),
        report.summary(),
        report.to_json(),
        json.dumps(report.to_dict()),
    ]
    for text in texts:
        for secret in [*SECRETS, "gold", "silver", "red", "blue", "555-0100"]:
            assert secret not in text, (secret, text)
    assert "loyalty (2)" in report.summary()


def test_public_name() -> None:
    assert ab.drift is drift
    assert isinstance(ab.drift([GOOD], PROFILE), DriftReport)


def test_rejects_what_is_not_documents() -> None:
    with pytest.raises(TypeError, match="drift needs"):
        drift([1, 2], PROFILE)  # type: ignore[list-item]


def test_a_million_documents_in_bounded_memory() -> None:
    code = textwrap.dedent(
        """
        import pyarrow as pa, pyarrow.compute as pc
        from pathlib import Path
        from atomnb.profiles import Element, Profile, ElementType as T
        from atomnb.profiles.drift import drift

        def hwm_mb():
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024

        n = 1_000_000
        ids = pc.cast(pa.array(range(n)), pa.string())
        status = pc.if_else(pc.equal(pc.bit_wise_and(pa.array(range(n)), 7), 0),
                            pc.binary_join_element_wise("S", ids, ""), pa.scalar("open"))
        customer = pa.StructArray.from_arrays([ids, ids], names=["name", "phone"])
        table = pa.table({"id": ids, "total": ids, "status": status, "customer": customer,
                          "extra": ids})
        profile = Profile("p", (Element("id", mandatory=True), Element("total", T.INTEGER),
            Element("status", enum=("open",)),
            Element("customer", T.RECORD, children=(Element("name"),))))
        Path("/proc/self/clear_refs").write_text("5")
        before = hwm_mb()
        report = drift(table, profile)
        print(report.to_json())
        print(hwm_mb() - before)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600
    )
    data, growth = out.stdout.splitlines()
    report = json.loads(data)
    assert report["documents"] == 1_000_000
    assert report["new_fields"] == {"customer.phone": 1_000_000, "extra": 1_000_000}
    assert report["new_codes"]["status"]["documents"] == 125_000
    assert report["new_codes"]["status"]["distinct"] == 10_000
    assert report["new_codes"]["status"]["capped"] is True
    assert report["off_type"] == {}
    # the table itself is ~40 MB; measuring it must not cost more than a few batches
    assert float(growth) < 120, growth  # measured: see NOTES_drift.md


def test_typed_documents_fit_their_own_profile() -> None:
    typed = apply_profile(Documents.from_records([GOOD, {**GOOD, "id": "2"}]), PROFILE)
    assert typed.to_arrow().schema.field("date").type != "string"
    assert not drift(typed, PROFILE).drifted


def test_a_list_where_a_single_value_is_declared() -> None:
    report = drift([{**GOOD, "id": ["1", "2"]}], PROFILE)
    assert report.off_type == {"id": 1}
