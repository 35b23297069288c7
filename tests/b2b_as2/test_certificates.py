"""Certificate components: PEM in the workspace, key by reference, expiry warned and refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from atomnb.components import Workspace
from atomnb.components.certificates import (
    CertificateExpiryWarning,
    list_certificates,
    load_certificate,
    save_certificate,
)
from atomnb.errors import ComponentError
from tests.b2b_as2.helpers import add_own_certificate, make_certificate


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.init(tmp_path / "ws", name="certs")


def test_own_certificate_loads_with_its_key_from_a_reference(ws: Workspace, tmp_path: Path) -> None:
    add_own_certificate(ws, "myco", tmp_path / "keys")
    cert = load_certificate("myco", ws)
    assert cert.subject == "CN=myco"
    assert 360 < cert.days_left() < 366
    assert cert.private_key_pem().startswith(b"-----BEGIN PRIVATE KEY-----")
    text = (ws.components_dir / "certificates" / "myco.yaml").read_text()
    assert "file:" in text and "BEGIN PRIVATE KEY" not in text  # only the reference is kept
    assert list_certificates(ws) == ["myco"]


def test_a_literal_private_key_is_refused(ws: Workspace, tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path / "keys", "leaky")
    with pytest.raises(ComponentError, match="private_key must be a secret reference") as err:
        save_certificate("leaky", cert, private_key=key.read_text(), workspace=ws)
    assert "body.private_key" in str(err.value.where)


def test_expired_certificate_is_refused_naming_file_and_date(ws: Workspace, tmp_path: Path) -> None:
    add_own_certificate(ws, "old", tmp_path / "keys", expired=True)
    with pytest.raises(ComponentError, match=r"certificate 'old' \(CN=old\) expired on") as err:
        load_certificate("old", ws)
    assert str(err.value.where).endswith("certificates/old.yaml")
    assert load_certificate("old", ws, check=False).days_left() < 0  # still readable to show


def test_soon_expiring_certificate_is_warned(ws: Workspace, tmp_path: Path) -> None:
    add_own_certificate(ws, "soon", tmp_path / "keys", days=10)
    with pytest.warns(CertificateExpiryWarning, match=r"'soon' \(CN=soon\) expires in 10 days"):
        load_certificate("soon", ws)


def test_a_missing_or_broken_pem_names_the_file(ws: Workspace) -> None:
    folder = ws.components_dir / "certificates"
    folder.mkdir(parents=True)
    (folder / "broken.pem").write_text("-----BEGIN CERTIFICATE-----\nnope\n")
    with pytest.raises(ComponentError, match="not a PEM certificate"):
        save_certificate("broken", folder / "broken.pem", workspace=ws)
    with pytest.raises(ComponentError, match="cannot read the certificate file"):
        save_certificate("gone", folder / "gone.pem", workspace=ws)
