"""The canonical order map (BENCHMARKS.md §1), three ways in one run.

(a) atomnb's map component, saved, loaded with ``ab.load_map`` and applied to
    Documents; (b) the same map as plain per-record Python over dicts — the honest
    baseline of most integration code; (c) the same map hand-written in polars
    expressions, the fastest columnar engine installed here. All three must give
    identical output on the whole data set before anything is timed. Then each is
    timed from documents already in memory (median of ``--repeat`` runs after a
    warm-up), and end to end: JSON Lines in, JSON Lines out, streamed in batches,
    with the peak RSS of that streamed run measured in a child process.

Last line: ``RESULT name=maps n=... atomnb_rps=... per_record_rps=... columnar_rps=...
vs_per_record=... vs_columnar=... file_to_file_rps=... file_to_file_peak_rss_mb=...``
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

import atomnb as ab
from atomnb.maps import Map, Rule, Step, save_map
from atomnb.profiles import Element, ElementType, Profile

COUNTRIES = {
    "Germany": "DE",
    "France": "FR",
    "Netherlands": "NL",
    "Belgium": "BE",
    "Austria": "AT",
    "Switzerland": "CH",
    "Italy": "IT",
    "Spain": "ES",
    "Poland": "PL",
    "Denmark": "DK",
}
STATUS = {"10": "NEW", "20": "PAID", "30": "SHIPPED", "40": "DELIVERED", "90": "CANCELLED"}
FIRST = ["Zoë", "José", "Ann", "Łukasz", "Seán", "Anaïs", "Björn", "Mary", "Ólafur", "Chloé"]
LAST = ["O'Brien", "Müller", "García", "D'Angelo", "Smith", "Nowak", "Ørsted", "Dupont"]
OUTSIDE = ["Japan", "Brazil", "Canada", "Kenya"]


def generate(n: int, seed: int = 42) -> list[dict[str, Any]]:
    """Deterministic order documents shaped like BENCHMARKS.md describes."""
    rnd = random.Random(seed)
    countries = list(COUNTRIES)
    docs = []
    for i in range(n):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        email = (
            f"{first}.{last}@Example.COM".replace("'", "")
            if rnd.random() < 0.5
            else f"{i}@example.com"
        )
        country = rnd.choice(OUTSIDE) if rnd.random() < 1 / 6 else rnd.choice(countries)
        doc: dict[str, Any] = {
            "orderId": f"SO-{i:06d}",
            "orderDate": f"2026-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T"
            f"{rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}Z",
            "customer": {"firstName": first, "lastName": last, "email": email, "country": country},
            "lines": [
                {
                    "sku": f"SKU-{rnd.randint(1, 99999):05d}",
                    "qty": rnd.randint(1, 20),
                    "unitPrice": round(rnd.uniform(0.5, 250), 2),
                }
                for _ in range(rnd.randint(1, 5))
            ],
            "status": rnd.choice(list(STATUS)),
        }
        roll = rnd.random()
        if roll < 0.2:
            doc["notes"] = None
        elif roll < 0.3:
            doc["notes"] = ""
        elif roll < 0.6:
            doc["notes"] = "leave at the door"
        docs.append(doc)  # else: key absent (40 %)
    return docs


# -- (b) per-record Python -------------------------------------------------------------


def per_record(doc: dict[str, Any]) -> dict[str, Any]:
    customer = doc["customer"]
    when = datetime.strptime(doc["orderDate"], "%Y-%m-%dT%H:%M:%SZ")
    total = round(sum(line["qty"] * line["unitPrice"] for line in doc["lines"]), 2)
    notes = doc.get("notes")
    return {
        "id": doc["orderId"],
        "order_date": when.strftime("%Y-%m-%d"),
        "customer_name": f"{customer['firstName']} {customer['lastName']}",
        "email": customer["email"].lower(),
        "country_code": COUNTRIES.get(customer["country"], "XX"),
        "status": STATUS.get(doc["status"], "UNKNOWN"),
        "line_count": len(doc["lines"]),
        "order_total": total,
        "has_notes": notes is not None and notes != "",
        "priority": "HIGH" if total > 1000 else "NORMAL",
        "source": "web",
        "total_str": f"{total:.2f}",
    }


# -- (c) hand-written polars -----------------------------------------------------------


def columnar(frame: pl.DataFrame) -> pl.DataFrame:
    customer = pl.col("customer")
    lines = pl.col("lines")
    total = (
        lines.list.eval(pl.element().struct.field("qty") * pl.element().struct.field("unitPrice"))
        .list.sum()
        .round(2)
    )
    notes = pl.col("notes")
    return frame.select(
        id=pl.col("orderId"),
        order_date=pl.col("orderDate")
        .str.strptime(pl.Datetime, "%Y-%m-%dT%H:%M:%SZ")
        .dt.strftime("%Y-%m-%d"),
        customer_name=pl.concat_str(
            [customer.struct.field("firstName"), customer.struct.field("lastName")], separator=" "
        ),
        email=customer.struct.field("email").str.to_lowercase(),
        country_code=customer.struct.field("country").replace_strict(COUNTRIES, default="XX"),
        status=pl.col("status").replace_strict(STATUS, default="UNKNOWN"),
        line_count=lines.list.len().cast(pl.Int64),
        order_total=total,
        has_notes=notes.is_not_null() & (notes != ""),
        priority=pl.when(total > 1000).then(pl.lit("HIGH")).otherwise(pl.lit("NORMAL")),
        source=pl.lit("web"),
        total_str=_two_decimals(total.cast(pl.String)),
    )


def _two_decimals(expr: pl.Expr) -> pl.Expr:
    # "12.5" -> "12.50", "3" -> "3.00": exactly two decimals, as BENCHMARKS.md asks
    parts = expr.str.split_exact(".", 1)
    whole = parts.struct.field("field_0")
    frac = parts.struct.field("field_1").fill_null("").str.pad_end(2, "0").str.slice(0, 2)
    return pl.concat_str([whole, pl.lit("."), frac])


# -- (a) atomnb ----------------------------------------------------------------------


def order_map() -> Map:
    S, INT, D, B, R = (
        ElementType.STRING,
        ElementType.INTEGER,
        ElementType.DECIMAL,
        ElementType.BOOLEAN,
        ElementType.RECORD,
    )
    source = Profile(
        "bench_orders",
        (
            Element("orderId", S, mandatory=True),
            Element("orderDate", S),
            Element(
                "customer",
                R,
                children=(
                    Element("firstName", S),
                    Element("lastName", S),
                    Element("email", S),
                    Element("country", S),
                ),
            ),
            Element(
                "lines",
                R,
                max_occurs=None,
                children=(Element("sku", S), Element("qty", INT), Element("unitPrice", D)),
            ),
            Element("status", S),
            Element("notes", S),
        ),
        format="json",
    )
    target = Profile(
        "bench_invoice",
        (
            Element("id", S),
            Element("order_date", S),
            Element("customer_name", S),
            Element("email", S),
            Element("country_code", S),
            Element("status", S),
            Element("line_count", INT),
            Element("order_total", D),
            Element("has_notes", B),
            Element("priority", S),
            Element("source", S),
            Element("total_str", S),
        ),
        format="json",
    )
    total = (Step("multiply"), Step("sum"), Step("round", {"digits": 2}))
    return Map(
        "bench_order_map",
        source,
        target,
        (
            Rule("id", ("orderId",)),
            Rule(
                "order_date",
                ("orderDate",),
                (
                    Step("parse_datetime", {"mask": "%Y-%m-%dT%H:%M:%SZ"}),
                    Step("format_date", {"mask": "%Y-%m-%d"}),
                ),
            ),
            Rule(
                "customer_name",
                ("customer.firstName", "customer.lastName"),
                (Step("concat", {"separator": " "}),),
            ),
            Rule("email", ("customer.email",), (Step("lower"),)),
            Rule(
                "country_code",
                ("customer.country",),
                (Step("lookup", {"table": "countries", "default": "XX"}),),
            ),
            Rule(
                "status",
                ("status",),
                (Step("lookup", {"table": "order_status", "default": "UNKNOWN"}),),
            ),
            Rule("line_count", ("lines",), (Step("count"),)),
            Rule("order_total", ("lines.qty", "lines.unitPrice"), total),
            Rule("has_notes", ("notes",), (Step("is_not_empty"),)),
            Rule(
                "priority",
                ("lines.qty", "lines.unitPrice"),
                (
                    *total,
                    Step("greater_than", {"value": 1000}),
                    Step("if_else", {"then": "HIGH", "else": "NORMAL"}),
                ),
            ),
            Rule("source", (), (Step("constant", {"value": "web"}),)),
            Rule(
                "total_str",
                ("lines.qty", "lines.unitPrice"),
                (*total, Step("format_number", {"mask": "0.00"})),
            ),
        ),
        tables=("countries", "order_status"),
    )


TABLES = {"countries": COUNTRIES, "order_status": STATUS}


def timed(function: Callable[[], object], repeat: int) -> float:
    function()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def file_to_file(workspace: Path, n: int, batch: int, repeat: int) -> tuple[float, float]:
    """JSON Lines in → map → JSON Lines out, streamed, each run in a fresh child process.

    Gives the median docs/s of ``repeat`` runs and the highest peak RSS (MB) among them.
    """
    source = workspace / "orders.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for start in range(0, n, 100_000):
            for doc in generate(min(100_000, n - start), seed=start):
                handle.write(json.dumps(doc, ensure_ascii=False) + "\n")
    runs = [_file_to_file_run(workspace, source, batch) for _ in range(repeat)]
    return statistics.median(r for r, _ in runs), max(p for _, p in runs)


def _file_to_file_run(workspace: Path, source: Path, batch: int) -> tuple[float, float]:
    code = f"""
