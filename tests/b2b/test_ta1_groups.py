"""TA1 segments between ISA and the first GS: read, kept, written back and reconciled.

X12 lets an interchange that carries functional groups also carry interchange
acknowledgements (TA1) right after its ISA. The reader keeps them as ``x12.ta1``;
an interchange of TA1s only becomes an ``x12.ta1-only`` rejection (no set to carry
it); ``ab.receive_b2b`` matches both kinds to the interchanges we sent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import atomnb as ab
from atomnb.components import Workspace
from atomnb.components.partners import save_partner
from atomnb.errors import FormatError
from atomnb.store.b2b import B2BStore
from tests.b2b.conftest import ACME
from tests.b2b.test_reconcile import send_invoice

ISA = (
    "ISA*00*          *00*          *ZZ*ACME           *ZZ*MYCO           *261205*1300*U*"
    "00401*{number}*0*T*>~"
)


def group(number: str, acknowledged: str, status: str = "A") -> str:
    return (
        f"GS*FA*ACMEGS*MYCO*20261205*1300*{number}*X*004010~ST*997*0001~"
        f"AK1*IN*{acknowledged}~AK9*{status}*1*1*1~SE*4*0001~GE*1*{number}~"
    )


def interchange(number: str, ta1s: list[str], groups: list[str]) -> str:
    head = ISA.format(number=number) + "".join(t + "~" for t in ta1s)
    return head + "".join(groups) + f"IEA*{len(groups)}*{number}~\n"


def test_reader_keeps_ta1_segments_before_the_first_group(tmp_path: Path) -> None:
    ta1s = ["TA1*000000042*261205*1200*A*000", "TA1*000000043*261205*1201*E*022"]
    text = interchange("000000700", ta1s, [group("7", "1"), group("8", "2")])
    plain = interchange("000000701", [], [group("9", "3")])
    source = tmp_path / "acks.x12"
    source.write_text(text + plain, encoding="ascii")
    docs = ab.read(source, format="x12")
    assert len(docs) == 3 and docs.rejections == ()
    assert docs.properties_of(0)["x12.ta1"] == ta1s
    assert docs.properties_of(1)["x12.ta1"] == ta1s
    assert docs.properties_of(2)["x12.ta1"] is None  # the next interchange had none
    target = tmp_path / "back.x12"
    ab.write(docs, target, format="x12")
    assert target.read_bytes() == source.read_bytes()  # TA1s written back in place


def test_a_file_without_ta1_has_no_ta1_property(tmp_path: Path) -> None:
    docs = ab.read(interchange("000000701", [], [group("9", "3")]).encode(), format="x12")
    assert "x12.ta1" not in docs.property_names


@pytest.mark.parametrize(
    ("text", "segment"),
    [
        # a TA1 after a group has started is not allowed
        (ISA.format(number="000000702") + group("7", "1") + "TA1*1*2*3*A*000~IEA*1*000000702~",
         "TA1"),
        # only TA1 may stand between ISA and GS
        (ISA.format(number="000000703") + "BIG*20261205*7~" + group("7", "1")
         + "IEA*1*000000703~", "BIG"),
    ],
)  # fmt: skip
def test_other_segments_outside_a_set_still_break_the_envelope(text: str, segment: str) -> None:
    with pytest.raises(FormatError, match=f"segment {segment} is outside any transaction set"):
        ab.read(text.encode(), format="x12")


def test_an_interchange_of_ta1s_only_is_handed_on_not_dropped() -> None:
    only = ISA.format(number="000000704") + "TA1*000000042*261205*1200*R*024~IEA*0*000000704~"
    docs = ab.read((only + interchange("000000705", [], [group("9", "3")])).encode(), format="x12")
    assert len(docs) == 1  # the other interchange's set
    (refused,) = docs.rejections
    assert refused.rule == "x12.ta1-only"
    assert "interchange 000000704 holds only TA1 acknowledgements (1)" in refused.message
    assert refused.raw == only.encode()
    assert refused.properties is not None
    assert refused.properties["x12.ta1"] == ["TA1*000000042*261205*1200*R*024"]


def test_receive_matches_a_ta1_that_travels_with_groups(
    workspace: Workspace, b2b: B2BStore
) -> None:
    save_partner("acme", {**ACME, "acknowledgement": {"expect": "TA1", "send": "none"}}, workspace)
    out = send_invoice(workspace, b2b)
    ta1 = f"TA1*{out.interchange_control_number}*261205*1200*A*000"
    data = interchange("000000800", [ta1], [group("7", "99")]).encode()
    receipt = ab.receive_b2b(ab.read(data, format="x12"), workspace=workspace, store=b2b)
    kinds = {(m.kind, m.sent_id) for m in receipt.matched}
    assert ("TA1", out.sent_id) in kinds  # the TA1 answered our interchange
    assert ("997", None) in kinds  # the 997 answers a group we never sent
    assert receipt.rejections == []
    (done,) = b2b.sent("acme")
    assert done.acked_at is not None and done.ack_status == "A"
    assert done.ack_detail is not None and done.ack_detail["kind"] == "TA1"
    batch = receipt.batch("acme", "997")
    assert batch is not None and len(batch) == 1  # the group's 997 still routed


def test_receive_matches_a_ta1_only_interchange_read_with_others(
    workspace: Workspace, b2b: B2BStore
) -> None:
    save_partner("acme", {**ACME, "acknowledgement": {"expect": "TA1", "send": "none"}}, workspace)
    out = send_invoice(workspace, b2b)
    only = (
        ISA.format(number="000000801")
        + f"TA1*{out.interchange_control_number}*261205*1200*R*024~IEA*0*000000801~"
    )
    docs = ab.read((only + interchange("000000802", [], [group("9", "3")])).encode(), format="x12")
    receipt = ab.receive_b2b(docs, workspace=workspace, store=b2b)
    assert [(m.kind, m.status, m.sent_id) for m in receipt.matched if m.kind == "TA1"] == [
        ("TA1", "R", out.sent_id)
    ]
    assert receipt.rejections == []  # the TA1-only interchange was used, not refused
    assert b2b.open_sent("acme") == []


def test_ta1_only_interchange_from_an_unknown_sender_is_refused(
    workspace: Workspace, b2b: B2BStore
) -> None:
    save_partner("acme", ACME, workspace)
    only = (
        ISA.format(number="000000803").replace("ACME   ", "OTHER  ")
        + "TA1*000000001*261205*1200*A*000~IEA*0*000000803~"
    )
    receipt = ab.receive_b2b(only.encode(), workspace=workspace, store=b2b)
    (refused,) = receipt.rejections
    assert refused.rule == "b2b.unknown-partner" and "ZZ:OTHER" in refused.message
    assert refused.raw == only.encode()
