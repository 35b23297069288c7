"""Format readers and writers: MB/s of atomnb next to a plain parser on the same bytes.

For each format a deterministic generator makes a file of about ``--mb`` MB;
atomnb's reader (``ab.read_stream`` consumed batch by batch) and writer
(``ab.write``) are timed next to a baseline that parses the same bytes with the
standard library or the underlying library alone (no Documents, no checks), in
the same run, median of ``--repeat`` runs. Then a streaming read of a file of
``--big-mb`` MB runs in a child process and reports its peak RSS, to show memory
stays bounded by the batch, not the file.

Last line: ``RESULT name=formats <fmt>_read_mbps=... <fmt>_vs_baseline=... ...``
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import atomnb as ab

Generator = Callable[[int, random.Random], bytes]


def gen_jsonl(n: int, rnd: random.Random) -> bytes:
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
    return ("\n".join(lines) + "\n").encode()


def gen_csv(n: int, rnd: random.Random) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "name", "city", "amount", "note"])
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
    return out.getvalue().encode()


def baseline_jsonl(data: bytes) -> int:
    return sum(1 for line in data.splitlines() if json.loads(line))


def baseline_csv(data: bytes) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8"))))


def baseline_write_jsonl(records: list[dict]) -> int:
    return len("\n".join(json.dumps(r) for r in records))


def baseline_write_csv(records: list[dict]) -> int:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]))
    writer.writeheader()
    writer.writerows(records)
    return len(out.getvalue())


FORMATS: dict[
    str, tuple[str, Generator, Callable[[bytes], int], Callable[[list[dict]], int], int]
] = {
    # name: (atomnb format, generator, baseline reader, baseline writer, bytes per record approx)
    "jsonl": ("jsonl", gen_jsonl, baseline_jsonl, baseline_write_jsonl, 200),
    "csv": ("csv", gen_csv, baseline_csv, baseline_write_csv, 45),
}


def timed(function: Callable[[], object], repeat: int) -> float:
    function()  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def read_all(data: bytes, fmt: str) -> int:
    return sum(len(batch) for batch in ab.read_stream(data, format=fmt))


def peak_rss_streaming(path: Path, fmt: str) -> float:
    """Peak RSS (MB) of a child process that streams ``path`` batch by batch."""
    code = (
        "import resource, sys, atomnb as ab\n"
        f"n = sum(len(b) for b in ab.read_stream({str(path)!r}, format={fmt!r}))\n"
        "print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0, help="size of the timed files (MB)")
    parser.add_argument(
        "--big-mb", type=float, default=256.0, help="size of the memory-test file (MB)"
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--formats", default=",".join(FORMATS))
    args = parser.parse_args()

    results: dict[str, str] = {}
    print(
        f"{'format':8} {'atomnb read MB/s':>17} {'baseline MB/s':>14} {'ratio':>6} "
        f"{'atomnb write MB/s':>18} {'baseline MB/s':>14} {'ratio':>6}"
    )
    for name in args.formats.split(","):
        fmt, generate, base_read, base_write, per_record = FORMATS[name]
        data = generate(int(args.mb * 1e6 / per_record), random.Random(42))
        mb = len(data) / 1e6
        docs = ab.read(data, format=fmt)
        records = docs.to_pylist()
        t_read = timed(lambda: read_all(data, fmt), args.repeat)  # noqa: B023
        t_base = timed(lambda: base_read(data), args.repeat)  # noqa: B023
        t_write = timed(lambda: ab.write(docs, format=fmt), args.repeat)  # noqa: B023
        t_bwrite = timed(lambda: base_write(records), args.repeat)  # noqa: B023
        read_mbps, base_mbps = mb / t_read, mb / t_base
        write_mbps, bwrite_mbps = mb / t_write, mb / t_bwrite
        print(
            f"{name:8} {read_mbps:17.1f} {base_mbps:14.1f} {read_mbps / base_mbps:6.2f} "
            f"{write_mbps:18.1f} {bwrite_mbps:14.1f} {write_mbps / bwrite_mbps:6.2f}"
        )
        results[f"{name}_read_mbps"] = f"{read_mbps:.1f}"
        results[f"{name}_read_vs_baseline"] = f"{read_mbps / base_mbps:.2f}"
        results[f"{name}_write_mbps"] = f"{write_mbps:.1f}"
        results[f"{name}_write_vs_baseline"] = f"{write_mbps / bwrite_mbps:.2f}"

        with tempfile.TemporaryDirectory() as folder:
            big = Path(folder) / f"big.{fmt}"
            chunk = generate(int(8e6 / per_record), random.Random(7))
            body = chunk.split(b"\n", 1)[1] if fmt == "csv" else chunk
            with big.open("wb") as handle:
                handle.write(chunk)
                while handle.tell() < args.big_mb * 1e6:
                    handle.write(body)
            size_mb = big.stat().st_size / 1e6
            peak = peak_rss_streaming(big, fmt)
            print(f"         streaming {size_mb:.0f} MB: peak RSS {peak:.0f} MB")
            results[f"{name}_stream_file_mb"] = f"{size_mb:.0f}"
            results[f"{name}_stream_peak_rss_mb"] = f"{peak:.0f}"

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this process peaked at {own:.0f} MB holding the timed data sets)")
    print("RESULT name=formats " + " ".join(f"{k}={v}" for k, v in results.items()))


if __name__ == "__main__":
    main()
