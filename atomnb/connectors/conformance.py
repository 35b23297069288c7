"""The conformance kit: check any connector, built-in or third-party, the same way.

A plugin author runs it in their own tests::

    from atomnb.connectors.conformance import assert_conforms

    def test_my_connector_conforms(my_server):
        assert_conforms(
            "acme",                                   # the entry point name
            {"url": my_server.url, "token": "env:ACME_TOKEN"},
            secrets=[os.environ["ACME_TOKEN"]],       # values that must never show
            operation=lambda conn, docs: conn.send(docs),
            sample=Documents.from_records([{"id": 1}]),
            unreachable={"url": "http://127.0.0.1:9", "token": "env:ACME_TOKEN"},
        )

Every check runs and is reported (never only the first failure): registered and
loadable by name; built from settings; unknown settings refused with an
``AtomnbError``; settings round-trip through ``to_dict``; ``test()`` returns a
``ConnectionTest`` (ok for the given settings, not ok — and not raising — for
``unreachable`` ones); the operation takes and returns Documents and fails only
with ``AtomnbError``; no secret value in ``repr``, ``str``, ``to_dict``, test
messages, errors or any log record emitted meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from atomnb.connectors.base import ConnectionTest
from atomnb.connectors.registry import ConnectorRegistry, default_registry
from atomnb.documents import Documents
from atomnb.errors import AtomnbError

__all__ = ["Check", "ConformanceError", "ConformanceReport", "assert_conforms", "check_connector"]

Operation = Callable[[Any, Documents | None], Any]
_UNKNOWN_SETTING = "atomnb_conformance_unknown_setting"


class ConformanceError(AtomnbError):
    """A connector broke the connector contract (the message lists every failed check)."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class ConformanceReport:
    """Every check run on one connector, passed or not."""

    connector: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok

    def __str__(self) -> str:
        lines = [f"connector {self.connector!r}: {'conforms' if self.ok else 'does not conform'}"]
        for check in self.checks:
            mark = "ok  " if check.ok else "FAIL"
            lines.append(f"  {mark} {check.name}{': ' + check.detail if check.detail else ''}")
        return "\n".join(lines)

    def raise_for_failures(self) -> None:
        if not self.ok:
            raise ConformanceError(str(self))


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(record.getMessage())
        except Exception:  # a broken log call is the connector's bug, reported as text
            self.lines.append(str(record.msg))


