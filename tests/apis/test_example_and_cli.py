"""The example API (components/apis/orders_api.yaml) deployed with its process, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from openapi_spec_validator import validate

from tests.apis.conftest import Served

pytestmark = pytest.mark.atom

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "atomnb", "apis", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done


def test_the_example_api_deploys_with_its_process_and_answers(served: Served) -> None:
    atom = served.atom
    deployment = atom.deploy(REPO / "notebooks" / "invoice_api.ipynb", environment="dev")
    assert deployment["process"] == "invoice_api"
    listed = _cli("list", "--atom", atom.url, "--json").stdout
    orders = next(a for a in json.loads(listed) if a["name"] == "orders_api")
    assert orders["base_path"] == "/apis/orders" and orders["routes"] == 2
    assert "orders_api" in _cli("list", "--atom", atom.url).stdout

    document = json.loads(_cli("openapi", "orders_api", "--atom", atom.url).stdout)
    validate(document)
    assert set(document["components"]["securitySchemes"]) == {"apiKey", "basicAuth"}

    created = _cli("keys", "create", "orders_api", "web-shop", "--atom", atom.url)
    key = created.stdout.strip()
    assert key.startswith("ak_") and "shown this once" in created.stderr
    home_list = _cli("keys", "list", "orders_api", "--home", str(atom.home), "--json").stdout
    assert [k["name"] for k in json.loads(home_list)] == ["web-shop"]
    assert key not in home_list

    server = document["servers"][0]["url"]
    operation = document["paths"]["/invoices"]["post"]
    example = operation["requestBody"]["content"]["application/json"]["example"]
    with httpx.Client(base_url=server, timeout=60, headers={"X-API-Key": key}) as client:
        posted = client.post("/invoices", json=example)
        assert posted.status_code == 200, posted.text
        invoice = posted.json()
        assert invoice["invoice_id"] == example["orderId"].replace("SO-", "INV-")
        assert invoice["country_code"] == "FR"
        looked_up = client.get("/invoices/SO-00002", headers={"Accept": "application/xml"})
        assert looked_up.status_code == 200, looked_up.text
        root = ElementTree.fromstring(looked_up.content)
        assert (root.tag, root.findtext("invoice_id")) == ("invoice", "INV-00002")
        assert client.get("/invoices/SO-99999").status_code == 204  # no such order: nothing

    _cli("keys", "revoke", "orders_api", "web-shop", "--home", str(atom.home))
    refused = httpx.post(f"{server}/invoices", json=example, headers={"X-API-Key": key}, timeout=60)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
