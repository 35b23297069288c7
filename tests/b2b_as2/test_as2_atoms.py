"""AS2 between two real atoms on loopback, each with its own certificates made here.

Atom A runs a process that sends with ``ab.send_as2``; atom B receives at
``/as2/aye`` (no API token: the signature authenticates), answers the MDN and
runs its inbound process on the payload. Two atoms for the whole module (the
machine is shared), plus one restart of A to see its start-up certificate check.
"""

from __future__ import annotations

import html
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from atomnb.atom.client import AtomClient
from atomnb.b2b.as2.exchange import build_message, parse_mdn, receive_message
from atomnb.b2b.as2.link import load_link
from atomnb.errors import AtomnbError
from tests.atom.conftest import AtomProcess
from tests.b2b_as2.conftest import Pair, make_pair
from tests.b2b_as2.helpers import add_as2_partner, add_own_certificate
from tests.conftest import _free_port, make_notebook

pytestmark = [
    pytest.mark.atom,
    # A's certificate ends in 10 days on purpose; the links this test builds by hand warn too
    pytest.mark.filterwarnings("ignore::atomnb.components.certificates.CertificateExpiryWarning"),
]

SENDER = (
    "import atomnb as ab\n"
    "docs = ab.raw_documents([payload.encode()], properties={'file_name': ['po.x12']})\n"
    "result = ab.send_as2(docs, partner)\n"
    "print(result.to_pylist())"
)
INBOUND = (
    "from pathlib import Path\n"
    "import atomnb as ab\n"
    "docs = ab.start()\n"
    "props = docs.properties_of(0)\n"
    "name = props['as2_message_id'].replace('@', '_')\n"
    "Path(inbox, name).write_bytes(docs[0]['content'])\n"
    "Path(inbox, name + '.from').write_text(props['as2_from'] + ' ' + props['file_name'])"
)


#: B's API token: B needs it for its API, partners post AS2 to it without one.
B_TOKEN = "as2-test-b-token-0123456789"
#: B's body limit (listen_max_bytes), small enough to send past it here.
B_LIMIT = 2_000_000


class TokenAtom(AtomProcess):
    """An atom with an API token (``/api/health`` needs it too): started and asked with it."""

    def start(self) -> AtomProcess:
        command = [sys.executable, "-m", "atomnb", "atom", "start", "--home", str(self.home)]
        command += ["--port", str(self.port), "--stop-grace", "5", *self.args]
        env = {**os.environ, "AS2_TEST_B_TOKEN": B_TOKEN}  # atom.toml: api_token = env:...
        log = self.log.open("ab")
        self.proc = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, cwd=self.home.parent, env=env
        )
        self.client = AtomClient(self.url, timeout_s=60, token=B_TOKEN)
        self.wait_for(self._up, 60, "the atom to come up")
        return self

    def _up(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"the atom exited early:\n{self.log.read_text()}")
        try:
            return self.client.health() is not None
        except AtomnbError:
            return False


@dataclass
class Atoms:
    a: AtomProcess
    b: AtomProcess
    pair: Pair
    inbox: Path

    def messages(self, atom: AtomProcess, **query: str) -> list[dict[str, Any]]:
        headers = {"authorization": f"Bearer {B_TOKEN}"} if atom is self.b else {}
        response = httpx.get(
            f"{atom.url}/api/as2/messages", params=query, headers=headers, timeout=60
        )
        assert response.status_code == 200, response.text
        return list(response.json()["messages"])

    def send(self, partner: str, payload: str) -> dict[str, Any]:
        """Run A's sender process; its record once finished."""
        started = self.a.client.trigger("sender", {"partner": partner, "payload": payload})
        return self.a.finished(started["id"])


