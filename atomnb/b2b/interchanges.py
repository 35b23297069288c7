"""What was received, interchange by interchange: the facts acknowledgements are built from.

A read batch is flat (one document per transaction set or message, refused ones
beside it as rejections); an acknowledgement answers per interchange, group and
set. ``gather`` puts the batch back into that tree from the envelope properties
(``x12.isa``/``x12.gs``, ``edifact.unb``) and turns every problem the reader
reported (``x12.problems`` / ``edifact.problems`` on delivered sets,
``Rejection.problems`` on refused ones, or the rejection's rule and message from
older readers) into an ``Issue`` with the level it spoils and the standard's code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from atomnb.b2b.issues import Issue, problem_issues, rule_issues
from atomnb.documents import Documents, Rejection
from atomnb.errors import DocumentError

__all__ = ["TA1_ONLY", "GroupInfo", "InterchangeInfo", "Issue", "SetInfo", "gather"]

#: The X12 reader's rule for an interchange of TA1 segments only (no group, no set).
TA1_ONLY = "x12.ta1-only"


@dataclass
class SetInfo:
    """A transaction set (X12) or message (EDIFACT) as received."""

    set_id: str
    control_number: str
    delivered: bool
    index: int | None  # position among the delivered documents
    issues: list[Issue] = field(default_factory=list)
    implementation: str = ""  # ST03 (5010)
    version: str = ""  # EDIFACT S009: type:version:release:agency


@dataclass
class GroupInfo:
    functional_id: str
    control_number: str
    version: str
    sets: list[SetInfo] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


@dataclass
class InterchangeInfo:
    """One interchange's envelope facts, groups and sets."""

    standard: str  # x12 | edifact
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    control_number: str
    usage: str  # X12 ISA15 T/P; EDIFACT "T" when UNB 0035 = 1
    envelope: str  # the ISA or UNB text
    date: str = ""
    time: str = ""
    ack_requested: bool = False  # ISA14 = 1 / UNB 0031 = 1
    syntax: str = ""  # EDIFACT UNB S001 (UNOC:3)
    delimiters: dict[str, str] = field(default_factory=dict)
    groups: list[GroupInfo] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    #: TA1 segments (text) the interchange carried between ISA and its first GS
    ta1: list[str] = field(default_factory=list)

    @property
    def sender_key(self) -> str:
        return f"{self.sender_qualifier}:{self.sender_id}"

    def interchange_version(self) -> str:
        """ISA12 (00401, 00501) of an X12 interchange; "" for EDIFACT."""
        if self.standard != "x12":
            return ""
        return (self.envelope.split(self.envelope[3]) + [""] * 13)[12]

    def sets(self) -> list[SetInfo]:
        return [s for g in self.groups for s in g.sets]


def gather(documents: Documents) -> list[InterchangeInfo]:
    """The interchanges of a read batch, in order, with every set's issues."""
    found: dict[str, InterchangeInfo] = {}
    groups: dict[tuple[str, str], GroupInfo] = {}
    names = set(documents.property_names)
    standard = "x12" if "x12.isa" in names else "edifact" if "edifact.unb" in names else ""
    for index, (row, props) in enumerate(_envelope_columns(documents)):
        group = _place(props, standard, found, groups)
        item = _set(row, props, standard, True, index)
        # a delivered set marked with its group's or interchange's trailer problem (read
        # with counts="mark"): the problem belongs to that level, once
        interchange = found[_interchange_key(props, standard)]
        for issue in [i for i in item.issues if i.level in ("group", "interchange")]:
            item.issues.remove(issue)
            owner = interchange if issue.level == "interchange" else group
            if all(i.code != issue.code for i in owner.issues):
                owner.issues.append(issue)
        group.sets.append(item)
    for rejection in documents.rejections:
        if rejection.rule == TA1_ONLY:
            continue  # not a set: inbound matches its TA1s (nothing to acknowledge)
        props = dict(getattr(rejection, "properties", None) or {})
        if not props:
            props = _envelope_guess(documents, standard)
        if not props:
            raise DocumentError(
                f"cannot acknowledge: rejection {rejection} carries no envelope and no other "
                "document of the batch tells which interchange it came from",
                hint="acknowledge the batch as read (ab.read of the whole interchange)",
            )
        kind = standard or ("x12" if "x12.isa" in props else "edifact")
        problems = getattr(rejection, "problems", None)
        issues = problem_issues(problems, kind) if problems else rule_issues(rejection, kind)
        upper = [i for i in issues if i.level in ("group", "interchange")]
        group = _place(props, kind, found, groups)
        for issue in upper:
            owner = found[_interchange_key(props, kind)] if issue.level == "interchange" else group
            if all(i.code != issue.code for i in owner.issues):
                owner.issues.append(issue)
        if not (rejection.raw or b"").lstrip().startswith((b"ST", b"UNH")):
            continue  # a trailer's own rejection: no set to list
        lower = [i for i in issues if i.level not in ("group", "interchange")]
        group.sets.append(_rejected_set(rejection, kind, lower))
    return list(found.values())


