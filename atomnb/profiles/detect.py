"""Pure detectors: which element type (and mask) fits every one of a column's sample values.

An ordered list, most specific first, so inference is explainable: a column is a
date because every sampled value parsed with ``%Y-%m-%d``, not because of a
heuristic score. Codes with leading zeros ("007") stay strings: turning them into
numbers would lose data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from atomnb.profiles.model import ElementType

__all__ = [
    "DATETIME_MASKS",
    "DATE_MASKS",
    "DEFAULT_PARSE_MASKS",
    "TIME_MASKS",
    "Detection",
    "detect",
]

DATE_MASKS = ("%Y-%m-%d", "%Y%m%d", "%d.%m.%Y", "%m/%d/%Y", "%d/%m/%Y")
DATETIME_MASKS = (
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y%m%d%H%M%S",
)
TIME_MASKS = ("%H:%M:%S", "%H:%M")
#: Masks tried when an element of a temporal type declares none.
DEFAULT_PARSE_MASKS: dict[ElementType, tuple[str, ...]] = {
    ElementType.DATE: ("%Y-%m-%d",),
    ElementType.DATETIME: DATETIME_MASKS,
    ElementType.TIME: TIME_MASKS,
}

_INTEGER = re.compile(r"^[+-]?(0|[1-9]\d{0,17})$")
_DECIMAL = re.compile(r"^[+-]?(0|[1-9]\d*)?\.\d+$|^[+-]?(0|[1-9]\d*)$")
_BOOLEAN = {"true", "false"}


@dataclass(frozen=True)
class Detection:
    type: ElementType
    mask: str | None = None
    scale: int | None = None


def detect(values: Sequence[str]) -> Detection:
    """The most specific type every value fits; ``string`` when there is nothing to go on."""
    sample = [v for v in values if v != ""]
    if not sample:
        return Detection(ElementType.STRING)
    for detector in _DETECTORS:
        found = detector(sample)
        if found is not None:
            return found
    return Detection(ElementType.STRING)


def _boolean(values: Sequence[str]) -> Detection | None:
    if all(v.lower() in _BOOLEAN for v in values):
        return Detection(ElementType.BOOLEAN)
    return None


def _datetime_masks(
    masks: Sequence[str], kind: ElementType
) -> Callable[[Sequence[str]], Detection | None]:
    def detector(values: Sequence[str]) -> Detection | None:
        for mask in masks:
            if _all_parse(values, mask):
                return Detection(kind, mask=mask)
        return None

    return detector


def _all_parse(values: Sequence[str], mask: str) -> bool:
    compact = "%" in mask and not any(ch in mask for ch in "-./: T")
    for value in values:
        if compact and not value.isdigit():
            return False
        try:
            parsed = datetime.strptime(value, mask)
        except ValueError:
            return False
        if not 1900 <= parsed.year <= 2200:
            return False
    return True


def _integer(values: Sequence[str]) -> Detection | None:
    if all(_INTEGER.match(v) for v in values):
        return Detection(ElementType.INTEGER)
    return None


def _decimal(values: Sequence[str]) -> Detection | None:
    if all(_DECIMAL.match(v) for v in values):
        scale = max((len(v.split(".", 1)[1]) for v in values if "." in v), default=0)
        return Detection(ElementType.DECIMAL, scale=scale)
    return None


# Dates before integers: "20260304" is a date when every value is a valid one.
_DETECTORS: tuple[Callable[[Sequence[str]], Detection | None], ...] = (
    _boolean,
    _datetime_masks(DATETIME_MASKS, ElementType.DATETIME),
    _datetime_masks(DATE_MASKS, ElementType.DATE),
    _datetime_masks(TIME_MASKS, ElementType.TIME),
    _integer,
    _decimal,
)
