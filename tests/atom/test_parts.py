"""The atom's parts on their own: packages, notifications (real webhook and SMTP), retention."""

from __future__ import annotations

import io
import json
import stat
import threading
import time
import zipfile
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from atomnb.atom.deployer import Deployer, DeployOptions
from atomnb.atom.home import AtomHome
from atomnb.atom.notify import Notifier, check_notify
from atomnb.atom.package import build_package, unpack_package
from atomnb.atom.retention import sweep
from atomnb.components import Workspace
from atomnb.errors import AtomError, ConfigError, PayloadTooLargeError
from atomnb.store import ExecutionRecord, ExecutionStatus, ExecutionStore, Trigger, utcnow
from tests.conftest import _free_port, make_notebook

# -- packages ------------------------------------------------------------------------------


def _zip(entries: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def test_a_package_holds_the_notebook_components_extensions_and_data(
    workspace: Workspace,
) -> None:
    notebook = make_notebook(workspace.notebooks_dir / "p.ipynb", "print(1)", parameters="x = 1")
    (workspace.notebooks_dir / "data").mkdir()
    (workspace.notebooks_dir / "data" / "in.csv").write_text("a\n1\n")
    (workspace.components_dir / "maps" / "m.yaml").write_text("name: m\n")
    (workspace.extensions_dir / "dev.toml").write_text("[parameters]\nx = 2\n")
    (workspace.root / "unrelated.txt").write_text("not part of it")
    package = build_package(notebook)
    names = set(zipfile.ZipFile(io.BytesIO(package.data)).namelist())
    assert names == {
        "atomnb-package.json",
        "atomnb.toml",
        "notebooks/p.ipynb",
        "notebooks/data/in.csv",
        "components/maps/m.yaml",
        "extensions/dev.toml",
    }
    assert package.notebook == "notebooks/p.ipynb"
    assert build_package(notebook).content_hash == package.content_hash  # reproducible
    (workspace.notebooks_dir / "data" / "in.csv").write_text("a\n2\n")
    assert build_package(notebook).content_hash != package.content_hash


@pytest.mark.parametrize(
    ("entries", "links", "message"),
    [
        ({"../evil.py": b"x"}, (), "unsafe name"),
        ({"/etc/cron.d/evil": b"x"}, (), "unsafe name"),
        ({"a\\..\\..\\evil": b"x"}, (), "unsafe name"),
        ({"ok.txt": b"x"}, ("link",), "link"),
    ],
)
def test_unpacking_refuses_hostile_packages(
    tmp_path: Path, entries: dict[str, bytes], links: tuple[str, ...], message: str
) -> None:
    target = tmp_path / "unpacked"
    with pytest.raises(AtomError, match=message):
        unpack_package(_zip(entries, links), target)
    assert not (tmp_path / "evil.py").exists()
    assert not target.exists() or not any(target.rglob("*"))


def test_unpacking_refuses_what_is_not_a_zip(tmp_path: Path) -> None:
    with pytest.raises(AtomError, match="not a zip"):
        unpack_package(b"hello", tmp_path / "x")


def _patch_central(data: bytes, offset: int, value: bytes) -> bytes:
    """Overwrite bytes of the first central directory entry (flags at 8, method at 10)."""
    at = data.index(b"PK\x01\x02") + offset
    return data[:at] + value + data[at + len(value) :]


def _stored(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_stored({"a.txt": b"hello world"}).replace(b"hello world", b"hellO world"), "corrupt"),
        (_patch_central(_stored({"a.txt": b"x"}), 8, b"\x01\x00"), "encrypted"),
        (_patch_central(_stored({"a.txt": b"x"}), 10, b"\x63\x00"), "compression"),
        (_stored({"a": b"x", "a/b": b"y"}), "both as a file and as a folder"),
        (_stored({"x/a": b"x", "x/a/b/c": b"y"}), "both as a file and as a folder"),
        (_stored({"a/./b": b"x", "a/b": b"y"}), "twice"),
    ],
)
def test_unpacking_turns_every_broken_zip_into_an_atom_error(
    tmp_path: Path, data: bytes, message: str
) -> None:
    with pytest.raises(AtomError, match=message):
        unpack_package(data, tmp_path / "unpacked")


