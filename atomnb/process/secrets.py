"""The secret values a kernel knows, so everything the kernel writes is scrubbed as it is written.

The kernel writes files the executor collects (trace, persisted values, captured
documents). If the atom is SIGKILLed they are never cleaned afterwards, so they
must never hold a secret in the first place. The kernel knows two kinds:

* secret parameters, registered by the cell the executor injects
  (``register_secret``);
* every secret a connection of the workspace, the environment's ``[secrets]`` or
  the notebook itself refers to: the executor hands the kernel their *references*
  (``env:VAR``, ``file:/path``, ``atom:NAME``; never values) in
  ``ATOMNB_SECRET_REFS``, and the kernel resolves them itself, as its
  connections do when they are used.

``scrub_value`` then replaces every form of every known value (see
``atomnb.process.scrubber``).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from atomnb.process.scrubber import Scrubber

__all__ = [
    "SECRET_REFS_ENV",
    "kernel_scrubber",
    "register_secret",
    "resolve_references",
    "scrub_text",
    "scrub_value",
]

#: A JSON list of secret references the executor found for this run (references only).
SECRET_REFS_ENV = "ATOMNB_SECRET_REFS"

_lock = threading.Lock()
_registered: set[str] = set()
_scrubber: Scrubber | None = None


def register_secret(*values: Any) -> None:
    """Make the kernel's scrubber remove ``values`` (a secret parameter, a resolved credential)."""
    global _scrubber
    new = {v for v in values if isinstance(v, str) and v} - _registered
    if new:
        with _lock:
            _registered.update(new)
            _scrubber = None


def resolve_references(references: Iterable[str]) -> list[str]:
    """The values behind ``references`` that resolve here; the others are skipped silently
    (a scrubber must never fail a run because a credential it does not need is missing)."""
    from atomnb.components import resolve_secret

    values: list[str] = []
    for reference in references:
        with contextlib.suppress(Exception):
            values.append(resolve_secret(reference, name="scrubbed secret"))
    return values


def _references_from_env() -> list[str]:
    try:
        refs = json.loads(os.environ.get(SECRET_REFS_ENV) or "[]")
    except ValueError:
        return []
    return [r for r in refs if isinstance(r, str)] if isinstance(refs, list) else []


def kernel_scrubber() -> Scrubber:
    """The scrubber for every secret this kernel knows (compiled again only when one is added)."""
    global _scrubber
    with _lock:
        if _scrubber is None:
            _scrubber = Scrubber(_registered | set(resolve_references(_references_from_env())))
        return _scrubber


def scrub_text(text: str) -> str:
    scrubber = kernel_scrubber()
    return scrubber.scrub(text) if scrubber else text


def scrub_value(value: Any, scrubber: Scrubber | None = None, *, numbers: bool = True) -> Any:
    """``value`` (JSON-like data) with every secret form replaced in its texts.

    Values JSON cannot hold become their text first (as ``json.dumps(default=str)``
    would write them), so a secret inside one is caught too; so do numbers that
    spell a secret (a PIN), unless ``numbers`` is off (counts in a trace).
    """
    scrubber = scrubber if scrubber is not None else kernel_scrubber()
    if not scrubber:
        return value
    return _scrub(value, scrubber, numbers)


def _scrub(value: Any, scrubber: Scrubber, numbers: bool) -> Any:
    if isinstance(value, str):
        return scrubber.scrub(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if not numbers:
            return value
        text = str(value)
        cleaned = scrubber.scrub(text)
        return value if cleaned == text else cleaned
    if isinstance(value, Mapping):
        return {
            _scrub(str(k), scrubber, numbers): _scrub(v, scrubber, numbers)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_scrub(v, scrubber, numbers) for v in value]
    return scrubber.scrub(str(value))
