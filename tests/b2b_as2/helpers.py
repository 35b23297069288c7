"""Certificates and AS2 partner components made in the test: self-signed RSA, nothing on disk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from atomnb.components import Workspace
from atomnb.components.certificates import save_certificate
from atomnb.components.partners import save_partner


def make_certificate(
    folder: Path, name: str, *, days: float = 365, expired: bool = False
) -> tuple[Path, Path]:
    """A self-signed RSA certificate and its key as PEM files: (certificate, key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    start = now - timedelta(days=400 if expired else 1)
    end = now - timedelta(days=1) if expired else now + timedelta(days=days)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path = folder / f"{name}.pem"
    key_path = folder / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def add_own_certificate(ws: Workspace, name: str, keys: Path, **options: Any) -> None:
    """Our certificate in the workspace; the key stays outside it, named by a file: reference."""
    cert, key = make_certificate(keys, name, **options)
    inside = ws.components_dir / "certificates" / f"{name}.pem"
    inside.parent.mkdir(parents=True, exist_ok=True)
    inside.write_bytes(cert.read_bytes())
    save_certificate(name, inside, private_key=f"file:{key}", workspace=ws)


def add_their_certificate(ws: Workspace, name: str, pem: bytes) -> None:
    inside = ws.components_dir / "certificates" / f"{name}.pem"
    inside.parent.mkdir(parents=True, exist_ok=True)
    inside.write_bytes(pem)
    save_certificate(name, inside, workspace=ws)


def add_as2_partner(
    ws: Workspace,
    name: str,
    *,
    their_id: str,
    our_id: str,
    url: str | None,
    ours: str,
    theirs: str,
    **as2: Any,
) -> None:
    body = {
        "standard": "x12",
        "identity": {"isa_id": their_id[:15]},
        "us": {"isa_id": our_id[:15]},
        "transport": {"kind": "as2"},
        "as2": {
            "as2_id": their_id,
            "our_as2_id": our_id,
            "url": url,
            "certificates": {
                "our_signing": ours,
                "our_decryption": ours,
                "their_signing": theirs,
                "their_encryption": theirs,
            },
            **as2,
        },
    }
    save_partner(name, body, ws)
