"""Listeners: a JSON → map → JSON process served (a) low-latency, (b) in general mode,
and (c) the same map in a plain FastAPI endpoint (the limit on this machine).

A real atom (``atomnb atom start`` in a subprocess, on loopback) serves the process
deployed twice, once with ``atomnb.mode = "low_latency"`` and once in general mode
(a papermill execution per request); a uvicorn subprocess serves the plain
endpoint, which reads the body with atomnb's JSON reader, applies the same map and
writes JSON. An asyncio httpx load generator sends the same message from 1, 8 and
32 concurrent clients for ``--seconds`` each; every answer must be a 200.

Last line: ``RESULT name=listener p50_ms=... p99_ms=... rps_8=... vs_general=...
vs_plain=...`` — p50/p99 of low-latency at one client, its requests/s at 8 clients,
and that throughput over general mode's and over the plain endpoint's at 8.
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


async def _load(url: str, clients: int, seconds: float) -> dict[str, float]:
    body = json.dumps(MESSAGE).encode()
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await client.post(url, content=body, headers={"content-type": "application/json"})
        stop = time.perf_counter() + seconds

        async def one_client() -> None:
            nonlocal failures
            while time.perf_counter() < stop:
                started = time.perf_counter()
                try:
                    response = await client.post(
                        url, content=body, headers={"content-type": "application/json"}
                    )
                except httpx.HTTPError:  # a timeout counts as a failure, not a crash
                    failures += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                failures += response.status_code != 200

        began = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    ordered = sorted(latencies) or [float("nan")]
    return {
        "n": len(ordered),
        "failed": failures,
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "rps": len(ordered) / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per concurrency level")
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument(
        "--general-levels", default=None, help="general mode's levels (default: --levels)"
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
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
            results: dict[str, dict[int, dict[str, float]]] = {}
            for name, url in targets.items():
                results[name] = {}
                for clients in general_levels if name == "general" else levels:
                    found = asyncio.run(_load(url, clients, args.seconds))
                    results[name][clients] = found
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
    print("RESULT name=listener " + " ".join(f"{k}={v}" for k, v in summary.items()))


if __name__ == "__main__":
    main()
