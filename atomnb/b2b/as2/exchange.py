"""AS2 messages and MDNs in bytes: build, parse, verify (pyas2lib does the S/MIME).

No network and no store here: ``send`` posts what ``build_message`` makes, the
atom's route hands ``receive_message`` the request's headers and body and
answers (or later posts) the MDN it returns. An MDN is checked three ways: its
signature against the partner's certificate, its disposition ("processed" or
a failure with its modifier, e.g. "decryption-failed") and its
``Received-Content-MIC`` against the digest we computed when we signed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from atomnb.b2b.as2.link import As2Link, pyas2lib
from atomnb.errors import ComponentError

__all__ = [
    "Mdn",
    "Outbound",
    "Received",
    "build_message",
    "parse_mdn",
    "raw_http",
    "receive_message",
]


@dataclass(frozen=True)
class Outbound:
    """A built AS2 message: what to POST, and what its MDN must confirm."""

    message_id: str
    headers: dict[str, str]
    body: bytes
    mic: str | None
    mic_alg: str | None
    mdn_mode: str  # sync | async | none


@dataclass(frozen=True)
class Mdn:
    """An MDN as checked: ``ok`` only when processed, signed as asked and the MIC matches."""

    original_message_id: str | None
    status: str  # processed | processed/warning | failed/Failure | processed/Error ...
    detail: str | None
    message_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "processed"


@dataclass(frozen=True)
class Received:
    """An inbound message after decrypting and verifying, and the MDN that answers it."""

    message_id: str | None
    ok: bool
    status: str
    detail: str | None
    payload: bytes
    file_name: str | None
    content_type: str | None
    mic: str | None
    signed: bool
    encrypted: bool
    mdn_mode: str  # sync | async | none
    mdn_url: str | None
    mdn_headers: dict[str, str]
    mdn_body: bytes
    error: str | None = None


def raw_http(headers: Mapping[str, str], body: bytes) -> bytes:
    """Headers then body, as pyas2lib parses a received message or MDN."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() != "content-length")
    return head.encode("utf-8") + b"\r\n" + body


def build_message(
    link: As2Link,
    data: bytes,
    *,
    message_id: str,
    file_name: str | None = None,
    content_type: str = "application/edi-consent",
    subject: str = "AS2 message",
) -> Outbound:
    """Sign, compress and encrypt ``data`` as the partner's settings say."""
    s = link.settings
    if s.sign:
        link.certificate("our_signing", "signing")
    if s.encrypt:
        link.certificate("their_encryption", "encrypting")
    lib = pyas2lib()
    if s.mdn == "async" and not s.mdn_url:
        raise ComponentError(
            f"partner {link.partner!r}: an asynchronous MDN needs as2.mdn_url "
            "(where they post it: our atom's /as2/<partner>/mdn)",
            where=link.source,
        )
    message = lib.Message(sender=link.organization(), receiver=link.partner_config())
    try:
        message.build(
            data,
            filename=file_name,
            subject=subject,
            content_type=content_type,
            message_id=message_id,
            disposition_notification_to=s.our_as2_id,
        )
    except (lib.exceptions.ImproperlyConfigured, ValueError) as exc:
        raise ComponentError(f"partner {link.partner!r}: {exc}", where=link.source) from None
    headers = {str(k): str(v) for k, v in message.headers.items()}
    mic = message.mic.decode() if message.mic else None
    return Outbound(message.message_id, headers, message.content, mic, message.digest_alg, s.mdn)


def parse_mdn(
    link: As2Link,
    headers: Mapping[str, str],
    body: bytes,
    *,
    original_message_id: str | None = None,
    mic: str | None = None,
    sent: Callable[[str], tuple[bool, str | None]] | None = None,
) -> Mdn:
    """Check an MDN for a message we sent (``mic``: the digest we signed it with).

    An asynchronous MDN names its message itself: ``sent(message_id)`` says
    whether we sent it (to this partner) and with which MIC.
    """
    lib = pyas2lib()
    partner = link.partner_config()
    found: dict[str, str | None] = {}

    def original(message_id: str, _recipient: str) -> Any:
        found["id"] = message_id
        expected = mic
        if sent is not None:
            known, expected = sent(message_id)
            if not known:
                return None
        elif original_message_id is not None and message_id != original_message_id:
            return None
        message = lib.Message(sender=link.organization(), receiver=partner)
        message.message_id = message_id
        message.mic = expected.encode() if expected else None
        return message

    mdn = lib.Mdn()
    status, detail = mdn.parse(raw_http(headers, body), find_message_cb=original)
    if status == "processed" and link.settings.signed_mdn and mdn.digest_alg is None:
        status, detail = "failed/Failure", "the MDN is not signed"
    return Mdn(found.get("id"), str(status), detail and str(detail), mdn.message_id)


def receive_message(
    link: As2Link,
    headers: Mapping[str, str],
    body: bytes,
    *,
    seen: Callable[[str], bool] | None = None,
) -> Received:
    """Decrypt and verify an inbound message from ``link``'s partner; build the MDN for it.

    Any failure (unknown AS2 ids, a body that does not decrypt, a signature that
    does not verify, security the partner's settings require but the message
    lacks) gives ``ok=False`` and a negative MDN naming it; the payload is then empty.
    ``seen(message_id)`` tells a message received before: refused as a duplicate.
    """
    lib = pyas2lib()
    organization = link.organization()
    partner = link.partner_config()
    # What we require of theirs: signed (the signature is what authenticates them on the
    # atom's token-free /as2/ route) unless as2.allow_unsigned says so; encrypted if we encrypt.
    partner.sign = not link.allow_unsigned
    partner.encrypt = bool(link.settings.encrypt)

    def find(org_id: str, partner_id: str) -> tuple[Any, Any]:
        ours = organization if org_id == link.settings.our_as2_id else None
        theirs = partner if partner_id == link.settings.as2_id else None
        return ours, theirs

    message = lib.Message()
    status, (exception, _trace), mdn = message.parse(
        raw_http(headers, body),
        find_org_partner_cb=find,
        find_message_cb=(lambda message_id, _partner: seen(message_id)) if seen else None,
    )
    ok = status == "processed" and exception is None
    detail = None
    if not ok:
        detail = str(getattr(exception, "disposition_modifier", None) or exception or status)
    payload = message.content if ok else b""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    mdn_headers: dict[str, str] = {}
    mdn_body = b""
    mode, mdn_url = "none", None
    if mdn is not None:
        mode = "async" if mdn.mdn_mode == "ASYNC" else "sync"
        mdn_url = mdn.mdn_url
        mdn_headers = {str(k): str(v) for k, v in mdn.headers.items()}
        mdn_body = mdn.content
    file_name = None
    content_type = None
    if ok and message.payload is not None:
        file_name = message.payload.get_filename()
        content_type = message.payload.get_content_type()
    return Received(
        message_id=message.message_id,
        ok=ok,
        status=str(status),
        detail=detail,
        payload=payload,
        file_name=file_name,
        content_type=content_type,
        mic=message.mic.decode() if message.mic else None,
        signed=bool(message.signed),
        encrypted=bool(message.encrypted),
        mdn_mode=mode,
        mdn_url=mdn_url,
        mdn_headers=mdn_headers,
        mdn_body=mdn_body,
        error=str(exception) if exception is not None else None,
    )
