"""Certificate components: a public certificate, and for our own a private key by reference.

``components/certificates/<name>.yaml`` is a component file whose body names a
PEM certificate (a path relative to the workspace root, so it travels in a
deployment package with the other components, or the PEM text itself) and, for
a certificate of ours, the private key as a secret *reference* (``env:``,
``file:`` or ``atom:``; see ``atomnb.components.resolve_secret``)::

    body:
      certificate: components/certificates/myco.pem
      private_key: file:/etc/atomnb/myco.key     # ours only; never the key itself
      private_key_password: env:MYCO_KEY_PASSWORD  # when the key is encrypted

Expiry is what breaks B2B links in practice, and it comes on a known date: a
certificate within ``WARN_DAYS`` of its end gives a ``CertificateExpiryWarning``
each time it is loaded (and the atom logs one at start); an expired one, or one
not valid yet, is refused with a ``ComponentError`` naming the file and the date.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509

from atomnb.components.environments import is_secret_reference, resolve_secret
from atomnb.components.files import (
    ComponentFile,
    component_path,
    load_component,
    save_component,
)
from atomnb.components.workspace import Workspace
from atomnb.errors import ComponentError

__all__ = [
    "COMPONENT_KIND",
    "WARN_DAYS",
    "Certificate",
    "CertificateExpiryWarning",
    "list_certificates",
    "load_certificate",
    "save_certificate",
]

COMPONENT_KIND = "certificate"
#: A certificate this close to its end is warned about at every load.
WARN_DAYS = 30
_SECRET_KEYS = ("private_key", "private_key_password")


class CertificateExpiryWarning(UserWarning):
    """A certificate ends within ``WARN_DAYS``: renew it and send the partner the new one."""


@dataclass(frozen=True)
class Certificate:
    """A loaded certificate component: the PEM, its validity, and where its key is."""

    name: str
    pem: bytes
    subject: str
    not_before: datetime
    not_after: datetime
    private_key_ref: str | None = None
    private_key_password_ref: str | None = None
    source: str = ""

    @property
    def has_private_key(self) -> bool:
        return self.private_key_ref is not None

    def days_left(self, now: datetime | None = None) -> float:
        return (self.not_after - (now or datetime.now(UTC))) / timedelta(days=1)

    def private_key_pem(self) -> bytes:
        """The private key's PEM, resolved from its reference now (never kept in the object)."""
        if self.private_key_ref is None:
            raise ComponentError(
                f"certificate {self.name!r} has no private key (it is a partner's certificate?)",
                where=self.source,
                hint="add private_key: env:VAR | file:/path | atom:NAME to its body",
            )
        return resolve_secret(self.private_key_ref, name=f"{self.name}.private_key").encode()

    def private_key_password(self) -> str | None:
        if self.private_key_password_ref is None:
            return None
        return resolve_secret(self.private_key_password_ref, name=f"{self.name}.password")

    def check(self, now: datetime | None = None) -> None:
        """Refuse an expired (or not yet valid) certificate; warn when it ends soon."""
        now = now or datetime.now(UTC)
        if now > self.not_after:
            raise ComponentError(
                f"certificate {self.name!r} ({self.subject}) expired on "
                f"{self.not_after:%Y-%m-%d %H:%M} UTC",
                where=self.source,
                hint="renew it, exchange the new certificate with the partner, update the file",
            )
        if now < self.not_before:
            raise ComponentError(
                f"certificate {self.name!r} ({self.subject}) is not valid before "
                f"{self.not_before:%Y-%m-%d %H:%M} UTC",
                where=self.source,
            )
        days = self.days_left(now)
        if days < WARN_DAYS:
            warnings.warn(
                CertificateExpiryWarning(
                    f"certificate {self.name!r} ({self.subject}) expires in {days:.0f} days, "
                    f"on {self.not_after:%Y-%m-%d} ({self.source})"
                ),
                stacklevel=3,
            )


def _workspace(workspace: Workspace | str | Path | None) -> Workspace:
    if isinstance(workspace, Workspace):
        return workspace
    return Workspace.find(workspace or os.environ.get("ATOMNB_WORKSPACE") or None)


def load_certificate(
    name: str,
    workspace: Workspace | str | Path | None = None,
    *,
    check: bool = True,
    now: datetime | None = None,
) -> Certificate:
    """The certificate component ``name``; checked for expiry unless ``check=False``."""
    ws = _workspace(workspace)
    component = load_component(ws.components_dir, COMPONENT_KIND, name)
    where = str(component_path(ws.components_dir, COMPONENT_KIND, name))
    certificate = _parse(name, component.body, ws.root, where)
    if check:
        certificate.check(now)
    return certificate


def list_certificates(workspace: Workspace | str | Path | None = None) -> list[str]:
    folder = _workspace(workspace).components_dir / f"{COMPONENT_KIND}s"
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def save_certificate(
    name: str,
    certificate: str | Path,
    *,
    private_key: str | None = None,
    private_key_password: str | None = None,
    workspace: Workspace | str | Path | None = None,
) -> Path:
    """Write the component for the PEM file ``certificate`` (inside the workspace)."""
    ws = _workspace(workspace)
    body: dict[str, Any] = {"certificate": ws.relative(Path(certificate))}
    if private_key is not None:
        body["private_key"] = private_key
    if private_key_password is not None:
        body["private_key_password"] = private_key_password
    where = str(component_path(ws.components_dir, COMPONENT_KIND, name))
    _parse(name, body, ws.root, where)  # refuses what would not load
    save_component(ws.components_dir, ComponentFile(COMPONENT_KIND, name, body))
    return component_path(ws.components_dir, COMPONENT_KIND, name)


def _parse(name: str, body: dict[str, Any], root: Path, where: str) -> Certificate:
    for key in _SECRET_KEYS:
        value = body.get(key)
        if value is not None and not is_secret_reference(value):
            raise ComponentError(
                f"{key} must be a secret reference (env:VAR, file:/path or atom:NAME), "
                "never the key itself",
                where=f"{where}, body.{key}",
            )
    given = body.get("certificate")
    if not isinstance(given, str) or not given.strip():
        raise ComponentError("no certificate (a PEM file path)", where=f"{where}, body.certificate")
    if given.lstrip().startswith("-----BEGIN"):
        pem = given.encode()
    else:
        path = Path(given) if Path(given).is_absolute() else root / given
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise ComponentError(
                f"cannot read the certificate file {path}: {exc.strerror}",
                where=f"{where}, body.certificate",
            ) from None
    try:
        parsed = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise ComponentError(
            f"not a PEM certificate: {exc}", where=f"{where}, body.certificate"
        ) from None
    return Certificate(
        name=name,
        pem=pem,
        subject=parsed.subject.rfc4514_string(),
        not_before=parsed.not_valid_before_utc,
        not_after=parsed.not_valid_after_utc,
        private_key_ref=body.get("private_key"),
        private_key_password_ref=body.get("private_key_password"),
        source=where,
    )
