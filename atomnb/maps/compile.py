"""Compile a map into a vectorized plan: one polars expression per target column.

Why polars: measured on the canonical order map, polars expressions over Arrow
ran fastest of the engines installed here (see benchmarks/maps.py), they nest
(``list.eval`` evaluates an expression for every repetition of a repeating
element, inside the same vectorized plan), and they convert to and from Arrow
without copying most columns.

Source paths resolve against the source profile. A path through a repeating
element opens a *list context*: the functions of the rule are built over
``pl.element()`` and evaluated with ``list.eval`` for every repetition, until an
aggregate step (sum, count, join …) brings the values back to one per document.
Each function may also give an error expression (true where one document's value
could not be mapped); the plan keeps one per rule so failing documents become
error documents naming the rule, and the rest go through.

Every problem a map can have before running — an unknown path, a function given
the wrong inputs, a type that does not fit, a mandatory target left unmapped — is
collected by ``check_map`` and raised together, each naming its rule.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa

from atomnb.errors import MapError, ValidationErrorGroup
from atomnb.maps.functions.arguments import temporal_args
from atomnb.maps.functions.registry import (
    ANY,
    BuildContext,
    Built,
    FunctionKind,
    MapFunction,
    get_function,
)
from atomnb.maps.model import Map, Rule, Step
from atomnb.profiles import Element, ElementType, arrow_type

__all__ = ["FAN_OUT_COLUMN", "Plan", "RuleError", "check_map", "compile_map", "polars_type"]

FAN_OUT_COLUMN = "__atomnb_fan_out"


@dataclass(frozen=True)
class RuleError:
    """Where a rule can fail per document: the expression, the rule and what went wrong."""

    rule: str
    expr: pl.Expr
    message: str


@dataclass
class Plan:
    """The compiled map: target column expressions, error expressions, and a fan-out."""

    columns: list[pl.Expr]
    errors: list[RuleError]
    fan_out: pl.Expr | None = None
    problems: list[MapError] = field(default_factory=list)


@dataclass(frozen=True)
class _Value:
    """A compiled value: its expression, type, errors, and list context if still open."""

    expr: pl.Expr
    type: ElementType
    errors: tuple[tuple[pl.Expr, str], ...] = ()
    listed: bool = False  # True: ``expr`` is per repetition, inside ``outer.list.eval``
    outer: pl.Expr | None = None
    outer_path: str | None = None


class _Scope:
    """Where source paths start: the document (``pl.col``) or one repetition (``pl.element``)."""

    def __init__(self, elements: Sequence[Element], item: bool, prefix: str = "") -> None:
        self.elements = {e.name: e for e in elements}
        self.item = item
        self.prefix = prefix

    def root(self, name: str) -> pl.Expr:
        return pl.element().struct.field(name) if self.item else pl.col(name)


def polars_type(element: Element) -> pl.DataType:
    """The polars dtype of an element, derived from its Arrow type (one source of truth)."""
    return pl.from_arrow(pa.array([], type=arrow_type(element))).dtype  # type: ignore[union-attr]


def compile_map(mapping: Map, ctx: BuildContext | None = None) -> Plan:
    """The plan for ``mapping``; raises a ``ValidationErrorGroup`` listing every problem."""
    plan = _compile(mapping, ctx or BuildContext())
    if plan.problems:
        raise ValidationErrorGroup(f"map {mapping.name!r} is not valid", plan.problems)
    return plan


def check_map(mapping: Map) -> None:
    """Validate before running; cross-reference tables are taken as present (loaded at run)."""
    compile_map(mapping, BuildContext(tables=_AnyTable(), udfs=_AnyUdf()))


class _AnyTable(dict[str, Mapping[str, Any]]):
    def __missing__(self, key: str) -> Mapping[str, Any]:
        return {}


class _AnyUdf(dict[str, Callable[..., Any]]):
    def __missing__(self, key: str) -> Callable[..., Any]:
        return lambda *values: None


def _compile(mapping: Map, ctx: BuildContext) -> Plan:
    plan = Plan(columns=[], errors=[])
    source_elements: Sequence[Element] = mapping.source.elements
    if mapping.fan_out:
        try:
            source_elements, plan.fan_out = _fan_out(mapping)
        except MapError as exc:
            plan.problems.append(exc)
            return plan
    rules = {r.target: r for r in mapping.rules}
    known_targets = {path for path, _ in mapping.target.walk()}
    for target in rules:
        if target not in known_targets:
            plan.problems.append(
                MapError(
                    f"rule {target}: the target profile {mapping.target.name!r} has no such element"
                )
            )
    compiler = _Compiler(mapping, ctx, plan)
    scope = _Scope(source_elements, item=False)
    for element in mapping.target.elements:
        expr = compiler.target(element, element.name, rules, scope)
        plan.columns.append(expr.alias(element.name))
    return plan


def _fan_out(mapping: Map) -> tuple[Sequence[Element], pl.Expr]:
    """Source elements after exploding the fan-out element: it becomes a single record."""
    name = mapping.fan_out or ""
    found = next((e for e in mapping.source.elements if e.name == name), None)
    if found is None:
        raise MapError(
            f"fan_out: the source profile has no top-level element {name!r}",
            hint="fan out over a repeating element at the top of the source document",
        )
    if not found.repeating:
        raise MapError(f"fan_out: {name!r} does not repeat, so there is nothing to fan out")
    single = Element(found.name, found.type, children=found.children, max_occurs=1)
    elements = [single if e.name == name else e for e in mapping.source.elements]
    return elements, pl.col(name)


class _Compiler:
    def __init__(self, mapping: Map, ctx: BuildContext, plan: Plan) -> None:
        self.mapping = mapping
        self.ctx = ctx
        self.plan = plan

    # -- targets ------------------------------------------------------------------------

    def target(
        self, element: Element, path: str, rules: Mapping[str, Rule], scope: _Scope
    ) -> pl.Expr:
        rule = rules.get(path)
        dtype = polars_type(element)
        try:
            if rule is not None and element.repeating and element.type is ElementType.RECORD:
                return self._repeating_record(element, rule, scope)
            if rule is not None:
                value = self._rule(rule, scope, element)
                return self._finish(value, element, rule.target)
            nested = [r for r in rules if r.startswith(path + ".")]
            if element.type is ElementType.RECORD and not element.repeating and nested:
                children = [
                    self.target(c, f"{path}.{c.name}", rules, scope).alias(c.name)
                    for c in element.children
                ]
                return pl.struct(children)
            if element.mandatory or element.min_occurs:
                raise MapError(f"rule {path}: mandatory target element is not mapped")
        except MapError as exc:
            self.plan.problems.append(exc)
        return pl.lit(None, dtype=dtype)

    def _repeating_record(self, element: Element, rule: Rule, scope: _Scope) -> pl.Expr:
        """Items of a repeating target, one per repetition of the rule's repeating source."""
        if len(rule.sources) != 1 or rule.steps:
            raise MapError(
                f"rule {rule.target}: a repeating record target takes exactly one repeating "
                "source and child rules (no functions)"
            )
        source = self._element_at(rule.sources[0], scope, rule.target)
        if not source.repeating or source.type is not ElementType.RECORD:
            raise MapError(
                f"rule {rule.target}: source {rule.sources[0]} is not a repeating record"
            )
        outer = self._path_expr(rule.sources[0], scope)
        inner_scope = _Scope(source.children, item=True, prefix=rule.sources[0])
        child_rules = {c.target: c for c in rule.children}
        for name in child_rules:
            if name.split(".")[0] not in {c.name for c in element.children}:
                self.plan.problems.append(
                    MapError(f"rule {rule.target}.{name}: no such element in the target item")
                )
        saved = self.plan.errors
        self.plan.errors = []
        fields = [
            self.target(c, c.name, child_rules, inner_scope).alias(c.name) for c in element.children
        ]
        inner_errors, self.plan.errors = self.plan.errors, saved
        for error in inner_errors:
            any_failed = outer.list.eval(error.expr).list.any().fill_null(False)
            self.plan.errors.append(
                RuleError(f"{rule.target}[].{error.rule}", any_failed, error.message)
            )
        return outer.list.eval(pl.struct(fields))

    def _finish(self, value: _Value, element: Element, label: str) -> pl.Expr:
        """Close an open list context, check the type against the target, record errors."""
        expr = value.expr
        if value.listed:
            if not element.repeating:
                raise MapError(
                    f"rule {label}: reads the repeating element {value.outer_path} into a single "
                    "target; add an aggregate step (sum, count, first, join …), map it to a "
                    "repeating target, or fan out"
                )
            assert value.outer is not None
            expr = value.outer.list.eval(expr)
        elif element.repeating:
            raise MapError(f"rule {label}: the target repeats; map it from a repeating source")
        if not _fits(value.type, element.type):
            raise MapError(
                f"rule {label}: gives {value.type.value} but the target is {element.type.value}",
                hint=_conversion_hint(value.type, element.type),
            )
        for error_expr, message in value.errors:
            self.plan.errors.append(RuleError(label, error_expr, message))
        return expr.cast(polars_type(element))

    # -- rules ---------------------------------------------------------------------------

    def _rule(self, rule: Rule, scope: _Scope, target: Element) -> _Value:
        inputs = [self._source(path, scope, rule.target) for path in rule.sources]
        if not rule.steps:
            if len(inputs) != 1:
                raise MapError(
                    f"rule {rule.target}: {len(inputs)} sources and no function to combine them"
                )
            return inputs[0]
        current = inputs
        for index, step in enumerate(rule.steps):
            extra = [self._source(p, scope, rule.target) for p in step.inputs]
            current = [self._step(step, [*current, *extra], rule.target, index)]
        return current[0]

    def _step(self, step: Step, inputs: list[_Value], label: str, index: int) -> _Value:
        where = f"{label} (step {index + 1}, {step.fn})"
        udf = self.mapping.udfs.get(step.fn)
        if udf is not None:
            return self._udf(step, udf, inputs, where)
        fn = get_function(step.fn, rule=label)
        fn.check_arity(len(inputs), rule=label)
        args = fn.resolve_args(step.args, rule=label)
        if inputs:  # a "value" argument is typed like the input (a date on dates)
            try:
                args = temporal_args(args, fn.args, inputs[0].type)
            except MapError as exc:
                raise MapError(f"rule {where}: argument {exc.message}") from None
        self._check_types(fn, inputs, where)
        contexts = {v.outer_path for v in inputs if v.listed}
        if len(contexts) > 1:
            raise MapError(
                f"rule {where}: inputs come from different repeating elements "
                f"{sorted(map(str, contexts))}"
            )
        listed = [v for v in inputs if v.listed]
        if fn.kind is FunctionKind.AGGREGATE:
            if not listed:
                raise MapError(
                    f"rule {where}: {fn.name} aggregates a repeating element; "
                    "the input does not repeat"
                )
            value = listed[0]
            assert value.outer is not None
            as_list = value.outer.list.eval(value.expr)
            built = fn.build([as_list], args, self.ctx)
            errors = tuple(
                (value.outer.list.eval(e).list.any().fill_null(False), m) for e, m in value.errors
            )
            return _Value(
                built.value, fn.output_type([value.type], args), (*errors, *_errors(built))
            )
        if listed and len(listed) != len(inputs):
            raise MapError(
                f"rule {where}: mixes values of the repeating element {listed[0].outer_path} with "
                "single values; aggregate first"
            )
        built = fn.build([v.expr for v in inputs], args, self.ctx)
        errors = tuple(e for v in inputs for e in v.errors) + _errors(built)
        out_type = fn.output_type([v.type for v in inputs], args)
        if listed:
            return _Value(
                built.value, out_type, errors, True, listed[0].outer, listed[0].outer_path
            )
        return _Value(built.value, out_type, errors)

    def _udf(self, step: Step, spec: str, inputs: list[_Value], where: str) -> _Value:
        """A user-defined Python function: per document, inside the vectorized plan."""
        target, _, output = spec.partition("->")
        function = self.ctx.udfs.get(step.fn) if self.ctx.udfs else None
        if function is None:
            function = _import(target.strip(), where)
        out_type = ElementType(output.strip()) if output.strip() else ElementType.STRING
        dtype = polars_type(Element("v", out_type))
        if any(v.listed for v in inputs):
            raise MapError(f"rule {where}: a Python function takes single values; aggregate first")

        def call(row: dict[str, Any]) -> dict[str, Any]:
            try:
                return {"value": function(*row.values(), **step.args), "error": None}
            except Exception as exc:
                return {"value": None, "error": f"{type(exc).__name__}: {exc}"}

        packed = pl.struct([v.expr.alias(f"i{n}") for n, v in enumerate(inputs)]).map_elements(
            call, return_dtype=pl.Struct({"value": dtype, "error": pl.String})
        )
        failed = packed.struct.field("error").is_not_null()
        errors = (
            *(e for v in inputs for e in v.errors),
            (failed, f"Python function {step.fn} failed"),
        )
        return _Value(packed.struct.field("value"), out_type, errors)

    # -- sources ------------------------------------------------------------------------

    def _element_at(self, path: str, scope: _Scope, label: str) -> Element:
        parts = path.split(".")
        elements = scope.elements
        found: Element | None = None
        for part in parts:
            found = elements.get(part)
            if found is None:
                known = ", ".join(elements) or "none"
                shown = f"{scope.prefix}[].{path}" if scope.item else path
                raise MapError(
                    f"rule {label}: unknown source path {shown!r} "
                    f"(no {part!r}; known here: {known})"
                )
            elements = {c.name: c for c in found.children}
        assert found is not None
        return found

    def _path_expr(self, path: str, scope: _Scope) -> pl.Expr:
        parts = path.split(".")
        expr = scope.root(parts[0])
        for part in parts[1:]:
            expr = expr.struct.field(part)
        return expr

    def _source(self, path: str, scope: _Scope, label: str) -> _Value:
        """A source path as a value; crossing one repeating element opens a list context."""
        parts = path.split(".")
        elements = scope.elements
        expr: pl.Expr | None = None
        outer: pl.Expr | None = None
        outer_path: str | None = None
        element: Element | None = None
        for depth, part in enumerate(parts):
            element = elements.get(part)
            if element is None:
                self._element_at(path, scope, label)  # raises with the known names
            assert element is not None
            expr = scope.root(part) if expr is None else expr.struct.field(part)
            if element.repeating:
                if outer is not None:
                    raise MapError(
                        f"rule {label}: {path!r} crosses two repeating elements; map the outer "
                        "one to a repeating target (children rules) or fan out first"
                    )
                outer, outer_path = expr, ".".join(parts[: depth + 1])
                expr = pl.element()
            elements = {c.name: c for c in element.children}
        assert element is not None and expr is not None
        if element.type is ElementType.RECORD and outer is None:
            raise MapError(f"rule {label}: source {path!r} is a record; map its fields instead")
        if outer is not None:
            return _Value(expr, element.type, (), True, outer, outer_path)
        return _Value(expr, element.type)

    def _check_types(self, fn: MapFunction, inputs: Sequence[_Value], where: str) -> None:
        specs = list(fn.inputs)
        for position, value in enumerate(inputs):
            spec = specs[min(position, len(specs) - 1)].type if specs else ANY
            if not _accepts(spec, value.type):
                wanted = (
                    spec
                    if isinstance(spec, str)
                    else (
                        " or ".join(t.value for t in spec)
                        if isinstance(spec, tuple)
                        else spec.value
                    )
                )
                raise MapError(
                    f"rule {where}: input {position + 1} is {value.type.value}, but {fn.name} "
                    f"expects {wanted}",
                    hint=_conversion_hint(value.type, ElementType.DECIMAL)
                    if value.type is ElementType.STRING
                    else None,
                )


