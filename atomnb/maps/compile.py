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

This module walks the target profile and chains each rule's steps; its parts live
beside it — ``plan`` (what compiling gives), ``sources`` (source paths and list
contexts), ``typecheck`` (which types fit where) and ``udf`` (Python function
steps). Import the plan's names from here: this stays the public path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl

from atomnb.errors import MapError, ValidationErrorGroup
from atomnb.maps.functions.arguments import temporal_args
from atomnb.maps.functions.registry import BuildContext, Built, FunctionKind, get_function
from atomnb.maps.model import Map, Rule, Step
from atomnb.maps.plan import FAN_OUT_COLUMN, Plan, RuleError, polars_type
from atomnb.maps.sources import Scope, Value, element_at, path_expr, source_value
from atomnb.maps.typecheck import check_types, conversion_hint, fits
from atomnb.maps.udf import udf_value
from atomnb.profiles import Element, ElementType

__all__ = ["FAN_OUT_COLUMN", "Plan", "RuleError", "check_map", "compile_map", "polars_type"]


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
    scope = Scope(source_elements, item=False)
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
        self, element: Element, path: str, rules: Mapping[str, Rule], scope: Scope
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

    def _repeating_record(self, element: Element, rule: Rule, scope: Scope) -> pl.Expr:
        """Items of a repeating target, one per repetition of the rule's repeating source."""
        if len(rule.sources) != 1 or rule.steps:
            raise MapError(
                f"rule {rule.target}: a repeating record target takes exactly one repeating "
                "source and child rules (no functions)"
            )
        source = element_at(rule.sources[0], scope, rule.target)
        if not source.repeating or source.type is not ElementType.RECORD:
            raise MapError(
                f"rule {rule.target}: source {rule.sources[0]} is not a repeating record"
            )
        outer = path_expr(rule.sources[0], scope)
        inner_scope = Scope(source.children, item=True, prefix=rule.sources[0])
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

    def _finish(self, value: Value, element: Element, label: str) -> pl.Expr:
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
        if not fits(value.type, element.type):
            raise MapError(
                f"rule {label}: gives {value.type.value} but the target is {element.type.value}",
                hint=conversion_hint(value.type, element.type),
            )
        for error_expr, message in value.errors:
            self.plan.errors.append(RuleError(label, error_expr, message))
        return expr.cast(polars_type(element))

    # -- rules ---------------------------------------------------------------------------

    def _rule(self, rule: Rule, scope: Scope, target: Element) -> Value:
        inputs = [source_value(path, scope, rule.target) for path in rule.sources]
        if not rule.steps:
            if len(inputs) != 1:
                raise MapError(
                    f"rule {rule.target}: {len(inputs)} sources and no function to combine them"
                )
            return inputs[0]
        current = inputs
        for index, step in enumerate(rule.steps):
            extra = [source_value(p, scope, rule.target) for p in step.inputs]
            current = [self._step(step, [*current, *extra], rule.target, index)]
        return current[0]

    def _step(self, step: Step, inputs: list[Value], label: str, index: int) -> Value:
        where = f"{label} (step {index + 1}, {step.fn})"
        udf = self.mapping.udfs.get(step.fn)
        if udf is not None:
            return udf_value(step, udf, inputs, where, self.ctx)
        fn = get_function(step.fn, rule=label)
        fn.check_arity(len(inputs), rule=label)
        args = fn.resolve_args(step.args, rule=label)
        if inputs:  # a "value" argument is typed like the input (a date on dates)
            try:
                args = temporal_args(args, fn.args, inputs[0].type)
            except MapError as exc:
                raise MapError(f"rule {where}: argument {exc.message}") from None
        check_types(fn, inputs, where)
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
            return Value(
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
            return Value(built.value, out_type, errors, True, listed[0].outer, listed[0].outer_path)
        return Value(built.value, out_type, errors)


def _errors(built: Built) -> tuple[tuple[pl.Expr, str], ...]:
    main = ((built.error, built.message),) if built.error is not None else ()
    return main + built.more