@pytest.fixture(scope="module")
def atoms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Atoms]:
    root = tmp_path_factory.mktemp("as2")
    port_a, port_b = _free_port(), _free_port()
    a_url, b_url = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    pair = make_pair(root, days=10)  # A's own certificate ends soon: warned, still used
    pair.partner_a("bee", url=f"{b_url}/as2/aye")
    pair.partner_a(
        "bee_async", url=f"{b_url}/as2/aye", mdn="async", mdn_url=f"{a_url}/as2/bee_async/mdn"
    )
    pair.partner_b("aye", process="inbound")
    # a partner of B's whose certificate has expired: refused with a clear error
    add_own_certificate(pair.b, "stale_cert", pair.keys, expired=True)
    add_as2_partner(
        pair.b, "stale", their_id="STALE", our_id="BEE", url=None, ours="b_key",
        theirs="stale_cert", process="inbound",
    )  # fmt: skip
    inbox = root / "inbox"
    inbox.mkdir()
    make_notebook(
        pair.a.notebooks_dir / "sender.ipynb", SENDER, parameters='partner = "bee"\npayload = ""'
    )
    make_notebook(
        pair.b.notebooks_dir / "inbound.ipynb", INBOUND, parameters=f"inbox = {str(inbox)!r}"
    )
    (root / "atomB").mkdir()
    (root / "atomB" / "atom.toml").write_text(
        '[atom]\nid = "as2-b"\n\n[settings]\n'
        f'api_token = "env:AS2_TEST_B_TOKEN"\nlisten_max_bytes = {B_LIMIT}\n'
    )
    a = AtomProcess(root / "atomA", port_a, [], root / "atomA.log").start()
    b = TokenAtom(root / "atomB", port_b, [], root / "atomB.log").start()
    try:
        a.deploy(pair.a.notebooks_dir / "sender.ipynb")
        b.deploy(pair.b.notebooks_dir / "inbound.ipynb")
        yield Atoms(a, b, pair, inbox)
    finally:
        for atom in (a, b):
            if atom.proc is not None and atom.proc.poll() is None:
                atom.stop(signal.SIGINT)


def test_sync_mdn_is_signed_verified_and_recorded_with_both_executions(atoms: Atoms) -> None:
    record = atoms.send("bee", "ISA*sync~")
    # A's own certificate ends in 10 days: the run says so, and still sends
    assert record["status"] == "succeeded_with_warnings", record
    (sent,) = atoms.messages(atoms.a, execution_id=record["id"])
    assert sent["direction"] == "out" and sent["partner"] == "bee"
    assert (sent["mdn_mode"], sent["status"], sent["detail"]) == ("sync", "processed", None)
    assert sent["mic"] and sent["mdn_message_id"] and sent["mdn_at"]

    (got,) = atoms.messages(atoms.b, message_id=sent["message_id"])
    assert got["direction"] == "in" and got["partner"] == "aye" and got["mic"] == sent["mic"]
    inbound = atoms.b.finished(got["execution_id"])
    assert inbound["status"] == "succeeded" and inbound["process"] == "inbound"
    name = sent["message_id"].replace("@", "_")
    assert (atoms.inbox / name).read_bytes() == b"ISA*sync~"
    assert (atoms.inbox / f"{name}.from").read_text() == "AYE po.x12"
    tracked = atoms.a.client.tracked("as2.message_id", sent["message_id"])
    assert [(t["execution"]["id"], t["shape"]) for t in tracked] == [(record["id"], "send_as2 bee")]
    # the console's execution page lists the message with its MDN outcome
    page = httpx.get(f"{atoms.a.url}/console/executions/{record['id']}", timeout=60)
    assert page.status_code == 200 and "<h2>AS2 messages</h2>" in page.text
    assert html.escape(sent["message_id"]) in page.text


def test_async_mdn_arrives_later_at_a_and_is_recorded(atoms: Atoms) -> None:
    record = atoms.send("bee_async", "ISA*async~")
    assert record["status"] == "succeeded_with_warnings", record
    (sent,) = atoms.messages(atoms.a, execution_id=record["id"])
    assert sent["mdn_mode"] == "async"

    def confirmed() -> dict[str, Any] | None:
        (row,) = atoms.messages(atoms.a, execution_id=record["id"])
        return row if row["status"] != "awaiting-mdn" else None

    row = atoms.a.wait_for(confirmed, what="the asynchronous MDN")
    assert (row["status"], row["detail"]) == ("processed", None) and row["mdn_message_id"]
    (got,) = atoms.messages(atoms.b, message_id=sent["message_id"])
    assert got["mdn_mode"] == "async"
    assert atoms.b.finished(got["execution_id"])["status"] == "succeeded"
    assert (atoms.inbox / sent["message_id"].replace("@", "_")).read_bytes() == b"ISA*async~"


def test_tampered_message_gets_a_negative_signed_mdn_and_runs_nothing(atoms: Atoms) -> None:
    before = len(atoms.b.client.executions(process="inbound", limit=500))
    link = load_link("bee", atoms.pair.a)
    out = build_message(link, b"ISA*tampered~", message_id="tampered-1")
    body = bytearray(out.body)
    body[300] ^= 0xFF  # inside the encrypted content key
    response = httpx.post(
        f"{atoms.b.url}/as2/aye", content=bytes(body), headers=out.headers, timeout=60
    )
    assert response.status_code == 200  # AS2 answers failures with an MDN, not an HTTP error
    assert response.headers["content-type"].startswith("multipart/signed")
    mdn = parse_mdn(
        link,
        dict(response.headers),
        response.content,
        original_message_id=out.message_id,
        mic=out.mic,
    )
    assert (mdn.status, mdn.detail) == ("processed/Error", "decryption-failed")
    (got,) = atoms.messages(atoms.b, message_id=out.message_id)
    assert got["status"] == "processed/Error" and got["execution_id"] is None
    assert len(atoms.b.client.executions(process="inbound", limit=500)) == before
    assert not list(atoms.inbox.glob("tampered-1*"))


