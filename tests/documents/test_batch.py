from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from atomnb.documents import Documents

RECORDS = [
    {"id": "SO-1", "total": 10.5, "customer": {"name": "Zoë", "tags": ["a", "b"]}},
    {"id": "SO-2", "total": None, "customer": {"name": "O'Brien", "tags": []}},
    {"id": "SO-3", "total": 7.0, "customer": None},
]


@pytest.fixture
def docs() -> Documents:
    return Documents.from_records(RECORDS, properties={"file_name": ["a.json", "a.json", "b.json"]})


def test_len_iteration_and_indexing(docs: Documents) -> None:
    assert len(docs) == 3
    assert list(docs) == RECORDS
    assert docs[0] == RECORDS[0]
    assert docs[-1] == RECORDS[2]
    assert docs.properties_of(2) == {"file_name": "b.json"}
    with pytest.raises(IndexError, match="document 3 out of range"):
        docs[3]


def test_nested_records_become_struct_and_list_columns(docs: Documents) -> None:
    customer = docs.schema.field("customer").type
    assert pa.types.is_struct(customer)
    assert pa.types.is_list(customer.field("tags").type)


def test_union_of_keys_across_records_is_kept() -> None:
    docs = Documents.from_records([{"a": 1}, {"a": 2, "late": "x"}])
    assert docs.column_names == ["a", "late"]
    assert docs.to_pylist() == [{"a": 1, "late": None}, {"a": 2, "late": "x"}]


def test_arrow_round_trip_keeps_content_and_properties(docs: Documents) -> None:
    table = docs.to_arrow()
    again = Documents.from_arrow(table, {"file_name": docs.property("file_name")})
    assert again == docs
    assert again.to_arrow().equals(table)


def test_pandas_round_trip(docs: Documents) -> None:
    frame = docs.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame["id"]) == ["SO-1", "SO-2", "SO-3"]
    back = Documents.from_pandas(frame[["id", "total"]])
    assert back.to_pylist() == [{"id": r["id"], "total": r["total"]} for r in RECORDS]
    with_props = docs.to_pandas(with_properties=True)
    assert list(with_props["_prop.file_name"]) == ["a.json", "a.json", "b.json"]


def test_filter_take_and_slice_carry_properties(docs: Documents) -> None:
    kept = docs.filter([True, None, True])
    assert [d["id"] for d in kept] == ["SO-1", "SO-3"]
    assert kept.properties_of(1) == {"file_name": "b.json"}
    taken = docs.take([2, 0])
    assert [d["id"] for d in taken] == ["SO-3", "SO-1"]
    assert taken.properties_of(0) == {"file_name": "b.json"}
    assert [d["id"] for d in docs[1:]] == ["SO-2", "SO-3"]
    assert [d["id"] for d in docs[::2]] == ["SO-1", "SO-3"]


def test_with_properties_scalar_and_per_document(docs: Documents) -> None:
    out = docs.with_properties(partner="ACME", line=[1, 2, 3])
    assert out.properties_of(1) == {"file_name": "a.json", "partner": "ACME", "line": 2}
    assert docs.property_names == ["file_name"]  # the original is unchanged


def test_property_length_must_match() -> None:
    with pytest.raises(ValueError, match="2 values for 3 documents"):
        Documents.from_records(RECORDS, properties={"x": [1, 2]})


def test_unknown_property_names_those_known(docs: Documents) -> None:
    with pytest.raises(KeyError, match="known: file_name"):
        docs.property("nope")


def test_concat_unifies_schema_and_fills_missing_properties() -> None:
    first = Documents.from_records([{"a": 1}], properties={"p": ["x"]})
    second = Documents.from_records([{"a": 2, "b": "y"}])
    both = Documents.concat([first, second])
    assert both.to_pylist() == [{"a": 1, "b": None}, {"a": 2, "b": "y"}]
    assert both.properties_of(0) == {"p": "x"}
    assert both.properties_of(1) == {"p": None}


def test_iter_batches_splits_without_losing_documents() -> None:
    docs = Documents.from_records([{"n": i} for i in range(10)])
    sizes = [len(b) for b in docs.iter_batches(4)]
    assert sizes == [4, 4, 2]
    assert [d["n"] for b in docs.iter_batches(4) for d in b] == list(range(10))


def test_html_view_escapes_and_truncates() -> None:
    docs = Documents.from_records(
        [{"v": "<script>x</script>"}] + [{"v": str(i)} for i in range(20)]
    )
    html = docs._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "21 document(s)" in html
    assert "11 more document(s)" in html


def test_empty_batch() -> None:
    docs = Documents.from_records([])
    assert len(docs) == 0 and not docs and list(docs) == []


def test_rejections_travel_with_the_batch_and_merge_on_concat() -> None:
    from atomnb.documents import Rejection

    bad = Rejection(
        "SE01 says 5 segments, found 4",
        where="in.edi, segment 9",
        rule="x12.count",
        index=1,
        raw=b"ST*850*0001~",
    )
    docs = Documents.from_records([{"a": 1}]).with_rejections([bad])
    assert docs.rejections == (bad,)
    assert "rejected=1" in repr(docs)
    assert "1 document(s) rejected" in docs._repr_html_()
    assert docs.filter([True]).rejections == (bad,)
    assert docs.with_properties(p=1).rejections == (bad,)
    other = Documents.from_records([{"a": 2}]).with_rejections([bad])
    assert len(Documents.concat([docs, other]).rejections) == 2
    assert docs[0:1].rejections == ()
    assert (
        str(bad) == "in.edi, segment 9, document 1, rule x12.count: SE01 says 5 segments, found 4"
    )


def test_concat_of_batches_without_columns_keeps_the_count() -> None:
    empty_records = Documents.from_records([{}, {}])
    assert len(empty_records) == 2
    assert len(Documents.concat([empty_records, Documents.from_records([{}])])) == 3
