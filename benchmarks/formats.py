"""Format readers and writers: MB/s of atomnb next to a plain parser on the same bytes.

For each format a deterministic generator makes a file of about ``--mb`` MB;
atomnb's reader (``ab.read_stream`` consumed batch by batch) and writer
(``ab.write``) are timed next to a baseline that handles the same content with
the standard library or the underlying library alone (no Documents, no envelope
or type checks), in the same run, median of ``--repeat`` runs. Then a streaming
read of a file of ``--big-mb`` MB runs in a child process and reports its peak
RSS, to show memory is bounded by the batch, not the file.

Baselines: JSON Lines ``json.loads`` per line; CSV ``csv.reader``; XML lxml
``iterparse`` with clearing; fixed width per-line slicing into dicts; X12 and
EDIFACT splitting on the segment and element separators. The EDI baselines do
far less than a reader must (no loops, envelopes, escapes or checks), so their
ratio is a floor, not a like-for-like figure.

EDI against the open-source readers (``--edi-mb``, also alone with ``--only-edi``):
on the same bytes, atomnb's X12 reader next to pyx12's ``X12Reader`` (segments
parsed and envelope-checked, no documents built) and atomnb's EDIFACT reader
next to pydifact's ``Interchange.from_str`` + ``get_messages``. The X12 input
repeats two real interchanges (node-x12's 850 with ISA12 set to 00401, which
pyx12 requires, and StAEDI's 810); the EDIFACT input repeats php-edifact's
DESADV message in one interchange. The load average is printed with the
figures: these machines are shared.

Last line: ``RESULT name=formats <fmt>_read_mbps=... ... x12_mb_s=... edifact_mb_s=...
vs_pyx12=... vs_pydifact=...``
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import atomnb as ab

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "samples"


# -- generators: (header, body of n records, trailer) so big files stream to disk ---------


def jsonl_parts(n: int, rnd: random.Random) -> tuple[bytes, bytes, bytes]:
    lines = []
    for i in range(n):
        record = {
            "orderId": f"SO-{i:07d}",
            "customer": {
                "name": f"Customer {rnd.randint(1, 9999)}",
                "country": rnd.choice(["DE", "FR", "NL", "US"]),
            },
            "lines": [
                {"sku": f"SKU-{rnd.randint(1, 500):05d}", "qty": rnd.randint(1, 9)}
                for _ in range(rnd.randint(1, 4))
            ],
            "total": round(rnd.uniform(1, 2000), 2),
        }
        lines.append(json.dumps(record))
    return b"", ("\n".join(lines) + "\n").encode(), b""


def csv_parts(n: int, rnd: random.Random) -> tuple[bytes, bytes, bytes]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for i in range(n):
        writer.writerow(
            [
                i,
                f"Name {rnd.randint(1, 10**6)}",
                rnd.choice(["Köln", "Paris", "Zürich"]),
                f"{rnd.uniform(0, 1e5):.2f}",
                "quoted, text" if i % 7 == 0 else "",
            ]
        )
    return b"id,name,city,amount,note\n", out.getvalue().encode(), b""


def xml_parts(n: int, rnd: random.Random) -> tuple[bytes, bytes, bytes]:
    orders = []
    for i in range(n):
        lines = "".join(
            f'<Line no="{k}"><Sku>SKU-{rnd.randint(1, 500):05d}</Sku><Qty>{rnd.randint(1, 9)}</Qty></Line>'
            for k in range(rnd.randint(1, 4))
        )
        orders.append(
            f'<Order id="SO-{i:07d}"><Customer country="DE">Customer &amp; Co {i}</Customer>'
            f'{lines}<Total currency="EUR">{rnd.uniform(1, 2000):.2f}</Total></Order>\n'
        )
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n<Orders>\n'
    return head, "".join(orders).encode(), b"</Orders>\n"


FIXED_LAYOUT: dict[str, Any] = {
    "record_length": 48,
    "fields": [
        {"name": "id", "width": 8, "type": "integer"},
        {"name": "name", "width": 20},
        {"name": "amount", "width": 12, "type": "decimal", "implied_decimals": 2},
        {"name": "day", "width": 8, "type": "date", "format": "%Y%m%d"},
    ],
}


def fixed_parts(n: int, rnd: random.Random) -> tuple[bytes, bytes, bytes]:
    body = b"".join(
        b"%08d%-20s%012d2026%02d%02d\n"
        % (
            i,
            b"Name %d" % rnd.randint(1, 10**6),
            rnd.randint(0, 10**9),
            rnd.randint(1, 12),
            rnd.randint(1, 28),
        )
        for i in range(n)
    )
    return b"", body, b""


def x12_parts(n: int, rnd: random.Random) -> tuple[bytes, bytes, bytes]:
    """N copies of the node-x12 850 purchase order in one interchange, counts kept right."""
    text = (SAMPLES / "x12" / "node-x12_850.edi").read_bytes()
    head, rest = text.split(b"ST*", 1)
    one = b"ST*" + rest.split(b"GE*", 1)[0]
    body = b"".join(
        one.replace(b"ST*850*000000010", b"ST*850*%09d" % (i + 1)).replace(
            b"*000000010~", b"*%09d~" % (i + 1)
        )
        for i in range(n)
    )
    return head, body, b"GE*%d*1421~\nIEA*1*000003438~" % n


def edifact_parts(n: int, rnd: random.Random) -> tuple[bytes, bytes, bytes]:
    """N copies of the php-edifact DESADV message in one interchange."""
    text = (SAMPLES / "edifact" / "php-edifact_D96ADESADV.edi").read_bytes()
    head, rest = text.split(b"UNH+", 1)
    one = b"UNH+" + rest.split(b"UNZ+", 1)[0]
    body = b"".join(
        one.replace(b"UNH+142+", b"UNH+M%d+" % i).replace(b"+142'", b"+M%d'" % i) for i in range(n)
    )
    return head, body, b"UNZ+%d+1'" % n


# -- baselines ---------------------------------------------------------------------------


def read_jsonl(data: bytes) -> int:
    return sum(1 for line in data.splitlines() if json.loads(line))


def read_csv(data: bytes) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8"))))


def read_xml(data: bytes) -> int:
    from lxml import etree

    count = 0
    for _, element in etree.iterparse(io.BytesIO(data), tag="Order"):
        count += 1
        element.clear()
    return count


def read_fixed(data: bytes) -> int:
    rows = [
        {
            "id": int(line[0:8]),
            "name": line[8:28].rstrip(),
            "amount": int(line[28:40]) / 100,
            "day": datetime.strptime(line[40:48], "%Y%m%d").date(),
        }
        for line in data.decode("latin-1").splitlines()
    ]
    return len(rows)


def read_segments(separator: str, element: str) -> Callable[[bytes], int]:
    def read(data: bytes) -> int:
        return sum(1 for s in data.decode("latin-1").split(separator) if s.strip().split(element))

    return read


def write_jsonl(records: list[dict]) -> int:
    return len("\n".join(json.dumps(r, default=str) for r in records))


def write_csv(records: list[dict]) -> int:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]))
    writer.writeheader()
    writer.writerows(records)
    return len(out.getvalue())


def write_xml(records: list[dict]) -> int:
    from lxml import etree

    root = etree.Element("Orders")
    for record in records:
        order = etree.SubElement(root, "Order")
        for key, value in record.items():
            if not key.startswith(("@", "#")) and isinstance(value, str):
                etree.SubElement(order, key).text = value
    return len(etree.tostring(root))


def write_fixed(records: list[dict]) -> int:
    return len(
        "".join(
            f"{r['id']:08d}{r['name']:<20}{int(r['amount'] * 100):012d}{r['day']:%Y%m%d}\n"
            for r in records
        )
    )


def write_segments(data: bytes, separator: bytes, element: bytes) -> Callable[[list[dict]], int]:
    """Re-joining the file's own split segments: the least any EDI writer must do."""
    segments = [s.split(element) for s in data.split(separator)]

    def write(_records: list[dict]) -> int:
        return len(separator.join(element.join(parts) for parts in segments))

    return write


