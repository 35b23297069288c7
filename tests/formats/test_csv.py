from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import atomnb as ab
from atomnb.errors import FormatError
from tests.conftest import SAMPLES

CURRENCIES = SAMPLES / "csv" / "iso4217_currency_codes.csv"


def test_real_sample_reads_as_text_and_round_trips() -> None:
    docs = ab.read(CURRENCIES)
    assert docs.column_names == [
        "Entity",
        "Currency",
        "AlphabeticCode",
        "NumericCode",
        "MinorUnit",
        "WithdrawalDate",
    ]
    assert len(docs) == CURRENCIES.read_text(encoding="utf-8").count("\n") - 1
    afghanistan = docs[0]
    assert afghanistan["NumericCode"] == "971"  # text, so codes like "008" keep their zeros
    again = ab.read(ab.write(docs, format="csv"), format="csv")
    assert again.to_pylist() == docs.to_pylist()


def test_leading_zeros_and_empty_cells_survive() -> None:
    docs = ab.read(b'code,name\n008,"Lek"\n,""\n', format="csv")
    assert docs.to_pylist() == [{"code": "008", "name": "Lek"}, {"code": "", "name": ""}]


def test_infer_types_on_request() -> None:
    docs = ab.read(b"n,x\n1,2.5\n", format="csv", infer_types=True)
    assert docs[0] == {"n": 1, "x": 2.5}


def test_tsv_and_pipe_by_extension(tmp_path: Path) -> None:
    (tmp_path / "a.tsv").write_text("a\tb\n1\t2\n", encoding="utf-8")
    (tmp_path / "a.psv").write_text("a|b\n1|2\n", encoding="utf-8")
    assert ab.read(tmp_path / "a.tsv")[0] == {"a": "1", "b": "2"}
    assert ab.read(tmp_path / "a.psv")[0] == {"a": "1", "b": "2"}


def test_quoted_newlines_and_bom() -> None:
    data = '\ufeffid,note\n1,"two\nlines"\n'.encode()
    assert ab.read(data, format="csv").to_pylist() == [{"id": "1", "note": "two\nlines"}]


def test_latin1_needs_its_encoding() -> None:
    data = "name\nZoë\n".encode("latin-1")
    with pytest.raises(FormatError, match="line 2: not valid utf-8 at byte 7") as info:
        ab.read(data, format="csv")
    assert "encoding=" in str(info.value)
    assert ab.read(data, format="csv", encoding="latin-1")[0] == {"name": "Zoë"}


def test_ragged_rows_are_rejected_with_their_line_and_the_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text('a,b\n1,2\n3,4,5\n"multi\nline",6\n7\n8,9\n', encoding="utf-8")
    docs = ab.read(path)
    assert docs.to_pylist() == [
        {"a": "1", "b": "2"},
        {"a": "multi\nline", "b": "6"},
        {"a": "8", "b": "9"},
    ]
    first, second = docs.rejections
    assert first.where == f"{path}, line 3" and first.raw == b"3,4,5"
    assert first.message == "expected 2 fields, found 3" and first.rule == "csv.field-count"
    assert second.where == f"{path}, line 6" and second.raw == b"7"


def test_ragged_row_raises_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3,4,5\n", encoding="utf-8")
    with pytest.raises(FormatError) as info:
        ab.read(path, on_error="raise")
    assert str(info.value).startswith(f"{path}, line 3: expected 2 fields, found 3")


def test_formula_payloads_are_escaped_on_request() -> None:
    docs = ab.Documents.from_records(
        [
            {"v": '=HYPERLINK("http://x")'},
            {"v": "@SUM(A1)"},
            {"v": "-12.50"},
            {"v": "\tcmd"},
            {"v": "plain"},
        ]
    )
    plain = ab.read(ab.write(docs, format="csv"), format="csv")
    assert plain.to_pylist() == docs.to_pylist()  # off by default: exact round trip
    escaped = ab.read(ab.write(docs, format="csv", formula_escape=True), format="csv")
    assert [d["v"] for d in escaped] == [
        '\'=HYPERLINK("http://x")',
        "'@SUM(A1)",
        "-12.50",
        "'\tcmd",
        "plain",
    ]


def test_large_file_streams_in_batches(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,name\n")
        for i in range(100_000):
            handle.write(f"{i},name {i}\n")
    stream = ab.read_stream(path, batch_size=8_192)
    sizes = [len(batch) for batch in stream]
    assert len(sizes) > 1 and max(sizes) <= 8_192
    assert sum(sizes) == 100_000


def test_nested_columns_cannot_be_written_as_csv() -> None:
    docs = ab.Documents.from_records([{"a": {"b": 1}}])
    with pytest.raises(FormatError, match="nested columns: a"):
        ab.write(docs, format="csv")


def test_write_to_file_is_atomic_and_creates_folders(tmp_path: Path) -> None:
    target = tmp_path / "out" / "x.csv"
    ab.write(ab.Documents.from_records([{"a": "1"}]), target)
    assert target.read_text(encoding="utf-8") == '"a"\n"1"\n'
    assert [p.name for p in target.parent.iterdir()] == ["x.csv"]


def test_unknown_extension_asks_for_a_format(tmp_path: Path) -> None:
    path = tmp_path / "data.xyz"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(FormatError, match="cannot tell the format") as info:
        ab.read(path)
    assert "format=" in str(info.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="does not exist"):
        ab.read(tmp_path / "nope.csv")


def test_rejections_are_logged_as_warnings(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="atomnb.formats"):
        ab.read(b"a,b\n1,2\n3\n", format="csv")
    assert "1 document(s) rejected" in caplog.text and "line 3" in caplog.text


def test_a_record_longer_than_the_block_says_what_to_do() -> None:
    data = b"a,b\n" + b"x" * 300_000 + b",1\n"
    with pytest.raises(FormatError, match="longer than the 100,000 byte read block") as info:
        ab.read(data, format="csv", block_bytes=100_000)
    assert "block_bytes=" in str(info.value)
    assert len(ab.read(data, format="csv", block_bytes=1_000_000)[0]["a"]) == 300_000


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {"name": st.text(max_size=12), "code": st.text("0123456789", max_size=4)}
        ),
        min_size=1,
        max_size=30,
    )
)
def test_csv_round_trip_property(rows: list[dict[str, str]]) -> None:
    docs = ab.Documents.from_records(rows)
    again = ab.read(ab.write(docs, format="csv"), format="csv")
    assert again.to_pylist() == rows


def test_wrong_delimiter_is_named() -> None:
    with pytest.raises(FormatError, match=r"line 1: found a single column 'a;b;c'") as info:
        ab.read(b"a;b;c\n1;2;3\n", format="csv")
    assert "delimiter=';'" in str(info.value)
    assert ab.read(b"a;b;c\n1;2;3\n", format="csv", delimiter=";")[0] == {
        "a": "1",
        "b": "2",
        "c": "3",
    }
    assert ab.read(b"only\nx\n", format="csv")[0] == {"only": "x"}
