"""Profile drift on a real atom: the API's execution JSON, the console's execution page,
``executions show --atom``, and the deployment's webhook told under the policy ``notify``
(not under ``warn``); paths and counts everywhere, never a drifted value."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from atomnb.components import Workspace
from tests.atom.conftest import AtomProcess, start_atom  # noqa: F401 - the fixture
from tests.b2b.conftest import Webhook, webhook  # noqa: F401 - the fixture
from tests.conftest import run_cli
from tests.drift.conftest import (
    LINES_DRIFT,
    MAP_FIELD_VALUE,
    NEW_FIELD_VALUE,
    drift_inputs,
    drift_notebook,
)

pytestmark = pytest.mark.atom

NEW_FIELDS_ONLY = [
    {**LINES_DRIFT, "profile": "orders", "documents": 3, "new_fields": {"coupon": 2}},
    LINES_DRIFT,
]


def _values_absent(text: str) -> None:
    assert NEW_FIELD_VALUE not in text
    assert MAP_FIELD_VALUE not in text


def test_drift_on_an_atom_is_shown_and_notified_under_notify(
    start_atom: Callable[..., AtomProcess],  # noqa: F811
    webhook: Webhook,  # noqa: F811
    tmp_path: Path,
) -> None:
    ws = Workspace.init(tmp_path / "ws", name="drift-atom")
    warn_nb = drift_notebook(ws.notebooks_dir / "drift_warn.ipynb", "warn")
    notify_nb = drift_notebook(ws.notebooks_dir / "drift_notify.ipynb", "notify")
    params = drift_inputs(tmp_path / "inbox", off_type=False)
    atom = start_atom()
    for nb in (warn_nb, notify_nb):
        atom.deploy(nb, notify={"webhook": webhook.url})

    warned = atom.client.trigger("drift_warn", params, wait=True)
    assert warned["status"] == "succeeded_with_warnings", warned
    notified = atom.client.trigger("drift_notify", params, wait=True)
    assert notified["status"] == "succeeded_with_warnings", notified

    def drift_messages() -> list[dict[str, Any]]:
        return [m for m in webhook.received if m.get("event") == "drift"]

    (message,) = atom.wait_for(drift_messages, 60, "the drift notification")
    assert message["execution"]["id"] == notified["id"]  # warn records, it does not notify
    assert message["execution"]["process"] == "drift_notify"
    assert message["drift"] == NEW_FIELDS_ONLY
    _values_absent(json.dumps(webhook.received))

    # the API's execution JSON
    found = atom.client.execution(notified["id"])
    assert found["drift"] == NEW_FIELDS_ONLY

    # the console's execution page
    page = httpx.get(f"{atom.url}/console/executions/{notified['id']}", timeout=60)
    assert page.status_code == 200
    html = page.text
    section = html[html.index("<h2>Profile drift</h2>") :]
    section = section[: section.index("<h2>", 5)]
    assert "profile <code>orders</code> · 3 document(s) read" in section
    assert "<td>new field</td><td><code>coupon</code></td><td class='num'>2</td>" in section
    assert "<td>new field</td><td><code>colour</code></td><td class='num'>1</td>" in section
    _values_absent(html)

    # executions show, asking the atom
    shown = run_cli("executions", "show", notified["id"], "--atom", atom.url, cwd=ws.root)
    assert shown.returncode == 0, shown.stderr
    assert ["new_field", "coupon", "2", "-"] in [line.split() for line in shown.stdout.splitlines()]
    _values_absent(shown.stdout)

    # the Processes pages: drifted paths per process over the window
    listing = httpx.get(f"{atom.url}/console/processes", timeout=60).text
    section = listing[listing.index("<h2>Profile drift, last") :]
    for process in ("drift_warn", "drift_notify"):
        assert (
            f"<td><a href='/console/processes/{process}'>{process}</a></td>"
            "<td><code>orders</code></td><td>new field</td><td><code>coupon</code></td>"
            "<td class=num>1</td><td class=num>2</td>"
        ) in section
    one = httpx.get(f"{atom.url}/console/processes/drift_notify", timeout=60).text
    assert "<td><code>colour</code></td><td class=num>1</td><td class=num>1</td>" in one
    assert "drift_warn" not in one[one.index("<h2>Profile drift") :]
    _values_absent(listing + one)
