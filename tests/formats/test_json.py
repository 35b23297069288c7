from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import atomnb as ab
from atomnb.errors import FormatError
from tests.conftest import SAMPLES


@pytest.mark.parametrize("name", ["github_webhook_push.json", "php-edifact_D96ADESADV.json"])
def test_real_samples_round_trip_to_equal_json(name: str) -> None:
    path = SAMPLES / "json" / name
    docs = ab.read(path)
    assert len(docs) == 1
    assert docs.properties_of(0) == {"file_name": str(path)}
    rewritten = ab.write(docs, format="json")
    assert json.loads(rewritten) == json.loads(path.read_text(encoding="utf-8"))


def test_array_of_documents_keeps_every_field() -> None:
    data = b'[{"id": 1}, {"id": 2, "extra": {"x": [1, 2]}}]'
    docs = ab.read(data, format="json")
    assert docs.to_pylist() == [{"id": 1, "extra": None}, {"id": 2, "extra": {"x": [1, 2]}}]
    assert json.loads(ab.write(docs, format="json"))[1] == {"id": 2, "extra": {"x": [1, 2]}}


def test_json_lines_detected_in_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text('{"n": 1}\n{"n": 2}\n', encoding="utf-8")
    docs = ab.read(path)
    assert [d["n"] for d in docs] == [1, 2]
    written = ab.write(docs, format="json")
    assert [json.loads(line) for line in written.splitlines()] == [{"n": 1}, {"n": 2}]


def test_json_lines_stream_in_several_batches(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for i in range(60_000):
            handle.write(json.dumps({"i": i, "name": f"n{i}"}) + "\n")
    stream = ab.read_stream(path, batch_size=10_000, block_bytes=256_000)
    total, batches, last = 0, 0, -1
    for batch in stream:
        batches += 1
        total += len(batch)
        assert len(batch) <= 10_000
        last = batch[-1]["i"]
    assert batches >= 6, "a 60k-line file should not arrive as one batch"
    assert total == 60_000 and last == 59_999


def test_array_streams_in_batches_of_the_asked_size() -> None:
    data = json.dumps([{"i": i} for i in range(25)]).encode()
    sizes = [len(b) for b in ab.read_stream(data, format="json", batch_size=10)]
    assert sizes == [10, 10, 5]


def test_truncated_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text('[\n  {"id": 1},\n  {"id": ', encoding="utf-8")
    with pytest.raises(FormatError) as info:
        ab.read(path)
    assert f"{path}, line 3, column" in str(info.value)


def test_invalid_utf8_names_the_byte() -> None:
    with pytest.raises(FormatError, match="not valid UTF-8 at byte 8"):
        ab.read(b'[{"a": "\xff"}]', format="json")


def test_non_object_documents_are_refused_with_their_index() -> None:
    with pytest.raises(FormatError, match="document 1"):
        ab.read(b'[{"a": 1}, 5]', format="json")


def test_conflicting_types_get_a_hint_not_a_traceback() -> None:
    with pytest.raises(FormatError, match="disagree on a field's type") as info:
        ab.read(b'[{"a": 1}, {"a": "x"}]', format="json")
    assert "profile" in str(info.value)


def test_unknown_option_is_refused() -> None:
    with pytest.raises(FormatError, match="unknown JSON option"):
        ab.read(b"{}", format="json", delimiter=";")


def test_large_array_streams_item_by_item(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from atomnb.formats import json as json_format

    monkeypatch.setattr(json_format, "STREAM_ARRAY_BYTES", 1_000)
    path = tmp_path / "big.json"
    path.write_text(json.dumps([{"i": i, "v": i / 2} for i in range(5_000)]), encoding="utf-8")
    sizes = [len(b) for b in ab.read_stream(path, batch_size=1_000)]
    assert sizes == [1_000] * 5
    docs = ab.read(path, batch_size=1_000)
    assert docs[4_999] == {"i": 4_999, "v": 2_499.5}
    path.write_text(json.dumps([{"i": i} for i in range(100)])[:-20], encoding="utf-8")
    with pytest.raises(FormatError, match=r"big\.json: invalid JSON in document 98"):
        ab.read(path)


def test_pathological_nesting_is_a_clear_error() -> None:
    with pytest.raises(FormatError, match="nesting deeper than 256"):
        ab.read(b"[" * 100_000 + b"]" * 100_000, format="json")


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "id": st.integers(0, 10**6),
                "name": st.text(max_size=10),
                "tags": st.lists(st.text(max_size=5), max_size=3),
            }
        ),
        min_size=1,
        max_size=20,
    )
)
def test_json_round_trip_property(rows: list[dict]) -> None:
    docs = ab.Documents.from_records(rows)
    for layout in ("array", "lines"):
        again = ab.read(ab.write(docs, format="json", layout=layout), format="json")
        assert again.to_pylist() == rows


