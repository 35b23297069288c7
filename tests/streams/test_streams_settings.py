"""Stream connection settings: secrets by reference only, clear errors, listen URLs, login."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest

from atomnb.connectors.streams import ConsumeOptions, ListenSpec, StreamConnection
from atomnb.errors import ConfigError
from tests.conftest import _free_port
from tests.streams.conftest import _stop, _wait_for_port

PASSWORD = "redis-pass-8c1f"


@pytest.fixture(scope="module")
def locked_redis() -> Iterator[str]:
    """A Redis that wants a password."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [
            *(binary, "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--requirepass", PASSWORD),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)


def test_password_by_reference_logs_in_and_never_shows(
    locked_redis: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAM_PW", PASSWORD)
    conn = StreamConnection.from_dict({"url": locked_redis, "password": "env:STREAM_PW"})
    result = conn.test()
    assert result.ok, result.message
    assert PASSWORD not in repr(conn) and PASSWORD not in str(conn.to_dict())
    assert conn.to_dict()["password"] == "env:STREAM_PW"
    conn.close()
    monkeypatch.setenv("STREAM_PW", "wrong-one-3d")
    refused = StreamConnection.from_dict({"url": locked_redis, "password": "env:STREAM_PW"})
    failed = refused.test()
    assert not failed.ok and "wrong-one-3d" not in failed.message
    refused.close()
    anonymous = StreamConnection.from_url(locked_redis).test()
    assert not anonymous.ok


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"url": "redis://h/0", "password": "hunter2"}, "secret reference"),
        ({"url": "redis://u:hunter2@h/0"}, "must not hold a password"),
        ({"url": "http://h/"}, "not a stream server URL"),
        ({"url": "nats://h", "token": "abc"}, "secret reference"),
        ({"url": "nats://h", "colour": "red"}, "unknown stream connection setting(s): colour"),
        ({"url": "nats://h", "tls": {"client_key_password": "pw"}}, "secret reference"),
    ],
)
def test_bad_settings_are_refused_clearly(settings: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        StreamConnection.from_dict(settings)
    assert words in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_listen_url_gives_stream_and_options() -> None:
    spec = ListenSpec.parse(
        "redis://cache:6379/orders?group=billing&batch=50&wait_ms=250&max_deliveries=4",
        consumer="atom-1",
    )
    assert spec.server_url == "redis://cache:6379" and spec.stream == "orders"
    assert spec.options == ConsumeOptions(
        group="billing", consumer="atom-1", batch_size=50, wait_ms=250, max_deliveries=4
    )
    with pytest.raises(ConfigError, match=r"\?group=name"):
        ListenSpec.parse("nats://n:4222/ORDERS")
    with pytest.raises(ConfigError, match="not a stream to listen to"):
        ListenSpec.parse("redis://cache:6379/")
    with pytest.raises(ConfigError, match="unknown listen URL setting"):
        ListenSpec.parse("redis://cache/orders?group=g&bacth=5")
    with pytest.raises(ConfigError, match="a number was expected"):
        ListenSpec.parse("redis://cache/orders?group=g&batch=many")
    with pytest.raises(ConfigError, match="not a group or consumer name"):
        ListenSpec.parse("redis://cache/orders?group=a b")
