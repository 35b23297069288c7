"""Progress of long work: streamed reads, maps over streams and file transfers tell their counts.

A recording factory (``use_progress``) stands where tqdm would: it receives
what a bar would show. The rules that keep bars out of output notebooks and
logs (an execution's kernel, ``ATOMNB_PROGRESS=0``, nobody watching) are checked
with the real default factory, which must then never be asked for a bar.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import atomnb as ab
from atomnb.connectors.files import FileConnection
from atomnb.documents import progress as progress_module
from atomnb.documents.progress import Unit, progress, progress_enabled, use_progress
from atomnb.maps import Map, Rule
from atomnb.nb.progress import tqdm_bar
from atomnb.profiles import Element, ElementType, Profile
from tests.conftest import ROOT

CSV_SAMPLE = ROOT / "tests" / "samples" / "csv" / "iso4217_currency_codes.csv"
JSONL_SAMPLE = ROOT / "notebooks" / "data" / "orders.jsonl"


@dataclass
class Bar:
    label: str
    unit: Unit
    total: int | None
    counts: list[int] = field(default_factory=list)
    totals: list[int | None] = field(default_factory=list)
    notes: list[str | None] = field(default_factory=list)
    closed: bool = False

    def update(self, done: int, total: int | None, note: str | None) -> None:
        self.counts.append(done)
        self.totals.append(total)
        self.notes.append(note)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def bars(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Bar]]:
    """Every bar asked for while the test runs (outside an execution, progress not silenced)."""
    monkeypatch.delenv("ATOMNB_EXECUTION_ID", raising=False)
    monkeypatch.delenv("ATOMNB_PROGRESS", raising=False)
    made: list[Bar] = []

    def factory(label: str, *, unit: Unit, total: int | None) -> Bar:
        made.append(Bar(label, unit, total))
        return made[-1]

    previous = use_progress(factory)
    yield made
    use_progress(previous)


def _monotone_to_total(bar: Bar, total: int) -> None:
    assert bar.counts, f"{bar.label}: no count was told"
    assert bar.counts == sorted(bar.counts), f"{bar.label}: counts went back: {bar.counts}"
    assert bar.counts[-1] == total and bar.totals[-1] == total
    assert bar.closed


@pytest.mark.parametrize("sample", [CSV_SAMPLE, JSONL_SAMPLE], ids=["csv", "jsonl"])
def test_a_streamed_read_of_a_sample_tells_bytes_up_to_the_file_size(
    bars: list[Bar], sample: Path
) -> None:
    documents = sum(len(b) for b in ab.read_stream(sample, batch_size=20))
    [bar] = bars
    assert bar.label == f"reading {sample}" and bar.unit == "B"
    assert bar.total == sample.stat().st_size
    _monotone_to_total(bar, sample.stat().st_size)
    assert bar.notes[-1] == f"{documents:,} documents"


def test_a_large_file_tells_intermediate_positions(bars: list[Bar], tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    big.write_text("".join(json.dumps({"i": i, "pad": "x" * 60}) + "\n" for i in range(4000)))
    read = ab.read(big, batch_size=500, block_bytes=16_384)  # ab.read streams too
    assert len(read) == 4000
    [bar] = bars
    _monotone_to_total(bar, big.stat().st_size)
    between = [c for c in bar.counts if 0 < c < big.stat().st_size]
    assert len(between) >= 3, bar.counts  # it moved while reading, not only at the end


def test_a_map_over_a_stream_counts_documents(bars: list[Bar]) -> None:
    text = ElementType.STRING
    source = Profile("in", (Element("Entity", text), Element("Currency", text)))
    target = Profile("out", (Element("name", text),))
    mapping = Map("names", source, target, (Rule("name", ("Currency",)),))
    out = list(mapping(ab.read_stream(CSV_SAMPLE, format="csv", batch_size=50)))
    mapped = [b for b in bars if b.label == "mapping names"]
    assert len(mapped) == 1 and mapped[0].unit == "documents"
    _monotone_to_total(mapped[0], sum(len(b) for b in out))
    assert sum(len(b) for b in out) == 449


def test_file_transfers_tell_bytes_in_and_documents_out(bars: list[Bar], tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "in").mkdir(parents=True)
    sizes = 0
    for n in range(3):
        data = "".join(json.dumps({"file": n, "i": i}) + "\n" for i in range(100 * (n + 1)))
        (root / "in" / f"f{n}.jsonl").write_text(data)
        sizes += len(data.encode())
    conn = FileConnection(protocol="file", root=str(root))
    got = conn.get("in/*.jsonl")
    assert len(got) == 600
    [getting] = [b for b in bars if b.label.startswith("getting ")]
    assert getting.unit == "B" and getting.total == sizes
    _monotone_to_total(getting, sizes)
    assert "3 of 3 files" in getting.notes, getting.notes

    put = conn.put(got.take(list(range(10))), "{file}_{i}.json", folder="out")
    assert len(put) == 10
    [putting] = [b for b in bars if b.label.startswith("putting ")]
    assert putting.unit == "documents"
    _monotone_to_total(putting, 10)


def test_silenced_by_the_setting_and_inside_any_execution(
    bars: list[Bar], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATOMNB_PROGRESS", "0")
    ab.read(CSV_SAMPLE)
    assert bars == [] and not progress_enabled()
    # An execution's kernel (atomnb run, run-all, an atom): never, even when asked for.
    monkeypatch.setenv("ATOMNB_PROGRESS", "1")
    monkeypatch.setenv("ATOMNB_EXECUTION_ID", "2026120400001")
    ab.read(CSV_SAMPLE)
    assert bars == [] and not progress_enabled()
    with progress("anything", total=3) as bar:
        bar.update(2)
        assert not bar.shown and bar.done == 0


def test_silent_when_nobody_watches(monkeypatch: pytest.MonkeyPatch) -> None:
    """No terminal and no Jupyter kernel: the default factory (tqdm) is not even loaded."""
    monkeypatch.delenv("ATOMNB_EXECUTION_ID", raising=False)
    monkeypatch.delenv("ATOMNB_PROGRESS", raising=False)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    asked: list[str] = []
    monkeypatch.setattr(progress_module, "_load_default", lambda: asked.append("tqdm"))
    assert use_progress(None) is None
    ab.read(CSV_SAMPLE)
    assert asked == [] and not progress_enabled()
    monkeypatch.setenv("ATOMNB_PROGRESS", "1")  # a script asking for bars in its log
    assert progress_enabled()


def test_the_tqdm_bar_shows_bytes_and_documents_with_totals() -> None:
    drawn = io.StringIO()
    bar = tqdm_bar("reading big.jsonl", unit="B", total=2_000_000, delay=0, file=drawn)
    bar.update(1_000_000, 2_000_000, "5,000 documents")
    bar.update(2_000_000, 2_000_000, "10,000 documents")
    text = str(bar.tqdm)
    bar.close()
    assert text.startswith("reading big.jsonl: 100%")
    assert "1.91M/1.91M" in text and "10,000 documents" in text
    bar = tqdm_bar("mapping m", unit="documents", total=None, delay=0, file=drawn)
    bar.update(1500, None, None)
    assert str(bar.tqdm).startswith("mapping m: 1.50k documents")
    bar.close()
