"""AS2 messages and MDNs in bytes between two workspaces' links (no network): pyas2lib's S/MIME."""

from __future__ import annotations

import pytest

from atomnb.b2b.as2.exchange import build_message, parse_mdn, receive_message
from atomnb.b2b.as2.link import load_link
from atomnb.errors import ComponentError
from tests.b2b_as2.conftest import Pair

PAYLOAD = b"ISA*00*          *00*          *ZZ*AYE            *ZZ*BEE            *~"


def test_signed_encrypted_message_gives_a_signed_mdn_confirming_the_mic(pair: Pair) -> None:
    a, b = load_link("bee", pair.a), load_link("aye", pair.b)
    out = build_message(a, PAYLOAD, message_id="x1", file_name="po.x12")
    assert out.headers["Content-Type"].startswith("application/pkcs7-mime")
    assert PAYLOAD not in out.body  # encrypted on the wire
    assert out.message_id == "x1@aye" and out.mic

    got = receive_message(b, out.headers, out.body)
    assert (got.ok, got.signed, got.encrypted) == (True, True, True)
    assert got.payload == PAYLOAD and got.file_name == "po.x12"
    assert got.mic == out.mic and got.mdn_mode == "sync"
    assert got.mdn_headers["Content-Type"].startswith("multipart/signed")

    mdn = parse_mdn(
        a, got.mdn_headers, got.mdn_body, original_message_id=out.message_id, mic=out.mic
    )
    assert (mdn.ok, mdn.status, mdn.original_message_id) == (True, "processed", "x1@aye")

    wrong = parse_mdn(a, got.mdn_headers, got.mdn_body, original_message_id="x1@aye", mic="AAAA")
    assert (wrong.ok, wrong.status) == (False, "processed/warning")
    assert wrong.detail == "Message Integrity check failed."


def test_compressed_message_round_trips(pair: Pair) -> None:
    pair.partner_a(compress=True)
    out = build_message(load_link("bee", pair.a), PAYLOAD * 50, message_id="z1")
    got = receive_message(load_link("aye", pair.b), out.headers, out.body)
    assert got.ok and got.payload == PAYLOAD * 50


def test_tampered_message_gets_a_negative_mdn_and_no_payload(pair: Pair) -> None:
    a, b = load_link("bee", pair.a), load_link("aye", pair.b)
    out = build_message(a, PAYLOAD, message_id="t1")
    body = bytearray(out.body)
    body[300] ^= 0xFF  # inside the encrypted content key: does not decrypt
    got = receive_message(b, out.headers, bytes(body))
    assert not got.ok and got.payload == b""
    assert got.status == "processed/Error"
    mdn = parse_mdn(a, got.mdn_headers, got.mdn_body, original_message_id="t1@aye", mic=out.mic)
    assert not mdn.ok and mdn.status == "processed/Error"
    assert mdn.detail == "decryption-failed" == got.detail


def test_a_message_signed_by_someone_else_fails_authentication(pair: Pair) -> None:
    # b expects a's signature; sign with another key (b's own) under a's AS2 id
    link = load_link("bee", pair.a)
    certs = dict(link.certificates)
    certs["our_signing"] = load_link("aye", pair.b).certificates["our_signing"]
    forged = type(link)(link.partner, link.settings, certs, link.source)
    out = build_message(forged, PAYLOAD, message_id="f1")
    got = receive_message(load_link("aye", pair.b), out.headers, out.body)
    assert not got.ok and got.status == "processed/Error"
    assert got.detail == "authentication-failed"


def test_unsigned_message_is_refused_unless_the_partner_is_allowed_to(pair: Pair) -> None:
    pair.partner_a(sign=None, encrypt=None)
    out = build_message(load_link("bee", pair.a), PAYLOAD, message_id="u1")
    got = receive_message(load_link("aye", pair.b), out.headers, out.body)
    assert not got.ok and got.detail == "insufficient-message-security"
    # b signs nothing itself: still, unsigned inbound is the signature's absence, refused
    pair.partner_b(sign=None, encrypt=None)
    got = receive_message(load_link("aye", pair.b), out.headers, out.body)
    assert not got.ok and got.detail == "insufficient-message-security"
    pair.partner_b(sign=None, encrypt=None, allow_unsigned=True)
    got = receive_message(load_link("aye", pair.b), out.headers, out.body)
    assert got.ok and got.payload == PAYLOAD and not got.signed


def test_a_message_received_before_is_refused_as_duplicate(pair: Pair) -> None:
    out = build_message(load_link("bee", pair.a), PAYLOAD, message_id="d1")
    got = receive_message(load_link("aye", pair.b), out.headers, out.body, seen=lambda _id: True)
    assert not got.ok and got.detail == "duplicate-document"


def test_sending_without_the_needed_certificate_names_the_role(pair: Pair) -> None:
    link = load_link("bee", pair.a)
    bare = type(link)(link.partner, link.settings, {}, link.source)
    with pytest.raises(ComponentError, match=r"as2\.certificates\.our_signing"):
        build_message(bare, PAYLOAD, message_id="n1")


def test_async_mdn_without_an_mdn_url_is_a_clear_configuration_error(pair: Pair) -> None:
    pair.partner_a(mdn="async")
    with pytest.raises(ComponentError, match=r"asynchronous MDN needs as2\.mdn_url") as err:
        build_message(load_link("bee", pair.a), PAYLOAD, message_id="a1")
    assert str(err.value.where).endswith("partners/bee.yaml")
