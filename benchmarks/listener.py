"""Listeners: a JSON → map → JSON process served (a) low-latency, (b) in general mode,
and (c) the same map in a plain FastAPI endpoint (the limit on this machine).

A real atom (``atomnb atom start`` in a subprocess, on loopback) serves the process
deployed twice, once with ``atomnb.mode = "low_latency"`` and once in general mode
(a papermill execution per request); a uvicorn subprocess serves the plain
endpoint, which reads the body with atomnb's JSON reader, applies the same map and
writes JSON. A load generator of asyncio streams (keep-alive HTTP/1.1, a few
lines: it shares the cores with the servers, so it must cost them little) sends the
same message from 1, 8 and 32 concurrent clients for ``--seconds`` each — low-latency
and plain in ``--rounds`` alternating slices, so the other sessions' drifting load
falls on both alike; every answer must be a 200 (``failed`` counts those that are
not, and timeouts).

Last line: ``RESULT name=listener p50_ms=... p99_ms=... rps_8=... vs_general=...
vs_plain=...`` — p50/p99 of low-latency at one client, its requests/s at 8 clients,
and that throughput divided by general mode's (``vs_general``) and by the plain
endpoint's (``vs_plain`` = ours / plain, so 0.5 means half the plain endpoint's
requests per second) at 8 clients. The machine's load average is printed before
and after: these 2 cores are shared, so compare ratios from one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import nbformat

from atomnb.atom.client import AtomClient
from atomnb.atom.package import build_package
from atomnb.components import Workspace

SETUP = textwrap.dedent(
    """\
    import atomnb as ab
    from atomnb.maps import Map, Rule, Step
    from atomnb.profiles import Element, ElementType as T, Profile
    SRC = Profile("order", (Element("orderId", T.STRING), Element("qty", T.STRING)))
    OUT = Profile("out", (Element("id", T.STRING, mandatory=True), Element("q", T.INTEGER)))
    MAP = Map("order_flat", SRC, OUT, (
        Rule("id", ("orderId",), (Step("replace", {"old": "SO-", "new": "INV-"}),)),
        Rule("q", ("qty",), (Step("to_integer"),)),
    ))
    """
)
PER_MESSAGE = (
    'orders = ab.start(ab.Documents.from_records([{"orderId": "SO-0", "qty": "1"}]))\n'
    "ab.return_documents(ab.map(orders, MAP))\n"
)
PLAIN = textwrap.dedent(
    """\
    from fastapi import FastAPI, Request, Response
    from atomnb.formats import read, write
    {setup}
    app = FastAPI()

    @app.post("/map")
    async def mapped(request: Request) -> Response:
        documents = read(await request.body(), "json")
        return Response(write(MAP(documents), None, "json"), media_type="application/json")
    """
)
ATOM = [sys.executable, "-m", "atomnb", "atom", "start", "--stop-grace", "5"]
UVICORN = [sys.executable, "-m", "uvicorn", "plain_app:app"]
MESSAGE = [{"orderId": "SO-1", "qty": "2"}, {"orderId": "SO-2", "qty": "5"}]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _notebook(path: Path, mode: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["atomnb"] = {"mode": mode, "workers": 2}
    nb.cells = [
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell(PER_MESSAGE, metadata={"tags": ["per-message"]}),
    ]
    nbformat.write(nb, path)
    return path


def _wait_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url} exited early:\n{log.read_text()[-2000:]}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up:\n{log.read_text()[-2000:]}")


async def _one_client(
    host: str, port: int, request: bytes, stop: float, latencies: list[float]
) -> int:
    """One keep-alive connection sending ``request`` until ``stop``; its failures.

    A few lines of asyncio streams rather than an HTTP client library: the load
    generator shares the two cores with the servers it measures, so it must cost
    them as little as possible (httpx spent about 1 ms of CPU per request here).
    """
    failures = 0
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            try:
                writer.write(request)
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, TimeoutError):
                failures += 1  # a timeout or a closed connection counts, then a new one
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            failures += b" 200 " not in head.split(b"\r\n", 1)[0] + b" "
    finally:
        writer.close()
    return failures


async def _load(url: str, clients: int, seconds: float) -> tuple[list[float], int, float]:
    """(latencies in ms, failures, elapsed s) of ``clients`` clients for ``seconds``."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    body = json.dumps(MESSAGE).encode()
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    # one client for 0.2 s first: the first request loads what is lazy (low-latency workers)
    await _one_client(host, port, request, time.perf_counter() + 0.2, [])
    stop = time.perf_counter() + seconds
    began = time.perf_counter()
    failed = await asyncio.gather(
        *(_one_client(host, port, request, stop, latencies) for _ in range(clients))
    )
    return latencies, sum(failed), time.perf_counter() - began