@dataclass
class Case:
    fmt: str
    parts: Callable[[int, random.Random], tuple[bytes, bytes, bytes]]
    read: Callable[[bytes], int]
    bytes_per_record: int
    options: dict[str, Any] = field(default_factory=dict)
    write_options: dict[str, Any] = field(default_factory=dict)


CASES = {
    "jsonl": Case("jsonl", jsonl_parts, read_jsonl, 200),
    "csv": Case("csv", csv_parts, read_csv, 45),
    "xml": Case(
        "xml",
        xml_parts,
        read_xml,
        260,
        {"record_path": "Order"},
        {"root": "Orders", "record": "Order"},
    ),
    "fixed": Case(
        "fixed", fixed_parts, read_fixed, 49, {"layout": FIXED_LAYOUT}, {"layout": FIXED_LAYOUT}
    ),
    "x12": Case("x12", x12_parts, read_segments("~", "*"), 1000),
    "edifact": Case("edifact", edifact_parts, read_segments("'", "+"), 420),
}


# -- EDI against pyx12 and pydifact ------------------------------------------------------


def _sets(data: bytes) -> bytes:
    """The ST..SE sets of a sample interchange, as written (line breaks kept)."""
    start = data.index(b"ST*")
    end = data.index(b"GE*")
    return data[start:end]


