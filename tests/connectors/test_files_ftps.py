"""FTPS against pyftpdlib's TLS handler: the certificate is verified, files travel encrypted.

The server requires TLS on the control *and* the data channel, so a client that
sent the password or a file in clear would be refused.
"""

from __future__ import annotations

import uuid

import pytest

from atomnb.connectors.files import FileConnection
from atomnb.documents import Documents
from atomnb.errors import FatalConnectorError
from tests.connectors.file_servers import FTP_PASSWORD, FTP_USER
from tests.connectors.tls_servers import FtpsServer, Pki


def _conn(server: FtpsServer, folder: str, ca_file: str | None) -> FileConnection:
    return FileConnection(
        "ftps",
        root=f"/{folder}",
        host=server.host,
        port=server.port,
        user=FTP_USER,
        password="env:T_FTP_PASSWORD",
        ca_file=ca_file,
        timeout=10,
    )


def test_ftps_with_a_trusted_ca_gets_and_puts(
    ftps_server: FtpsServer, pki: Pki, secret_env: None
) -> None:
    folder = f"t{uuid.uuid4().hex[:10]}"
    (ftps_server.root / folder / "in").mkdir(parents=True)
    (ftps_server.root / folder / "in" / "a.csv").write_bytes(b"order_id,total\nA1,10\n")
    conn = _conn(ftps_server, folder, str(pki.ca))
    try:
        assert conn.test().ok
        docs = conn.get("in/*.csv", after="archive")
        assert docs.to_pylist() == [{"order_id": "A1", "total": "10"}]
        conn.put(Documents.from_records([{"id": 1}]), "out.json", folder="out", layout="single")
        assert (ftps_server.root / folder / "out" / "out.json").read_bytes() == b'{"id": 1}'
        assert sorted(p.name for p in (ftps_server.root / folder / "archive").iterdir()) == [
            "a.csv"
        ]
    finally:
        conn.close()


def test_ftps_server_signed_by_an_unknown_ca_is_refused(
    ftps_server: FtpsServer, pki: Pki, secret_env: None
) -> None:
    for ca_file in (None, str(pki.other_ca)):  # the system's CAs, or the wrong one
        conn = _conn(ftps_server, "anything", ca_file)
        try:
            checked = conn.test()
            assert not checked.ok and "certificate was refused" in checked.message
            with pytest.raises(FatalConnectorError, match="unable to get local issuer") as info:
                conn.get("*.csv")
            assert "ca_file=" in str(info.value)
            assert FTP_PASSWORD not in checked.message + str(info.value)
        finally:
            conn.close()
