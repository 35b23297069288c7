"""The run's drift collector in a kernel: every profile applied is measured once, shapes'
own collectors hand their counts on, and nothing is measured outside an execution."""

from __future__ import annotations

import importlib

import pytest

from atomnb.documents import Documents
from atomnb.profiles import Element, ElementType, Profile, apply_profile, collecting_drift

drift_module = importlib.import_module("atomnb.profiles.drift_collect")
drift_measure = importlib.import_module("atomnb.profiles.drift")
PROFILE = Profile(
    "orders",
    (Element("id", ElementType.INTEGER, mandatory=True), Element("status", enum=("a", "b"))),
)


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drift_module, "_RUN_COLLECTOR", None)


def _docs(*records: dict[str, str]) -> Documents:
    return Documents.from_records(list(records))


@pytest.mark.parametrize("policy", ["record", "warn", "notify"])
def test_an_execution_measures_every_profile_applied_once(
    monkeypatch: pytest.MonkeyPatch, policy: str
) -> None:
    monkeypatch.setenv(drift_module.DRIFT_ENV, policy)
    apply_profile(_docs({"id": "1", "extra": "x"}), PROFILE)  # outside any block
    with collecting_drift() as shape:  # a shape's own block, nested in another
        with collecting_drift() as inner:
            apply_profile(_docs({"id": "2", "extra": "y"}, {"status": "c"}), PROFILE)
        (inner_report,) = inner.reports()
        assert inner_report.new_fields == {"extra": 1}
    assert shape.reports()[0].documents == 2  # handed on from the inner block
    run = drift_module.run_collector()
    assert run is not None
    (report,) = run.reports()
    assert report.documents == 3  # 1 + 2: the nested documents counted once, not twice
    assert report.new_fields == {"extra": 2}
    assert report.missing_mandatory == {"id": 1}
    assert report.new_codes["status"].documents == 1


@pytest.mark.parametrize("policy", [None, "ignore", "nonsense"])
def test_nothing_is_measured_outside_a_measuring_execution(
    monkeypatch: pytest.MonkeyPatch, policy: str | None
) -> None:
    if policy is None:
        monkeypatch.delenv(drift_module.DRIFT_ENV, raising=False)
    else:
        monkeypatch.setenv(drift_module.DRIFT_ENV, policy)
    apply_profile(_docs({"id": "1", "extra": "x"}), PROFILE)
    assert drift_module.run_collector() is None


def test_distinct_new_codes_merge_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(drift_module.DRIFT_ENV, "record")
    monkeypatch.setattr(drift_measure, "MAX_DISTINCT_CODES", 3)
    for batch in (["c", "d"], ["d", "e", "f"]):
        with collecting_drift():
            apply_profile(_docs(*({"id": "1", "status": s} for s in batch)), PROFILE)
    run = drift_module.run_collector()
    assert run is not None
    codes = run.reports()[0].new_codes["status"]
    assert (codes.distinct, codes.documents, codes.capped) == (3, 5, True)


def test_a_map_measures_documents_already_typed_as_its_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Text documents match a text source profile's types, so the map skips the profile
    pass; a field the profile does not know is still counted for the run."""
    from atomnb.maps import Map, Rule

    monkeypatch.setenv(drift_module.DRIFT_ENV, "record")
    source = Profile("line", (Element("sku"), Element("qty")))
    target = Profile("out", (Element("sku"),))
    mapping = Map("lines", source, target, (Rule("sku", ("sku",)),))
    mapped = mapping(_docs({"sku": "A", "qty": "1", "colour": "teal"}))
    assert mapped.to_pylist() == [{"sku": "A"}]
    run = drift_module.run_collector()
    assert run is not None
    (report,) = run.reports()
    assert report.new_fields == {"colour": 1}
