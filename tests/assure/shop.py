"""A small workspace for record/replay tests: a shop API on loopback, a SQLite database, a map.

The process reads orders from the shop (HTTP, bearer token from ``env:SHOP_TOKEN``;
the shop echoes the token back in every order, so a recording that kept it would
show), reads prices from the database, maps orders to invoices (``order_to_invoice``,
with the run's time and a sequence number) and inserts the invoices.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import nbformat

from atomnb.components import Workspace
from atomnb.maps import Map, Rule, Step, save_map
from atomnb.profiles import Element, ElementType, Profile

TOKEN = "tok-PLANTED-7f3a9c1e"  # the planted secret: never in a case folder
ORDERS = [
    {"orderId": "SO-1", "sku": "A-1", "qty": 2},
    {"orderId": "SO-2", "sku": "B-2", "qty": 1},
    {"orderId": "SO-3", "sku": "A-1", "qty": 5},
]

S, INT, DT = ElementType.STRING, ElementType.INTEGER, ElementType.DATETIME
ORDERS_PROFILE = Profile(
    "shop_orders",
    (Element("orderId", S), Element("sku", S), Element("qty", INT), Element("token_seen", S)),
)
INVOICE_PROFILE = Profile(
    "shop_invoice",
    (
        Element("invoice_id", S),
        Element("sku", S),
        Element("qty", INT),
        Element("line", INT),
        Element("mapped_at", DT),
    ),
)

NOTEBOOK_CELLS = [
    ('api_url = "http://127.0.0.1:9"\ndb_path = "shop.db"', ["parameters"]),
    (
        "import atomnb as ab\n"
        "from atomnb.connectors.http import BearerAuth, HttpConnection, HttpOperation\n"
        "from atomnb.connectors.sql import SqlConnection\n"
        "\n"
        'shop = HttpConnection(api_url, auth=BearerAuth("env:SHOP_TOKEN"))\n'
        'db = SqlConnection(f"sqlite:///{db_path}")\n'
        'orders = ab.http_call(shop, HttpOperation("GET", "/orders"), name="orders")\n'
        'prices = ab.database_query(db, "SELECT sku, price FROM prices ORDER BY sku")\n'
        'invoices = ab.map(orders, "order_to_invoice")\n'
        'ab.database_write(db, "insert", "invoices", invoices)',
        None,
    ),
]


def order_map(prefix: str = "INV-") -> Map:
    """The map under test; ``prefix`` is the argument a test changes to break the replay."""
    return Map(
        "order_to_invoice",
        ORDERS_PROFILE,
        INVOICE_PROFILE,
        (
            Rule("invoice_id", ("orderId",), (Step("replace", {"old": "SO-", "new": prefix}),)),
            Rule("sku", ("sku",)),
            Rule("qty", ("qty",)),
            Rule("line", (), (Step("sequence", {"start": 1}),)),
            Rule("mapped_at", (), (Step("now"),)),
        ),
    )


def make_workspace(root: Path) -> Workspace:
    """The workspace: the map, the notebook, the database with its two tables."""
    workspace = Workspace.init(root, "shop")
    save_map(order_map(), workspace=workspace)
    cells = [
        nbformat.v4.new_code_cell(source, metadata={"tags": tags} if tags else {})
        for source, tags in NOTEBOOK_CELLS
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    (root / "notebooks").mkdir(exist_ok=True)
    nbformat.write(notebook, root / "notebooks" / "shop_sync.ipynb")
    with sqlite3.connect(root / "notebooks" / "shop.db") as db:
        db.execute("CREATE TABLE prices (sku TEXT PRIMARY KEY, price REAL)")
        db.executemany("INSERT INTO prices VALUES (?, ?)", [("A-1", 1.5), ("B-2", 10.0)])
        db.execute(
            "CREATE TABLE invoices (invoice_id TEXT, sku TEXT, qty INTEGER, line INTEGER, "
            "mapped_at TEXT)"
        )
    return workspace


class _Shop(BaseHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        if self.path != "/orders":
            self.send_error(404)
            return
        seen = self.headers.get("Authorization", "")
        body = json.dumps([{**order, "token_seen": seen} for order in ORDERS]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", f"session={TOKEN}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def shop_server() -> Iterator[tuple[str, list[str]]]:
    """The shop on a free loopback port while the block runs; its URL and requests seen."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Shop)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=60)
