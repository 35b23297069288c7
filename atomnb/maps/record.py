"""Map one document with the functions' per-record Python twins: the reference semantics.

The compiled, vectorized plan is what runs; this interpreter is what it must
agree with. It walks the same rules over one plain ``dict`` with each function's
``python`` form, so a test can check vectorized-versus-per-record equivalence on
generated documents, and a person can see step by step why one document maps as
it does (the visual mapper's "explain this row").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from atomnb.errors import MapError
from atomnb.maps.functions.arguments import temporal_args
from atomnb.maps.functions.registry import FunctionKind, MapValueError, get_function
from atomnb.maps.model import Map, Rule, Step
from atomnb.profiles import Element, ElementType

__all__ = ["RecordContext", "map_record"]


@dataclass
class RecordContext:
    """What the twins need beyond their inputs (the build gets the same through its ctx)."""

    tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    properties: Mapping[str, Any] = field(default_factory=dict)
    udfs: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    position: int = 0  # the document's number in the run (for sequence)


@dataclass(frozen=True)
class _Listed:
    """Values of a repeating element, one per repetition (``None`` where the list is null)."""

    items: list[Any] | None


def map_record(
    mapping: Map, record: Mapping[str, Any], ctx: RecordContext | None = None
) -> list[dict[str, Any]]:
    """The target documents for one source document (several with ``fan_out``).

    Raises ``MapValueError`` naming the rule when a function fails for this document.
    """
    ctx = ctx or RecordContext()
    if mapping.fan_out:
        items = record.get(mapping.fan_out) or []
        return [
            _document(mapping, {**record, mapping.fan_out: item}, ctx, fanned=True)
            for item in items
        ]
    return [_document(mapping, record, ctx, fanned=False)]


def _document(
    mapping: Map, record: Mapping[str, Any], ctx: RecordContext, fanned: bool
) -> dict[str, Any]:
    rules = {r.target: r for r in mapping.rules}
    repeating = {e.name for e in mapping.source.elements if e.repeating}
    if fanned and mapping.fan_out:
        repeating.discard(mapping.fan_out)
    return {
        e.name: _target(e, e.name, rules, record, repeating, ctx) for e in mapping.target.elements
    }


def _target(
    element: Element,
    path: str,
    rules: Mapping[str, Rule],
    record: Mapping[str, Any],
    repeating: set[str],
    ctx: RecordContext,
) -> Any:
    rule = rules.get(path)
    if rule is not None and element.repeating and element.type is ElementType.RECORD:
        items = _path(record, rule.sources[0].split("."))
        if items is None:
            return None
        child_rules = {c.target: c for c in rule.children}
        inner = _nested_repeating(rule.sources[0], repeating)
        return [
            {c.name: _target(c, c.name, child_rules, item, inner, ctx) for c in element.children}
            for item in items
        ]
    if rule is not None:
        value = _rule(rule, record, repeating, ctx)
        if isinstance(value, _Listed):
            return value.items
        return value
    nested = [r for r in rules if r.startswith(path + ".")]
    if element.type is ElementType.RECORD and not element.repeating and nested:
        return {
            c.name: _target(c, f"{path}.{c.name}", rules, record, repeating, ctx)
            for c in element.children
        }
    return None


def _nested_repeating(prefix: str, repeating: set[str]) -> set[str]:
    return {r[len(prefix) + 1 :] for r in repeating if r.startswith(prefix + ".")}


def _rule(rule: Rule, record: Mapping[str, Any], repeating: set[str], ctx: RecordContext) -> Any:
    values = [_source(path, record, repeating) for path in rule.sources]
    for index, step in enumerate(rule.steps):
        extra = [_source(p, record, repeating) for p in step.inputs]
        values = [_step(step, [*values, *extra], rule, index, ctx)]
    return values[0] if values else None


def _source(path: str, record: Mapping[str, Any], repeating: set[str]) -> Any:
    """A path's value; through a repeating element, the list of its values per repetition."""
    parts = path.split(".")
    for depth in range(1, len(parts) + 1):
        head = ".".join(parts[:depth])
        if head in repeating:
            items = _path(record, parts[:depth])
            if items is None:
                return _Listed(None)
            return _Listed(
                [_path(item, parts[depth:]) if item is not None else None for item in items]
            )
    return _path(record, parts)


def _path(value: Any, parts: Sequence[str]) -> Any:
    for part in parts:
        if value is None:
            return None
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _step(step: Step, inputs: list[Any], rule: Rule, index: int, ctx: RecordContext) -> Any:
    label = f"rule {rule.target} (step {index + 1}, {step.fn})"
    if step.fn in ctx.udfs:
        try:
            return ctx.udfs[step.fn](*inputs, **step.args)
        except Exception as exc:
            raise MapValueError(f"{label}: Python function failed: {exc}") from None
    fn = get_function(step.fn, rule=rule.target)
    args = {**fn.resolve_args(step.args, rule=rule.target), **_context_args(fn.name, ctx)}
    listed = [v for v in inputs if isinstance(v, _Listed)]
    if inputs and not listed:
        args = temporal_args(args, fn.args, inputs[0])
    try:
        if fn.kind is FunctionKind.AGGREGATE:
            if not listed:
                raise MapError(
                    f"{label}: aggregates a repeating element; the input does not repeat"
                )
            return fn.python(listed[0].items, **args)
        if listed:
            if listed[0].items is None:
                return _Listed(None)
            columns = [v.items if isinstance(v, _Listed) else None for v in inputs]
            return _Listed(
                [
                    fn.python(*row, **temporal_args(args, fn.args, row[0]))
                    for row in zip(*columns, strict=True)
                ]
            )
        return fn.python(*inputs, **args)
    except MapValueError as exc:
        raise MapValueError(f"{label}: {exc}") from None


def _context_args(name: str, ctx: RecordContext) -> dict[str, Any]:
    """The twins that need context take it as keyword arguments."""
    if name == "lookup":
        return {"tables": ctx.tables}
    if name == "sequence":
        return {"position": ctx.position, "offset": int(ctx.properties.get("sequence_offset", 0))}
    if name in ("now", "today"):
        return {"now": ctx.properties.get("now")}
    if name == "process_property":
        return {"properties": ctx.properties}
    return {}