import json, time, atomnb as ab
from benchmarks.maps import TABLES
m = ab.load_map("bench_order_map", workspace=ab.Workspace.find({str(workspace)!r}))
start = time.perf_counter()
n = 0
with open({str(workspace / "out.jsonl")!r}, "wb") as out:
    for batch in m(ab.read_stream({str(source)!r}, batch_size={batch}), tables=TABLES).prefetch(1):
        ab.write(batch, out, format="jsonl")
        n += len(batch) + len(batch.rejections)
elapsed = time.perf_counter() - start
# VmHWM belongs to this address space; ru_maxrss would count the parent's pages from before exec
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]
print(n / elapsed, int(hwm) / 1024)
"""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    rate, peak = done.stdout.split()
    return float(rate), float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--file-n", type=int, default=1_000_000, help="documents for file to file")
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument(
        "--file-repeat", type=int, default=3, help="file to file runs (median reported)"
    )
    args = parser.parse_args()

    docs = generate(args.n)
    documents = ab.Documents.from_records(docs)
    frame = pl.from_arrow(documents.to_arrow())
    assert isinstance(frame, pl.DataFrame)

    with tempfile.TemporaryDirectory() as folder:
        workspace = ab.Workspace.init(Path(folder) / "ws")
        save_map(order_map(), workspace=workspace)
        mapping = ab.load_map("bench_order_map", workspace=workspace)

        expected = [per_record(d) for d in docs]
        got_atomnb = mapping(documents, tables=TABLES)
        got_columnar = columnar(frame).to_dicts()
        if got_atomnb.rejections:
            raise SystemExit(
                f"atomnb rejected {len(got_atomnb.rejections)}: {got_atomnb.rejections[0]}"
            )
        for name, got in (("atomnb", got_atomnb.to_pylist()), ("columnar", got_columnar)):
            if got != expected:
                bad = next(i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
                raise SystemExit(
                    f"{name} differs from per-record Python at {bad}:\n{got[bad]}\n{expected[bad]}"
                )
        print(f"all three agree on {args.n} documents")

        t_atomnb = timed(lambda: mapping(documents, tables=TABLES), args.repeat)
        t_python = timed(lambda: [per_record(d) for d in docs], args.repeat)
        t_columnar = timed(lambda: columnar(frame), args.repeat)
        rates = {
            k: args.n / t
            for k, t in (("atomnb", t_atomnb), ("per_record", t_python), ("columnar", t_columnar))
        }
        for name, rate in rates.items():
            print(f"{name:11} {rate / 1e6:6.2f} M docs/s")
        f2f_rate, f2f_peak = file_to_file(workspace.root, args.file_n, args.batch, args.file_repeat)
        print(
            f"file to file (JSON Lines, {args.file_n} docs, batches of {args.batch}, median of "
            f"{args.file_repeat}): {f2f_rate / 1e6:.2f} M docs/s, peak RSS {f2f_peak:.0f} MB"
        )

    print(
        f"RESULT name=maps n={args.n} atomnb_rps={rates['atomnb']:.0f} "
        f"per_record_rps={rates['per_record']:.0f} columnar_rps={rates['columnar']:.0f} "
        f"vs_per_record={rates['atomnb'] / rates['per_record']:.1f} "
        f"vs_columnar={rates['atomnb'] / rates['columnar']:.2f} "
        f"file_to_file_n={args.file_n} file_to_file_rps={f2f_rate:.0f} "
        f"file_to_file_peak_rss_mb={f2f_peak:.0f}"
    )


if __name__ == "__main__":
    main()
