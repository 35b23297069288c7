"""Partner components: load, environment overrides, and errors that name file and field."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml

from atomnb.components import Workspace
from atomnb.components.partners import list_partners, load_partner, save_partner
from atomnb.errors import ComponentError
from tests.b2b.conftest import ACME, partner_dir


def test_partner_loads_with_its_settings(b2b_workspace: Workspace) -> None:
    acme = load_partner("acme", b2b_workspace)
    assert acme.standard == "x12"
    assert (acme.identity.isa_qualifier, acme.identity.isa_id, acme.identity.gs_id) == (
        "ZZ",
        "ACME",
        "ACMEGS",
    )
    assert acme.us.gs_id == "MYCO"  # defaults to the ISA id
    assert acme.usage == "T"
    assert acme.ack_expect == "997" and acme.ack_within == timedelta(hours=24)
    assert acme.duplicate_window == timedelta(days=30)
    assert acme.exchanges("850", "inbound") and not acme.exchanges("850", "outbound")
    assert acme.transport == {"kind": "sftp", "connection": "acme_sftp"}
    assert list_partners(b2b_workspace) == ["acme", "euroshop"]
    euro = load_partner("euroshop", b2b_workspace)
    assert euro.validation == "accept_with_errors" and euro.ack_send == "CONTRL"


def test_environment_overrides_merge_key_by_key(b2b_workspace: Workspace) -> None:
    (b2b_workspace.extensions_dir / "prod.toml").write_text(
        '[partners.acme]\nusage = "P"\n[partners.acme.identity]\nisa_id = "ACMEPROD"\n'
        '[partners.acme.acknowledgement]\nwithin = "2h"\n',
        encoding="utf-8",
    )
    prod = load_partner("acme", b2b_workspace, env="prod")
    assert prod.usage == "P"
    assert prod.identity.isa_id == "ACMEPROD"
    assert prod.identity.gs_id == "ACMEGS"  # kept: tables merge
    assert prod.ack_within == timedelta(hours=2) and prod.ack_expect == "997"
    assert load_partner("acme", b2b_workspace).identity.isa_id == "ACME"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"identity": {"isa_qualifier": "Z", "isa_id": "ACME"}}, "identity.isa_qualifier", "two"),
        ({"identity": {"isa_id": "X" * 16}}, "identity.isa_id", "longer than 15"),
        ({"acknowledgement": {"send": "CONTRL"}}, "acknowledgement.send", "not an ack"),
        ({"acknowledgement": {"within": "soon"}}, "acknowledgement.within", "not a duration"),
        ({"validation": "maybe"}, "validation", "'maybe' is not one of"),
        ({"transport": {"kind": "sftp"}}, "transport.connection", "required"),
        ({"documents": [{"type": "850", "direction": "sideways"}]}, "documents[0].direction", ""),
        ({"colour": "red"}, "colour", "unknown field"),
    ],
)
def test_bad_partner_names_file_and_field(
    b2b_workspace: Workspace, change: dict[str, object], field: str, words: str
) -> None:
    path = partner_dir(b2b_workspace) / "acme.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["body"] = {**raw["body"], **change}
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ComponentError) as caught:
        load_partner("acme", b2b_workspace)
    text = str(caught.value)
    assert str(path) in text
    assert field in text
    assert words in text


def test_literal_secret_is_refused_on_save(workspace: Workspace) -> None:
    body = {**ACME, "as2": {"as2_id": "A", "our_as2_id": "B", "key_password": "hunter2"}}
    with pytest.raises(ComponentError, match=r"as2\.key_password must be a reference"):
        save_partner("acme", body, workspace)
    assert not (partner_dir(workspace) / "acme.yaml").exists()


def test_as2_section_is_read_for_the_as2_helper(workspace: Workspace) -> None:
    body = {
        **ACME,
        "transport": {"kind": "as2"},
        "as2": {
            "as2_id": "ACME-AS2",
            "our_as2_id": "MYCO-AS2",
            "url": "http://127.0.0.1:1/as2/myco",
            "certificates": {"their_signing": "acme_cert", "our_signing": "myco_key"},
            "mdn": "async",
            "encrypt": None,
            "process": "inbound_orders",
        },
    }
    save_partner("acme", body, workspace)
    as2 = load_partner("acme", workspace).as2
    assert as2 is not None
    assert (as2.as2_id, as2.our_as2_id, as2.mdn, as2.encrypt, as2.sign) == (
        "ACME-AS2",
        "MYCO-AS2",
        "async",
        None,
        "sha256",
    )
    assert as2.certificates["their_signing"] == "acme_cert"
    assert as2.extra == {"process": "inbound_orders"}
    with pytest.raises(ComponentError, match="as2 table"):
        save_partner("acme", {**ACME, "transport": {"kind": "as2"}}, workspace)


def test_unknown_partner_lists_the_known_ones(b2b_workspace: Workspace) -> None:
    with pytest.raises(ComponentError, match="known partners: acme, euroshop"):
        load_partner("nobody", b2b_workspace)
