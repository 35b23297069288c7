"""The first shapes: start, decision, route, branch, map, try/catch, exception, stop, notify,
properties, return documents, the document cache, and persisted values."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from atomnb.documents import Documents
from atomnb.errors import ProcessError
from atomnb.maps import Map, Rule, Step
from atomnb.process.context import ExecutionContext
from atomnb.process.run import (
    PERSISTED_IN,
    PERSISTED_OUT,
    TRACE_FILE,
    ProcessRun,
    current_run,
    new_run,
    persist_property,
    persisted_property,
)
from atomnb.process.shapes import (
    ERROR_MESSAGE,
    ERROR_TYPE,
    ProcessException,
    StopProcess,
    branch,
    decision,
    document_cache,
    exception,
    get_property,
    map,
    notify,
    return_documents,
    route,
    set_document_properties,
    set_process_properties,
    start,
    stop,
    try_catch,
)
from atomnb.process.trace import ShapeRecord, Trace
from atomnb.profiles import Element, ElementType, Profile

SECRET = "s3cr3t-Tok3n-9z"
EMPTY = Documents.from_records([])
ORDERS = Documents.from_records(
    [
        {"id": "SO-1", "total": 50, "country": "DE"},
        {"id": "SO-2", "total": 1500, "country": "FR"},
        {"id": "SO-3", "total": None, "country": "US"},
        {"id": "SO-4", "total": 2000, "country": None},
    ],
    properties={"partner": ["P1", "P2", "P3", "P4"]},
)


def execution(folder: Path, execution_id: str) -> ExecutionContext:
    return ExecutionContext(execution_id, "proc", "test", "schedule", folder / "output", None)


@pytest.fixture(autouse=True)
def run(tmp_path: Path) -> ProcessRun:
    ctx = ExecutionContext(None, None, "test", "test", tmp_path / "output", None)
    return new_run(ctx)


def records() -> list[ShapeRecord]:
    return current_run().trace.shapes


def last() -> ShapeRecord:
    return records()[-1]


def ids(docs: Documents) -> list[str]:
    return [d["id"] for d in docs]


# -- start --------------------------------------------------------------------------


def test_start_with_sample_documents_or_none() -> None:
    assert start(ORDERS) is ORDERS
    assert (last().kind, last().documents_in, last().documents_out) == ("start", 0, {"out": 4})
    assert len(start()) == 0
    assert last().documents_out == {"out": 0}


def test_start_prefers_the_documents_the_runtime_hands_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from atomnb.documents import write_ipc
    from atomnb.process.context import INCOMING_ENV

    handed = Documents.from_records([{"id": "real"}], properties={"partner": ["P9"]})
    monkeypatch.setenv(INCOMING_ENV, str(write_ipc(handed, tmp_path / "in.arrow")))
    started = start(ORDERS, name="listener")
    assert ids(started) == ["real"] and started.properties_of(0) == {"partner": "P9"}
    assert last().name == "listener"


# -- decision -----------------------------------------------------------------------


def test_decision_sends_nulls_down_the_false_path() -> None:
    big, small = decision(ORDERS, "total > 1000", name="big orders")
    assert ids(big) == ["SO-2", "SO-4"]
    assert ids(small) == ["SO-1", "SO-3"]
    assert big.property("partner").to_pylist() == ["P2", "P4"]
    record = last()
    assert (record.kind, record.name, record.documents_in) == ("decision", "big orders", 4)
    assert record.documents_out == {"true": 2, "false": 2}


def test_decision_with_expression_and_function() -> None:
    eu, _ = decision(ORDERS, pl.col("country").is_in(["DE", "FR"]))
    assert ids(eu) == ["SO-1", "SO-2"]
    odd, even = decision(ORDERS, lambda d: int(d["id"][-1]) % 2 == 1)
    assert (ids(odd), ids(even)) == (["SO-1", "SO-3"], ["SO-2", "SO-4"])


def test_decision_on_an_empty_batch_and_a_bad_condition() -> None:
    passed, failed = decision(EMPTY, "total > 1")
    assert (len(passed), len(failed), last().documents_out) == (0, 0, {"true": 0, "false": 0})
    with pytest.raises(ProcessError, match="the condition failed"):
        decision(ORDERS, pl.col("missing") > 1, name="broken")
    assert last().name == "broken"
    error = last().error
    assert error is not None and error.startswith("ProcessError: shape broken")


# -- route --------------------------------------------------------------------------


def test_route_by_value_with_the_default_for_no_match_and_nulls() -> None:
    paths = route(ORDERS, pl.col("country"), {"germany": "DE", "france": ["FR"], "asia": "JP"})
    assert {k: ids(v) for k, v in paths.items()} == {
        "germany": ["SO-1"],
        "france": ["SO-2"],
        "asia": [],
        "default": ["SO-3", "SO-4"],
    }
    assert last().documents_out == {"germany": 1, "france": 1, "asia": 0, "default": 2}


def test_route_by_rules_takes_the_first_that_holds() -> None:
    paths = route(ORDERS, True, {"huge": "total > 1800", "big": "total > 1000"}, default="rest")
    assert {k: ids(v) for k, v in paths.items()} == {
        "huge": ["SO-4"],
        "big": ["SO-2"],
        "rest": ["SO-1", "SO-3"],
    }


def test_route_where_nothing_matches_and_a_route_named_default() -> None:
    paths = route(ORDERS, pl.col("country"), ["XX"])
    assert (len(paths["XX"]), len(paths["default"])) == (0, 4)
    with pytest.raises(ProcessError, match="may not be called 'default'"):
        route(ORDERS, pl.col("country"), {"default": "DE"})


def test_route_on_an_empty_batch_gives_empty_paths() -> None:
    paths = route(EMPTY, pl.col("country"), {"germany": "DE"})
    assert (len(paths["germany"]), len(paths["default"])) == (0, 0)
    assert last().documents_out == {"germany": 0, "default": 0}


# -- branch -------------------------------------------------------------------------


def test_branch_runs_paths_in_order_after_recording_itself() -> None:
    seen: list[str] = []

    def path(label: str) -> Callable[[Documents], str]:
        def run_path(docs: Documents) -> str:
            seen.append(f"{label}:{len(docs)}:{len(records())}")
            notify(label, docs)
            return label

        return run_path

    assert branch(ORDERS, path("one"), path("two"), path("three")) == ["one", "two", "three"]
    assert seen == ["one:4:1", "two:4:2", "three:4:3"]
    kinds = [(r.kind, r.name) for r in records()]
    assert kinds == [("branch", "branch")] + [("notify", "notify")] * 3
    assert records()[0].documents_out == {"branch 1": 4, "branch 2": 4, "branch 3": 4}


# -- map ----------------------------------------------------------------------------


def test_map_records_rejections_as_errors() -> None:
    source = Profile("src", (Element("id"), Element("n", ElementType.INTEGER)))
    target = Profile("tgt", (Element("ID"), Element("n", ElementType.INTEGER)))
    upper = Map("upper", source, target, (Rule("ID", ("id",), (Step("upper"),)), Rule("n", ("n",))))
    out = map(Documents.from_records([{"id": "a", "n": "5"}, {"id": "b", "n": "x"}]), upper)
    assert out.to_pylist() == [{"ID": "A", "n": 5}]
    assert len(out.rejections) == 1
    record = last()
    assert (record.kind, record.name, record.documents_out, record.errors) == (
        "map",
        "upper",
        {"out": 1},
        1,
    )
    assert current_run().trace.has_warnings


# -- try/catch ----------------------------------------------------------------------


def _invert(docs: Documents) -> Documents:
    return docs.with_properties(inverse=[1 / d["n"] for d in docs])


def test_try_catch_catches_only_the_failing_documents() -> None:
    docs = Documents.from_records([{"n": 1}, {"n": 0}, {"n": 4}])
    ok, caught = try_catch(docs, _invert, name="invert")
    assert ok.property("inverse").to_pylist() == [1.0, 0.25]
    assert caught.to_pylist() == [{"n": 0}]
    assert caught.properties_of(0)[ERROR_TYPE] == "ZeroDivisionError"
    assert caught.properties_of(0)[ERROR_MESSAGE] == "division by zero"
    record = last()
    assert (record.kind, record.documents_out, record.errors) == (
        "try_catch",
        {"try": 2, "catch": 1},
        1,
    )
    assert current_run().trace.caught == 1
    assert [e.level for e in current_run().trace.logs] == ["warning"]


def test_try_catch_where_every_document_fails_and_on_an_empty_batch() -> None:
    docs = Documents.from_records([{"n": 0}, {"n": 0}])
    ok, caught = try_catch(docs, _invert)
    assert (len(ok), len(caught), last().errors) == (0, 2, 2)
    ok, caught = try_catch(EMPTY, _invert)
    assert (len(ok), len(caught), last().documents_out) == (0, 0, {"try": 0, "catch": 0})


def test_try_catch_retries_the_batch_first() -> None:
    attempts: list[int] = []

    def flaky(docs: Documents) -> Documents:
        attempts.append(len(docs))
        if len(attempts) < 3:
            raise ConnectionError("busy")
        return docs

    ok, caught = try_catch(ORDERS, flaky, retries=2)
    assert (len(ok), len(caught), attempts) == (4, 0, [4, 4, 4])
    assert last().errors == 0


def test_nested_try_catch_inner_catches_before_outer() -> None:
    docs = Documents.from_records([{"n": 1}, {"n": 0}, {"n": -1}])

    def strict(d: Documents) -> Documents:
        if any(x["n"] < 0 for x in d):
            raise ValueError("negative")
        return d

    def inner_block(d: Documents) -> Documents:
        return try_catch(strict(d), _invert, name="inner")[0]

    ok, caught = try_catch(docs, inner_block, name="outer")
    assert ok.property("inverse").to_pylist() == [1.0]
    assert caught.to_pylist() == [{"n": -1}]
    assert caught.properties_of(0)[ERROR_MESSAGE] == "negative"
    outer = [r for r in records() if r.name == "outer"]
    inner = [r for r in records() if r.name == "inner"]
    assert outer[0].documents_out == {"try": 1, "catch": 1}
    assert sum(r.errors for r in inner) == 1  # the n=0 document, caught inside
    assert current_run().trace.caught == 2


# -- exception, stop, notify --------------------------------------------------------


def test_exception_message_filled_from_the_first_document() -> None:
    with pytest.raises(ProcessException, match=r"order SO-1 has no lines \(total 50, {x}\)"):
        exception("order {id} has no lines (total {total}, {x})", ORDERS, name="no lines")
    record = last()
    assert (record.kind, record.name, record.errors) == ("exception", "no lines", 4)
    entry = current_run().trace.logs[-1]
    assert (entry.level, entry.message) == ("error", "order SO-1 has no lines (total 50, {x})")
    assert current_run().trace.has_warnings


def test_exception_without_documents() -> None:
    with pytest.raises(ProcessException, match=r"^nothing to do$"):
        exception("nothing to do")
    assert last().errors == 0


def test_stop_raises_stop_process_and_logs_the_reason() -> None:
    with pytest.raises(StopProcess, match="no new files"):
        stop("no new files")
    assert last().kind == "stop"
    assert current_run().trace.logs[-1].message == "stopped: no new files"
    assert not current_run().trace.has_warnings


@pytest.mark.parametrize(
    ("level", "warns"), [("debug", False), ("info", False), ("warning", True), ("error", True)]
)
def test_notify_levels(level: str, warns: bool) -> None:
    text = notify("{count} orders, first {id}", ORDERS, level=level)
    assert text == "4 orders, first SO-1"
    entry = current_run().trace.logs[-1]
    assert (entry.level, entry.message, entry.shape) == (level, text, "notify")
    assert last().documents_out == {"out": 4}
    assert current_run().trace.has_warnings is warns


def test_notify_refuses_an_unknown_level_and_counts_empty_batches() -> None:
    with pytest.raises(ProcessError, match="notify level"):
        notify("x", level="loud")
    assert notify("{count} documents", EMPTY) == "0 documents"


# -- properties ---------------------------------------------------------------------


def test_process_properties_later_values_win_and_defaults_apply() -> None:
    assert get_property("region", "eu") == "eu"
    set_process_properties(region="us", limit=10)
    set_process_properties(region="apac")
    assert (get_property("region"), get_property("limit")) == ("apac", 10)
    assert get_property("missing") is None
    assert [r.kind for r in records()] == ["set_properties", "set_properties"]


def test_document_properties_scalar_or_one_per_document() -> None:
    out = set_document_properties(ORDERS, batch="B1", seq=[1, 2, 3, 4], partner="X")
    assert out.properties_of(1) == {"partner": "X", "batch": "B1", "seq": 2}
    assert last().documents_out == {"out": 4}
    with pytest.raises(ValueError, match="property 'seq'"):
        set_document_properties(ORDERS, seq=[1])


def test_return_documents_by_label() -> None:
    return_documents(ORDERS.take([0]))
    return_documents(ORDERS.take([1, 2]), "errors")
    return_documents(ORDERS.take([3]))
    returned = current_run().returned
    assert {k: [len(d) for d in v] for k, v in returned.items()} == {
        "default": [1, 1],
        "errors": [2],
    }
    assert last().documents_out == {"default": 1}


# -- document cache -----------------------------------------------------------------


def test_document_cache_add_get_lookup_remove() -> None:
    customers = document_cache("customers", keys=["id"])
    size = customers.add(
        Documents.from_records(
            [{"id": "C1", "name": "Ann"}, {"id": "C2", "name": "Bob"}, {"id": "C1", "name": "Al"}]
        )
    )
    assert size == 3
    assert (last().kind, last().name, last().documents_out) == (
        "cache_add",
        "customers",
        {"cached": 3},
    )
    assert customers.get("C1") == [{"id": "C1", "name": "Ann"}, {"id": "C1", "name": "Al"}]
    assert customers.get("C9") == []
    orders = Documents.from_records([{"id": "C2"}, {"id": "C9"}, {"id": "C1"}])
    looked = customers.lookup(orders, "name", into="customer")
    assert looked.property("customer").to_pylist() == ["Bob", None, "Ann"]
    assert document_cache("customers") is customers
    assert customers.remove("C1") == 2
    assert (len(customers), customers.retrieve().to_pylist()) == (1, [{"id": "C2", "name": "Bob"}])


def test_document_cache_errors_name_the_cache() -> None:
    with pytest.raises(ProcessError, match="'ghost' does not exist"):
        document_cache("ghost")
    cache = document_cache("pair", keys=["a", "b"])
    with pytest.raises(ProcessError, match="give 2 value"):
        cache.get("x")
    with pytest.raises(ProcessError, match=r"no field\(s\) \['b'\]"):
        cache.add(Documents.from_records([{"a": 1}]))
    assert cache.add(EMPTY) == 0


# -- persisted values and the trace file --------------------------------------------


def test_persisted_values_reach_the_next_run_of_the_process(tmp_path: Path) -> None:
    first = tmp_path / "exec-1"
    new_run(execution(first, "exec-1"))
    assert persisted_property("high_water", "1970") == "1970"
    persist_property("high_water", "2026-11-27")
    assert persisted_property("high_water") == "2026-11-27"
    kept = json.loads((first / PERSISTED_OUT).read_text(encoding="utf-8"))
    assert kept == {"high_water": "2026-11-27"}
    # The executor saves them on success and writes them into the next execution folder.
    second = tmp_path / "exec-2"
    second.mkdir()
    (second / PERSISTED_IN).write_text(json.dumps(kept), encoding="utf-8")
    new_run(execution(second, "exec-2"))
    assert persisted_property("high_water") == "2026-11-27"
    # A new run on the same folder reads what the executor handed in.
    new_run(execution(second, "exec-2"))
    assert persisted_property("high_water", "none") == "2026-11-27"


def test_trace_file_is_written_after_every_shape(tmp_path: Path) -> None:
    folder = tmp_path / "exec"
    new_run(execution(folder, "exec"))
    decision(ORDERS, "total > 1000")
    notify("done")
    trace = Trace.read(folder / TRACE_FILE)
    assert trace is not None
    assert [s.kind for s in trace.shapes] == ["decision", "notify"]
    assert trace.shapes[0].documents_out == {"true": 2, "false": 2}


def test_trace_holds_counts_never_contents() -> None:
    docs = Documents.from_records(
        [{"id": SECRET, "total": 5, "n": 0}], properties={"token": [SECRET]}
    )
    start(docs)
    decision(docs, "total > 1")
    route(docs, pl.col("id"), {"a": "x"})
    branch(docs, lambda d: d)
    try_catch(docs, _invert)
    set_document_properties(docs, other=SECRET)
    notify("{count} documents", docs)
    return_documents(docs)
    document_cache("c", keys=["id"]).add(docs)
    text = json.dumps(current_run().trace.to_dict(), default=str)
    assert SECRET not in text
    assert len(records()) == 9


def test_track_records_only_the_named_fields() -> None:
    from atomnb.errors import ProcessError
    from atomnb.process.run import current_run
    from atomnb.process.shapes import track

    docs = Documents.from_records(
        [
            {"id": "A", "party": {"gln": "4000001"}, "card": "4111"},
            {"id": None, "party": None, "card": "5500"},
        ]
    )
    assert track(docs, "id", "party.gln", name="ids") is docs
    assert current_run().trace.tracked == [
        {"shape": "ids", "field": "id", "value": "A", "document": 0},
        {"shape": "ids", "field": "party.gln", "value": "4000001", "document": 0},
    ]
    assert "4111" not in str(current_run().trace.to_dict())
    with pytest.raises(ProcessError, match="no field 'nope' to track"):
        track(docs, "nope")


def test_process_call_in_process_shares_the_trace(tmp_path: Path) -> None:
    from atomnb.errors import ProcessError
    from atomnb.process.shapes import process_call
    from tests.conftest import make_notebook

    child = make_notebook(
        tmp_path / "child.ipynb",
        "%load_ext atomnb\nimport atomnb as ab\nimport pyarrow as pa\n"
        "docs = ab.start(ab.Documents.from_records([{'n': 0}]))\n"
        "out = docs.with_table(pa.table({'n': [d['n'] * factor for d in docs]}))\n"
        "ab.return_documents(out, 'scaled')\n"
        "if fail:\n    raise ValueError('no scaling today')\n",
        parameters="factor = 2\nfail = False",
    )
    docs = Documents.from_records([{"n": 1}, {"n": 2}])
    returned = process_call(child, docs, parameters={"factor": "10"}, in_process=True)
    assert [d["n"] for d in returned["scaled"]] == [10, 20]
    kinds = [(s.kind, s.name) for s in current_run().trace.shapes]
    assert kinds[-3:] == [("start", "start"), ("return", "return"), ("process_call", "child")]
    assert current_run().trace.shapes[-1].documents_out == {"scaled": 2}
    with pytest.raises(ProcessError, match=r"child failed in cell 2: ValueError: no scaling today"):
        process_call(child, docs, parameters={"fail": True}, in_process=True)
    assert current_run().call_stack == []
