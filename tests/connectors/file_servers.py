"""Real file servers on loopback for the file connector tests, started by the tests.

- SFTP: asyncssh's server in a thread with its own event loop, chrooted to a
  temporary folder, password and public-key authentication, a fresh host key
  written to a known_hosts file;
- FTP: pyftpdlib in a thread, one user with a password;
- S3: moto's ThreadedMotoServer (a real HTTP server speaking the S3 API).

Both SFTP and FTP servers can be made hostile for one folder: ``hostile`` in a
listing adds names a broken or malicious server could send (``../escape.csv``,
absolute paths, separators) and reports symbolic links as links, so the tests
check that the client refuses them while still fetching the other files.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _free_port

SFTP_USER, SFTP_PASSWORD = "trader", "sftp-pass-Q7w!"
FTP_USER, FTP_PASSWORD = "ftpuser", "ftp-pass-K3z#"
S3_KEY_ID, S3_SECRET = "AKIATESTKEY000001", "s3-secret-Zr8+/abc"
HOSTILE_FOLDER = "hostile"
#: What a hostile server adds to the listing of a folder named ``hostile``.
HOSTILE_NAMES = ("../escape.csv", "/etc/passwd.csv", "sub/inner.csv", "..\\..\\win.csv")


def free_port() -> int:
    return _free_port()  # from a block no kernel or other test worker takes


# -- SFTP -------------------------------------------------------------------------------


@dataclass
class SftpServer:
    host: str
    port: int
    root: Path
    known_hosts: Path
    client_key: Path  # an OpenSSH private key file the server accepts for SFTP_USER
    other_known_hosts: Path  # a known_hosts file with a *different* key for the same host


def _sftp_classes(client_public: bytes) -> tuple[type, type]:
    import asyncssh

    class Server(asyncssh.SSHServer):  # type: ignore[misc]
        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str) -> bool:
            return (username, password) == (SFTP_USER, SFTP_PASSWORD)

        def public_key_auth_supported(self) -> bool:
            return True

        def validate_public_key(self, username: str, key: Any) -> bool:
            return username == SFTP_USER and key.export_public_key() == client_public

    class HostileSFTPServer(asyncssh.SFTPServer):  # type: ignore[misc]
        async def scandir(self, path: bytes) -> AsyncIterator[Any]:
            async for entry in super().scandir(path):
                yield entry
            if path.rstrip(b"/").endswith(HOSTILE_FOLDER.encode()):
                attrs = asyncssh.SFTPAttrs(
                    type=asyncssh.FILEXFER_TYPE_REGULAR,
                    size=6,
                    permissions=0o100644,
                    mtime=int(time.time()),
                    atime=int(time.time()),
                )
                for name in HOSTILE_NAMES:
                    yield asyncssh.SFTPName(name.encode(), b"", attrs)

    return Server, HostileSFTPServer


@pytest.fixture(scope="session")
def sftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SftpServer]:
    asyncssh = pytest.importorskip("asyncssh")
    base = tmp_path_factory.mktemp("sftp")
    root = base / "root"
    root.mkdir()
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    key_file = base / "id_ed25519"
    key_file.write_bytes(client_key.export_private_key())
    server_cls, sftp_cls = _sftp_classes(client_key.export_public_key())
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="sftp-test-server", daemon=True)
    thread.start()

    async def listen() -> Any:
        return await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[host_key],
            server_factory=server_cls,
            sftp_factory=lambda chan: sftp_cls(chan, chroot=str(root).encode()),
            allow_scp=False,
        )

    acceptor = asyncio.run_coroutine_threadsafe(listen(), loop).result(timeout=20)
    port = acceptor.get_port()
    known = base / "known_hosts"
    known.write_bytes(b"[127.0.0.1]:%d " % port + host_key.export_public_key())
    other = base / "other_known_hosts"
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    other.write_bytes(b"[127.0.0.1]:%d " % port + stranger.export_public_key())
    yield SftpServer("127.0.0.1", port, root, known, key_file, other)
    acceptor.close()

    async def drain() -> None:  # end the sessions clients left open, so nothing dangles
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    with contextlib.suppress(Exception):
        asyncio.run_coroutine_threadsafe(acceptor.wait_closed(), loop).result(timeout=10)
        asyncio.run_coroutine_threadsafe(drain(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


# -- FTP --------------------------------------------------------------------------------


@dataclass
class FtpServer:
    host: str
    port: int
    root: Path


def _hostile_ftp_fs() -> type:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from pyftpdlib.filesystems import AbstractedFS

    class HostileFS(AbstractedFS):  # type: ignore[misc]
        def listdir(self, path: str) -> list[str]:
            names = list(super().listdir(path))
            if Path(path).name == HOSTILE_FOLDER:
                names += list(HOSTILE_NAMES)
            return names

        def stat(self, path: str) -> os.stat_result:
            if any(name in path for name in HOSTILE_NAMES):
                return Path(__file__).stat()  # any regular file: the name is what matters
            return super().stat(path)  # type: ignore[no-any-return]

        def format_mlsx(self, basedir: str, listing: list[str], *args: Any, **kw: Any) -> Any:
            # Like vsftpd and ProFTPD, say that a link is a link (pyftpdlib follows it).
            for line in super().format_mlsx(basedir, listing, *args, **kw):
                name = line.split(b"; ", 1)[-1].rstrip(b"\r\n").decode()
                if (Path(basedir) / name).is_symlink():
                    line = line.replace(b"type=file", b"type=OS.unix=slink")
                yield line

    return HostileFS


@pytest.fixture(scope="session")
def ftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FtpServer]:
    with warnings.catch_warnings():  # pyftpdlib still imports asyncore on Python < 3.12
        warnings.simplefilter("ignore", DeprecationWarning)
        pytest.importorskip("pyftpdlib")
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler
        from pyftpdlib.servers import FTPServer

    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    root = tmp_path_factory.mktemp("ftp")
    authorizer = DummyAuthorizer()
    authorizer.add_user(FTP_USER, FTP_PASSWORD, str(root), perm="elradfmwMT")
    handler = type(
        "Handler",
        (FTPHandler,),
        {"authorizer": authorizer, "abstracted_fs": _hostile_ftp_fs(), "use_gmt_times": True},
    )
    server = FTPServer(("127.0.0.1", 0), handler)
    with serving_ftp(server, "ftp-test-server") as port:
        yield FtpServer("127.0.0.1", port, root)


@contextlib.contextmanager
def serving_ftp(server: Any, name: str) -> Iterator[int]:
    """Run a pyftpdlib server on a thread of its own; yields its port, closes it after."""
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            server.serve_forever(timeout=0.05, blocking=False, handle_exit=False)
        server.close_all()

    thread = threading.Thread(target=serve, name=name, daemon=True)
    thread.start()
    try:
        yield int(server.address[1])
    finally:
        stop.set()
        thread.join(timeout=10)


# -- S3 ---------------------------------------------------------------------------------


@dataclass
class S3Server:
    endpoint_url: str
    bucket: str

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=S3_KEY_ID,
            aws_secret_access_key=S3_SECRET,
            region_name="us-east-1",
        )


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    moto_server = pytest.importorskip("moto.server")
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    s3 = S3Server(f"http://127.0.0.1:{port}", "atomnb-files")
    s3.client().create_bucket(Bucket=s3.bucket)
    yield s3
    server.stop()
