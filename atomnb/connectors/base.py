"""What every connector is, whoever wrote it: a named connection that can test itself.

A connection (an object built from a component's plain settings) says where a
system is and how to log in; its methods are the operations, and they take and
give Documents. The contract is small on purpose so a third party can meet it
without inheriting anything (STYLE practice 5: protocols, not base classes):

- the class has ``from_dict(settings)`` (settings hold secret *references* only)
  and ``to_dict()`` to round-trip them;
- ``test()`` checks reachability and authentication and returns a
  ``ConnectionTest`` instead of raising, so a notebook or dashboard can show it;
- errors are ``AtomnbError`` subclasses; ``repr`` shows no secret value.

``atomnb.connectors.conformance`` checks all of this for any connector.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from atomnb.errors import AtomnbError, ConfigError

__all__ = [
    "ConnectionTest",
    "Connector",
    "ConnectorFactory",
    "refuse_unknown_settings",
    "timed_test",
]


@dataclass(frozen=True)
class ConnectionTest:
    """The outcome of a connection test: reachable and logged in (``ok``), or why not."""

    ok: bool
    message: str
    elapsed_s: float

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'failed'}: {self.message} ({self.elapsed_s:.3f}s)"


@runtime_checkable
class Connector(Protocol):
    """A live connection: tests itself and turns back into its settings."""

    def test(self) -> ConnectionTest: ...

    def to_dict(self) -> dict[str, Any]: ...


class ConnectorFactory(Protocol):
    """What a registry entry points at: a class (or object) building connections from settings."""

    def from_dict(self, settings: Mapping[str, Any], /) -> Any: ...


def timed_test(
    probe: Callable[[], str], *, clock: Callable[[], float] = time.perf_counter
) -> ConnectionTest:
    """Run ``probe`` (returns a success message, raises on failure) as a ``ConnectionTest``.

    An ``AtomnbError`` is the expected way to fail and its message is kept; any other
    exception is a bug in the connector, reported by type only so no library message
    (which may quote a credential) leaks into a notebook.
    """
    started = clock()
    try:
        message = probe()
        ok = True
    except AtomnbError as exc:
        ok, message = False, exc.message
    except Exception as exc:
        ok, message = False, f"unexpected {type(exc).__name__} while testing the connection"
    return ConnectionTest(ok, message, round(clock() - started, 6))


def refuse_unknown_settings(settings: Mapping[str, Any], known: Iterable[str], what: str) -> None:
    """A misspelt setting is an error, never silently ignored (the conformance kit checks it)."""
    allowed = set(known)
    unknown = sorted(set(settings) - allowed)
    if unknown:
        raise ConfigError(
            f"unknown {what} setting(s): {', '.join(unknown)}",
            hint=f"known: {', '.join(sorted(allowed))}",
        )