def test_unpacking_checks_the_size_first_and_copies_large_entries_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import atomnb.atom.unpack as package

    big = bytes(range(256)) * (3 * 4096 + 7)  # over the copy chunk size
    data = _zip({"data/big.bin": big, "atomnb.toml": b"x"})
    unpack_package(data, tmp_path / "ok")
    assert (tmp_path / "ok" / "data" / "big.bin").read_bytes() == big
    monkeypatch.setattr(package, "MAX_PACKAGE_BYTES", len(data) - 1)
    with pytest.raises(PayloadTooLargeError, match="over the"):
        unpack_package(data, tmp_path / "too-big")
    assert not (tmp_path / "too-big").exists()


# -- deploy options and all-or-nothing deploys -------------------------------------------------


@pytest.mark.parametrize(
    "notebook",
    ["../p.ipynb", "a/../../p.ipynb", "/etc/p.ipynb", "a\\p.ipynb", "C:/p.ipynb", "", "."],
)
def test_a_notebook_path_must_stay_inside_the_package(notebook: str) -> None:
    with pytest.raises(ConfigError, match="relative path inside the package"):
        DeployOptions(notebook=notebook).check()


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"timeout_s": float("nan")}, "timeout_s"),
        ({"timeout_s": float("inf")}, "timeout_s"),
        ({"timeout_s": 0.0}, "timeout_s"),
        ({"timeout_s": 7 * 24 * 3600 + 1.0}, "timeout_s"),
        ({"retry_delay_s": float("nan")}, "retry_delay_s"),
        ({"retry_delay_s": -0.5}, "retry_delay_s"),
        ({"retry_delay_s": 86401.0}, "retry_delay_s"),
        ({"retries": -1}, "retries"),
        ({"retries": 101}, "retries"),
        ({"max_concurrent": 0}, "max_concurrent"),
        ({"max_concurrent": 1001}, "max_concurrent"),
        ({"schedule": "0 0 30 2 *"}, "never fires"),
    ],
)
def test_deploy_options_out_of_range_are_refused(options: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        DeployOptions(notebook="notebooks/p.ipynb", **options).check()


def test_deploy_options_at_their_limits_are_accepted() -> None:
    DeployOptions(
        notebook="notebooks/p.ipynb",
        timeout_s=7 * 24 * 3600,
        retries=100,
        retry_delay_s=0,
        max_concurrent=1000,
        schedule="0 0 29 2 *",
    ).check()


def test_a_deploy_that_cannot_keep_its_package_restores_the_previous_version(
    tmp_path: Path, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = make_notebook(workspace.notebooks_dir / "p.ipynb", "print(1)", parameters="x = 1")
    home = AtomHome(tmp_path / "home")
    store = ExecutionStore.open(home.store_url)
    deployer = Deployer(home, store)
    try:
        first, _ = deployer.deploy(
            build_package(notebook).data, DeployOptions("notebooks/p.ipynb", schedule="0 3 * * *")
        )
        make_notebook(notebook, "print(2)", parameters="x = 1")
        changed = build_package(notebook).data

        def refuse(self: Path, target: Path) -> Path:
            raise OSError(28, "No space left on device")

        with monkeypatch.context() as patch:
            patch.setattr(Path, "rename", refuse)
            with pytest.raises(OSError, match="No space"):
                deployer.deploy(changed, DeployOptions("notebooks/p.ipynb", schedule="0 4 * * *"))
        active = deployer.deployments.active("p")
        assert active is not None and active.version == first.version == 1
        assert [(d.version, d.active) for d in deployer.deployments.history("p")] == [
            (2, False),
            (1, True),
        ]
        [schedule] = deployer.schedules.all()
        assert schedule.cron == "0 3 * * *"
        assert not home.package_dir("p", 2).exists()

        again, created = deployer.deploy(changed, DeployOptions("notebooks/p.ipynb"))
        assert created and again.version == 3
        assert deployer.deployments.active("p") == again
        assert home.package_dir("p", 3).is_dir()
    finally:
        store.close()


def test_the_home_checks_the_api_token_reference_and_listener_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = AtomHome(tmp_path / "h")
    settings = home.settings()
    assert settings.api_token is None and settings.listen_max_bytes == 50 * 1024 * 1024
    monkeypatch.delenv("ATOM_PARTS_TOKEN", raising=False)
    for extra, message in (
        ('api_token = "hunter2"', "secret reference"),
        ('api_token = "env:ATOM_PARTS_TOKEN"', "ATOM_PARTS_TOKEN is not set"),
        ("listen_max_bytes = 0", "listen_max_bytes"),
    ):
        home.config_path.write_text(f'[atom]\nid = "h"\n\n[settings]\n{extra}\n')
        with pytest.raises(ConfigError, match=message):
            AtomHome(home.root).settings()
    monkeypatch.setenv("ATOM_PARTS_TOKEN", "s3cret")
    home.config_path.write_text(
        '[atom]\nid = "h"\n\n[settings]\napi_token = "env:ATOM_PARTS_TOKEN"\n'
    )
    assert AtomHome(home.root).settings().api_token == "env:ATOM_PARTS_TOKEN"  # never the value


# -- notifications ---------------------------------------------------------------------------


def _record(status: ExecutionStatus) -> ExecutionRecord:
    now = utcnow()
    return ExecutionRecord(
        id="20261127000000abcdef",
        process="orders",
        notebook="notebooks/orders.ipynb",
        environment="prod",
        trigger=Trigger.SCHEDULE,
        status=status,
        parameters={"api_token": "***"},
        started_at=now,
        ended_at=now,
        duration_s=1.5,
        error_summary="ValueError: boom (in cell 3)" if status is ExecutionStatus.FAILED else None,
    )


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Any:
    _Hook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook?token=abc", _Hook.received
    server.shutdown()


def test_webhook_on_failure_not_on_success_unless_asked(webhook: Any) -> None:
    url, received = webhook
    notifier = Notifier(base_url="http://atom.local:8765")
    assert notifier.finished(_record(ExecutionStatus.SUCCEEDED), {"webhook": url}) is None
    sent = notifier.finished(_record(ExecutionStatus.FAILED), {"webhook": url})
    assert sent is not None
    sent.result(timeout=10)
    [message] = received
    assert message["event"] == "failure"
    assert message["execution"]["status"] == "failed"
    assert message["execution"]["error"] == "ValueError: boom (in cell 3)"
    assert message["link"] == "http://atom.local:8765/executions/20261127000000abcdef"
    both = {"webhook": url, "on": ["failure", "success"]}
    notifier.finished(_record(ExecutionStatus.SUCCEEDED), both).result(timeout=10)  # type: ignore[union-attr]
    assert [m["event"] for m in received] == ["failure", "success"]
    assert notifier.finished(_record(ExecutionStatus.CANCELLED), both) is None
    notifier.close()


def test_email_through_a_real_smtp_server() -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    mails: list[Any] = []

    class Keep(Message):  # type: ignore[misc]
        def handle_message(self, message: Any) -> None:
            mails.append(message)

    port = _free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        notifier = Notifier({"host": "127.0.0.1", "port": port, "sender": "atom@example.org"})
        future = notifier.finished(_record(ExecutionStatus.FAILED), {"email": ["ops@example.org"]})
        assert future is not None
        future.result(timeout=10)
        deadline = time.monotonic() + 10
        while not mails and time.monotonic() < deadline:
            time.sleep(0.05)
        [mail] = mails
        assert mail["To"] == "ops@example.org"
        assert "orders failed" in mail["Subject"]
        body = mail.get_payload()
        assert "ValueError: boom" in body and "***" not in mail["Subject"]
        notifier.close()
    finally:
        controller.stop()


@pytest.mark.parametrize(
    "config",
    [{"webhook": "ftp://x"}, {"on": ["sometimes"]}, {"email": ["not-an-address"]}, {"sms": "1"}],
)
def test_bad_notification_settings_are_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        check_notify(config)


# -- retention and home --------------------------------------------------------------------


def test_retention_removes_old_and_surplus_outputs_but_keeps_records(tmp_path: Path) -> None:
    store = ExecutionStore.open(f"sqlite:///{tmp_path / 'store.db'}")
    executions = tmp_path / "executions"
    now = utcnow()
    ids = []
    for n, age_days in enumerate([0, 1, 2, 3, 40]):
        record = _record(ExecutionStatus.SUCCEEDED)
        record.id = f"2026112700000{n}"
        record.created_at = now - timedelta(days=age_days, minutes=n)
        record.output_path = f"{record.id}/orders.ipynb"
        store.insert(record)
        (executions / record.id).mkdir(parents=True)
        (executions / record.id / "orders.ipynb").write_text("{}")
        ids.append(record.id)
    refused = _record(ExecutionStatus.FAILED)  # no output notebook, but a stored message
    refused.id, refused.created_at = "refused1", now - timedelta(days=45)
    store.insert(refused)
    (executions / "refused1").mkdir()
    (executions / "refused1" / "incoming.arrow").write_bytes(b"x")
    running = _record(ExecutionStatus.RUNNING)
    running.id, running.created_at, running.output_path = "running1", now - timedelta(days=90), "x"
    store.insert(running)
    (executions / "running1").mkdir()

    removed = sweep(store, executions, days=30, keep=3)
    assert removed == 3  # the fourth newest (over the count), the 40- and 45-day-old ones
    assert sorted(p.name for p in executions.iterdir()) == sorted([*ids[:3], "running1"])
    assert store.get(ids[4]).output_path is None and store.get(ids[0]).output_path is not None
    assert store.count() == 7  # the records stay
    store.close()


def test_an_atom_home_keeps_its_identity(tmp_path: Path) -> None:
    first = AtomHome(tmp_path / "home")
    again = AtomHome(tmp_path / "home")
    assert first.atom_id == again.atom_id
    assert AtomHome(tmp_path / "other").atom_id != first.atom_id
    (tmp_path / "home" / "atom.toml").write_text(
        f'[atom]\nid = "{first.atom_id}"\n[settings]\nworkers = 4\nbogus = 1\n'
    )
    with pytest.raises(ConfigError, match="unknown setting"):
        AtomHome(tmp_path / "home").settings()


def test_a_process_declares_how_it_wants_to_run(workspace: Workspace) -> None:
    import nbformat

    from atomnb.atom.package import deploy_defaults

    notebook = make_notebook(workspace.notebooks_dir / "p.ipynb", "print(1)", parameters="x = 1")
    node = nbformat.read(notebook, as_version=4)
    node.metadata["atomnb"] = {"deploy": {"retries": 2, "timeout_s": 60, "schedule": "0 * * * *"}}
    nbformat.write(node, notebook)
    assert deploy_defaults(notebook) == {"retries": 2, "timeout_s": 60, "schedule": "0 * * * *"}
    node.metadata["atomnb"] = {"deploy": {"retires": 2}}
    nbformat.write(node, notebook)
    with pytest.raises(AtomError, match="retires"):
        deploy_defaults(notebook)


def test_a_package_carries_a_manifest_and_unpacks_to_the_same_content_hash(
    workspace: Workspace, tmp_path: Path
) -> None:
    import nbformat

    from atomnb.atom.package import MANIFEST, read_package

    notebook = make_notebook(workspace.notebooks_dir / "p.ipynb", "print(1)", parameters="x = 1")
    node = nbformat.read(notebook, as_version=4)
    node.metadata["atomnb"] = {"deploy": {"retries": 2}}
    nbformat.write(node, notebook)
    built = build_package(notebook)
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(built.data)).read(MANIFEST))
    assert manifest["notebook"] == "notebooks/p.ipynb" and manifest["process"] == "p"
    assert manifest["content_hash"] == built.content_hash
    assert unpack_package(built.data, tmp_path / "u") == built.content_hash
    again, declared = read_package(built.data)
    assert (again.notebook, again.content_hash, declared) == (
        "notebooks/p.ipynb",
        built.content_hash,
        {"retries": 2},
    )
    with pytest.raises(AtomError, match=r"no atomnb-package\.json"):
        read_package(_zip({"notebooks/p.ipynb": b"{}"}))
