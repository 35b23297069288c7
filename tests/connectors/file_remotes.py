"""One file connection per protocol, with a server-side view to seed and inspect files.

Every test gets its own folder under the server's root, so session-wide servers
never leak state between tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from atomnb.connectors.files import FileConnection
from tests.connectors.file_servers import (
    FTP_PASSWORD,
    FTP_USER,
    S3_KEY_ID,
    S3_SECRET,
    SFTP_PASSWORD,
    SFTP_USER,
)

PROTOCOLS = ["file", "sftp", "ftp", "s3"]


@dataclass
class Remote:
    """A connection whose root is this test's folder, and the server's own view of it."""

    conn: FileConnection
    write: Callable[[str, bytes], None]
    read: Callable[[str], bytes]
    names: Callable[[str], list[str]]


View = tuple[Callable[[str, bytes], None], Callable[[str], bytes], Callable[[str], list[str]]]


def _local_view(base: Path) -> View:
    def write(relative: str, data: bytes) -> None:
        path = base / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def names(folder: str) -> list[str]:
        path = base / folder
        return sorted(p.name for p in path.iterdir() if p.is_file()) if path.is_dir() else []

    return write, lambda relative: (base / relative).read_bytes(), names


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_SFTP_PASSWORD", SFTP_PASSWORD)
    monkeypatch.setenv("T_FTP_PASSWORD", FTP_PASSWORD)
    monkeypatch.setenv("T_S3_SECRET", S3_SECRET)


def make_remote(protocol: str, request: pytest.FixtureRequest, tmp_path: Path) -> Remote:
    folder = f"t{uuid.uuid4().hex[:10]}"
    if protocol == "file":
        base = tmp_path / "root"
        base.mkdir()
        return Remote(FileConnection("file", root=str(base)), *_local_view(base))
    if protocol == "sftp":
        server = request.getfixturevalue("sftp_server")
        base = server.root / folder
        base.mkdir()
        conn = FileConnection(
            "sftp",
            root=f"/{folder}",
            host=server.host,
            port=server.port,
            user=SFTP_USER,
            password="env:T_SFTP_PASSWORD",
            known_hosts=str(server.known_hosts),
        )
        return Remote(conn, *_local_view(base))
    if protocol == "ftp":
        server = request.getfixturevalue("ftp_server")
        base = server.root / folder
        base.mkdir()
        conn = FileConnection(
            "ftp",
            root=f"/{folder}",
            host=server.host,
            port=server.port,
            user=FTP_USER,
            password="env:T_FTP_PASSWORD",
        )
        return Remote(conn, *_local_view(base))
    server = request.getfixturevalue("s3_server")
    client = server.client()
    prefix = f"{folder}/"

    def write(relative: str, data: bytes) -> None:
        client.put_object(Bucket=server.bucket, Key=prefix + relative, Body=data)

    def read(relative: str) -> bytes:
        return bytes(client.get_object(Bucket=server.bucket, Key=prefix + relative)["Body"].read())

    def names(sub: str) -> list[str]:
        listed = client.list_objects_v2(Bucket=server.bucket, Prefix=f"{prefix}{sub}/")
        keys = [item["Key"][len(prefix) + len(sub) + 1 :] for item in listed.get("Contents", [])]
        return sorted(k for k in keys if "/" not in k)

    conn = FileConnection(
        "s3",
        root=f"{server.bucket}/{folder}",
        endpoint_url=server.endpoint_url,
        region="us-east-1",
        access_key_id=S3_KEY_ID,
        secret_access_key="env:T_S3_SECRET",
    )
    return Remote(conn, write, read, names)


@pytest.fixture(params=PROTOCOLS)
def remote(request: pytest.FixtureRequest, tmp_path: Path, secret_env: None) -> Iterator[Remote]:
    made = make_remote(request.param, request, tmp_path)
    yield made
    made.conn.close()
