"""The scrubber: raw and encoded forms, overlapping secrets, values split across chunks."""

from __future__ import annotations

import base64
import html
import itertools
import json
import tracemalloc
from pathlib import Path
from urllib.parse import quote, quote_plus

import nbformat
from hypothesis import given, settings
from hypothesis import strategies as st

from atomnb.runtime.scrub import ByteStreamScrubber, Scrubber, scrub_notebook, scrub_text

SECRET = 'pa$$/w+rd "q"&z=é'


def _encodings(value: str) -> list[str]:
    raw = value.encode()
    return [
        value,
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode(),
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        json.dumps(value)[1:-1],
        html.escape(value),
        raw.hex(),
    ]


def test_every_encoded_form_is_scrubbed() -> None:
    for form in _encodings(SECRET):
        text = f"before {form} after"
        assert scrub_text(text, [SECRET]) == "before *** after", form


def test_a_secret_inside_a_longer_base64_text_is_scrubbed_at_every_alignment() -> None:
    for user in ("u", "us", "usr", "user1"):
        for tail in ("", "!", "!x", "!xy"):
            header = base64.b64encode(f"{user}:{SECRET}{tail}".encode()).decode()
            cleaned = scrub_text(f"Authorization: Basic {header}", [SECRET])
            assert "***" in cleaned
            assert not _decodes_to_a_piece_of_the_secret(
                cleaned.removeprefix("Authorization: Basic ")
            )


def _decodes_to_a_piece_of_the_secret(text: str) -> bool:
    """Whether any base64 run of ``text``, read at any alignment, holds 5 bytes of SECRET."""
    pieces = {SECRET.encode()[i : i + 5] for i in range(len(SECRET.encode()) - 4)}
    for half in text.split("***"):
        for shift in range(4):
            run = half[shift:].rstrip("=")
            run = run[: len(run) // 4 * 4]
            decoded = base64.b64decode(run) if run else b""
            if any(piece in decoded for piece in pieces):
                return True
    return False


def test_overlapping_secrets_leave_no_fragment_of_either() -> None:
    assert scrub_text("x abcdefghi y", ["abcdef", "defghi"]) == "x *** y"
    assert scrub_text("abcdef and abcdefXYZ", ["abcdef", "abcdefXYZ"]) == "*** and ***"


def test_short_values_are_left_alone() -> None:
    assert scrub_text("a 1 b 12 c", ["1", "12"]) == "a 1 b 12 c"


def test_a_value_split_across_two_chunks_is_caught() -> None:
    scrubber = Scrubber([SECRET]).stream()
    out = scrubber.feed("log: pa$$/w") + scrubber.feed('+rd "q"&z=é done\n') + scrubber.close()
    assert out == "log: *** done\n"


def test_a_stream_writes_at_once_what_cannot_be_a_secret() -> None:
    scrubber = Scrubber([SECRET]).stream()
    assert scrubber.feed("plain line\n") == "plain line\n"  # nothing held back
    assert scrubber.feed("ends with pa$") == "ends with "  # could be the start of it
    assert scrubber.feed("ta\n") == "pa$ta\n"


@settings(max_examples=200, deadline=None)
@given(
    before=st.text(max_size=30),
    after=st.text(max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=120), max_size=6),
    form=st.sampled_from(_encodings(SECRET)),
)
def test_any_chunking_equals_scrubbing_at_once(
    before: str, after: str, cuts: list[int], form: str
) -> None:
    text = before + form + after
    encoded = text.encode()
    bounds = sorted({0, len(encoded), *(c for c in cuts if c < len(encoded))})
    stream = ByteStreamScrubber(Scrubber([SECRET]))
    out = b"".join(stream.feed(encoded[a:b]) for a, b in itertools.pairwise(bounds))
    out += stream.close()
    assert out.decode() == scrub_text(text, [SECRET])
    assert form.encode() not in out


def test_a_secret_printed_in_two_flushes_is_scrubbed_from_the_notebook() -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(...)")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="token pa$$/"),
        nbformat.v4.new_output("stream", name="stdout", text=['w+rd "q"', "&z=é\n"]),
        nbformat.v4.new_output("stream", name="stderr", text="other\n"),
    ]
    nb.cells.append(cell)
    scrub_notebook(nb, [SECRET])
    assert "w+rd" not in nbformat.writes(nb)
    assert [o["text"] for o in nb.cells[0].outputs] == ["token ***\n", "other\n"]


def test_a_long_secret_such_as_a_key_file_compiles_in_little_memory() -> None:
    key = "-----BEGIN PRIVATE KEY-----\n" + "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" * 120 + "\n-----END"
    tracemalloc.start()
    try:
        scrubber = Scrubber([key])
        stream = scrubber.stream()
        out = stream.feed("log " + key[:2000]) + stream.feed(key[2000:] + " end") + stream.close()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out == "log *** end"
    assert peak < 20_000_000  # a set of every prefix of every form (a first design) took 135 MB


def test_a_save_while_a_cell_still_prints_holds_back_what_may_start_a_secret(
    tmp_path: Path,
) -> None:
    from atomnb.runtime.engine import save_scrubbed

    nb = nbformat.v4.new_notebook()
    for status in ("completed", "running"):
        cell = nbformat.v4.new_code_cell("print(...)")
        cell.metadata["papermill"] = {"status": status}
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="token pa$$/w")]
        nb.cells.append(cell)
    path = tmp_path / "partial.ipynb"
    save_scrubbed(nb, path, Scrubber([SECRET]))
    saved = nbformat.read(path, as_version=4)
    assert saved.cells[0].outputs[0]["text"] == "token pa$$/w"  # ended: not a secret after all
    assert saved.cells[1].outputs[0]["text"] == "token "  # the rest may come with the next save
    assert nb.cells[1].outputs[0]["text"] == "token pa$$/w"  # the running notebook is untouched
