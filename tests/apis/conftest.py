"""One real atom serving several API components (one per session: atoms start slowly), a JWKS
server on loopback, and the RSA key that signs its tokens."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import nbformat
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import rsa

from atomnb.components import Workspace
from atomnb.profiles import Element, ElementType, Profile, save_profile
from tests.atom.conftest import AtomProcess
from tests.conftest import _free_port, make_notebook

SECRET = "apis-s3cr3t-c0ffee"  # a process secret: must never reach an answer
ENV = {
    "APIS_TEST_SECRET": SECRET,
    "APIS_TEST_ALICE": "alice-password-1",
    "APIS_TEST_JWT_KEY": "shared-jwt-key-for-tests-0123456789abcdef",
}

ECHO = (
    "import atomnb as ab\n"
    'docs = ab.start(ab.Documents.from_records([{"orderId": "SO-1", "qty": 1}]))\n'
    "rows = docs.to_pylist()\n"
    'if any(r.get("orderId") == "BOOM" for r in rows):\n'
    '    raise RuntimeError(f"refused: the secret is {api_secret}")\n'
    "out = []\n"
    "for i, row in enumerate(rows):\n"
    "    props = docs.properties_of(i)\n"
    "    out.append(dict(row, caller=props.get('api.caller'), route=props.get('api.route'),\n"
    "                    item=props.get('api.path.item_id'),\n"
    "                    verbose=props.get('api.query.verbose')))\n"
    "ab.return_documents(ab.Documents.from_records(out))\n"
)
FAST = (
    'docs = ab.start(ab.Documents.from_records([{"orderId": "SO-1", "qty": 1}]))\n'
    "out = [dict(r, mode='low_latency', caller=docs.properties_of(i).get('api.caller'))\n"
    "       for i, r in enumerate(docs.to_pylist())]\n"
    "ab.return_documents(ab.Documents.from_records(out))\n"
)


@dataclass
class Served:
    """The atom, its workspace, the JWKS server's URL and the RSA key that signs tokens."""

    atom: AtomProcess
    workspace: Workspace
    jwks_url: str
    private_key: rsa.RSAPrivateKey
    kid: str = "test-key-1"

    def rs256(self, claims: dict[str, Any], key: rsa.RSAPrivateKey | None = None) -> str:
        return jwt.encode(
            claims, key or self.private_key, algorithm="RS256", headers={"kid": self.kid}
        )


def _api(ws: Workspace, name: str, body: dict[str, Any]) -> None:
    path = ws.components_dir / "apis" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"kind": "api", "name": name, "body": body}), encoding="utf-8")


def _low_latency_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["atomnb"] = {"mode": "low_latency", "workers": 2}
    nb.cells = [
        nbformat.v4.new_code_cell("label = 'x'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import atomnb as ab"),
        nbformat.v4.new_code_cell(FAST, metadata={"tags": ["per-message"]}),
    ]
    nbformat.write(nb, path)
    return path


def _jwks_server(public_jwk: dict[str, Any]) -> tuple[ThreadingHTTPServer, str]:
    body = json.dumps({"keys": [public_jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/jwks.json" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/jwks.json"


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("apis")
    ws = Workspace.init(root / "ws", name="apis-tests")
    (ws.extensions_dir / "test.toml").write_text('[secrets]\napi_secret = "env:APIS_TEST_SECRET"\n')
    make_notebook(ws.notebooks_dir / "echo_api.ipynb", ECHO, parameters='api_secret = ""  # secret')
    _low_latency_notebook(ws.notebooks_dir / "fast_api.ipynb")
    save_profile(
        Profile(
            "order_in",
            (
                Element("orderId", ElementType.STRING, mandatory=True, sample="SO-00042"),
                Element("qty", ElementType.INTEGER, mandatory=True, sample="3"),
            ),
        ),
        workspace=ws,
    )
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    public_jwk.update(kid="test-key-1", use="sig", alg="RS256")
    jwks, jwks_url = _jwks_server(public_jwk)
    echo = {
        "method": "POST",
        "path": "/echo",
        "process": "echo_api",
        "request": {"profile": "order_in"},
        "response": {"profile": "order_in", "xml_record": "order"},
    }
    _api(
        ws,
        "keyed",
        {
            "auth": {"type": "api_key"},
            "max_body_bytes": 2048,
            "routes": [
                echo,
                {
                    "method": "GET",
                    "path": "/items/{item_id}",
                    "process": "echo_api",
                    "parameters": {"item_id": {"type": "integer"}, "verbose": {"type": "boolean"}},
                },
                {
                    "method": "POST",
                    "path": "/fast",
                    "process": "fast_api",
                    "request": {"profile": "order_in"},
                    "response": {"profile": "order_in"},
                },
            ],
        },
    )
    ghost = {"method": "GET", "path": "/ghost", "process": "ghost"}  # never deployed
    _api(ws, "other", {"auth": {"type": "api_key"}, "routes": [echo, ghost]})
    _api(
        ws,
        "limited",
        {
            "auth": {"type": "api_key"},
            "rate_limit": {"requests": 2, "per_s": 3600},
            "routes": [echo],
        },
    )
    _api(
        ws,
        "basic",
        {"auth": {"type": "basic", "users": {"alice": "env:APIS_TEST_ALICE"}}, "routes": [echo]},
    )
    _api(
        ws,
        "jwt_hs",
        {
            "auth": {"type": "jwt", "secret": "env:APIS_TEST_JWT_KEY", "audience": "orders"},
            "routes": [echo],
        },
    )
    _api(ws, "jwt_rs", {"auth": {"type": "jwt", "jwks_url": jwks_url}, "routes": [echo]})
    saved = {name: os.environ.get(name) for name in ENV}
    os.environ.update(ENV)
    atom = AtomProcess(root / "home", _free_port(), [], root / "atom.log").start()
    try:
        atom.deploy(ws.notebooks_dir / "echo_api.ipynb", environment="test")
        atom.deploy(ws.notebooks_dir / "fast_api.ipynb")
        yield Served(atom, ws, jwks_url, private_key)
    finally:
        atom.stop()
        jwks.shutdown()
        jwks.server_close()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
