"""The map function library: every function with a vectorized form and a per-record form.

A function is registered once with its group, a one-line description (shown by
the visual mapper), typed inputs and arguments, and two implementations:

* ``build`` returns a polars expression over its input expressions — what the
  compiler uses, so a map runs column-wise over a whole batch;
* ``python`` computes one value from plain Python values — the reference the
  vectorized form is tested against, and what a per-document fallback uses.

A function that can fail for one document (a date that does not parse, a lookup
that misses) returns, besides its value, an error expression that is true where
it failed; the map turns those documents into error documents and lets the
others through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import polars as pl

from atomnb.errors import MapError
from atomnb.profiles import ElementType

__all__ = [
    "ANY",
    "ARG_INPUTS",
    "SAME",
    "Arg",
    "BuildContext",
    "Built",
    "FunctionKind",
    "Input",
    "MapFunction",
    "MapValueError",
    "OutputRule",
    "function_library",
    "get_function",
    "register",
]

#: Input type that accepts any element type.
ANY = "any"
#: Output type "the same as the first input".
SAME = "same"

TypeSpec = ElementType | str


@dataclass(frozen=True)
class OutputRule:
    """An output type that depends on the input types and the arguments (e.g. ``constant``).

    ``rule(input_types, args)`` gives the type; ``label`` is what ``describe()`` shows.
    """

    rule: Callable[[Sequence[ElementType], Mapping[str, Any]], ElementType]
    label: str


class FunctionKind(StrEnum):
    SCALAR = "scalar"  # one value in, one value out, per document (or per repetition)
    AGGREGATE = "aggregate"  # the values of a repeating element in, one value out


class MapValueError(ValueError):
    """Raised by a ``python`` implementation when one document's value cannot be mapped."""


@dataclass(frozen=True)
class Input:
    name: str
    type: TypeSpec | tuple[ElementType, ...] = ANY
    variadic: bool = False  # takes one or more inputs (e.g. concat)
    optional: bool = False  # may be left out (only after the required ones), e.g. compare to an arg


#: What the mapper shows for an argument: a number, whole-number, true/false, date or text
#: field, a choice list, a list or mapping, or "value": typed like the step's input.
ARG_INPUTS = (
    "number",
    "integer",
    "boolean",
    "date",
    "datetime",
    "text",
    "choice",
    "list",
    "mapping",
    "value",
)


@dataclass(frozen=True)
class Arg:
    name: str
    type: type | tuple[type, ...] = str
    default: Any = ...
    description: str = ""
    choices: tuple[str, ...] = ()  # the allowed texts (the mapper shows a choice list)
    kind: str = ""  # one of ARG_INPUTS when the type alone does not say (e.g. "value")

    @property
    def required(self) -> bool:
        return self.default is ...

    @property
    def input(self) -> str:
        """The kind of field the mapper shows (one of ``ARG_INPUTS``), from the declared type."""
        kinds = self.type if isinstance(self.type, tuple) else (self.type,)
        if self.kind:
            return self.kind
        if self.choices:
            return "choice"
        if kinds == (bool,):
            return "boolean"
        if kinds == (int,):
            return "integer"
        if set(kinds) <= {int, float}:
            return "number"
        if kinds == (list,):
            return "list"
        if kinds == (dict,):
            return "mapping"
        return "text"


@dataclass(frozen=True)
class Built:
    """A compiled step: the value expression, and where it failed (``None``: never fails)."""

    value: pl.Expr
    error: pl.Expr | None = None
    message: str = ""
    #: further ways it fails, each where it is true, with its own message (exclusive)
    more: tuple[tuple[pl.Expr, str], ...] = ()


@dataclass
class BuildContext:
    """What a build may need beyond its inputs: lookup tables, process properties, UDFs."""

    tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    properties: Mapping[str, Any] = field(default_factory=dict)
    udfs: Mapping[str, Callable[..., Any]] = field(default_factory=dict)


Builder = Callable[[list[pl.Expr], dict[str, Any], BuildContext], Built]