_ROW_COLUMNS = ("transaction_set", "ST", "message_type", "UNH")
_PROPERTIES = (
    "file_name", "x12.isa", "x12.gs", "x12.delimiters", "x12.transaction_set_control_number",
    "x12.problems", "x12.ta1", "edifact.una", "edifact.unb", "edifact.ung",
    "edifact.interchange_ref", "edifact.message_ref", "edifact.problems",
)  # fmt: skip


def _envelope_columns(documents: Documents) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(row, properties) per document, only the columns acknowledgements read (column-wise:
    a large batch is not turned into Python rows)."""
    rows = {n: documents.column(n).to_pylist() for n in _ROW_COLUMNS if n in documents.column_names}
    props = {
        n: documents.property(n).to_pylist() for n in _PROPERTIES if n in documents.property_names
    }
    for index in range(len(documents)):
        yield (
            {n: values[index] for n, values in rows.items()},
            {n: values[index] for n, values in props.items()},
        )


def _interchange_key(props: Mapping[str, Any], standard: str) -> str:
    if standard == "x12":
        return str(props.get("x12.isa"))
    return f"{props.get('edifact.unb')}|{props.get('edifact.interchange_ref')}"


def _place(
    props: Mapping[str, Any],
    standard: str,
    found: dict[str, InterchangeInfo],
    groups: dict[tuple[str, str], GroupInfo],
) -> GroupInfo:
    key = _interchange_key(props, standard)
    if key not in found:
        found[key] = _x12_interchange(props) if standard == "x12" else _edifact_interchange(props)
    interchange = found[key]
    group_key = str(props.get("x12.gs") or props.get("edifact.ung") or "")
    if (key, group_key) not in groups:
        group = _x12_group(props) if standard == "x12" else GroupInfo("", "", "")
        groups[(key, group_key)] = group
        interchange.groups.append(group)
    return groups[(key, group_key)]


def _x12_interchange(props: Mapping[str, Any]) -> InterchangeInfo:
    isa = str(props["x12.isa"])
    e = isa[3]
    f = isa.split(e)
    delimiters = dict(props.get("x12.delimiters") or {})
    return InterchangeInfo(
        standard="x12",
        sender_qualifier=f[5].strip(),
        sender_id=f[6].strip(),
        receiver_qualifier=f[7].strip(),
        receiver_id=f[8].strip(),
        control_number=f[13].strip(),
        usage=f[15].strip(),
        envelope=isa,
        date=f[9],
        time=f[10],
        ack_requested=f[14].strip() == "1",
        delimiters={k: str(v) for k, v in delimiters.items() if v is not None},
        ta1=[str(t) for t in props.get("x12.ta1") or []],
    )


def _x12_group(props: Mapping[str, Any]) -> GroupInfo:
    gs = str(props["x12.gs"])
    f = gs.split(gs[2]) + [""] * 9
    return GroupInfo(functional_id=f[1], control_number=f[6], version=f[8])


def _edifact_interchange(props: Mapping[str, Any]) -> InterchangeInfo:
    unb = str(props.get("edifact.unb") or "")
    una = str(props.get("edifact.una") or "")
    element, component = (una[4], una[3]) if len(una) >= 9 else ("+", ":")
    f = [part.split(component) for part in unb.split(element)] + [[""]] * 10
    sender, receiver, when = f[2] + [""], f[3] + [""], f[4] + [""]
    test = len(f) > 11 and f[11][0] == "1"
    return InterchangeInfo(
        standard="edifact",
        sender_qualifier=sender[1],
        sender_id=sender[0],
        receiver_qualifier=receiver[1],
        receiver_id=receiver[0],
        control_number=str(props.get("edifact.interchange_ref") or f[5][0]),
        usage="T" if test else "P",
        envelope=unb,
        date=when[0],
        time=when[1],
        ack_requested=len(f) > 9 and f[9][0] == "1",
        syntax=":".join(f[1]),
        delimiters={"una": una},
    )


def _set(
    row: Mapping[str, Any], props: Mapping[str, Any], standard: str, delivered: bool, index: int
) -> SetInfo:
    if standard == "x12":
        st = dict(row.get("ST") or {})
        info = SetInfo(
            set_id=str(row.get("transaction_set") or st.get("ST01") or ""),
            control_number=str(props.get("x12.transaction_set_control_number") or ""),
            delivered=delivered,
            index=index,
            implementation=str(st.get("ST03") or ""),
        )
    else:
        unh = dict(row.get("UNH") or {})
        parts = [unh.get(k) or "" for k in ("UNH02", "UNH02_02", "UNH02_03", "UNH02_04")]
        info = SetInfo(
            set_id=str(row.get("message_type") or parts[0]),
            control_number=str(props.get("edifact.message_ref") or unh.get("UNH01") or ""),
            delivered=delivered,
            index=index,
            version=":".join(parts),
        )
    problems = props.get(f"{standard}.problems")
    if problems:
        info.issues = problem_issues(problems, standard)
    return info


def _rejected_set(rejection: Rejection, standard: str, issues: list[Issue]) -> SetInfo:
    raw = (rejection.raw or b"").decode("latin-1")
    if standard == "x12" and raw.startswith("ST") and len(raw) > 3:
        e = raw[2]
        terminator = _x12_terminator(raw)
        first = [*raw.split(terminator)[0].strip().split(e), "", "", ""]
        count = len([s for s in raw.split(terminator) if s.strip()])
        for issue in issues:
            if issue.segment_position is None:
                issue.segment_position = count  # old readers give no position: the SE's
        return SetInfo(
            set_id=first[1],
            control_number=first[2],
            delivered=False,
            index=None,
            issues=issues,
            implementation=first[3],
        )
    match = re.match(r"UNH(.)([^'+:]*)\1([^'+]*)", raw)
    set_id, version = "", ""
    if match:
        version = match.group(3)
        set_id = version.split(":")[0]
    return SetInfo(
        set_id=set_id,
        control_number=match.group(2) if match else "",
        delivered=False,
        index=None,
        issues=issues,
        version=version,
    )


def _x12_terminator(raw: str) -> str:
    # the character after the ST02 element run: the first non-element char after "ST*xxx*nnnn"
    match = re.match(r"ST(.)[^\W]*\1[^\W]*(?:\1[^\W]*)?(\W)", raw)
    return match.group(2) if match else "~"


def _envelope_guess(documents: Documents, standard: str) -> dict[str, Any]:
    """Older readers give a rejection no envelope: the batch's own, if it has only one."""
    if not len(documents) or not standard:
        return {}
    key_name = "x12.isa" if standard == "x12" else "edifact.unb"
    keys = set(documents.property(key_name).to_pylist())
    return documents.properties_of(0) if len(keys) == 1 else {}
