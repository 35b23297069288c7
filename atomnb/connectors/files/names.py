"""Remote names are untrusted: check every name a listing returns, and every name we build.

A server decides what its listing says. A hostile or broken one can answer
``../../etc/passwd``, ``/etc/shadow``, ``a\\..\\b`` or a symbolic link to anywhere,
and a careless client joins that to its folder and reads or deletes outside the
root it was given. So a listed entry is accepted only when it is exactly
``<folder>/<one plain name>``; everything else is refused by name, and the same
rule applies to file names rendered from document properties on put.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import string
from collections.abc import Mapping
from typing import Any

from atomnb.connectors.files.errors import UnsafeFileNameError
from atomnb.errors import ConfigError

__all__ = ["check_listed", "check_name", "join", "matches", "render_name", "split_pattern"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_WILDCARDS = frozenset("*?[")


def check_name(name: str, *, where: str) -> str:
    """``name`` if it is one plain file name; else ``UnsafeFileNameError`` saying why."""
    reason = None
    if name in ("", ".", ".."):
        reason = "is empty or a dot name"
    elif name.startswith("/"):
        reason = "is an absolute path"
    elif "/" in name or "\\" in name:
        reason = "contains a path separator"
    elif _CONTROL.search(name):
        reason = "contains a control character"
    elif len(name.encode("utf-8", "surrogateescape")) > 255:
        reason = "is longer than 255 bytes"
    if reason:
        raise UnsafeFileNameError(
            f"file name {name!r} {reason}; refused so it cannot leave the root folder",
            where=where,
            rule=UnsafeFileNameError.RULE,
        )
    return name


def check_listed(folder: str, listed: str, *, where: str) -> str:
    """The plain name of a listed entry, which must be ``folder/<name>`` exactly."""
    prefix = folder.rstrip("/") + "/" if folder.strip("/") else folder
    if prefix and not listed.startswith(prefix):
        raise UnsafeFileNameError(
            f"listed entry {listed!r} is not inside {folder!r}; refused",
            where=where,
            rule=UnsafeFileNameError.RULE,
        )
    return check_name(listed[len(prefix) :], where=where)


def join(*parts: str) -> str:
    """Join configured path parts with ``/`` (configuration is trusted, remote names are not)."""
    kept = [p for p in parts if p not in ("", ".")]
    if not kept:
        return ""
    return posixpath.join(kept[0], *(p.strip("/") for p in kept[1:])).rstrip("/") or "/"


def split_pattern(pattern: str) -> tuple[str, str]:
    """``"in/*.csv"`` → (``"in"``, ``"*.csv"``): wildcards only in the file name, never ``..``."""
    folder, _, name = pattern.rpartition("/")
    if any(part == ".." for part in folder.split("/")) or folder.startswith("/"):
        raise ConfigError(
            f"pattern {pattern!r} must stay inside the connection's root folder",
            hint="use a folder relative to the root, without '..'",
        )
    if _WILDCARDS & set(folder):
        raise ConfigError(
            f"pattern {pattern!r} has wildcards in its folder; only the file name may have them"
        )
    if not name:
        raise ConfigError(f"pattern {pattern!r} names no file (e.g. 'in/*.csv')")
    return folder, name


def matches(name: str, glob: str) -> bool:
    """Case-sensitive glob match on one file name."""
    return fnmatch.fnmatchcase(name, glob)


def render_name(pattern: str, values: Mapping[str, Any], *, where: str) -> str:
    """A file name from ``pattern`` (``"{order_id}_{date}.json"``) and one document's values.

    Only plain ``{name}`` fields with an optional format spec: attribute and index
    access (``{x.__class__}``, ``{x[0]}``) are refused, so a pattern cannot reach into
    objects. The result must be one plain file name (a value of ``../x`` is refused).
    """
    parts: list[str] = []
    for literal, field, spec, conversion in string.Formatter().parse(pattern):
        parts.append(literal)
        if field is None:
            continue
        if not field.isidentifier():
            raise ConfigError(
                f"file name pattern {pattern!r}: field {{{field}}} must be a plain name"
            )
        if field not in values or values[field] is None:
            raise UnsafeFileNameError(
                f"file name pattern {pattern!r} needs {field!r}, which this document lacks",
                where=where,
                rule="file_name",
            )
        value = values[field]
        if conversion == "r":
            value = repr(value)
        elif conversion in ("s", "a"):
            value = str(value)
        try:
            parts.append(format(value, spec or ""))
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"file name pattern {pattern!r}: {field}: {exc}") from None
    return check_name("".join(parts), where=where)