def x12_interchanges(mb: float, per_interchange: int = 0) -> bytes:
    """Real 850 and 810 sets to about ``mb`` MB: one interchange with a PO group and an
    IN group, or (``per_interchange=1``) the two sample interchanges repeated whole."""
    po = (SAMPLES / "x12" / "node-x12_850.edi").read_bytes().replace(b"*U*00400*", b"*U*00401*")
    invoice = (SAMPLES / "x12" / "staedi_simple810.edi").read_bytes()
    pair = po.rstrip(b"\n") + b"\n" + invoice.rstrip(b"\n") + b"\n"
    copies = max(1, int(mb * 1e6 / len(pair)))
    if per_interchange:
        return pair * copies
    po_sets, invoice_sets = _sets(po), _sets(invoice)
    isa = po[: po.index(b"GS*")]
    po_gs = po[po.index(b"GS*") : po.index(b"ST*")]
    in_gs = invoice[invoice.index(b"GS*") : invoice.index(b"ST*")]
    in_gs = in_gs.replace(b"*" + in_gs.split(b"*")[6] + b"*", b"*1422*", 1)
    return b"".join(
        [
            isa,
            po_gs,
            po_sets * copies,
            b"GE*%d*1421~\n" % copies,
            in_gs,
            invoice_sets * copies,
            b"GE*%d*1422~\n" % (2 * copies),
            b"IEA*2*000003438~\n",
        ]
    )


def edifact_interchange(mb: float) -> bytes:
    head, body, tail = edifact_parts(max(1, int(mb * 1e6 / 420)), random.Random(1))
    return head + body + tail


def pyx12_read(data: bytes) -> int:
    from pyx12.x12file import X12Reader

    return sum(1 for _ in X12Reader(io.StringIO(data.decode("ascii"))))


def pydifact_read(data: bytes) -> int:
    import warnings

    from pydifact.segmentcollection import Interchange

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sum(1 for _ in Interchange.from_str(data.decode("latin-1")).get_messages())


def atomnb_read(fmt: str) -> Callable[[bytes], int]:
    def read(data: bytes) -> int:
        return sum(len(batch) for batch in ab.read_stream(data, format=fmt))

    return read


def edi_comparison(mb: float, repeat: int) -> dict[str, str]:
    """MB/s of atomnb's X12 and EDIFACT readers next to pyx12 and pydifact, same bytes."""
    print(f"\nEDI readers, same bytes, {repeat} alternated rounds (load average {_load()})")
    print(f"{'input':8} {'MB':>6} {'atomnb MB/s':>12} {'other':>9} {'other MB/s':>11} {'ratio':>6}")
    results: dict[str, str] = {}
    for name, data, other, label in (
        ("x12", x12_interchanges(mb), pyx12_read, "pyx12"),
        ("x12_small", x12_interchanges(mb, per_interchange=1), pyx12_read, "pyx12_small"),
        ("edifact", edifact_interchange(mb), pydifact_read, "pydifact"),
    ):
        size = len(data) / 1e6
        ours = atomnb_read(name.split("_")[0])
        ours(data), other(data)  # warm-up (imports, caches)
        # Alternate the two readers and take the median of the per-round ratios: the
        # machine's load changes by the second, a ratio from one round shares it.
        ours_times, theirs_times, ratios = [], [], []
        for _ in range(repeat):
            start = time.perf_counter()
            ours(data)
            mid = time.perf_counter()
            other(data)
            end = time.perf_counter()
            ours_times.append(mid - start)
            theirs_times.append(end - mid)
            ratios.append((end - mid) / (mid - start))
        ours_mbps = size / statistics.median(ours_times)
        theirs_mbps = size / statistics.median(theirs_times)
        ratio = statistics.median(ratios)
        print(f"{name:8} {size:6.1f} {ours_mbps:12.1f} {label:>9} {theirs_mbps:11.2f} {ratio:6.1f}")
        results[f"{name}_mb_s"] = f"{ours_mbps:.1f}"
        results[f"vs_{label}"] = f"{ratio:.1f}"
    print(f"(load average after: {_load()})")
    return results


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def baseline_writer(name: str, data: bytes) -> Callable[[list[dict]], int]:
    if name == "x12":
        return write_segments(data, b"~", b"*")
    if name == "edifact":
        return write_segments(data, b"'", b"+")
    return {"jsonl": write_jsonl, "csv": write_csv, "xml": write_xml, "fixed": write_fixed}[name]


