"""One AS2 relationship, ready to use: the partner's ``as2:`` settings and the certificates.

The partner component (``atomnb.components.partners``) says who is who and
which certificate components play which role; this module loads those
certificates (refusing expired ones, warning about ones ending soon) and turns
both sides into pyas2lib's ``Organization`` (us: sign and decrypt keys) and
``Partner`` (them: verify and encrypt certificates, what we ask of their MDNs).

Certificate roles (``as2.certificates``): ``our_signing`` and ``our_decryption``
(components with a private key reference), ``their_signing`` and
``their_encryption`` (their public certificates). A role that is not set is
only an error when a message needs it (signing, encrypting, verifying).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from atomnb.b2b.as2.oscrypto_fix import install
from atomnb.components import Workspace
from atomnb.components.certificates import Certificate, load_certificate
from atomnb.components.partners import As2Settings, load_partner
from atomnb.errors import ComponentError
from atomnb.process.secrets import register_secret

__all__ = ["ROLES", "As2Link", "load_link", "pyas2lib"]

ROLES = ("our_signing", "our_decryption", "their_signing", "their_encryption")
#: Seconds an AS2 POST may take, unless the partner's ``as2.timeout_s`` says otherwise.
DEFAULT_TIMEOUT_S = 60.0


def pyas2lib() -> Any:
    """The pyas2lib module, imported after oscrypto's version check is fixed (see oscrypto_fix).

    Its logger writes whole payloads at debug level: kept at warning, so documents
    never reach the atom's log whatever the root level is.
    """
    install()
    import pyas2lib as module  # type: ignore[import-untyped]

    logging.getLogger("pyas2lib").setLevel(logging.WARNING)
    return module


@dataclass(frozen=True)
class As2Link:
    """A partner's AS2 settings with its certificate components loaded (and checked)."""

    partner: str
    settings: As2Settings
    certificates: dict[str, Certificate] = field(default_factory=dict)
    source: str = ""

    @property
    def process(self) -> str | None:
        """The process an inbound message from this partner runs (``as2.process``)."""
        value = self.settings.extra.get("process")
        return str(value) if value else None

    @property
    def allow_unsigned(self) -> bool:
        """Accept unsigned inbound messages (``as2.allow_unsigned: true``): anyone could send."""
        return self.settings.extra.get("allow_unsigned") is True

    @property
    def timeout_s(self) -> float:
        return float(self.settings.extra.get("timeout_s") or DEFAULT_TIMEOUT_S)

    def certificate(self, role: str, why: str) -> Certificate:
        found = self.certificates.get(role)
        if found is None:
            raise ComponentError(
                f"partner {self.partner!r}: {why} needs the as2.certificates.{role} certificate",
                where=self.source,
                hint="name a certificate component there (components/certificates/NAME.yaml)",
            )
        return found

    def organization(self) -> Any:
        """pyas2lib's ``Organization``: our AS2 id with our signing and decryption keys.

        Made once per link (loading keys costs more than signing a small message).
        """
        return self._organization

    @cached_property
    def _organization(self) -> Any:
        lib = pyas2lib()
        keys: dict[str, Any] = {}
        for role, key, password in (
            ("our_signing", "sign_key", "sign_key_pass"),
            ("our_decryption", "decrypt_key", "decrypt_key_pass"),
        ):
            cert = self.certificates.get(role)
            if cert is not None and cert.has_private_key:
                pem = cert.private_key_pem()
                secret = cert.private_key_password()
                register_secret(pem.decode(), secret)  # scrubbed from a run's output and logs
                keys[key] = pem + b"\n" + cert.pem
                keys[password] = secret
        try:
            return lib.Organization(
                as2_name=self.settings.our_as2_id,
                mdn_url=self.settings.mdn_url,
                domain=_domain(self.settings.our_as2_id),
                **keys,
            )
        except lib.exceptions.AS2Exception as exc:
            raise ComponentError(
                f"partner {self.partner!r}: our private key does not load: {exc}",
                where=self.source,
            ) from None

    def partner_config(self) -> Any:
        """pyas2lib's ``Partner``: their AS2 id, certificates and what we ask of them (a copy)."""
        return copy.copy(self._partner)

    @cached_property
    def _partner(self) -> Any:
        lib = pyas2lib()
        s = self.settings
        verify = self.certificates.get("their_signing")
        encrypt = self.certificates.get("their_encryption")
        mode = {"sync": "SYNC", "async": "ASYNC"}.get(s.mdn)
        try:
            return lib.Partner(
                as2_name=s.as2_id,
                verify_cert=verify.pem if verify else None,
                encrypt_cert=encrypt.pem if encrypt else None,
                compress=s.compress,
                sign=bool(s.sign),
                digest_alg=s.sign or "sha256",
                encrypt=bool(s.encrypt),
                enc_alg=s.encrypt or "aes_256_cbc",
                mdn_mode=mode,
                mdn_digest_alg=(s.sign or "sha256") if s.signed_mdn and mode else None,
            )
        except lib.exceptions.ImproperlyConfigured as exc:
            raise ComponentError(f"partner {self.partner!r}: {exc}", where=self.source) from None


def _domain(as2_id: str) -> str:
    """The right side of our message ids: our AS2 id made a host name (not this machine's)."""
    return "".join(c if c.isalnum() or c in "-." else "-" for c in as2_id.lower()) or "atomnb"


def load_link(
    partner: str, workspace: Workspace | str | Path | None = None, env: str | None = None
) -> As2Link:
    """The AS2 link to ``partner``; its certificates are checked for expiry as they load."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.find(workspace or None)
    loaded = load_partner(partner, ws, env)
    if loaded.as2 is None:
        raise ComponentError(
            f"partner {partner!r} has no as2 settings",
            where=loaded.source,
            hint="add an as2: section (as2_id, our_as2_id, url, certificates, mdn)",
        )
    certificates: dict[str, Certificate] = {}
    for role, name in loaded.as2.certificates.items():
        if role not in ROLES:
            raise ComponentError(
                f"as2.certificates.{role} is not a certificate role ({', '.join(ROLES)})",
                where=loaded.source,
            )
        certificates[role] = load_certificate(str(name), ws)
    return As2Link(partner, loaded.as2, certificates, loaded.source)
