"""Streams: small messages from Redis through a low-latency process and back to Redis,
next to a plain redis-py consume-and-ack loop doing the same work.

A redis-server of its own (no persistence) on loopback. atomnb: an in-process atom
with its stream listeners (``AtomStreams``) and a deployed ``low_latency`` process
(two warm workers) whose per-message cell writes each document it got to an output
stream (one pipelined ``XADD`` per document, one round trip per batch); the
listener acknowledges a batch once its request answered. Plain: one thread doing
``XREADGROUP`` → ``json.loads`` → the same pipelined ``XADD``s → ``XACK``.

Two phases for each, alternating (atomnb, plain, atomnb, plain … ``--rounds``):
throughput — ``--messages`` produced up front, messages/s from the first read to
the last output; latency — ``--paced`` messages produced in small groups at a
steady rate, end-to-end latency from the producer's clock in the document to the
output entry's id (Redis's clock on the same machine), p50 and p99.

Last line: ``RESULT name=streams n=... atomnb_mps=... plain_mps=... ratio=...
p50_ms=... p99_ms=... plain_p50_ms=... plain_p99_ms=...`` (ratio = atomnb/plain
throughput). The load average is printed before and after: the 2 cores are
shared, so compare the ratio from one run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import nbformat
import redis

from atomnb.atom.deployer import DeployOptions
from atomnb.atom.home import AtomHome
from atomnb.atom.package import build_package
from atomnb.atom.service import Atom
from atomnb.atom.streams.service import AtomStreams
from atomnb.components import Workspace

SETUP = "import json, redis\nimport atomnb as ab\nR = redis.Redis.from_url({url!r})\n"
PER_MESSAGE = textwrap.dedent(
    """\
    docs = ab.start(ab.Documents.from_records([{"n": 0, "t": 0.0}]))
    pipe = R.pipeline(transaction=False)
    for d in docs:
        pipe.xadd(OUT, {"doc": json.dumps({"n": d["n"], "t": d["t"], "v": d["n"] * 2})})
    pipe.execute()
    """
)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    binary = shutil.which("redis-server") or sys.exit("redis-server is not installed")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        cwd=root,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 60
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    client.close()
    return proc, url


def _produce(client: redis.Redis, stream: str, first: int, count: int) -> None:
    pipe = client.pipeline(transaction=False)
    for n in range(first, first + count):
        pipe.xadd(stream, {"doc": json.dumps({"n": n, "t": time.time()})})
    pipe.execute()


def _wait_out(client: redis.Redis, out: str, want: int, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while client.xlen(out) < want:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {client.xlen(out)} of {want} messages came out")
        time.sleep(0.01)


def _latencies(client: redis.Redis, out: str) -> list[float]:
    found = []
    for entry, fields in client.xrange(out):
        stored_ms = int(entry.split(b"-")[0])
        sent = json.loads(fields[b"doc"])["t"]
        found.append(max(stored_ms / 1000 - sent, 0.0) * 1000)
    return found


def _plain_loop(url: str, stream: str, out: str, stop: threading.Event, batch: int) -> None:
    client = redis.Redis.from_url(url)
    with contextlib.suppress(redis.ResponseError):  # the group is there already
        client.xgroup_create(stream, "plain", id="0", mkstream=True)
    while not stop.is_set():
        read: Any = client.xreadgroup("plain", "p1", {stream: ">"}, count=batch, block=100)
        for _, entries in read or ():
            pipe = client.pipeline(transaction=False)
            for _, fields in entries:
                d = json.loads(fields[b"doc"])
                pipe.xadd(out, {"doc": json.dumps({"n": d["n"], "t": d["t"], "v": d["n"] * 2})})
            pipe.xack(stream, "plain", *(i for i, _ in entries))
            pipe.execute()
    client.close()


def _run(
    kind: str, url: str, client: redis.Redis, args: argparse.Namespace, start: Any
) -> tuple[float, list[float]]:
    stream, out = f"in-{kind}-{time.monotonic_ns()}", f"out-{kind}-{time.monotonic_ns()}"
    stopper = start(stream, out)
    try:
        _produce(client, stream, 0, args.messages)
        began = time.monotonic()
        _wait_out(client, out, args.messages)
        mps = args.messages / (time.monotonic() - began)
        client.delete(out)
        group = max(args.rate // 100, 1)  # groups every 10 ms
        for first in range(0, args.paced, group):
            _produce(client, stream, args.messages + first, min(group, args.paced - first))
            time.sleep(group / args.rate)
        _wait_out(client, out, args.paced)
        return mps, _latencies(client, out)
    finally:
        stopper()
        client.delete(stream, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--paced", type=int, default=2_000)
    parser.add_argument("--rate", type=int, default=1_000, help="paced messages per second")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
    with tempfile.TemporaryDirectory(prefix="atomnb-bench-streams-") as tmp:
        root = Path(tmp)
        server, url = _redis(root)
        client = redis.Redis.from_url(url)
        atom = Atom(AtomHome(root / "home"), workers=1, prewarm=False)
        atom.start()
        streams = AtomStreams(atom, refresh_s=0.2)
        streams.start()
        ws = Workspace.init(root / "ws", name="bench")

        def start_atomnb(stream: str, out: str) -> Any:
            listen = f"{url.rsplit('/', 1)[0]}/{stream}?group=bench&batch={args.batch}&wait_ms=20"
            nb = nbformat.v4.new_notebook()
            nb.metadata["kernelspec"] = {
                "name": "python3",
                "display_name": "Python 3",
                "language": "python",
            }
            nb.metadata["atomnb"] = {"mode": "low_latency", "workers": 2, "listen": listen}
            nb.cells = [
                nbformat.v4.new_code_cell(SETUP.format(url=url) + f"OUT = {out!r}\n"),
                nbformat.v4.new_code_cell(PER_MESSAGE, metadata={"tags": ["per-message"]}),
            ]
            path = ws.notebooks_dir / "copier.ipynb"
            nbformat.write(nb, path)
            package = build_package(path)
            atom.deployer.deploy(package.data, DeployOptions(notebook=package.notebook))
            deadline = time.monotonic() + 300
            while not any(stream in key for _, key in streams.running):
                if time.monotonic() > deadline:
                    raise SystemExit("the listener did not start")
                time.sleep(0.05)
            _warm(client, stream, out)
            return lambda: atom.deployer.undeploy("copier")

        def start_plain(stream: str, out: str) -> Any:
            stop = threading.Event()
            thread = threading.Thread(
                target=_plain_loop, args=(url, stream, out, stop, args.batch), daemon=True
            )
            thread.start()

            def stopper() -> None:
                stop.set()
                thread.join(timeout=30)

            return stopper

        results: dict[str, list[tuple[float, list[float]]]] = {"atomnb": [], "plain": []}
        try:
            for _ in range(args.rounds):
                results["atomnb"].append(_run("atomnb", url, client, args, start_atomnb))
                results["plain"].append(_run("plain", url, client, args, start_plain))
        finally:
            streams.stop(grace_s=5)
            atom.stop(grace_s=5)
            client.close()
            server.terminate()
            server.wait(timeout=30)
    summary: dict[str, str] = {"n": str(args.messages)}
    for kind, runs in results.items():
        mps = statistics.median(r[0] for r in runs)
        lat = sorted(x for r in runs for x in r[1])
        p50, p99 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print(f"{kind}: {mps:,.0f} messages/s, latency p50 {p50:.1f} ms p99 {p99:.1f} ms")
        prefix = "" if kind == "atomnb" else "plain_"
        summary[f"{kind}_mps"] = f"{mps:.0f}"
        summary[f"{prefix}p50_ms"] = f"{p50:.1f}"
        summary[f"{prefix}p99_ms"] = f"{p99:.1f}"
    summary["ratio"] = f"{float(summary['atomnb_mps']) / float(summary['plain_mps']):.3f}"
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
    order = ["n", "atomnb_mps", "plain_mps", "ratio", "p50_ms", "p99_ms"]
    order += ["plain_p50_ms", "plain_p99_ms"]
    print("RESULT name=streams " + " ".join(f"{k}={summary[k]}" for k in order))


def _warm(client: redis.Redis, stream: str, out: str) -> None:
    """One message through first, so the workers' start is not in the measurement."""
    _produce(client, stream, -1, 1)
    _wait_out(client, out, 1)
    client.delete(out)


if __name__ == "__main__":
    main()