def timed(function: Callable[[], object], repeat: int) -> float:
    function()  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def read_all(data: bytes, case: Case) -> int:
    return sum(len(batch) for batch in ab.read_stream(data, format=case.fmt, **case.options))


def write_big(path: Path, case: Case, target_mb: float) -> None:
    """A file of about ``target_mb`` MB written in slices; trailer counts may not match
    (the reader then reports them), the bulk of the work is the same."""
    head, body, tail = case.parts(max(1, int(8e6 / case.bytes_per_record)), random.Random(7))
    with path.open("wb") as handle:
        handle.write(head)
        while handle.tell() < target_mb * 1e6:
            handle.write(body)
        handle.write(tail)


def peak_rss_streaming(path: Path, case: Case) -> float:
    """Peak RSS (MB) of a child process that streams ``path`` batch by batch."""
    code = (
        "import logging, atomnb as ab\n"
        "logging.disable(logging.WARNING)\n"
        f"n = sum(len(b) for b in ab.read_stream({str(path)!r}, format={case.fmt!r}, **{case.options!r}))\n"
        # VmHWM: this address space's peak; ru_maxrss would include the parent's pages
        "hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]\n"
        "print(n, int(hwm) / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0, help="size of the timed files (MB)")
    parser.add_argument(
        "--big-mb", type=float, default=1000.0, help="size of the memory-test file (MB)"
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--formats", default=",".join(CASES))
    parser.add_argument("--edi-mb", type=float, default=5.0, help="size of the EDI comparison")
    parser.add_argument("--only-edi", action="store_true", help="only the pyx12/pydifact part")
    args = parser.parse_args()
    if args.only_edi:
        edi = edi_comparison(args.edi_mb, args.repeat)
        print("RESULT name=formats " + " ".join(f"{k}={v}" for k, v in edi.items()))
        return

    results: dict[str, str] = {}
    print(
        f"{'format':8} {'read MB/s':>10} {'baseline':>9} {'ratio':>6} {'write MB/s':>11} "
        f"{'baseline':>9} {'ratio':>6} {'streamed MB':>12} {'peak RSS MB':>12}"
    )
    for name in args.formats.split(","):
        case = CASES[name]
        head, body, tail = case.parts(int(args.mb * 1e6 / case.bytes_per_record), random.Random(42))
        data = head + body + tail
        mb = len(data) / 1e6
        docs = ab.read(data, format=case.fmt, **case.options)
        records = docs.to_pylist()
        write_base = baseline_writer(name, data)
        t_read = timed(
            lambda: sum(len(b) for b in ab.read_stream(data, format=case.fmt, **case.options)),
            args.repeat,
        )
        t_base = timed(lambda: case.read(data), args.repeat)
        t_write = timed(lambda: ab.write(docs, format=case.fmt, **case.write_options), args.repeat)
        t_bwrite = timed(lambda: write_base(records), args.repeat)
        with tempfile.TemporaryDirectory() as folder:
            big = Path(folder) / "big"
            write_big(big, case, args.big_mb)
            size_mb = big.stat().st_size / 1e6
            peak = peak_rss_streaming(big, case)
        read_mbps, base_mbps, write_mbps, bwrite_mbps = (
            mb / t_read,
            mb / t_base,
            mb / t_write,
            mb / t_bwrite,
        )
        print(
            f"{name:8} {read_mbps:10.1f} {base_mbps:9.1f} {read_mbps / base_mbps:6.2f} {write_mbps:11.1f} "
            f"{bwrite_mbps:9.1f} {write_mbps / bwrite_mbps:6.2f} {size_mb:12.0f} {peak:12.0f}"
        )
        results |= {
            f"{name}_read_mbps": f"{read_mbps:.1f}",
            f"{name}_read_vs_baseline": f"{read_mbps / base_mbps:.2f}",
            f"{name}_write_mbps": f"{write_mbps:.1f}",
            f"{name}_write_vs_baseline": f"{write_mbps / bwrite_mbps:.2f}",
            f"{name}_stream_mb": f"{size_mb:.0f}",
            f"{name}_stream_peak_rss_mb": f"{peak:.0f}",
        }
    results |= edi_comparison(args.edi_mb, args.repeat)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this process peaked at {own:.0f} MB holding the timed data sets)")
    print("RESULT name=formats " + " ".join(f"{k}={v}" for k, v in results.items()))


if __name__ == "__main__":
    main()
