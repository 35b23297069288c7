"""Low-latency processes on a real atom: warm workers, no records, same answers as papermill."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import nbformat
import psutil  # type: ignore[import-untyped]
import pytest

from atomnb.components import Workspace
from atomnb.errors import AtomError
from tests.atom.conftest import AtomProcess
from tests.conftest import _free_port

pytestmark = pytest.mark.atom

SECRET = "ll-s3cr3t-7f1e9a"

SETUP = (
    "import time\n"
    "import atomnb as ab\n"
    "from atomnb.maps import Map, Rule, Step\n"
    "from atomnb.process.run import current_run\n"
    "from atomnb.profiles import Element, ElementType as T, Profile\n"
    'SRC = Profile("order", (Element("orderId", T.STRING), Element("qty", T.STRING)))\n'
    'OUT = Profile("out", (Element("id", T.STRING, mandatory=True), Element("q", T.INTEGER)))\n'
    'MAP = Map("order_flat", SRC, OUT, (\n'
    '    Rule("id", ("orderId",), (Step("replace", {"old": "SO-", "new": "INV-"}),)),\n'
    '    Rule("q", ("qty",), (Step("to_integer"),)),\n'
    "))\n"
    "SEEN = []  # made by a set-up cell: may carry over between requests (module state)\n"
    "BALLAST = []\n"
)
PER_MESSAGE = (
    'orders = ab.start(ab.Documents.from_records([{"orderId": "SO-0", "qty": "1"}]))\n'
    'ids = [r.get("orderId") for r in orders.to_pylist()]\n'
    'if "BOOM" in ids:\n'
    '    raise ValueError(f"refused with key {api_key}")\n'
    'if "GROW" in ids:  # a leak: the worker memory grows past max_rss_growth_mb\n'
    '    BALLAST.append("x" * (160 * 2**20))\n'
)
GATE_CELL = (  # waits until the file named by qty exists: holds a worker without timing
    'gates = [r["qty"] for r in orders.to_pylist() if r.get("orderId") == "GATE"]\n'
    "if gates:\n"
    "    import pathlib\n"
    "    end = time.monotonic() + 120\n"
    "    while not pathlib.Path(gates[0]).exists() and time.monotonic() < end:\n"
    "        time.sleep(0.02)\n"
)
MEET_CELL = (  # answers only once N requests are in at the same time (each in its worker)
    'meets = [r for r in orders.to_pylist() if str(r.get("orderId")).startswith("MEET-")]\n'
    "if meets:\n"
    "    import os, pathlib\n"
    '    need, meet = int(meets[0]["orderId"][5:]), pathlib.Path(meets[0]["qty"])\n'
    "    (meet / str(os.getpid())).touch()\n"
    "    end = time.monotonic() + 120\n"
    "    while len(list(meet.iterdir())) < need:\n"
    "        if time.monotonic() > end:\n"
    '            raise TimeoutError(f"only {len(list(meet.iterdir()))} of {need} met")\n'
    "        time.sleep(0.01)\n"
)
MAP_CELL = (
    "mapped = ab.map(orders, MAP)\n"
    "ab.return_documents(mapped)\n"
    "if mapped.rejections:\n"
    '    ab.return_documents(ab.Documents.from_records([{"error": str(r)} '
    'for r in mapped.rejections]), "rejected")\n'
)
ISOLATION_CELL = (  # reports what it finds, then leaves behind all it can
    'if "ISO" in ids:\n'
    "    import os\n"
    "    out = ab.context().output_dir\n"
    "    SEEN.append(1)\n"
    "    found = {\n"
    '        "leak": globals().get("leak", 0) + 1,\n'
    '        "prior": ab.get_property("mark", "none"),\n'
    '        "env": os.environ.get("LL_LEAK", "none"),\n'
    '        "cwd": os.getcwd(),\n'
    '        "files": len(list(out.iterdir())),\n'
    '        "seen": len(SEEN),\n'
    '        "polars_threads": __import__("polars").thread_pool_size(),\n'
    "    }\n"
    "    leak = found['leak']\n"
    '    current_run().properties["mark"] = "set"\n'
    '    os.environ["LL_LEAK"] = "set"\n'
    '    (out / "left.txt").write_text("left")\n'
    '    os.chdir("/")\n'
    '    ab.return_documents(ab.Documents.from_records([found]), "iso")\n'
)


def _notebook(path: Path, meta: dict[str, Any] | None) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    if meta is not None:
        nb.metadata["atomnb"] = meta
    nb.cells = [
        nbformat.v4.new_code_cell('api_key = ""  # secret', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell(PER_MESSAGE, metadata={"tags": ["per-message"]}),
        nbformat.v4.new_code_cell(GATE_CELL),
        nbformat.v4.new_code_cell(MEET_CELL),
        nbformat.v4.new_code_cell(ISOLATION_CELL),
        nbformat.v4.new_code_cell(MAP_CELL),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def atom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AtomProcess]:
    root = tmp_path_factory.mktemp("lowlatency")
    ws = Workspace.init(root / "ws", name="lowlatency-tests")
    (ws.extensions_dir / "ll.toml").write_text('[secrets]\napi_key = "env:LL_TEST_API_KEY"\n')
    nb = ws.notebooks_dir
    notebooks = {
        "orders_general": _notebook(nb / "orders_general.ipynb", None),
        "orders_fast": _notebook(nb / "orders_fast.ipynb", {"mode": "low_latency", "workers": 3}),
        "solo": _notebook(nb / "solo.ipynb", {"mode": "low_latency", "workers": 1, "queue": 1}),
        "recycler": _notebook(
            nb / "recycler.ipynb", {"mode": "low_latency", "workers": 1, "recycle_after": 2}
        ),
        "grower": _notebook(
            nb / "grower.ipynb", {"mode": "low_latency", "workers": 1, "max_rss_growth_mb": 64}
        ),
        "parallel": _notebook(nb / "parallel.ipynb", {"mode": "low_latency", "workers": 8}),
        "wide": _notebook(nb / "wide.ipynb", {"mode": "low_latency", "workers": 1, "queue": 60}),
    }
    previous = os.environ.get("LL_TEST_API_KEY")
    os.environ["LL_TEST_API_KEY"] = SECRET  # the atom resolves env: secrets from its own env
    started = AtomProcess(root / "home", _free_port(), ["--workers", "2"], root / "atom.log")
    try:
        started.start()
        for path in notebooks.values():
            started.deploy(path, environment="ll")
        yield started
    finally:
        if started.proc is not None:
            started.stop()
        if previous is None:
            os.environ.pop("LL_TEST_API_KEY", None)
        else:
            os.environ["LL_TEST_API_KEY"] = previous


def _post(
    atom: AtomProcess, process: str, lines: list[dict[str, Any]], **params: Any
) -> httpx.Response:
    return httpx.post(f"{atom.url}/listen/{process}", json=lines, params=params, timeout=180)


def _stats(atom: AtomProcess, process: str) -> dict[str, Any]:
    response = httpx.get(f"{atom.url}/api/processes/{process}/stats", timeout=60)
    assert response.status_code == 200, response.text
    return dict(response.json())


MESSAGES = [
    [{"orderId": "SO-1", "qty": "2"}],
    [{"orderId": "SO-2", "qty": "3"}, {"orderId": "SO-3", "qty": "many"}],
    [{"orderId": "SO-4", "qty": "many"}],
]


def test_general_and_low_latency_give_the_same_answers(atom: AtomProcess) -> None:
    for lines in MESSAGES:
        for label in ("default", "rejected"):
            general = _post(atom, "orders_general", lines, label=label)
            fast = _post(atom, "orders_fast", lines, label=label)
            assert general.status_code == fast.status_code, (general.text, fast.text)
            assert general.content == fast.content
            assert fast.headers["X-Atomnb-Mode"] == "low_latency"
    answer = _post(atom, "orders_fast", MESSAGES[1], label="rejected").json()
    assert "rule q" in answer[0]["error"]
    assert _post(atom, "orders_fast", MESSAGES[0]).json() == [{"id": "INV-1", "q": 2}]


def test_records_per_mode(atom: AtomProcess) -> None:
    before_general = len(atom.client.executions(process="orders_general"))
    before = _stats(atom, "orders_fast")["stats"]
    before_count = before["requests"] if before else 0
    general = _post(atom, "orders_general", MESSAGES[0])
    assert general.headers["X-Atomnb-Execution"]
    for _ in range(3):
        assert _post(atom, "orders_fast", MESSAGES[0]).status_code == 200
    assert len(atom.client.executions(process="orders_general")) == before_general + 1
    assert atom.client.executions(process="orders_fast") == []
    stats = _stats(atom, "orders_fast")
    assert stats["mode"] == "low_latency"
    assert stats["stats"]["requests"] == before_count + 3
    assert sum(b["count"] for b in stats["stats"]["buckets"]) >= 3
    assert _stats(atom, "orders_general")["mode"] == "general"


def test_an_unreadable_message_is_refused_alike_both_ways(atom: AtomProcess) -> None:
    for body in (b'[{"orderId": "SO-1", ', b"[1, 2"):
        answers = [
            httpx.post(
                f"{atom.url}/listen/{process}",
                content=body,
                headers={"content-type": "application/json"},
                timeout=60,
            )
            for process in ("orders_general", "orders_fast")
        ]
        assert answers[0].status_code == answers[1].status_code == 400, answers[1].text
        assert answers[0].json() == answers[1].json()
    assert _stats(atom, "orders_fast")["stats"]["refused"] >= 2


def _together(count: int, send: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """``count`` requests sent at the same time, each from a thread of its own."""
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def one() -> None:
        response = send()
        with lock:
            results.append(response)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    return results


def test_eight_requests_are_served_at_the_same_time(atom: AtomProcess, tmp_path: Path) -> None:
    """Each request answers only once all eight are in, each in a worker of its own: served
    one after another, the first would wait for the others forever (500 after 120 s)."""
    meet = [{"orderId": "MEET-8", "qty": str(tmp_path)}]
    results = _together(8, lambda: _post(atom, "parallel", meet, timeout_s=300))
    assert sorted(r.status_code for r in results) == [200] * 8, [r.text for r in results]
    assert len({r.headers["X-Atomnb-Worker"] for r in results}) == 8
    assert len(list(tmp_path.iterdir())) == 8
    assert _stats(atom, "parallel")["queue"]["peak_busy"] == 8


def test_a_full_pool_does_not_hold_the_threads_other_routes_need(
    atom: AtomProcess, tmp_path: Path
) -> None:
    """One worker held, 50 requests queued behind it: more than AnyIO's 40 shared threads.
    The atom still answers other routes (before, the queued requests held every thread
    and the health check waited for the gate that the test opens only after it)."""
    gate = tmp_path / "open"
    held = threading.Thread(
        target=lambda: _post(atom, "wide", [{"orderId": "GATE", "qty": str(gate)}], timeout_s=300)
    )
    held.start()
    _busy_pid(atom, "wide")
    results: list[httpx.Response] = []
    queued = threading.Thread(
        target=lambda: results.extend(
            _together(50, lambda: _post(atom, "wide", MESSAGES[0], timeout_s=300))
        )
    )
    queued.start()
    atom.wait_for(lambda: _stats(atom, "wide")["queue"]["waiting"] == 50, 120, "50 queued")
    try:
        health = httpx.get(f"{atom.url}/api/health", timeout=60)
        assert health.status_code == 200
    finally:
        gate.touch()
        queued.join(300)
        held.join(300)
    assert sorted(r.status_code for r in results) == [200] * 50


def test_a_raising_request_answers_500_and_the_worker_goes_on(atom: AtomProcess) -> None:
    boom = _post(atom, "solo", [{"orderId": "BOOM", "qty": "1"}])
    assert boom.status_code == 500
    assert "ValueError" in boom.json()["error"] and "refused with key" in boom.json()["error"]
    assert SECRET not in boom.text
    after = _post(atom, "solo", MESSAGES[0])
    assert after.status_code == 200
    assert after.headers["X-Atomnb-Worker"] == boom.headers["X-Atomnb-Worker"]
    failures = _stats(atom, "solo")["stats"]["failures"]
    assert failures and SECRET not in str(failures)
    assert SECRET not in atom.log.read_text()  # the failure is logged, scrubbed
    assert "refused with key ***" in atom.log.read_text()


def test_what_may_and_may_not_carry_over_between_requests(atom: AtomProcess) -> None:
    iso = [{"orderId": "ISO", "qty": "1"}]
    first = _post(atom, "solo", iso, label="iso")
    second = _post(atom, "solo", iso, label="iso")
    assert first.headers["X-Atomnb-Worker"] == second.headers["X-Atomnb-Worker"]
    before, after = first.json()[0], second.json()[0]
    # may not: globals made per message, properties, environment, directory, output files
    for found in (before, after):
        kept = (found["leak"], found["prior"], found["env"], found["files"])
        assert kept == (1, "none", "none", 0)
    assert before["cwd"] == after["cwd"] != "/"
    # may: what a set-up cell made and a request changed in place (module state)
    assert after["seen"] == before["seen"] + 1
    # the workers are the parallelism: polars runs on one thread in each
    assert before["polars_threads"] == 1


def _busy_pid(atom: AtomProcess, process: str) -> int:
    def busy() -> int | None:
        found = [w["pid"] for w in _stats(atom, process)["workers"] if w["busy"]]
        return found[0] if found else None

    return int(atom.wait_for(busy, 120, "a busy worker"))


def test_a_full_queue_answers_503_with_retry_after(atom: AtomProcess, tmp_path: Path) -> None:
    gate = tmp_path / "open"
    answers: list[httpx.Response] = []
    held = threading.Thread(
        target=lambda: answers.append(_post(atom, "solo", [{"orderId": "GATE", "qty": str(gate)}]))
    )
    held.start()
    _busy_pid(atom, "solo")
    waiting = threading.Thread(target=lambda: answers.append(_post(atom, "solo", MESSAGES[0])))
    waiting.start()
    atom.wait_for(lambda: _stats(atom, "solo")["queue"]["waiting"] == 1, 60, "one queued")
    try:
        full = _post(atom, "solo", MESSAGES[0])
    finally:
        gate.touch()  # the held request ends, the queued one is served
        held.join(60)
        waiting.join(60)
    assert full.status_code == 503, full.text
    assert full.headers["Retry-After"]
    assert [r.status_code for r in answers] == [200, 200]
    assert _stats(atom, "solo")["stats"]["busy"] >= 1


def test_a_worker_killed_mid_request_answers_503_and_is_replaced(
    atom: AtomProcess, tmp_path: Path
) -> None:
    answers: list[httpx.Response] = []
    gate = [{"orderId": "GATE", "qty": str(tmp_path / "never")}]
    held = threading.Thread(target=lambda: answers.append(_post(atom, "solo", gate)))
    held.start()
    pid = _busy_pid(atom, "solo")
    os.kill(pid, signal.SIGKILL)
    held.join(60)
    assert answers[0].status_code == 503
    assert answers[0].headers["Retry-After"]
    after = _post(atom, "solo", MESSAGES[0])
    assert after.status_code == 200
    assert after.headers["X-Atomnb-Worker"] != str(pid)
    assert _stats(atom, "solo")["stats"]["worker_lost"] >= 1


def test_workers_recycle_after_n_requests(atom: AtomProcess) -> None:
    pids = [_post(atom, "recycler", MESSAGES[0]).headers["X-Atomnb-Worker"] for _ in range(4)]
    assert pids[0] == pids[1] and pids[2] == pids[3]
    assert pids[1] != pids[2]


def test_a_worker_whose_memory_grew_is_recycled(atom: AtomProcess) -> None:
    grow = [{"orderId": "GROW", "qty": "1"}]
    pids = [
        _post(atom, "grower", lines).headers["X-Atomnb-Worker"]
        for lines in (MESSAGES[0], MESSAGES[0], grow, MESSAGES[0], MESSAGES[0])
    ]
    assert pids[0] == pids[1] == pids[2]  # served the growing request, then replaced
    assert pids[3] == pids[4] != pids[2]
    assert not psutil.pid_exists(int(pids[2]))


def test_a_new_version_loads_fresh_workers_and_undeploy_stops_them(
    atom: AtomProcess, tmp_path: Path
) -> None:
    ws = Workspace.init(tmp_path / "ws2", name="versions")
    path = _notebook(ws.notebooks_dir / "versioned.ipynb", {"mode": "low_latency", "workers": 1})
    atom.deploy(path, environment="default")
    first = _post(atom, "versioned", MESSAGES[0])
    assert first.status_code == 200, first.text
    old_pid = int(first.headers["X-Atomnb-Worker"])
    _notebook(path, {"mode": "low_latency", "workers": 2})
    atom.deploy(path, environment="default")

    def new_worker() -> bool:  # the listener sees a new version within ACTIVE_TTL_S
        answer = _post(atom, "versioned", MESSAGES[0])
        assert answer.status_code == 200, answer.text
        return int(answer.headers["X-Atomnb-Worker"]) != old_pid

    atom.wait_for(new_worker, 60, "the new version's workers")
    atom.wait_for(lambda: not psutil.pid_exists(old_pid), 60, "the old version's worker to stop")
    new_pids = [w["pid"] for w in _stats(atom, "versioned")["workers"]]
    assert len(new_pids) == 2
    assert httpx.delete(f"{atom.url}/api/deployments/versioned", timeout=60).status_code < 300
    httpx.get(f"{atom.url}/api/processes/versioned/stats", timeout=60)  # notices the undeploy
    atom.wait_for(
        lambda: not any(psutil.pid_exists(p) for p in new_pids), 60, "the workers to stop"
    )


def test_a_bad_mode_or_an_untagged_low_latency_notebook_is_refused_at_deploy(
    atom: AtomProcess, tmp_path: Path
) -> None:
    ws = Workspace.init(tmp_path / "ws3", name="refused")
    bad = _notebook(ws.notebooks_dir / "fastest.ipynb", {"mode": "fastest"})
    untagged = _notebook(ws.notebooks_dir / "untagged.ipynb", {"mode": "low_latency"})
    node = nbformat.read(untagged, as_version=4)
    for cell in node.cells:
        if "per-message" in cell.metadata.get("tags", []):
            cell.metadata["tags"] = []
    nbformat.write(node, untagged)
    for path, said in ((bad, "atomnb.mode is 'fastest'"), (untagged, "per-message")):
        with pytest.raises(AtomError) as refused:
            atom.deploy(path, environment="default")
        assert said in str(refused.value), str(refused.value)
    listed = httpx.get(f"{atom.url}/api/deployments", timeout=60).json()
    assert {d["process"] for d in listed}.isdisjoint({"fastest", "untagged"})
    modes = {d["process"]: d["mode"] for d in listed}
    assert modes["orders_fast"] == "low_latency" and modes["orders_general"] == "general"