@contextmanager
def _captured_logs() -> Iterator[_Capture]:
    root = logging.getLogger()
    handler, level = _Capture(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def check_connector(
    name: str,
    settings: Mapping[str, Any],
    *,
    registry: ConnectorRegistry | None = None,
    secrets: Sequence[str] = (),
    operation: Operation | None = None,
    sample: Documents | None = None,
    unreachable: Mapping[str, Any] | None = None,
    expect_reachable: bool = True,
) -> ConformanceReport:
    """Run every check on connector ``name`` built from ``settings``; the report of them all."""
    registry = registry or default_registry()
    report = ConformanceReport(name)
    seen: list[str] = []  # every text the connector produced, searched for secrets at the end
    with _captured_logs() as logs:
        conn = _build(report, registry, name, settings)
        if conn is not None:
            seen += [repr(conn), str(conn)]
            _check_shape(report, registry, name, settings, conn, seen)
            _check_test(report, "test() on the given settings", conn, expect_reachable, seen)
            if operation is not None:
                _check_operation(report, conn, operation, sample, seen)
            _close(conn)
        if unreachable is not None:
            other = _build(report, registry, name, unreachable, label="unreachable settings")
            if other is not None:
                _check_test(report, "test() on unreachable settings", other, False, seen)
                _close(other)
    seen += logs.lines
    leaked = sorted({s for s in secrets if s and any(s in text for text in seen)})
    report.add(
        "no secret value in repr, settings, messages, errors or logs",
        not leaked,
        f"{len(leaked)} secret value(s) found" if leaked else f"{len(secrets)} value(s) checked",
    )
    return report


def assert_conforms(name: str, settings: Mapping[str, Any], **options: Any) -> ConformanceReport:
    """``check_connector`` that raises ``ConformanceError`` listing every failed check."""
    report = check_connector(name, settings, **options)
    report.raise_for_failures()
    return report


def _build(
    report: ConformanceReport,
    registry: ConnectorRegistry,
    name: str,
    settings: Mapping[str, Any],
    *,
    label: str = "settings",
) -> Any:
    try:
        registry.factory(name)
    except AtomnbError as exc:
        report.add("registered and loadable by name", False, exc.message)
        return None
    if label == "settings":
        report.add("registered and loadable by name", True, registry.origin(name))
    try:
        conn = registry.create(name, settings)
    except AtomnbError as exc:
        report.add(f"built from {label}", False, exc.message)
        return None
    except Exception as exc:
        report.add(f"built from {label}", False, f"raised {type(exc).__name__}, not AtomnbError")
        return None
    report.add(f"built from {label}", True, type(conn).__name__)
    return conn


def _check_shape(
    report: ConformanceReport,
    registry: ConnectorRegistry,
    name: str,
    settings: Mapping[str, Any],
    conn: Any,
    seen: list[str],
) -> None:
    has = [m for m in ("test", "to_dict") if callable(getattr(conn, m, None))]
    report.add("has test() and to_dict()", len(has) == 2, f"has {', '.join(has) or 'neither'}")
    try:
        registry.create(name, {**settings, _UNKNOWN_SETTING: 1})
        report.add("unknown settings refused", False, "a misspelt setting was accepted silently")
    except AtomnbError as exc:
        seen.append(str(exc))
        report.add("unknown settings refused", True, type(exc).__name__)
    except Exception as exc:
        report.add("unknown settings refused", False, f"raised {type(exc).__name__}")
    if "to_dict" in has:
        try:
            plain = conn.to_dict()
            seen.append(str(plain))
            again = registry.create(name, plain)
            same = again == conn or again.to_dict() == plain
            report.add("settings round-trip through to_dict()", same)
        except Exception as exc:
            report.add("settings round-trip through to_dict()", False, type(exc).__name__)


def _check_test(
    report: ConformanceReport, label: str, conn: Any, expected: bool, seen: list[str]
) -> None:
    try:
        result = conn.test()
    except Exception as exc:
        seen.append(str(exc))
        report.add(label, False, f"raised {type(exc).__name__} instead of returning a result")
        return
    if not isinstance(result, ConnectionTest):
        report.add(label, False, f"returned {type(result).__name__}, not ConnectionTest")
        return
    seen.append(result.message)
    well_formed = isinstance(result.message, str) and result.elapsed_s >= 0
    report.add(label, well_formed and result.ok is expected, str(result))


def _check_operation(
    report: ConformanceReport,
    conn: Any,
    operation: Operation,
    sample: Documents | None,
    seen: list[str],
) -> None:
    label = "operation takes and returns Documents"
    try:
        result = operation(conn, sample)
    except AtomnbError as exc:
        seen.append(str(exc))
        report.add(label, False, f"raised {type(exc).__name__}: {exc.message}")
        return
    except Exception as exc:
        report.add(label, False, f"raised {type(exc).__name__}, not an AtomnbError")
        return
    ok = isinstance(result, Documents)
    if ok:
        seen.append(str(result.to_pylist()))
        seen += [str(r) for r in result.rejections]
    report.add(label, ok, repr(result) if ok else f"returned {type(result).__name__}")


def _close(conn: Any) -> None:
    for method in ("close", "dispose"):
        closer = getattr(conn, method, None)
        if callable(closer):
            try:
                closer()
            except Exception:  # closing is best effort; the checks have run
                logging.getLogger(__name__).debug("closing %s failed", type(conn).__name__)
            return