def test_huge_single_document_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text('{"a": "' + "x" * 5_000 + '"}', encoding="utf-8")
    with pytest.raises(
        FormatError, match=r"file too large to read as one JSON document \(5,009 > 1,000 bytes\)"
    ):
        ab.read(path, max_document_bytes=1_000)
    assert len(ab.read(path)) == 1


def test_json_lines_keep_timestamps_as_written() -> None:
    data = b'{"at": "2026-03-04T10:22:33Z", "n": {"when": "2026-01-01T00:00:00"}}\n'
    docs = ab.read(data, format="jsonl")
    assert docs[0] == {"at": "2026-03-04T10:22:33Z", "n": {"when": "2026-01-01T00:00:00"}}
    assert ab.write(docs, format="jsonl") == data.replace(b": ", b":").replace(b", ", b",")


def test_empty_json_lines_give_no_documents() -> None:
    assert len(ab.read(b"", format="jsonl")) == 0
    assert len(ab.read(b"\n\n", format="jsonl")) == 0


def test_json_lines_go_straight_into_an_open_file_in_order(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    first = ab.Documents.from_records([{"id": 1, "name": "Zoë"}, {"id": 2, "name": None}])
    second = ab.Documents.from_records([{"id": 3, "name": 'O\'Brien "x"\n'}])
    with path.open("wb") as out:
        out.write(b"# header, not flushed yet\n")
        ab.write(first, out, format="jsonl")
        assert out.tell() == len(b"# header, not flushed yet\n") + len(
            ab.write(first, format="jsonl") or b""
        )
        ab.write(second, out, format="jsonl")
        out.write(b"# trailer\n")
    lines = path.read_bytes().splitlines()
    assert lines[0] == b"# header, not flushed yet" and lines[-1] == b"# trailer"
    assert [json.loads(line) for line in lines[1:-1]] == first.to_pylist() + second.to_pylist()


def test_an_unseekable_sink_gets_the_same_bytes(tmp_path: Path) -> None:
    import io
    import os

    docs = ab.Documents.from_records([{"id": i, "tags": ["a", "é"]} for i in range(5)])
    expected = ab.write(docs, format="jsonl")
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "wb") as pipe:
        assert not pipe.seekable()
        ab.write(docs, pipe, format="jsonl")
    with os.fdopen(read_end, "rb") as got:
        assert got.read() == expected
    buffer = io.BytesIO(b"x")
    buffer.seek(1)
    ab.write(docs, buffer, format="json", layout="array")
    assert json.loads(buffer.getvalue()[1:]) == docs.to_pylist()


def test_binary_columns_fall_back_to_the_standard_writer() -> None:
    # polars' JSON writer aborts on binary; the standard writer takes them (as text)
    import pyarrow as pa

    table = pa.table({"id": [1], "blob": pa.array([b"\x00\xff"]), "n": [{"b": b"x"}]})
    docs = ab.Documents(table)
    lines = ab.write(docs, format="jsonl") or b""
    array = ab.write(docs, format="json", layout="array") or b""
    for parsed in ([json.loads(line) for line in lines.splitlines()], json.loads(array)):
        assert [row["id"] for row in parsed] == [1]
        assert isinstance(parsed[0]["blob"], str) and isinstance(parsed[0]["n"]["b"], str)
