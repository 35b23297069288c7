"""Acknowledgements for what was received: 997, 999, TA1 and CONTRL.

Built from the gathered interchange (``atomnb.b2b.interchanges``): one 997/999
interchange answers every functional group of a received X12 interchange (one
transaction set per group), a TA1 answers the interchange envelope itself, and
one CONTRL answers an EDIFACT interchange. Bodies are written here segment by
segment; envelopes and their counts come from the format writers
(``write_x12``, ``write_interchanges``), so SE01/GE01/IEA01 and UNT/UNZ are
always right.

Status letters: a set with no problem is accepted (A); delivered with problems
(lenient reading or the partner's "accept with errors" policy) accepted with
errors (E); refused, rejected (R). A group is A, E, P (some rejected) or R.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from atomnb import _clock as clock
from atomnb.b2b.interchanges import GroupInfo, InterchangeInfo, Issue, SetInfo
from atomnb.documents import Documents
from atomnb.formats.edifact.writer import write_interchanges
from atomnb.formats.x12.tokens import Delimiters
from atomnb.formats.x12.writer import EnvelopeOptions, build_isa, write_x12

__all__ = ["Acknowledgement", "Allocate", "build_acknowledgements", "set_status"]

#: Hands out the first of ``counts`` consecutive control numbers per counter.
Allocate = Callable[[Mapping[str, int]], Mapping[str, int]]

_999_VERSION = "005010X231A1"
_X12_SEGMENT = pa.struct([("id", pa.string()), ("elements", pa.list_(pa.string()))])


@dataclass(frozen=True)
class Acknowledgement:
    """One acknowledgement interchange, ready to send."""

    kind: str  # 997, 999, TA1, CONTRL
    standard: str
    acknowledges: str  # the received interchange's control number
    status: str  # A, E, P, R (X12) or 7 / 4 (CONTRL UCI 0083)
    control_number: str  # the acknowledgement interchange's own
    sender: str  # qualifier:id (ours)
    receiver: str  # qualifier:id (theirs)
    data: bytes
    partner: str | None = None

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    def segments(self) -> list[list[str]]:
        """The segments as lists of elements (for checks and display)."""
        text = self.text
        if self.standard == "x12":
            element, terminator = text[3], text[105]
        else:
            una = text.startswith("UNA")
            element = text[4] if una else "+"
            terminator = text[8] if una else "'"
            text = text[9:] if una else text
        return [s.strip("\r\n").split(element) for s in text.split(terminator) if s.strip("\r\n")]


def set_status(item: SetInfo) -> str:
    if not item.delivered:
        return "R"
    return "E" if item.issues else "A"


def build_acknowledgements(
    info: InterchangeInfo,
    kinds: list[str],
    allocate: Allocate,
    *,
    partner: str | None = None,
    delimiters: Mapping[str, str] | None = None,
    date: datetime | None = None,
) -> list[Acknowledgement]:
    """The acknowledgements ``kinds`` (997, 999, TA1, CONTRL) of one received interchange."""
    done: list[Acknowledgement] = []
    for kind in kinds:
        if kind == "CONTRL":
            done.append(_contrl(info, allocate, partner, date))
        elif kind == "TA1":
            done.append(_ta1(info, allocate, partner, delimiters, date))
        elif kind in ("997", "999"):
            if info.groups:
                done.append(_functional(info, kind, allocate, partner, delimiters, date))
        else:
            raise ValueError(f"unknown acknowledgement {kind!r} (997, 999, TA1, CONTRL)")
    return done


# -- X12 ----------------------------------------------------------------------------------


def _x12_delimiters(info: InterchangeInfo, override: Mapping[str, str] | None) -> Delimiters:
    d = {**info.delimiters, **(override or {})}
    return Delimiters(
        element=d.get("element") or "*",
        component=d.get("component") or ">",
        segment=d.get("segment") or "~",
        repetition=d.get("repetition") or None,
        line_ending=d.get("line_ending", "\n"),
    )


def _options(
    info: InterchangeInfo,
    delimiters: Delimiters,
    version: str,
    numbers: Mapping[str, int],
    date: datetime | None,
) -> EnvelopeOptions:
    return EnvelopeOptions(
        sender_id=info.receiver_id,
        receiver_id=info.sender_id,
        interchange_control_number=numbers["interchange"],
        group_control_number=numbers.get("group", 1),
        sender_qualifier=info.receiver_qualifier,
        receiver_qualifier=info.sender_qualifier,
        version=version,
        functional_id="FA",
        usage=info.usage or "P",
        date=date or clock.now(),
        delimiters=delimiters,
    )


def _functional(
    info: InterchangeInfo,
    kind: str,
    allocate: Allocate,
    partner: str | None,
    override: Mapping[str, str] | None,
    date: datetime | None,
) -> Acknowledgement:
    delimiters = _x12_delimiters(info, override)
    groups = info.groups
    numbers = allocate({"interchange": 1, "group": 1, "set": len(groups)})
    rows: list[dict[str, Any]] = []
    statuses: list[str] = []
    for offset, group in enumerate(groups):
        body, status = _group_body(group, kind, delimiters.component)
        statuses.append(status)
        st = {"ST01": kind, "ST02": str(numbers["set"] + offset).zfill(4)}
        if kind == "999":
            st["ST03"] = _999_VERSION
        rows.append({"transaction_set": kind, "ST": st, "segments": body})
    version = _999_VERSION if kind == "999" else "004010"
    options = _options(info, delimiters, version, numbers, date)
    sink = io.BytesIO()
    schema = pa.schema(
        [
            ("transaction_set", pa.string()),
            ("ST", pa.struct([(k, pa.string()) for k in rows[0]["ST"]])),
            (
                "segments",
                pa.list_(pa.struct([("id", pa.string()), ("elements", pa.list_(pa.string()))])),
            ),
        ]
    )
    write_x12(Documents(pa.Table.from_pylist(rows, schema=schema)), sink, options)
    return Acknowledgement(
        kind=kind,
        standard="x12",
        acknowledges=info.control_number,
        status=_combined(statuses),
        control_number=str(numbers["interchange"]).zfill(9),
        sender=f"{info.receiver_qualifier}:{info.receiver_id}",
        receiver=info.sender_key,
        data=sink.getvalue(),
        partner=partner,
    )


def _segment(sid: str, *elements: str) -> dict[str, Any]:
    values = list(elements)
    while values and values[-1] == "":
        values.pop()
    return {"id": sid, "elements": values}


def _group_body(group: GroupInfo, kind: str, component: str) -> tuple[list[dict[str, Any]], str]:
    five = kind == "999"
    body = [
        _segment("AK1", group.functional_id, group.control_number, group.version if five else "")
    ]
    # a set refused only with its group or interchange (a trailer) has nothing of its own
    listed = [s for s in group.sets if s.issues or s.delivered]
    for item in listed:
        body.append(
            _segment("AK2", item.set_id, item.control_number, item.implementation if five else "")
        )
        body.extend(_segment_errors(item.issues, five, component))
        status = set_status(item)
        codes = _set_codes(item)
        body.append(_segment("IK5" if five else "AK5", status, *codes[:5]))
    received = len(group.sets)
    accepted = sum(1 for s in group.sets if s.delivered)
    statuses = [set_status(s) for s in group.sets]
    status = _overall(statuses)
    group_codes = [i.code for i in group.issues][:5]
    if group_codes and status == "A":
        status = "E"
    body.append(_segment("AK9", status, str(received), str(received), str(accepted), *group_codes))
    return body, status


def _overall(statuses: list[str]) -> str:
    if not statuses or all(s == "A" for s in statuses):
        return "A" if statuses else "R"
    if all(s == "R" for s in statuses):
        return "R"
    if any(s == "R" for s in statuses):
        return "P"
    return "E"


def _combined(group_statuses: list[str]) -> str:
    """One letter for several groups: the same letter if all agree, else partly accepted."""
    if len(set(group_statuses)) == 1:
        return group_statuses[0]
    return "E" if set(group_statuses) <= {"A", "E"} else "P"


def _set_codes(item: SetInfo) -> list[str]:
    codes = [i.code for i in item.issues if i.level == "set"]
    if any(i.level in ("segment", "element") for i in item.issues):
        codes.append("5")
    return list(dict.fromkeys(codes))


def _segment_errors(issues: list[Issue], five: bool, component: str) -> list[dict[str, Any]]:
    """AK3/AK4 (997) or IK3/IK4 (999), one segment entry per segment position."""
    by_segment: dict[tuple[int, str], list[Issue]] = {}
    for issue in issues:
        if issue.level in ("segment", "element"):
            position = issue.segment_position or 0
            by_segment.setdefault((position, issue.segment_id), []).append(issue)
    out: list[dict[str, Any]] = []
    for (position, segment_id), found in sorted(by_segment.items()):
        own = [i for i in found if i.level == "segment"]
        code = own[0].code if own else "8"
        out.append(_segment("IK3" if five else "AK3", segment_id, str(position), "", code))
        for issue in (i for i in found if i.level == "element"):
            where = str(issue.element_position or "")
            if issue.component_position:
                where += f"{component}{issue.component_position}"
            value = (issue.value or "")[:99]
            out.append(_segment("IK4" if five else "AK4", where, "", issue.code, value))
    return out


def _ta1(
    info: InterchangeInfo,
    allocate: Allocate,
    partner: str | None,
    override: Mapping[str, str] | None,
    date: datetime | None,
) -> Acknowledgement:
    delimiters = _x12_delimiters(info, override)
    numbers = allocate({"interchange": 1})
    options = _options(info, delimiters, "004010", numbers, date)
    if info.interchange_version() >= "00501":
        options = _options(info, delimiters, "005010", numbers, date)
    codes = [i.code for i in info.issues]
    # a count problem read with counts="mark" leaves the sets delivered: accepted, with errors
    delivered = any(s.delivered for s in info.sets())
    status = ("E" if delivered else "R") if codes else "A"
    e, end = delimiters.element, delimiters.segment + delimiters.line_ending
    ta1 = e.join(
        ["TA1", info.control_number, info.date, info.time, status, codes[0] if codes else "000"]
    )
    control = str(numbers["interchange"]).zfill(9)
    text = build_isa(options) + end + ta1 + end + e.join(["IEA", "0", control]) + end
    return Acknowledgement(
        kind="TA1",
        standard="x12",
        acknowledges=info.control_number,
        status=status,
        control_number=control,
        sender=f"{info.receiver_qualifier}:{info.receiver_id}",
        receiver=info.sender_key,
        data=text.encode("utf-8"),
        partner=partner,
    )


# -- EDIFACT ------------------------------------------------------------------------------


def _contrl(
    info: InterchangeInfo, allocate: Allocate, partner: str | None, date: datetime | None
) -> Acknowledgement:
    numbers = allocate({"interchange": 1, "set": 1})
    sets = info.sets()
    statuses = [set_status(s) for s in sets]
    delivered = any(s.delivered for s in sets)
    rejected = (bool(info.issues) and not delivered) or (
        bool(sets) and all(s == "R" for s in statuses)
    )
    overall = "4" if rejected else "7"
    sender = _party(info.sender_id, info.sender_qualifier)
    recipient = _party(info.receiver_id, info.receiver_qualifier)
    uci: list[list[str]] = [[info.control_number], sender, recipient, [overall]]
    if info.issues:
        uci.append([info.issues[0].code])
    segments: list[dict[str, Any]] = [{"tag": "UCI", "elements": uci}]
    for item in sets:
        version = item.version.split(":") if item.version else [item.set_id]
        ucm: list[list[str]] = [
            [item.control_number],
            version,
            ["4" if not item.delivered else "7"],
        ]
        message_codes = [i.code for i in item.issues if i.level == "set"]
        if message_codes:
            ucm.append([message_codes[0]])
        segments.append({"tag": "UCM", "elements": ucm})
        for issue in item.issues:
            if issue.level == "segment":
                segments.append(
                    {"tag": "UCS", "elements": [[str(issue.segment_position or "")], [issue.code]]}
                )
            elif issue.level == "element":
                segments.append({"tag": "UCS", "elements": [[str(issue.segment_position or "")]]})
                where = [str(issue.element_position or "")]
                if issue.component_position:
                    where.append(str(issue.component_position))
                segments.append({"tag": "UCD", "elements": [[issue.code], where]})
    ref = str(numbers["set"])
    control = str(numbers["interchange"])
    table = pa.Table.from_pylist(
        [{"message_type": "CONTRL", "segments": segments}],
        schema=pa.schema(
            [
                ("message_type", pa.string()),
                (
                    "segments",
                    pa.list_(
                        pa.struct(
                            [("tag", pa.string()), ("elements", pa.list_(pa.list_(pa.string())))]
                        )
                    ),
                ),
            ]
        ),
    )
    una = info.delimiters.get("una") or ""
    properties = {
        "edifact.version": pa.array(["D:3:UN"]),
        "edifact.message_ref": pa.array([ref]),
        "edifact.una": pa.array([una]),
    }
    sink = io.BytesIO()
    write_interchanges(
        Documents(table, properties),
        sink,
        syntax=info.syntax or "UNOC:3",
        sender=":".join(recipient),
        recipient=":".join(sender),
        interchange_ref=control,
        segment_end="",
    )
    return Acknowledgement(
        kind="CONTRL",
        standard="edifact",
        acknowledges=info.control_number,
        status=overall,
        control_number=control,
        sender=f"{info.receiver_qualifier}:{info.receiver_id}",
        receiver=info.sender_key,
        data=sink.getvalue(),
        partner=partner,
    )


def _party(party: str, qualifier: str) -> list[str]:
    return [party, qualifier] if qualifier else [party]
