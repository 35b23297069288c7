"""Small counting HTTP servers on chosen loopback addresses (127.0.0.2, ::1, ...).

A configured server hands out hostile addresses (a paging link, a next URL in
the body, a redirect); target servers on other loopback addresses count every
request that reaches them, so a test can prove that nothing left the host.
The same servers record request headers for the idempotency tests.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Counting:
    """A running server: its base URL and every request it saw (method, path, headers)."""

    url: str
    seen: list[dict[str, Any]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.seen)


class _Handler(http.server.BaseHTTPRequestHandler):
    counting: Counting

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.counting.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode(errors="replace"),
            }
        )
        parts = urlsplit(self.path)
        to = parse_qs(parts.query).get("to", [""])[0]
        headers: dict[str, str] = {"Content-Type": "application/json"}
        status, payload = 200, [{"id": 1}]
        if parts.path == "/link":
            headers["Link"] = f'<{to}>; rel="next"'
        elif parts.path == "/next":
            payload = {"data": [{"id": 1}], "next": to}  # type: ignore[assignment]
        elif parts.path == "/redirect":
            status, headers["Location"] = 302, to
        raw = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = do_PUT = _answer


class _V6Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


@contextlib.contextmanager
def counting_server(host: str) -> Iterator[Counting]:
    """A counting server on ``host`` (an IPv4 or IPv6 loopback address), on a free port."""
    v6 = ":" in host
    server_class = _V6Server if v6 else http.server.ThreadingHTTPServer
    counting = Counting("")
    handler = type("Handler", (_Handler,), {"counting": counting})
    server = server_class((host, 0), handler)
    port = server.server_address[1]
    counting.url = f"http://[{host}]:{port}" if v6 else f"http://{host}:{port}"
    thread = threading.Thread(target=server.serve_forever, name=f"counting-{host}", daemon=True)
    thread.start()
    try:
        yield counting
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
