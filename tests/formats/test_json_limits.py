"""JSON limits on every read path: nesting depth, duplicate keys, NaN, bad JSON Lines.

Each case is read as one document, as a small array (read whole), as a large
array (streamed by ijson) and as JSON Lines, because the limit used to hold only
where the standard library parsed the file.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import atomnb as ab
from atomnb.errors import FormatError
from tests.formats.memory import measure


def _deep(depth: int) -> str:
    return '{"d": ' + "[" * depth + "]" * depth + "}"


@pytest.fixture
def streamed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Arrays above 1 kB stream item by item through ijson."""
    from atomnb.formats import json as json_format

    monkeypatch.setattr(json_format, "STREAM_ARRAY_BYTES", 1_000)


def _array(tmp_path: Path, items: list[str]) -> Path:
    path = tmp_path / "docs.json"
    path.write_text("[\n" + ",\n".join(items) + "\n]", encoding="utf-8")
    return path


def test_a_deep_single_document_is_refused_with_its_position() -> None:
    with pytest.raises(FormatError) as info:
        ab.read(_deep(300).encode(), format="json")
    text = str(info.value)
    assert "nesting deeper than 256" in text
    assert "document 0, line 1, column 262 (byte 261)" in text  # the object is level 1
    assert "max_depth" in text  # the hint says how to allow it


def test_max_depth_is_an_option() -> None:
    docs = ab.read(_deep(300).encode(), format="json", max_depth=400)
    assert len(docs) == 1
    with pytest.raises(FormatError, match="nesting deeper than 5"):
        ab.read(_deep(6).encode(), format="json", max_depth=5)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"s": '[[[[[[[[[[{{{{{{{{ \\" [[[[', "t": ["\\\\"]})
    assert ab.read(text.encode(), format="json", max_depth=2).to_pylist()[0]["t"] == ["\\\\"]


def test_a_deep_item_of_a_small_array_names_its_document(tmp_path: Path) -> None:
    path = _array(tmp_path, ['{"a": 1}', '{"a": 2}', _deep(300), '{"a": 4}'])
    with pytest.raises(FormatError, match=r"docs\.json, document 2, line 4, column \d+"):
        ab.read(path)


def test_a_deep_item_of_a_streamed_array_is_refused(tmp_path: Path, streamed: None) -> None:
    items = [json.dumps({"i": i, "pad": "x" * 50}) for i in range(100)]
    path = _array(tmp_path, [*items, _deep(1_000), '{"i": 101}'])
    with pytest.raises(FormatError, match=r"nesting deeper than 256") as info:
        ab.read(path)
    assert "document 100, line 102" in str(info.value)


def test_a_deep_json_line_is_a_rejection_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"n": 1}\n' + _deep(300) + '\n{"n": 3}\n', encoding="utf-8")
    docs = ab.read(path)
    assert docs.to_pylist() == [{"n": 1}, {"n": 3}]
    (rejection,) = docs.rejections
    assert rejection.rule == "json.depth"
    assert rejection.where == f"{path}, line 2, column 262"
    assert "nesting deeper than 256" in rejection.message
    assert rejection.raw == _deep(300).encode()


def test_duplicate_keys_are_refused_with_their_position() -> None:
    text = b'{\n  "id": 1,\n  "name": "a",\n  "id": 2\n}'
    with pytest.raises(FormatError, match=r"line 4, column 3: duplicate key 'id'") as info:
        ab.read(text, format="json")
    assert "allow_duplicate_keys=True" in str(info.value)
    docs = ab.read(text, format="json", allow_duplicate_keys=True)
    assert docs.to_pylist() == [{"id": 2, "name": "a"}]


def test_duplicate_keys_in_arrays_name_the_document(tmp_path: Path) -> None:
    path = _array(tmp_path, ['{"a": 1}', '{"b": {"c": 1, "c": 2}}'])
    with pytest.raises(FormatError, match=r"document 1, line 3, column \d+: duplicate key 'c'"):
        ab.read(path)


def test_duplicate_keys_in_a_streamed_array(tmp_path: Path, streamed: None) -> None:
    items = [json.dumps({"i": i, "pad": "x" * 50}) for i in range(40)]
    path = _array(tmp_path, [*items, '{"i": 40, "i": 41}'])
    with pytest.raises(FormatError, match=r"document 40: duplicate key 'i'"):
        ab.read(path)
    assert len(ab.read(path, allow_duplicate_keys=True)) == 41


def test_nan_and_infinity_are_refused_unless_allowed() -> None:
    text = b'[{"a": 1.5}, {"a": NaN}, {"a": -Infinity}]'
    with pytest.raises(FormatError, match=r"document 1, line 1, column 20: NaN is not a JSON"):
        ab.read(text, format="json")
    values = [d["a"] for d in ab.read(text, format="json", allow_nan=True)]
    assert values[0] == 1.5 and math.isnan(values[1]) and values[2] == -math.inf


