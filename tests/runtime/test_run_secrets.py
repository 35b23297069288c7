"""Which secrets a run's scrubber knows, and which atom secrets its kernel receives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from atomnb.components import Workspace
from atomnb.components.environments import register_secret_resolver
from atomnb.connectors.connections import ConnectionSpec, save_connection
from atomnb.runtime.secrets import collect_references, run_secrets
from tests.conftest import make_notebook

ATOM_VALUES = {"DEV_KEY": "dev-atom-value-1", "PROD_KEY": "prod-atom-value-2"}


@pytest.fixture
def atom_resolver() -> Iterator[list[str]]:
    asked: list[str] = []

    def resolve(name: str) -> str:
        asked.append(name)
        return ATOM_VALUES[name]

    register_secret_resolver("atom", resolve)
    yield asked
    register_secret_resolver("atom", None)


def _workspace(workspace: Workspace, tmp_path: Path) -> Path:
    (workspace.extensions_dir / "dev.toml").write_text(
        '[secrets]\ntoken = "atom:DEV_KEY"\nother = "env:DEV_TOKEN"\n'
        '[connections.shop]\nauth = { token_ref = "env:SHOP_DEV" }\n',
        encoding="utf-8",
    )
    (workspace.extensions_dir / "prod.toml").write_text(
        '[secrets]\ntoken = "atom:PROD_KEY"\nother = "env:PROD_TOKEN"\n', encoding="utf-8"
    )
    key = tmp_path / "key.pem"
    key.write_text("a-private-key-value\n")
    save_connection(
        ConnectionSpec(
            "shop",
            "http",
            {
                "base_url": "https://shop.example",
                "client_key_password": f"file:{key}",
                "data_file": "file:/not/a/secret.csv",
                "auth": {"kind": "basic", "user": "u", "password": "env:SHOP_PW"},
            },
        ),
        workspace,
    )
    return make_notebook(
        workspace.notebooks_dir / "p.ipynb",
        'auth = BearerAuth("env:INLINE_TOKEN")\nother = "not env:A reference"',
    )


def test_references_come_from_every_place_a_run_can_resolve_one(
    workspace: Workspace, tmp_path: Path
) -> None:
    notebook = _workspace(workspace, tmp_path)
    refs = collect_references(workspace, notebook, "dev")
    assert set(refs) == {
        "atom:DEV_KEY",
        "env:DEV_TOKEN",
        "env:SHOP_DEV",
        "env:PROD_TOKEN",  # another environment's env: may still be read by the process
        f"file:{tmp_path / 'key.pem'}",
        "env:SHOP_PW",
        "env:INLINE_TOKEN",
    }  # not prod's atom secret, not a data file's path


def test_only_the_runs_own_atom_secrets_are_decrypted_and_handed_to_its_kernel(
    workspace: Workspace, tmp_path: Path, atom_resolver: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = _workspace(workspace, tmp_path)
    monkeypatch.setenv("SHOP_PW", "shop-password-3")
    found = run_secrets(workspace, notebook, "dev")
    assert atom_resolver == ["DEV_KEY"]
    assert found.kernel_env["ATOMNB_ATOM_SECRET__DEV_KEY"] == "dev-atom-value-1"
    assert not any("PROD" in k for k in found.kernel_env)
    assert set(found.values) == {"dev-atom-value-1", "shop-password-3", "a-private-key-value"}
    assert json.loads(found.kernel_env["ATOMNB_SECRET_REFS"]) == found.references
    assert not any(v in found.kernel_env["ATOMNB_SECRET_REFS"] for v in found.values)