def test_the_same_message_twice_is_refused_as_duplicate(atoms: Atoms) -> None:
    link = load_link("bee", atoms.pair.a)
    out = build_message(link, b"ISA*twice~", message_id="twice-1")
    first = httpx.post(f"{atoms.b.url}/as2/aye", content=out.body, headers=out.headers, timeout=60)
    again = httpx.post(f"{atoms.b.url}/as2/aye", content=out.body, headers=out.headers, timeout=60)
    assert first.headers["x-atomnb-as2-status"] == "processed"
    assert "x-atomnb-execution" not in again.headers
    mdn = parse_mdn(
        link, dict(again.headers), again.content, original_message_id=out.message_id, mic=out.mic
    )
    # RFC 4130: a duplicate is a warning (not processed again), not an error
    assert (mdn.status, mdn.detail) == ("processed/Warning", "duplicate-document")
    atoms.b.finished(first.headers["x-atomnb-execution"])


def test_b_needs_its_token_but_as2_does_not_and_bodies_are_limited(atoms: Atoms) -> None:
    refused = httpx.get(f"{atoms.b.url}/api/executions", timeout=60)
    assert refused.status_code == 401
    # over the guard's 1 MB JSON limit but under B's listen_max_bytes: reaches the AS2 route,
    # which answers a body that is no AS2 message with a negative MDN
    link = load_link("bee", atoms.pair.a)
    out = build_message(link, b"x", message_id="big-1")
    junk = b"0" * 1_500_000
    response = httpx.post(f"{atoms.b.url}/as2/aye", content=junk, headers=out.headers, timeout=60)
    assert response.status_code == 200
    assert response.headers["x-atomnb-as2-status"] == "processed/Error"
    too_big = httpx.post(
        f"{atoms.b.url}/as2/aye", content=b"0" * (B_LIMIT + 1), headers=out.headers, timeout=60
    )
    assert too_big.status_code == 413
    assert (
        f"the AS2 message is {B_LIMIT + 1} bytes, over the {B_LIMIT} byte limit"
        in (too_big.json()["error"])
    )

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it arrives
        for _ in range(B_LIMIT // 100_000 + 1):
            yield b"0" * 100_000

    chunked = httpx.post(
        f"{atoms.b.url}/as2/aye", content=chunks(), headers=out.headers, timeout=60
    )
    assert chunked.status_code == 413
    assert f"over the {B_LIMIT} byte limit" in chunked.json()["error"]


def test_unknown_partner_and_expired_certificate_are_refused_clearly(atoms: Atoms) -> None:
    unknown = httpx.post(f"{atoms.b.url}/as2/nobody", content=b"x", timeout=60)
    assert unknown.status_code == 404
    assert "no deployed process receives AS2 messages from 'nobody'" in unknown.json()["error"]
    stale = httpx.post(f"{atoms.b.url}/as2/stale", content=b"x", timeout=60)
    assert stale.status_code == 400
    error = stale.json()
    assert "certificate 'stale_cert' (CN=stale_cert) expired on" in error["error"]
    assert error["where"].endswith("components/certificates/stale_cert.yaml")


def test_an_mdn_for_a_message_never_sent_is_refused(atoms: Atoms) -> None:
    link = load_link("aye", atoms.pair.b)  # B's side, made by hand
    out = build_message(load_link("bee", atoms.pair.a), b"x", message_id="never-sent")
    got = receive_message(link, out.headers, out.body)
    response = httpx.post(
        f"{atoms.a.url}/as2/bee_async/mdn",
        content=got.mdn_body,
        headers=got.mdn_headers,
        timeout=60,
    )
    assert response.status_code == 404
    assert "never-sent@aye" in response.json()["error"]


def test_atom_start_warns_about_a_certificate_ending_soon(atoms: Atoms) -> None:
    atoms.a.stop(signal.SIGINT)
    atoms.a.start()  # same home and port: the deployment is there at start
    log = atoms.a.log.read_text()
    assert "certificate 'a_key' (CN=a_key) expires in 10 days" in log