@dataclass(frozen=True)
class MapFunction:
    name: str
    group: str
    description: str
    inputs: tuple[Input, ...]
    output: TypeSpec | OutputRule
    build: Builder
    python: Callable[..., Any]
    args: tuple[Arg, ...] = ()
    kind: FunctionKind = FunctionKind.SCALAR

    def check_arity(self, count: int, *, rule: str) -> None:
        """Refuse the wrong number of inputs, naming the rule and what the function takes."""
        fixed = [i for i in self.inputs if not i.variadic]
        variadic = any(i.variadic for i in self.inputs)
        low = len([i for i in fixed if not i.optional]) + (1 if variadic else 0)
        if count < low or (not variadic and count > len(fixed)):
            if variadic:
                want = f"at least {low}"
            elif low < len(fixed):
                want = f"{low} to {len(fixed)}"
            else:
                want = str(low)
            raise MapError(
                f"rule {rule}: function {self.name} takes {want} input(s), got {count}",
                hint=f"{self.name}: {self.description}",
            )

    def resolve_args(self, given: Mapping[str, Any], *, rule: str) -> dict[str, Any]:
        """Arguments with defaults filled in; unknown or missing ones name the rule."""
        known = {a.name: a for a in self.args}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise MapError(
                f"rule {rule}: function {self.name} has no argument(s) {', '.join(unknown)}",
                hint=f"its arguments: {', '.join(known) or 'none'}",
            )
        resolved = {}
        for arg in self.args:
            if arg.name in given:
                value = given[arg.name]
                if value is not None and not isinstance(value, arg.type):
                    raise MapError(
                        f"rule {rule}: argument {arg.name} of {self.name} must be "
                        f"{_type_names(arg.type)}, got {value!r}"
                    )
                resolved[arg.name] = value
            elif arg.required:
                raise MapError(f"rule {rule}: function {self.name} needs argument {arg.name!r}")
            else:
                resolved[arg.name] = arg.default
        return resolved

    def output_type(
        self, input_types: Sequence[ElementType], args: Mapping[str, Any] | None = None
    ) -> ElementType:
        """The result type; pass the resolved ``args`` when the output depends on them."""
        if isinstance(self.output, OutputRule):
            if args is None:
                args = {a.name: a.default for a in self.args if not a.required}
            return self.output.rule(input_types, args)
        if self.output == SAME:
            return input_types[0] if input_types else ElementType.STRING
        return ElementType(self.output)

    def describe(self) -> dict[str, Any]:
        """What the visual mapper shows: name, group, description, inputs, arguments, output."""
        return {
            "name": self.name,
            "group": self.group,
            "kind": self.kind.value,
            "description": self.description,
            "inputs": [
                {
                    "name": i.name,
                    "type": _spec(i.type),
                    "variadic": i.variadic,
                    "optional": i.optional,
                }
                for i in self.inputs
            ],
            "args": [
                {
                    "name": a.name,
                    "type": _type_names(a.type),
                    "input": a.input,
                    "choices": list(a.choices),
                    "required": a.required,
                    "default": None if a.required else a.default,
                    "description": a.description,
                }
                for a in self.args
            ],
            "output": _spec(self.output),
        }


def _spec(spec: TypeSpec | OutputRule | tuple[ElementType, ...]) -> str:
    if isinstance(spec, OutputRule):
        return spec.label
    if isinstance(spec, tuple):
        return " | ".join(t.value for t in spec)
    return spec.value if isinstance(spec, ElementType) else spec


def _type_names(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


_LIBRARY: dict[str, MapFunction] = {}


def register(
    name: str,
    *,
    group: str,
    description: str,
    inputs: Sequence[Input],
    output: TypeSpec | OutputRule,
    python: Callable[..., Any],
    args: Sequence[Arg] = (),
    kind: FunctionKind = FunctionKind.SCALAR,
) -> Callable[[Builder], Builder]:
    """Decorator: register ``build`` under ``name`` with its per-record twin ``python``."""

    def decorate(build: Builder) -> Builder:
        if name in _LIBRARY:
            raise MapError(f"map function {name!r} is registered twice")
        _LIBRARY[name] = MapFunction(
            name, group, description, tuple(inputs), output, build, python, tuple(args), kind
        )
        return build

    return decorate


def _load_library() -> None:
    # Importing the group modules registers their functions (once, on first use).
    from atomnb.maps.functions import (  # noqa: F401
        aggregate,
        dates,
        logic,
        lookup,
        number_masks,
        numbers,
        strings,
        values,
    )


def function_library() -> dict[str, MapFunction]:
    """Every registered function by name (the groups load on first call)."""
    _load_library()
    return dict(_LIBRARY)


def get_function(name: str, *, rule: str = "?") -> MapFunction:
    library = function_library()
    try:
        return library[name]
    except KeyError:
        close = [n for n in library if n.startswith(name[:3])]
        raise MapError(
            f"rule {rule}: unknown function {name!r}",
            hint=f"did you mean: {', '.join(close)}" if close else "see ab.map_functions()",
        ) from None