def test_bad_json_lines_are_rejections_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [
        '{"n": 1, "s": "a"}',
        '{"n": 2, "s": ',  # cut short
        '{"n": 3, "n": 4}',  # duplicate key
        '{"n": NaN}',  # not JSON
        "[1, 2]",  # not an object
        '{"n": "five"}',  # another type than the lines before
        '{"n": 6, "s": "f"}',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs = ab.read(path)
    assert [d["n"] for d in docs] == [1, 6]
    found = {r.where.split(", ")[1]: r.rule for r in docs.rejections}
    assert found == {
        "line 2": "json.syntax",
        "line 3": "json.duplicate-key",
        "line 4": "json.nan",
        "line 5": "json.not-object",
        "line 6": "json.type",
    }
    assert all(
        r.raw == lines[int(k.split()[1]) - 1].encode()
        for k, r in zip(found, docs.rejections, strict=True)
    )


def test_a_bad_line_in_a_later_block_keeps_the_other_blocks(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    rows = [json.dumps({"i": i, "pad": "y" * 40}) for i in range(3_000)]
    rows[2_500] = '{"i": 2500, "pad": oops}'
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    batches = list(ab.read_stream(path, batch_size=1_000, block_bytes=16_384))
    docs = ab.Documents.concat(batches)
    assert len(docs) == 2_999 and docs[-1]["i"] == 2_999
    (rejection,) = docs.rejections
    assert rejection.where == f"{path}, line 2501, column 20" and rejection.rule == "json.syntax"


def _forty_mb_with_one_deep_item(path: Path, depth: int, *, lines: bool) -> Path:
    pad = "x" * 200
    with path.open("w", encoding="utf-8") as handle:
        handle.write("" if lines else "[\n")
        for i in range(180_000):
            handle.write(json.dumps({"i": i, "pad": pad}) + ("\n" if lines else ",\n"))
            if i == 90_000:
                handle.write(_deep(depth) + ("\n" if lines else ",\n"))
        handle.write("" if lines else '{"i": -1}\n]')
    return path


def test_a_forty_mb_array_with_one_item_100000_deep_is_refused_in_bounded_memory(
    tmp_path: Path,
) -> None:
    path = _forty_mb_with_one_deep_item(tmp_path / "big.json", 100_000, lines=False)
    assert path.stat().st_size > 40_000_000
    run = measure("ab.read(sys.argv[1])", str(path), warm="ab.read(b'[{\"a\": 1}]', format='json')")
    assert not run.killed, "the read grew past 2 GB"
    assert run.returncode == 0, run.stderr
    assert run.error is not None and "nesting deeper than 256" in run.error
    assert "document 90001" in run.error
    assert run.rise_mb < 150, run


def test_a_forty_mb_json_lines_file_with_one_deep_line_reads_in_bounded_memory(
    tmp_path: Path,
) -> None:
    path = _forty_mb_with_one_deep_item(tmp_path / "big.jsonl", 100_000, lines=True)
    body = """
docs = ab.read(sys.argv[1])
assert len(docs) == 180_000, len(docs)
assert [r.rule for r in docs.rejections] == ["json.depth"], docs.rejections
"""
    run = measure(body, str(path), warm="ab.read(b'{\"a\": 1}\\n', format='jsonl')")
    assert not run.killed, "the read grew past 2 GB"
    assert run.returncode == 0, run.stderr
    assert run.error is None
    # 180,000 rows of ~220 bytes are ~40 MB as Arrow: the rest is the reader's own.
    assert run.rise_mb < 150, run


def test_depth_5000_in_a_small_file_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" + _deep(5_000) + "]", encoding="utf-8")
    run = measure("ab.read(sys.argv[1])", str(path), warm="ab.read(b'[{\"a\": 1}]', format='json')")
    assert not run.killed and run.returncode == 0, run.stderr
    assert run.error is not None and "nesting deeper than 256" in run.error
    assert run.rise_mb < 150, run


def test_check_depth_serves_code_that_parses_json_itself() -> None:
    from atomnb.formats.json import check_depth

    check_depth(_deep(200).encode())
    with pytest.raises(FormatError, match=r"response, document 0, line 1, column 262"):
        check_depth(_deep(100_000).encode(), name="response")


def test_json_lines_widen_integers_to_floats_across_blocks_and_refuse_text() -> None:
    lines = [json.dumps({"a": i}) for i in range(3_000)]
    widened = ab.read(
        ("\n".join([*lines, '{"a": 1.5}']) + "\n").encode(), format="jsonl", block_bytes=8192
    )
    assert len(widened) == 3_001 and widened[-1] == {"a": 1.5} and not widened.rejections
    text = ab.read(
        ("\n".join([*lines, '{"a": "x"}', '{"a": 7}']) + "\n").encode(),
        format="jsonl",
        block_bytes=8192,
    )
    assert len(text) == 3_001 and text[-1] == {"a": 7}
    (rejection,) = text.rejections
    assert (rejection.where, rejection.rule) == ("<bytes>, line 3001", "json.type")
