from __future__ import annotations

from pathlib import Path

import pytest

from atomnb.components import Workspace, load_environment, resolve_secret
from atomnb.errors import ConfigError, WorkspaceNotFoundError


def test_init_creates_the_layout_and_is_idempotent(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "proj", name="shop")
    for folder in (
        "components/connections",
        "components/profiles",
        "components/maps",
        "notebooks",
        "extensions",
        ".atomnb",
    ):
        assert (ws.root / folder).is_dir(), folder
    assert ws.name == "shop"
    (ws.root / "atomnb.toml").write_text('[workspace]\nname = "kept"\n', encoding="utf-8")
    again = Workspace.init(tmp_path / "proj")
    assert again.name == "kept"  # an existing marker is never overwritten
    assert (ws.root / ".gitignore").read_text(encoding="utf-8").count(".atomnb/") == 1


def test_find_walks_up_from_a_sub_folder(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "proj")
    deep = ws.root / "notebooks" / "sub"
    deep.mkdir(parents=True)
    assert Workspace.find(deep).root == ws.root


def test_find_without_marker_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceNotFoundError) as info:
        Workspace.find(tmp_path)
    assert "atomnb init" in str(info.value)


def test_broken_marker_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "atomnb.toml").write_text("[workspace\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"atomnb\.toml: not valid TOML"):
        Workspace.find(tmp_path)


def test_store_url_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace.init(tmp_path / "proj")
    monkeypatch.delenv("ATOMNB_STORE_URL", raising=False)
    assert ws.store_url() == f"sqlite:///{ws.root / '.atomnb' / 'store.db'}"
    (ws.root / "atomnb.toml").write_text(
        '[store]\nurl = "sqlite:///from-file.db"\n', encoding="utf-8"
    )
    ws = Workspace.find(ws.root)
    assert ws.store_url() == "sqlite:///from-file.db"
    monkeypatch.setenv("ATOMNB_STORE_URL", "sqlite:///from-env.db")
    assert ws.store_url() == "sqlite:///from-env.db"
    assert ws.store_url("sqlite:///explicit.db") == "sqlite:///explicit.db"


def test_environment_overrides_per_process(tmp_path: Path) -> None:
    (tmp_path / "dev.toml").write_text(
        '[parameters]\nregion = "eu"\nlimit = 5\n'
        "[processes.orders.parameters]\nlimit = 9\n"
        '[secrets]\ntoken = "env:SHOP_TOKEN"\n',
        encoding="utf-8",
    )
    env = load_environment(tmp_path, "dev")
    assert env.parameters_for("orders") == {"region": "eu", "limit": 9}
    assert env.parameters_for("other") == {"region": "eu", "limit": 5}
    assert env.secrets == {"token": "env:SHOP_TOKEN"}


def test_unknown_environment_lists_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "dev.toml").write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="known environments: dev"):
        load_environment(tmp_path, "prod")
    assert load_environment(tmp_path, None).parameters == {}


def test_literal_secret_in_an_extension_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dev.toml").write_text('[secrets]\ntoken = "hunter2"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a reference") as info:
        load_environment(tmp_path, "dev")
    assert "hunter2" not in str(info.value)


def test_resolve_secret_references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A_TOKEN", "s3cr3t")
    assert resolve_secret("env:A_TOKEN") == "s3cr3t"
    (tmp_path / "tok").write_text("from-file\n", encoding="utf-8")
    assert resolve_secret(f"file:{tmp_path / 'tok'}") == "from-file"
    monkeypatch.delenv("A_TOKEN")
    with pytest.raises(ConfigError, match="A_TOKEN is not set"):
        resolve_secret("env:A_TOKEN", name="token")
    with pytest.raises(ConfigError, match="unknown reference kind"):
        resolve_secret("vault:x")
