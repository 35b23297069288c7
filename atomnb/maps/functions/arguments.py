"""Function arguments typed in a form: text from a field becomes the value the function declares.

The visual mapper shows each argument as a field of the kind its ``Arg`` declares
(number, whole number, true/false, date, text, a choice list, a list or mapping, or
"value": typed like the step's input). Browsers send what was typed, as text; the
conversion happens here, on the kernel side, against the declaration, so ``5000``
typed into ``greater_than`` on a number becomes the number 5000 (not the text
``'5000'``, which polars cannot compare with a number), and a value that does not
fit is refused with a message the mapper shows beside the field.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from atomnb.errors import MapError
from atomnb.maps.functions.registry import Arg
from atomnb.profiles import ElementType

__all__ = ["convert_arg", "temporal_args", "value_input"]

_INTEGER = re.compile(r"^[+-]?\d+$")
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}
_NUMBERS = {ElementType.INTEGER: "number", ElementType.DECIMAL: "number"}
_BY_TYPE = {
    **_NUMBERS,
    ElementType.BOOLEAN: "boolean",
    ElementType.DATE: "date",
    ElementType.DATETIME: "datetime",
    ElementType.STRING: "text",
}


def value_input(input_type: ElementType | None) -> str:
    """The field a "value" argument shows when the step works on ``input_type``."""
    return _BY_TYPE.get(input_type, "text") if input_type is not None else "text"


def convert_arg(arg: Arg, raw: Any, input_type: ElementType | None = None) -> Any:
    """``raw`` (typed text, or an already typed value) as ``arg`` declares it.

    ``None`` and empty text mean "not given" and return ``None``. Raises ``MapError``
    saying what was expected, e.g. ``'50x' is not a number``.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    kind = arg.input
    if kind == "value":
        kind = value_input(input_type)
    if kind == "integer":
        return _integer(raw)
    if kind == "number":
        return _number(raw)
    if kind == "boolean":
        return _boolean(raw)
    if kind == "date":
        return _date(raw)
    if kind == "datetime":
        return (
            raw.isoformat() if isinstance(raw, dt.datetime) else _iso_datetime(str(raw)).isoformat()
        )
    if kind == "choice":
        if str(raw) not in arg.choices:
            raise MapError(f"{str(raw)!r} is not one of {', '.join(arg.choices)}")
        return str(raw)
    if kind == "list":
        return _list(raw)
    if kind == "mapping":
        return _mapping(raw)
    return raw if isinstance(raw, str) else _text(raw)


def _text(raw: Any) -> str:
    if isinstance(raw, (int, float, bool)):
        return json.dumps(raw)
    raise MapError(f"{raw!r} is not text")


def _integer(raw: Any) -> int:
    if isinstance(raw, bool):
        raise MapError(f"{raw!r} is not a whole number")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    text = str(raw).strip()
    if _INTEGER.match(text):
        return int(text)
    raise MapError(f"{text!r} is not a whole number")


def _number(raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise MapError(f"{raw!r} is not a number")
    if isinstance(raw, (int, float)):
        return raw
    text = str(raw).strip()
    if _INTEGER.match(text):
        return int(text)
    try:
        value = float(text)
    except ValueError:
        raise MapError(f"{text!r} is not a number", hint="write it like 5000 or 12.5") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise MapError(f"{text!r} is not a number")
    return value


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise MapError(f"{raw!r} is not true or false")


def _date(raw: Any) -> str:
    """A date as ISO text (what the component file keeps); an impossible one is named so."""
    if isinstance(raw, dt.date):
        return raw.isoformat()
    text = str(raw).strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        raise MapError(f"{text!r} is not a date", hint="write it as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise MapError(f"{text!r} is an impossible date (no such day)") from None


def _list(raw: Any) -> list[Any]:
    if isinstance(raw, (list, tuple)):
        return list(raw)
    text = str(raw).strip()
    if text.startswith("["):
        parsed = _json(text)
        if isinstance(parsed, list):
            return parsed
        raise MapError(f"{text!r} is not a list")
    return [part.strip() for part in text.split(",") if part.strip()]


def _mapping(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return dict(raw)
    parsed = _json(str(raw))
    if not isinstance(parsed, dict):
        raise MapError(f"{raw!r} is not a mapping", hint='write it as {"10": "NEW"}')
    return parsed


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MapError(f"{text!r} is not valid JSON: {exc.msg} at position {exc.pos}") from None


def temporal_args(args: dict[str, Any], fn_args: tuple[Arg, ...], first: Any) -> dict[str, Any]:
    """``args`` with "value" arguments given as ISO text made dates (or datetimes, in UTC)
    when the step works on dates (``first``: the first input's ``ElementType``, or a
    Python value for the per-record twin), so ``greater_than`` on a date compares dates.
    """
    if first in (ElementType.DATETIME,) or isinstance(first, dt.datetime):
        parse: Any = _iso_datetime
    elif first in (ElementType.DATE,) or isinstance(first, dt.date):
        parse = _iso_date
    else:
        return args
    out = dict(args)
    for arg in fn_args:
        if arg.input == "value" and isinstance(out.get(arg.name), str):
            out[arg.name] = parse(out[arg.name])
    return out


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise MapError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _iso_datetime(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise MapError(f"{text!r} is not a date and time (YYYY-MM-DDTHH:MM:SS)") from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
