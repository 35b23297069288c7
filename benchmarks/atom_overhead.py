"""Atom overhead (BENCHMARKS.md §2): a trivial process on a warm atom versus a cold papermill run.

(a) an atom is started once (``atomnb atom start`` in a subprocess, as a user
    would) with the trivial notebook deployed; each sample triggers it through
    the HTTP API and waits until the execution record says succeeded — the
    client's wall time from request to answer;
(b) each sample runs the ``papermill`` command line on the same notebook in a
    fresh process, as a cron job without an atom would.
Samples alternate (a, b, a, b, …) so drift on a shared machine hits both. Between
atom samples the atom gets a moment to start its next warm kernel, as it would
between the runs of any real schedule. Then, for the record, the round trip of
a listener call (a JSON message in, the process's answer back).

Last line: ``RESULT name=atom_overhead n=... atom_median_s=... papermill_median_s=... ratio=...
listener_median_s=...``
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import nbformat

from atomnb.atom.client import AtomClient
from atomnb.atom.package import build_package
from atomnb.components import Workspace


def _notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell('name = "world"', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell('print(f"hello {name}")'),
    ]
    nbformat.write(nb, path)
    return path


_ATOM = [sys.executable, "-m", "atomnb", "atom", "start"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=12, help="samples of each (>= 10)")
    parser.add_argument("--settle", type=float, default=1.5, help="pause between atom runs (s)")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="atomnb-overhead-"))
    workspace = Workspace.init(base / "ws", name="overhead")
    notebook = _notebook(workspace.notebooks_dir / "trivial.ipynb")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (base / "atom.log").open("wb")
    atom = subprocess.Popen(
        [*_ATOM, "--home", str(base / "atom"), "--port", str(port), "--workers", "1"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    papermill = shutil.which("papermill") or str(Path(sys.executable).with_name("papermill"))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/api/health", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise SystemExit("the atom did not start") from None
                time.sleep(0.1)
        client = AtomClient(url, timeout_s=120)
        client.deploy(build_package(notebook))
        client.trigger("trivial", wait=True)  # warm-up: imports on the atom's side
        time.sleep(args.settle)

        warm: list[float] = []
        cold: list[float] = []
        for n in range(args.runs):
            started = time.perf_counter()
            record = client.trigger("trivial", {"name": f"run{n}"}, wait=True)
            warm.append(time.perf_counter() - started)
            if record["status"] != "succeeded":
                raise SystemExit(f"atom run failed: {record}")

            out = base / f"cold{n}.ipynb"
            started = time.perf_counter()
            subprocess.run(
                [papermill, str(notebook), str(out), "-p", "name", f"run{n}", "--no-progress-bar"],
                check=True,
                capture_output=True,
            )
            cold.append(time.perf_counter() - started)
            time.sleep(args.settle)
            print(f"run {n + 1}: atom {warm[-1]:.3f} s, papermill {cold[-1]:.3f} s", flush=True)
        # A listener round trip: a JSON message in, the process's documents back.
        listen: list[float] = []
        for n in range(args.runs):
            started = time.perf_counter()
            answer = httpx.post(f"{url}/listen/trivial", json=[{"n": n}], timeout=60)
            listen.append(time.perf_counter() - started)
            if answer.status_code not in (200, 204):
                raise SystemExit(f"listener failed: {answer.status_code} {answer.text}")
            time.sleep(args.settle)
        client.close()
    finally:
        atom.terminate()
        atom.wait(timeout=60)
        log.close()
        shutil.rmtree(base, ignore_errors=True)

    warm_median = statistics.median(warm)
    cold_median = statistics.median(cold)
    print(
        f"atom (warm, on demand through the API): median {warm_median:.3f} s "
        f"(min {min(warm):.3f}, max {max(warm):.3f})"
    )
    print(
        f"papermill CLI (cold):                   median {cold_median:.3f} s "
        f"(min {min(cold):.3f}, max {max(cold):.3f})"
    )
    listen_median = statistics.median(listen)
    print(f"listener round trip (warm):             median {listen_median:.3f} s")
    print(
        f"RESULT name=atom_overhead n={args.runs} atom_median_s={warm_median:.4f} "
        f"papermill_median_s={cold_median:.4f} ratio={warm_median / cold_median:.3f} "
        f"listener_median_s={listen_median:.4f}"
    )


if __name__ == "__main__":
    main()
