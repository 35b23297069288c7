"""Hostile remote names, links, wrong credentials and host keys: refused clearly, never leaked."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from atomnb.connectors.files import (
    FileAuthenticationError,
    FileConnection,
    HostKeyError,
    UnsafeFileNameError,
)
from atomnb.errors import ConfigError
from tests.connectors.file_remotes import make_remote
from tests.connectors.file_servers import (
    FTP_PASSWORD,
    FTP_USER,
    HOSTILE_FOLDER,
    HOSTILE_NAMES,
    SFTP_PASSWORD,
    SFTP_USER,
)

GOOD = b"id,name\n1,good\n"


@pytest.mark.parametrize("protocol", ["sftp", "ftp"])
def test_hostile_listing_is_refused_name_by_name_and_good_files_still_come(
    protocol: str, request: pytest.FixtureRequest, tmp_path: Path, secret_env: None
) -> None:
    remote = make_remote(protocol, request, tmp_path)
    remote.write(f"{HOSTILE_FOLDER}/good.csv", GOOD)
    remote.write("outside.csv", b"id,name\n666,outside\n")
    server_root = Path(remote.conn.root)  # "/<folder>" on the server
    served = request.getfixturevalue(f"{protocol}_server").root / server_root.name
    (served / HOSTILE_FOLDER / "link.csv").symlink_to(served / "outside.csv")

    docs = remote.conn.get(f"{HOSTILE_FOLDER}/*.csv", after="delete")

    assert docs.to_pylist() == [{"id": "1", "name": "good"}]
    refused = [r for r in docs.rejections if r.rule == UnsafeFileNameError.RULE]
    assert len(refused) == len(HOSTILE_NAMES) + 1
    text = "\n".join(r.message for r in refused)
    assert "symbolic link" in text and "'link.csv'" in text
    assert "666" not in str(docs.to_pylist())
    assert remote.names("") == ["outside.csv"]  # nothing outside the folder was touched
    assert (served / HOSTILE_FOLDER / "link.csv").is_symlink()
    remote.conn.close()


def test_local_links_and_names_with_backslashes_or_newlines_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "in").mkdir(parents=True)
    (root / "in" / "good.csv").write_bytes(GOOD)
    (root / "in" / "..\\..\\win.csv").write_bytes(GOOD)
    (root / "in" / "line\nbreak.csv").write_bytes(GOOD)
    (tmp_path / "secret.csv").write_bytes(b"id,name\n666,secret\n")
    (root / "in" / "link.csv").symlink_to(tmp_path / "secret.csv")

    docs = FileConnection("file", root=str(root)).get("in/*.csv")

    assert docs.to_pylist() == [{"id": "1", "name": "good"}]
    reasons = sorted(r.message.split("'")[-1].split(";")[0].strip() for r in docs.rejections)
    assert len(docs.rejections) == 3, reasons
    assert all(r.rule == "unsafe_name" for r in docs.rejections)


def test_s3_keys_that_climb_out_are_refused(
    request: pytest.FixtureRequest, tmp_path: Path, secret_env: None
) -> None:
    remote = make_remote("s3", request, tmp_path)
    remote.write("in/good.csv", GOOD)
    remote.write("in/..", b"dot-dot")
    remote.write("in/..\\..\\win.csv", b"id\n666\n")
    remote.write("in/../escape.csv", b"id\n666\n")

    docs = remote.conn.get("in/*", after="delete")

    assert docs.to_pylist() == [{"id": "1", "name": "good"}]
    assert len(docs.rejections) == 3
    assert {r.rule for r in docs.rejections} == {"unsafe_name"}


def test_wrong_sftp_password_is_a_clear_error_and_never_leaks(
    sftp_server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-pass-Zq9"
    monkeypatch.setenv("T_WRONG", wrong)
    conn = FileConnection(
        "sftp",
        host=sftp_server.host,
        port=sftp_server.port,
        user=SFTP_USER,
        password="env:T_WRONG",
        known_hosts=str(sftp_server.known_hosts),
    )
    caplog.set_level(logging.DEBUG)

    result = conn.test()
    with pytest.raises(FileAuthenticationError, match="authentication failed") as caught:
        conn.get("*.csv")

    assert not result.ok and "authentication failed" in result.message
    for text in (result.message, str(caught.value), repr(conn), caplog.text):
        assert wrong not in text and SFTP_PASSWORD not in text


def test_sftp_key_authentication(sftp_server, tmp_path: Path) -> None:
    (sftp_server.root / "keyed.csv").write_bytes(GOOD)
    conn = FileConnection(
        "sftp",
        host=sftp_server.host,
        port=sftp_server.port,
        user=SFTP_USER,
        private_key=f"file:{sftp_server.client_key}",
        known_hosts=str(sftp_server.known_hosts),
    )
    try:
        assert conn.test().ok
        assert conn.get("keyed.csv", after="delete").to_pylist() == [{"id": "1", "name": "good"}]
        assert not (sftp_server.root / "keyed.csv").exists()
    finally:
        conn.close()


def test_an_unknown_sftp_host_key_is_refused(sftp_server, secret_env: None, tmp_path: Path) -> None:
    settings = {
        "protocol": "sftp",
        "host": sftp_server.host,
        "port": sftp_server.port,
        "user": SFTP_USER,
        "password": "env:T_SFTP_PASSWORD",
    }
    impostor = FileConnection.from_dict(
        {**settings, "known_hosts": str(sftp_server.other_known_hosts)}
    )
    with pytest.raises(HostKeyError, match="host key"):
        impostor.get("*.csv")
    missing = FileConnection.from_dict({**settings, "known_hosts": str(tmp_path / "none")})
    with pytest.raises(ConfigError, match="known_hosts"):
        missing.get("*.csv")
    assert not missing.test().ok


def test_wrong_ftp_password(ftp_server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_WRONG", "not-" + FTP_PASSWORD)
    conn = FileConnection(
        "ftp", host=ftp_server.host, port=ftp_server.port, user=FTP_USER, password="env:T_WRONG"
    )
    with pytest.raises(FileAuthenticationError, match="FTP 530") as caught:
        conn.get("*.csv")
    assert FTP_PASSWORD not in str(caught.value)
    result = conn.test()
    assert not result.ok and "authentication failed" in result.message


def test_unreachable_server_is_a_failed_test_not_an_exception() -> None:
    from tests.connectors.file_servers import free_port

    conn = FileConnection("ftp", host="127.0.0.1", port=free_port(), timeout=5)
    result = conn.test()
    assert not result.ok and "connection failed" in result.message


def test_literal_secrets_and_unknown_settings_are_configuration_errors() -> None:
    with pytest.raises(ConfigError, match="'password' must be a secret reference"):
        FileConnection("ftp", host="h", password="hunter2")
    with pytest.raises(ConfigError, match="unknown file connection setting"):
        FileConnection.from_dict({"protocol": "file", "pasword": "env:X"})
    with pytest.raises(ConfigError, match="unknown file protocol"):
        FileConnection.from_dict({"protocol": "gopher"})
    conn = FileConnection("sftp", host="h", user="u", password="env:SFTP_PW", root="/in")
    assert repr(conn) == "FileConnection(sftp://u@h/in, password=<reference>)"
    assert FileConnection.from_dict(conn.to_dict()) == conn
    assert "SFTP_PW" in str(conn.to_dict()) and os.environ.get("SFTP_PW") is None
