"""A real atom for the record pages' tests: its own processes and executions of each outcome.

``build(root)`` starts ``atomnb atom start`` in a subprocess and runs, all at once:

- ``shop`` (mode ok / warn / fail): ``succeeded``; ``succeeded_with_warnings`` (the
  business rule "positive total" rejected document 3); ``failed`` (an error log line
  "the shop refused order A-2", then RuntimeError "the shop refused order A-2");
- ``hostile``: an output cell whose HTML holds a script, an onerror handler, an image
  from another host and a javascript: link;
- ``evolving``: deployed twice (v1, v2: a changed cell, a changed parameters cell, an
  added cell and an added data file), so its page has a diff and a version to roll back to.

Tests may trigger more runs of these (retry, cancel) but must not redeploy ``shop``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from atomnb.atom.home import AtomHome
from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess
from tests.conftest import _free_port, make_notebook

SHOP = """\
import atomnb as ab
records = [{"id": "A-1", "total": 50}, {"id": "A-2", "total": 5000}, {"id": "A-3", "total": 120}]
if mode == "warn":
    records.append({"id": "A-9", "total": -5})
docs = ab.start(ab.Documents.from_records(records))
big, small = ab.decision(docs, "total > 1000", name="big orders")
ab.track(big, "id", name="big order numbers")
if mode == "warn":
    good, bad = ab.business_rules(docs, [("positive total", "total > 0")], name="order rules")
if mode == "fail":
    ab.notify("the shop refused order {id}", big, level="error")
    raise RuntimeError("the shop refused order A-2")
if mode == "hold":
    import time
    time.sleep(300)
"""
HOSTILE = """\
from IPython.display import HTML, display
display(HTML(
    "<p id='kept'>visible text</p>"
    "<script>document.title = 'pwned'</script>"
    "<img src='x' onerror=\\"document.body.innerHTML='pwned'\\">"
    "<img src='http://evil.invalid/track.png'>"
    "<a href='javascript:alert(1)'>click me</a>"
    "<div onclick='alert(2)' style='background:url(http://evil.invalid/bg.png)'>box</div>"
    "<iframe src='http://evil.invalid/'></iframe>"
))
"""
EVOLVING_V1 = "total = 0\nfor n in range(3):\n    total += n\nprint('v1 total', total)"
EVOLVING_V2 = "total = 0\nfor n in range(4):\n    total += n * 2\nprint('v2 total', total)"

CSRF = re.compile(r"name='csrf_token' value='([^']+)'")


@dataclass
class RecordsAtom:
    """The running atom, its workspace and execution ids by outcome."""

    atom: AtomProcess
    workspace: Workspace
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.atom.url

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", params=params, timeout=60)

    def csrf(self, page: str) -> str:
        """The CSRF token a console page's forms carry."""
        found = CSRF.search(self.get(page).text)
        assert found, f"no CSRF field on {page}"
        return found.group(1)

    def post_form(self, path: str, data: dict[str, str]) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", data=data, timeout=60, follow_redirects=False)


def _start(root: Path) -> AtomProcess:
    """An atom on a free port that is surely ours: another test's atom may take the same port.

    Other test runs on this machine choose ports from the same block; if one of them
    binds the port between our choice and our bind, its atom answers our health check.
    So the atom that answers must be the one of our home (its id), or we try another port.
    """
    for _ in range(5):
        atom = AtomProcess(root / "home", _free_port(), ["--workers", "2"], root / "atom.log")
        try:
            atom.start()
        except AssertionError:
            continue  # exited early: the port was taken
        answer = httpx.get(f"{atom.url}/api/health", timeout=60).json()
        alive = atom.proc is not None and atom.proc.poll() is None
        if alive and answer.get("atom") == AtomHome(root / "home").atom_id:
            return atom
        atom.stop()
    raise AssertionError("no free port for the atom after 5 tries")


def build(root: Path) -> RecordsAtom:
    ws = Workspace.init(root / "ws", name="records-tests")
    nb = ws.notebooks_dir
    shop = make_notebook(nb / "shop.ipynb", SHOP, parameters='mode = "ok"')
    hostile = make_notebook(nb / "hostile.ipynb", HOSTILE, parameters="n = 1")
    evolving = make_notebook(nb / "evolving.ipynb", EVOLVING_V1, parameters="limit = 3")
    atom = _start(root)
    built = RecordsAtom(atom, ws)
    try:
        atom.deploy(shop, max_concurrent=3)
        atom.deploy(hostile)
        atom.deploy(evolving)
        make_notebook(
            evolving, EVOLVING_V2, "print('added cell')", parameters="limit = 4\nlabel = 'x'"
        )
        (nb / "data").mkdir(exist_ok=True)
        (nb / "data" / "rates.csv").write_text("code,rate\nEUR,1\n")
        assert atom.deploy(evolving)["version"] == 2
        started = {
            "succeeded": atom.client.trigger("shop", {"mode": "ok"}),
            "succeeded_with_warnings": atom.client.trigger("shop", {"mode": "warn"}),
            "failed": atom.client.trigger("shop", {"mode": "fail"}),
            "hostile": atom.client.trigger("hostile", {}),
        }
        for key, record in started.items():
            finished = atom.finished(record["id"], timeout_s=600)
            expected = "succeeded" if key == "hostile" else key
            assert finished["status"] == expected, finished
            built.ids[key] = record["id"]
    except BaseException:
        atom.stop()
        raise
    return built