def _errors(built: Built) -> tuple[tuple[pl.Expr, str], ...]:
    main = ((built.error, built.message),) if built.error is not None else ()
    return main + built.more


def _accepts(spec: Any, kind: ElementType) -> bool:
    if spec == ANY or spec == "same":
        return True
    allowed = spec if isinstance(spec, tuple) else (ElementType(spec),)
    if kind in allowed:
        return True
    return kind is ElementType.INTEGER and ElementType.DECIMAL in allowed


def _fits(value: ElementType, target: ElementType) -> bool:
    if value is target or target is ElementType.STRING:
        return True
    return value is ElementType.INTEGER and target is ElementType.DECIMAL


def _conversion_hint(value: ElementType, target: ElementType) -> str | None:
    if value is ElementType.STRING:
        return {
            ElementType.INTEGER: "add a to_integer step",
            ElementType.DECIMAL: "add a to_number step",
            ElementType.DATE: "add a parse_date step with the text's mask",
            ElementType.DATETIME: "add a parse_datetime step with the text's mask",
        }.get(target)
    return None


def _import(target: str, where: str) -> Callable[..., Any]:
    module_name, _, attribute = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise MapError(
            f"rule {where}: cannot load Python function {target!r}: {exc}",
            hint="name it as 'module:function', importable from the workspace",
        ) from None
