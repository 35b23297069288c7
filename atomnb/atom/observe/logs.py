"""The atom's log as JSON lines, when asked (``--log-format json`` or ``[settings] log_format``).

Each line is one JSON object: ``time`` (UTC, ISO 8601 to the millisecond),
``level``, ``logger``, ``message``, ``execution_id`` when the line concerns an
execution, and ``exception`` (the traceback as text) when one is attached. The
execution id comes from the record's ``execution_id`` attribute (``extra=``)
or, failing that, from an execution id quoted in the message — every atom line
about an execution names its id. Text stays the default, as before.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Literal, TextIO

from atomnb.errors import ConfigError

__all__ = ["LOG_FORMATS", "JsonFormatter", "configure_logging", "log_format_chosen"]

LOG_FORMATS = ("text", "json")
LogFormat = Literal["text", "json"]

#: An execution id: a UTC timestamp to the second and 12 hex digits (``new_execution_id``).
_EXECUTION_ID = re.compile(r"(?<![0-9a-f])(\d{14}[0-9a-f]{12})(?![0-9a-f])")
_HANDLER_NAME = "atomnb-json"
_AUDIT = "atomnb.atom.secrets.audit"  # atomnb.atom.secrets.service.audit
_chosen: LogFormat | None = None


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message,
        }
        execution_id = getattr(record, "execution_id", None)
        if execution_id is None:
            found = _EXECUTION_ID.search(message)
            execution_id = found.group(1) if found else None
        if execution_id is not None:
            line["execution_id"] = str(execution_id)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(
    log_format: str, *, stream: TextIO | None = None, explicit: bool = False
) -> None:
    """Send log records to ``stream`` (stderr) as JSON lines (atomnb's from INFO), or leave text.

    ``explicit`` marks a choice made on the command line: a setting read later
    does not override it.
    """
    global _chosen
    if log_format not in LOG_FORMATS:
        raise ConfigError(
            f"unknown log format {log_format!r}", hint=f"use one of: {', '.join(LOG_FORMATS)}"
        )
    if _chosen is not None and not explicit:
        return
    if explicit:
        _chosen = "json" if log_format == "json" else "text"
    root = logging.getLogger()
    audit = logging.getLogger(_AUDIT)
    for logger in (root, audit):
        for handler in list(logger.handlers):
            if handler.get_name() == _HANDLER_NAME:
                logger.removeHandler(handler)
    if log_format != "json":
        audit.propagate = True
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    # The secret store's audit lines have a text handler of their own (added when none is
    # set): give them ours instead, and no second copy through the root.
    for own in audit.handlers:
        own.setFormatter(JsonFormatter())
    if not audit.handlers:
        audit.addHandler(handler)
        audit.setLevel(logging.INFO)
    audit.propagate = False
    ours = logging.getLogger("atomnb")  # the atom's own INFO lines; libraries stay at WARNING
    if ours.level == logging.NOTSET or ours.level > logging.INFO:
        ours.setLevel(logging.INFO)


def log_format_chosen() -> str | None:
    """The format chosen on the command line, if any."""
    return _chosen