def _summary(latencies: list[float], failed: int, elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies) or [float("nan")]
    return {
        "n": len(latencies),
        "failed": failed,
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "rps": len(latencies) / elapsed,
    }


def _measure(
    targets: dict[str, str], levels: list[int], seconds: float, rounds: int
) -> dict[str, dict[int, dict[str, float]]]:
    """Every target at every level, in ``rounds`` alternating slices of ``seconds``: the
    load of the other sessions on this machine drifts, and falls on all targets alike."""
    found: dict[str, dict[int, tuple[list[float], int, float]]] = {n: {} for n in targets}
    for clients in levels:
        for _ in range(rounds):
            for name, url in targets.items():
                latencies, failed, elapsed = asyncio.run(_load(url, clients, seconds / rounds))
                before = found[name].get(clients, ([], 0, 0.0))
                found[name][clients] = (
                    before[0] + latencies,
                    before[1] + failed,
                    before[2] + elapsed,
                )
    return {n: {c: _summary(*r) for c, r in by.items()} for n, by in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per concurrency level")
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating low-latency/plain slices per level"
    )
    parser.add_argument(
        "--general-levels", default=None, help="general mode's levels (default: --levels)"
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
    general_levels = [int(x) for x in (args.general_levels or args.levels).split(",")]
    with tempfile.TemporaryDirectory(prefix="atomnb-bench-listener-") as tmp:
        root = Path(tmp)
        ws = Workspace.init(root / "ws", name="bench")
        fast = _notebook(ws.notebooks_dir / "orders_fast.ipynb", "low_latency")
        general = _notebook(ws.notebooks_dir / "orders_general.ipynb", "general")
        plain_file = root / "plain_app.py"
        plain_file.write_text(PLAIN.format(setup=SETUP))
        atom_port, plain_port = _port(), _port()
        atom_log, plain_log = root / "atom.log", root / "plain.log"
        atom = subprocess.Popen(
            [*ATOM, "--home", str(root / "home"), "--port", str(atom_port), "--workers", "2"],
            stdout=atom_log.open("wb"),
            stderr=subprocess.STDOUT,
            cwd=root,
        )
        plain = subprocess.Popen(
            [*UVICORN, "--port", str(plain_port), "--log-level", "warning", "--no-access-log"],
            stdout=plain_log.open("wb"),
            stderr=subprocess.STDOUT,
            cwd=root,
            env=os.environ | {"PYTHONPATH": str(root)},
        )
        try:
            atom_url, plain_url = f"http://127.0.0.1:{atom_port}", f"http://127.0.0.1:{plain_port}"
            _wait_up(f"{atom_url}/api/health", atom, atom_log)
            _wait_up(f"{plain_url}/docs", plain, plain_log)
            with AtomClient(atom_url, timeout_s=120) as client:
                client.deploy(build_package(fast))
                client.deploy(build_package(general), max_concurrent=2)
            targets = {
                "low_latency": f"{atom_url}/listen/orders_fast",
                "general": f"{atom_url}/listen/orders_general",
                "plain": f"{plain_url}/map",
            }
            results = _measure(
                {"low_latency": targets["low_latency"], "plain": targets["plain"]},
                levels,
                args.seconds,
                args.rounds,
            )
            results |= _measure({"general": targets["general"]}, general_levels, args.seconds, 1)
            for name in targets:
                for clients, found in sorted(results[name].items()):
                    print(
                        f"{name:12} clients={clients:3} n={found['n']:6.0f} "
                        f"failed={found['failed']:.0f} p50={found['p50_ms']:8.2f} ms "
                        f"p99={found['p99_ms']:8.2f} ms rps={found['rps']:8.1f}",
                        flush=True,
                    )
        finally:
            for proc in (atom, plain):
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    fast_1 = results["low_latency"][levels[0]]
    at = 8 if 8 in levels and 8 in general_levels else levels[-1]
    rps_8 = results["low_latency"][at]["rps"]
    summary: dict[str, Any] = {
        "p50_ms": round(fast_1["p50_ms"], 2),
        "p99_ms": round(fast_1["p99_ms"], 2),
        "rps_8": round(rps_8, 1),
        "vs_general": round(rps_8 / max(results["general"][at]["rps"], 1e-9), 1),
        "vs_plain": round(rps_8 / max(results["plain"][at]["rps"], 1e-9), 2),
    }
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
    print("RESULT name=listener " + " ".join(f"{k}={v}" for k, v in summary.items()))


if __name__ == "__main__":
    main()
