"""Problems as acknowledgement issues: the level each spoils and the standard's code.

The readers report problems as dicts (``segment_position``, ``segment_id``,
``element_position``, ``component_position``, ``code``, ``message``; see
/work/team/EDI_INTERFACE.md) whose codes are already X12 (AK3/AK4/AK5/AK9/TA1) or
EDIFACT (0085) codes; a validator's words (``too-long``) are turned into them
here. Older readers gave a rejection only a rule and a joined message: those are
read too, so an acknowledgement never loses a problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from atomnb.documents import Rejection

__all__ = ["Issue", "Level", "problem_issues", "rule_issues"]

Level = str  # "element", "segment", "set", "group", "interchange"

# Reader rules -> (level, X12 code, EDIFACT 0085 code). X12 codes: AK5/IK5 for sets, AK9 for
# groups, TA1 for interchanges, AK3/IK3 for segments; EDIFACT: syntax error codes (0085).
_RULES: dict[str, tuple[Level, str, str]] = {
    "x12.segment-count": ("set", "4", "29"),
    "x12.missing-trailer": ("set", "2", "13"),
    "x12.control-number": ("set", "3", "28"),
    "x12.group-count": ("group", "5", "29"),
    "x12.group-control-number": ("group", "4", "28"),
    "x12.interchange-count": ("interchange", "021", "29"),
    "x12.interchange-control-number": ("interchange", "001", "28"),
    "x12.missing-segment": ("segment", "3", "13"),
    "x12.unexpected-segment": ("segment", "2", "15"),
    "unt-count": ("set", "4", "29"),
    "unt-missing": ("set", "2", "13"),
    "unt-reference": ("set", "3", "28"),
    "une-count": ("group", "5", "29"),
    "une-missing": ("group", "3", "13"),
    "une-reference": ("group", "4", "28"),
    "unz-count": ("interchange", "021", "29"),
    "unz-missing": ("interchange", "023", "13"),
    "unz-reference": ("interchange", "001", "28"),
    "segment-not-allowed": ("segment", "2", "15"),
}
# Text codes a reader or validator may give element problems -> (X12 AK4/IK4, EDIFACT 0085).
_ELEMENT_CODES: dict[str, tuple[str, str]] = {
    "mandatory": ("1", "13"),
    "missing": ("1", "13"),
    "conditional": ("2", "13"),
    "too-many-elements": ("3", "16"),
    "too-short": ("4", "40"),
    "too-long": ("5", "39"),
    "invalid-character": ("6", "21"),
    "data-type": ("6", "37"),
    "invalid-code": ("7", "12"),
    "code": ("7", "12"),
    "date": ("8", "12"),
    "time": ("9", "12"),
    "too-many-repetitions": ("12", "35"),
    "too-many-components": ("13", "16"),
}
_SEGMENT_CODES: dict[str, tuple[str, str]] = {
    "unrecognized-segment": ("1", "14"),
    "unexpected-segment": ("2", "15"),
    "missing-segment": ("3", "13"),
    "loop-max": ("4", "36"),
    "segment-max": ("5", "35"),
    "not-in-set": ("6", "15"),
    "sequence": ("7", "15"),
}


@dataclass
class Issue:
    """One problem, at the level it spoils, with the code the acknowledgement reports."""

    level: Level
    code: str
    message: str
    segment_id: str = ""
    segment_position: int | None = None
    element_position: int | None = None
    component_position: int | None = None
    value: str | None = None


_TRAILER_LEVELS = {
    "SE": "set",
    "UNT": "set",
    "GE": "group",
    "UNE": "group",
    "IEA": "interchange",
    "UNZ": "interchange",
}


def problem_issues(problems: Iterable[Mapping[str, Any]], standard: str) -> list[Issue]:
    """Reader problems (see EDI_INTERFACE.md) as issues; codes are the standard's already,
    or a validator's words (``too-long``) that are turned into the standard's code."""
    issues: list[Issue] = []
    for problem in problems:
        code = str(problem.get("code") or "")
        segment_id = str(problem.get("segment_id") or "")
        element = problem.get("element_position")
        if code in _RULES:
            level, x12, edifact = _RULES[code]
            code = x12 if standard == "x12" else edifact
        elif segment_id in _TRAILER_LEVELS:
            level = _TRAILER_LEVELS[segment_id]
        elif segment_id == "ST" and element is None:  # the set as a whole (AK5/IK5 code)
            level = "set"
        elif element is not None:
            level = "element"
            if not code.isdigit():
                x12, edifact = _ELEMENT_CODES.get(code, ("7", "12"))
                code = x12 if standard == "x12" else edifact
        else:
            level = "segment"
            if not code.isdigit():
                x12, edifact = _SEGMENT_CODES.get(code, ("8", "12"))
                code = x12 if standard == "x12" else edifact
        issues.append(
            Issue(
                level=level,
                code=code,
                message=str(problem.get("message") or code),
                segment_id=segment_id,
                segment_position=_int(problem.get("segment_position")),
                element_position=_int(element),
                component_position=_int(problem.get("component_position")),
                value=problem.get("value"),
            )
        )
    return issues


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def rule_issues(rejection: Rejection, standard: str) -> list[Issue]:
    """Issues from an older reader's rejection: its rules and its joined message."""
    issues: list[Issue] = []
    rules = [r for r in rejection.rule.split(",") if r]
    for part in rejection.message.split("; "):
        rule = _rule_of(part, rules, standard)
        level, x12, edifact = _RULES.get(rule, ("set", "5", "18"))
        segment_id = ""
        position: int | None = None
        if level == "segment":
            missing = re.search(r"mandatory (?:segment|loop) (\w+?)(?:_loop)? is missing", part)
            unexpected = re.search(r"segment (\w+) at position (\d+)", part)
            if missing:
                segment_id = missing.group(1)
            elif unexpected:
                segment_id, position = unexpected.group(1), int(unexpected.group(2))
        issues.append(
            Issue(level, x12 if standard == "x12" else edifact, part, segment_id, position)
        )
    return issues


def _rule_of(part: str, rules: list[str], standard: str) -> str:
    patterns = (
        (r"^SE01 says", "x12.segment-count"),
        (r"has no SE trailer", "x12.missing-trailer"),
        (r"^SE02 ", "x12.control-number"),
        (r"^GE01 says", "x12.group-count"),
        (r"^GE02 ", "x12.group-control-number"),
        (r"^IEA01 says", "x12.interchange-count"),
        (r"^IEA02 ", "x12.interchange-control-number"),
        (r"^mandatory ", "x12.missing-segment"),
        (r"is not allowed there", "x12.unexpected-segment"),
    )
    if standard == "x12":
        for pattern, rule in patterns:
            if re.search(pattern, part):
                return rule
    return rules[0] if len(rules) == 1 else next((r for r in rules if r in _RULES), "")
