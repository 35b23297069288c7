"""``send_as2`` in a notebook session: messages per document, MDN checked, recorded in the store.

The partner's side is ``receive_message`` over httpx's transport seam; the atoms
test (test_as2_atoms.py) does the same over real HTTP between two atoms.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import httpx
import pytest

import atomnb as ab
from atomnb.b2b.as2.exchange import receive_message
from atomnb.b2b.as2.link import load_link
from atomnb.b2b.as2.records import As2Records
from atomnb.components.certificates import CertificateExpiryWarning
from atomnb.errors import ComponentError
from atomnb.store import ExecutionStore
from tests.b2b_as2.conftest import Pair, make_pair


def _partner_b(
    pair: Pair, received: list[bytes], *, break_mdn: bool = False
) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        with warnings.catch_warnings():  # b's copy of a's certificate: warned on a's side
            warnings.simplefilter("ignore", CertificateExpiryWarning)
            got = receive_message(load_link("aye", pair.b), dict(request.headers), request.content)
        received.append(got.payload)
        body = got.mdn_body
        if break_mdn:  # a signed MDN altered on the way: its signature no longer verifies
            body = body.replace(b"processed", b"pr0cessed", 1)
        return httpx.Response(200, headers=got.mdn_headers, content=body)

    return httpx.MockTransport(handle)


def test_each_raw_document_goes_as_one_message_and_its_mdn_is_recorded(pair: Pair) -> None:
    received: list[bytes] = []
    docs = ab.raw_documents([b"first", b"second"], properties={"file_name": ["1.x12", "2.x12"]})
    result = ab.send_as2(docs, "bee", workspace=pair.a, transport=_partner_b(pair, received))
    assert received == [b"first", b"second"]
    assert result.column("status").to_pylist() == ["processed", "processed"]
    assert result.column("file_name").to_pylist() == ["1.x12", "2.x12"]
    assert not result.rejections
    records = As2Records(ExecutionStore.open(pair.a.store_url()))
    row = records.get(result[0]["message_id"], "out")
    assert row is not None and row.partner == "bee" and row.status == "processed"
    assert row.mic == result[0]["mic"] and row.mdn_at is not None


def test_parsed_documents_go_as_one_message_in_the_format(pair: Pair) -> None:
    received: list[bytes] = []
    docs = ab.Documents.from_records([{"po": "1"}, {"po": "2"}])
    result = ab.send_as2(
        docs, "bee", format="json", workspace=pair.a, transport=_partner_b(pair, received)
    )
    assert len(result) == 1 and result[0]["status"] == "processed"
    assert ab.read(received[0], format="json").to_pylist() == [{"po": "1"}, {"po": "2"}]


def test_an_mdn_that_does_not_verify_is_a_rejection_not_a_success(pair: Pair) -> None:
    received: list[bytes] = []
    transport = _partner_b(pair, received, break_mdn=True)
    result = ab.send_as2(ab.raw_documents([b"x"]), "bee", workspace=pair.a, transport=transport)
    assert result[0]["status"] == "failed/Failure"
    assert "Failed to parse received MDN" in result[0]["detail"]
    assert len(result.rejections) == 1 and "message 0" in result.rejections[0].where


def test_expired_own_certificate_refuses_to_send(tmp_path: Path) -> None:
    pair = make_pair(tmp_path, expired=True)
    pair.partner_a()
    with pytest.raises(ComponentError, match=r"certificate 'a_key' .* expired on"):
        ab.send_as2(ab.raw_documents([b"x"]), "bee", workspace=pair.a)


def test_soon_expiring_certificate_warns_and_still_sends(tmp_path: Path) -> None:
    pair = make_pair(tmp_path, days=5)
    pair.partner_a()
    pair.partner_b()
    received: list[bytes] = []
    with pytest.warns(CertificateExpiryWarning, match="'a_key'.*expires in 5 days"):
        result = ab.send_as2(
            ab.raw_documents([b"x"]), "bee", workspace=pair.a, transport=_partner_b(pair, received)
        )
    assert result[0]["status"] == "processed" and received == [b"x"]
