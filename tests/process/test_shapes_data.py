"""Data process shapes: split, combine, search/replace, zip/unzip, custom, message, parse."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pyarrow as pa
import pytest

from atomnb.documents import Documents
from atomnb.errors import ProcessError
from atomnb.process.context import ExecutionContext
from atomnb.process.run import ProcessRun, current_run, new_run
from atomnb.process.shapes import (
    CONTENT,
    combine,
    custom,
    message,
    parse_documents,
    raw_documents,
    search_replace,
    set_process_properties,
    split,
    unzip_documents,
    zip_documents,
)
from atomnb.process.trace import ShapeRecord
from atomnb.profiles import Element, ElementType, Profile

SECRET = "s3cr3t-Tok3n-9z"


@pytest.fixture(autouse=True)
def run(tmp_path: Path) -> ProcessRun:
    ctx = ExecutionContext(
        execution_id=None,
        process=None,
        environment="test",
        trigger="test",
        output_dir=tmp_path / "output",
        workspace=None,
    )
    return new_run(ctx)


def last(kind: str) -> ShapeRecord:
    records = [s for s in current_run().trace.shapes if s.kind == kind]
    assert records, f"no {kind} shape recorded"
    return records[-1]


def contents(docs: Documents) -> list[bytes]:
    return [d[CONTENT] for d in docs]


def zipped(**entries: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry, data in entries.items():
            archive.writestr(entry, data)
    return buffer.getvalue()


# -- raw and parse ------------------------------------------------------------------


def test_raw_documents_hold_one_binary_content_column_and_properties() -> None:
    raw = raw_documents([b"a", "é"], properties={"file_name": ["a.txt", "b.txt"]})
    assert raw.column_names == ["content"]
    assert raw.schema.field("content").type == pa.binary()
    assert contents(raw) == [b"a", "é".encode()]
    assert raw.properties_of(1) == {"file_name": "b.txt"}


def test_parse_documents_reads_each_content_and_keeps_its_properties() -> None:
    raw = raw_documents(
        [b"id,name\n1,Ann\n2,Bob\n", b"id,name\n3,Cy\n"],
        properties={"file_name": ["a.csv", "b.csv"], "partner": ["P1", "P2"]},
    )
    docs = parse_documents(raw, format="csv")
    assert docs.to_pylist() == [
        {"id": "1", "name": "Ann"},
        {"id": "2", "name": "Bob"},
        {"id": "3", "name": "Cy"},
    ]
    assert docs.property("file_name").to_pylist() == ["a.csv", "a.csv", "b.csv"]
    assert docs.property("partner").to_pylist() == ["P1", "P1", "P2"]
    record = last("parse")
    assert (record.documents_in, record.documents_out, record.errors) == (2, {"out": 3}, 0)


def test_parse_documents_rejects_a_document_that_does_not_read_and_keeps_the_others() -> None:
    raw = raw_documents(
        [b'[{"id": 1}]', b"{broken", b'[{"id": 2}]'], {"file_name": ["a", "b", "c"]}
    )
    docs = parse_documents(raw, format="json")
    assert docs.to_pylist() == [{"id": 1}, {"id": 2}]
    assert len(docs.rejections) == 1
    rejection = docs.rejections[0]
    assert (rejection.where, rejection.index, rejection.raw) == ("b", 1, b"{broken")
    assert last("parse").errors == 1
    assert current_run().trace.caught == 1


def test_parse_documents_with_a_profile_rejects_misfits_without_tracing_values() -> None:
    profile = Profile("o", (Element("id", ElementType.INTEGER),), format="json")
    raw = raw_documents(
        [b'[{"id": "1"}, {"id": "%s"}]' % SECRET.encode()], {"file_name": ["o.json"]}
    )
    docs = parse_documents(raw, profile=profile)
    assert docs.to_pylist() == [{"id": 1}]
    (rejection,) = docs.rejections
    assert (rejection.where, rejection.index, rejection.rule) == ("o.json", 1, "profile")
    assert SECRET in rejection.message
    assert last("parse").errors == 1
    assert current_run().trace.logs[-1].message == "rejected: o.json, document 1, rule profile"
    assert SECRET not in json.dumps(current_run().trace.to_dict(), default=str)


def test_parse_documents_where_every_document_fails() -> None:
    docs = parse_documents(raw_documents([b"{", b"["]), format="json")
    assert len(docs) == 0
    assert [(r.where, r.index, r.rule) for r in docs.rejections] == [
        ("document 0", 0, "format"),
        ("document 1", 1, "format"),
    ]
    record = last("parse")
    assert (record.documents_in, record.documents_out, record.errors) == (2, {"out": 0}, 2)


def test_parse_documents_of_an_empty_batch_is_empty() -> None:
    assert len(parse_documents(raw_documents([]), format="json")) == 0
    assert last("parse").documents_out == {"out": 0}


def test_shapes_on_bytes_refuse_parsed_documents() -> None:
    with pytest.raises(ProcessError, match="unparsed"):
        search_replace(Documents.from_records([{"a": "x"}]), "x", "y")
    assert last("search_replace").error is not None


# -- split --------------------------------------------------------------------------


def test_split_by_lines_one_document_per_non_empty_line_with_properties() -> None:
    raw = raw_documents([b"a\r\nb\n\nc\n", b"d"], {"file_name": ["one.txt", "two.txt"]})
    out = split(raw, by="lines")
    assert contents(out) == [b"a", b"b", b"c", b"d"]
    assert out.property("file_name").to_pylist() == ["one.txt"] * 3 + ["two.txt"]
    record = last("split")
    assert (record.documents_in, record.documents_out) == (2, {"out": 4})


def test_split_by_lines_with_header_repeats_the_first_line() -> None:
    out = split(raw_documents([b"id,name\n1,Ann\n2,Bob\n"]), by="lines", header=True)
    assert contents(out) == [b"id,name\n1,Ann", b"id,name\n2,Bob"]


def test_split_by_records_writes_each_record_in_the_format() -> None:
    out = split(raw_documents([b'[{"a": 1}, {"a": 2}]']), by="records", format="json")
    assert [json.loads(c) for c in contents(out)] == [[{"a": 1}], [{"a": 2}]]
    with pytest.raises(ProcessError, match="format"):
        split(raw_documents([b"[]"]), by="records")


def test_split_by_records_rejects_a_document_that_does_not_read() -> None:
    raw = raw_documents([b"{oops", b'[{"a": 3}]'], {"file_name": ["bad.json", "ok.json"]})
    out = split(raw, by="records", format="json")
    assert [json.loads(c) for c in contents(out)] == [[{"a": 3}]]
    assert out.property("file_name").to_pylist() == ["ok.json"]
    assert [(r.where, r.rule, r.raw) for r in out.rejections] == [("bad.json", "format", b"{oops")]
    assert last("split").errors == 1


def test_split_by_repeating_element_fans_out_with_parent_fields() -> None:
    docs = Documents.from_records(
        [
            {"order": "SO-1", "lines": [{"sku": "A"}, {"sku": "B"}]},
            {"order": "SO-2", "lines": []},
            {"order": "SO-3", "lines": [{"sku": "C"}]},
        ],
        properties={"partner": ["P1", "P2", "P3"]},
    )
    out = split(docs, by="lines")
    assert out.to_pylist() == [
        {"order": "SO-1", "lines": [{"sku": "A"}]},
        {"order": "SO-1", "lines": [{"sku": "B"}]},
        {"order": "SO-2", "lines": []},
        {"order": "SO-3", "lines": [{"sku": "C"}]},
    ]
    assert out.schema == docs.schema
    assert out.property("partner").to_pylist() == ["P1", "P1", "P2", "P3"]
    assert last("split").documents_out == {"out": 4}


def test_split_by_an_unknown_element_names_the_repeating_ones() -> None:
    docs = Documents.from_records([{"id": 1, "items": [1, 2]}])
    with pytest.raises(ProcessError, match="items"):
        split(docs, by="lines_of_order")


def test_split_empty_batch() -> None:
    assert len(split(raw_documents([]), by="lines")) == 0
    assert len(split(Documents.from_records([]), by="items")) == 0
    assert last("split").documents_out == {"out": 0}


# -- combine ------------------------------------------------------------------------


def test_combine_records_into_a_list_field_keeps_first_properties() -> None:
    docs = Documents.from_records([{"id": 1}, {"id": 2}], properties={"file_name": ["a", "b"]})
    out = combine(docs, into="orders")
    assert out.to_pylist() == [{"orders": [{"id": 1}, {"id": 2}]}]
    assert out.properties_of(0) == {"file_name": "a"}
    record = last("combine")
    assert (record.documents_in, record.documents_out) == (2, {"out": 1})


def test_combine_unparsed_joins_contents() -> None:
    assert contents(combine(raw_documents([b"a", b"b", b"c"]), separator="|")) == [b"a|b|c"]


def test_combine_empty_batch_gives_no_document() -> None:
    assert len(combine(raw_documents([]))) == 0
    assert last("combine").documents_out == {"out": 0}


# -- search and replace -------------------------------------------------------------


def test_search_replace_in_content_plain_and_regex() -> None:
    raw = raw_documents([b"a.b.c", b"x"])
    assert contents(search_replace(raw, ".", "/")) == [b"a/b/c", b"x"]
    assert contents(search_replace(raw, r"(\w)\.", r"\1-", regex=True)) == [b"a-b-c", b"x"]
    assert last("search_replace").documents_out == {"out": 2}


def test_search_replace_in_fields_leaves_other_fields() -> None:
    docs = Documents.from_records([{"a": "1-2", "b": "1-2", "n": None}, {"a": None, "b": "-"}])
    out = search_replace(docs, "-", "", fields=["a"])
    assert out.to_pylist() == [{"a": "12", "b": "1-2", "n": None}, {"a": None, "b": "-", "n": None}]


def test_search_replace_refuses_a_non_text_field_and_a_bad_regex() -> None:
    docs = Documents.from_records([{"n": 1, "s": "x"}])
    with pytest.raises(ProcessError, match="not text"):
        search_replace(docs, "1", "2", fields=["n"])
    with pytest.raises(ProcessError, match="bad pattern"):
        search_replace(docs, "(", "", regex=True, fields=["s"])
    with pytest.raises(ProcessError, match="no field"):
        search_replace(docs, "x", "y", fields=["missing"])


def test_search_replace_empty_batch() -> None:
    assert len(search_replace(raw_documents([]), "a", "b")) == 0


# -- zip and unzip ------------------------------------------------------------------


def test_zip_then_unzip_round_trips_with_file_names() -> None:
    raw = raw_documents(
        [b"one", b"two", b"three"],
        {"file_name": ["/in/a.txt", "b.txt", "a.txt"]},
    )
    archive = zip_documents(raw, file_name="batch.zip")
    assert len(archive) == 1
    assert archive.properties_of(0) == {"file_name": "batch.zip"}
    names = zipfile.ZipFile(io.BytesIO(archive[0][CONTENT])).namelist()
    assert names == ["a.txt", "b.txt", "a-2.txt"]
    back = unzip_documents(archive)
    assert contents(back) == [b"one", b"two", b"three"]
    assert back.property("file_name").to_pylist() == ["a.txt", "b.txt", "a-2.txt"]
    assert last("zip").documents_out == {"out": 1}
    assert last("unzip").documents_out == {"out": 3}


def test_zip_names_documents_without_file_name() -> None:
    archive = zip_documents(raw_documents([b"x", b"y"]))
    assert zipfile.ZipFile(io.BytesIO(archive[0][CONTENT])).namelist() == [
        "document-1",
        "document-2",
    ]


def test_unzip_refuses_escaping_entries_by_name_and_keeps_the_others() -> None:
    data = zipped(**{"ok.txt": b"fine", "../evil.sh": b"rm", "/etc/passwd": b"root", "d/x": b"x"})
    out = unzip_documents(raw_documents([data], {"file_name": ["in.zip"], "partner": ["P"]}))
    assert contents(out) == [b"fine", b"x"]
    assert out.property("file_name").to_pylist() == ["ok.txt", "d/x"]
    assert out.property("partner").to_pylist() == ["P", "P"]
    refused = {r.message: r for r in out.rejections}
    assert set(refused) == {
        "entry '../evil.sh' refused: a '..' path component leaves the archive's folder",
        "entry '/etc/passwd' refused: absolute path",
    }
    assert all(r.where == "in.zip" and r.rule == "unsafe_entry" for r in out.rejections)
    record = last("unzip")
    assert (record.documents_out, record.errors) == ({"out": 2}, 2)
    assert current_run().trace.has_warnings


def test_unzip_leaves_entries_over_max_size_packed_and_refuses_corrupt_ones() -> None:
    data = zipped(**{"big.txt": b"0123456789", "small.txt": b"ok", "bad.txt": b"hey!"})
    data = data.replace(b"hey!", b"HEY!")  # stored, so the CRC no longer fits
    out = unzip_documents(raw_documents([data]), max_size=5)
    assert contents(out) == [b"ok"]
    refused = [(r.rule, r.message, r.raw) for r in out.rejections]
    assert refused[0] == ("too_large", "entry 'big.txt' refused: 10 bytes, over 5", None)
    assert refused[1][0] == "zip"
    assert refused[1][1].startswith("entry 'bad.txt' refused: cannot be read: Bad CRC-32")
    assert last("unzip").errors == 2


def test_unzip_rejects_a_document_that_is_not_an_archive() -> None:
    out = unzip_documents(raw_documents([b"not a zip", zipped(a=b"1")]))
    assert contents(out) == [b"1"]
    assert [r.rule for r in out.rejections] == ["zip"]
    assert last("unzip").errors == 1


def test_unzip_where_every_document_fails() -> None:
    out = unzip_documents(raw_documents([b"no", zipped(**{"../x": b"1"})]))
    assert len(out) == 0
    assert len(out.rejections) == 2
    assert last("unzip").errors == 2


def test_zip_and_unzip_empty_batch() -> None:
    assert len(zip_documents(raw_documents([]))) == 0
    assert len(unzip_documents(raw_documents([]))) == 0


# -- custom -------------------------------------------------------------------------


def test_custom_runs_the_function_and_records_it_by_name() -> None:
    def double(docs: Documents) -> Documents:
        return Documents.concat([docs, docs])

    out = custom(Documents.from_records([{"a": 1}]), double)
    assert out.to_pylist() == [{"a": 1}, {"a": 1}]
    record = last("custom")
    assert (record.name, record.documents_in, record.documents_out) == ("double", 1, {"out": 2})


def test_custom_on_an_empty_batch() -> None:
    out = custom(raw_documents([]), lambda d: d, name="noop")
    assert len(out) == 0
    assert (last("custom").documents_in, last("custom").documents_out) == (0, {"out": 0})


def test_custom_counts_new_rejections_and_refuses_other_results() -> None:
    from atomnb.documents import Rejection

    docs = Documents.from_records([{"a": 1}])
    custom(docs, lambda d: d.with_rejections([Rejection("bad", "x", "r")]), name="check")
    assert last("custom").errors == 1
    assert last("custom").name == "check"
    with pytest.raises(ProcessError, match="must return Documents"):
        custom(docs, lambda d: d.to_pylist())  # type: ignore[arg-type,return-value]


# -- message ------------------------------------------------------------------------


def test_message_fills_fields_then_properties_then_process_properties() -> None:
    set_process_properties(greeting="Hello", id="process-id")
    docs = Documents.from_records(
        [{"id": "SO-7", "total": 12.5}, {"id": None, "total": 3}],
        properties={"partner": ["ACME", "BETA"]},
    )
    out = message("{greeting} {partner}: order {id} = {total:.2f} {unknown}", docs)
    assert contents(out) == [
        b"Hello ACME: order SO-7 = 12.50 {unknown}",
        b"Hello BETA: order  = 3.00 {unknown}",
    ]
    assert out.property("partner").to_pylist() == ["ACME", "BETA"]
    record = last("message")
    assert (record.documents_in, record.documents_out) == (2, {"out": 2})


def test_message_wraps_unparsed_content_as_text() -> None:
    out = message("<doc>{content}</doc>", raw_documents(["größe".encode()]))
    assert contents(out) == ["<doc>größe</doc>".encode()]


def test_message_without_documents_makes_one() -> None:
    out = message("static {x}")
    assert contents(out) == [b"static {x}"]
    assert last("message").documents_in == 0


def test_message_from_an_empty_batch_makes_none() -> None:
    assert len(message("x", Documents.from_records([]))) == 0


def test_message_output_feeds_parse() -> None:
    docs = Documents.from_records([{"id": 1}, {"id": 2}])
    parsed = parse_documents(message('{{"order": {id}}}', docs), format="json")
    assert parsed.to_pylist() == [{"order": 1}, {"order": 2}]


# -- the trace never holds contents -------------------------------------------------


def test_trace_holds_counts_never_contents() -> None:
    raw = raw_documents([f"token={SECRET}\nline two".encode()], {"file_name": ["s.txt"]})
    lines = split(raw, by="lines")
    search_replace(lines, "token", "key")
    archive = zip_documents(lines)
    unzip_documents(archive)
    combine(lines)
    docs = Documents.from_records([{"secret": SECRET, "items": [SECRET]}])
    split(docs, by="items")
    custom(docs, lambda d: d)
    message("{secret}", docs)
    search_replace(docs, "s3", "S3", fields=["secret"])
    text = json.dumps(current_run().trace.to_dict(), default=str)
    assert SECRET not in text
    assert len(current_run().trace.shapes) == 9
