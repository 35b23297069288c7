"""The map component: target elements from source elements through chains of functions.

A map is data — source and target profiles, one rule per target element, an
optional fan-out — so it saves as one readable YAML file, diffs well, and the
visual mapper and Python edit the same object. Rules are:

* ``target`` — a target element path (``customer.name`` sets a field inside a record);
* ``sources`` — source element paths; a path through a repeating element
  (``lines.qty``) gives the values of every repetition, which an aggregate step
  (``sum``, ``count``, ``join`` …) turns into one value, or which a repeating
  target maps item by item;
* ``steps`` — functions applied in order (the first takes the sources as inputs,
  each next one the previous result, plus the extra source paths in its ``inputs``);
* ``children`` — for a repeating target mapped from a repeating source: rules whose
  paths are relative to one repetition of each side.

``fan_out`` names a repeating source element: one target document per repetition,
which may read its parent document's fields too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from atomnb.errors import MapError
from atomnb.profiles import Profile

__all__ = ["Map", "Rule", "Step"]


@dataclass(frozen=True)
class Step:
    """One function call in a rule's chain, with its arguments."""

    fn: str
    args: dict[str, Any] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()  # extra source paths, after the previous step's result

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fn": self.fn}
        if self.args:
            out["args"] = dict(self.args)
        if self.inputs:
            out["inputs"] = list(self.inputs)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str) -> Step:
        if isinstance(data, str):
            return cls(data)
        if "fn" not in data:
            raise MapError(f"a step has no 'fn': {dict(data)}")
        inputs = tuple(str(i) for i in data.get("inputs") or ())
        return cls(str(data["fn"]), dict(data.get("args") or {}), inputs)


@dataclass(frozen=True)
class Rule:
    """How one target element gets its value."""

    target: str
    sources: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()
    children: tuple[Rule, ...] = ()
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"target": self.target}
        if len(self.sources) == 1:
            out["source"] = self.sources[0]
        elif self.sources:
            out["sources"] = list(self.sources)
        if self.steps:
            out["steps"] = [s.to_dict() for s in self.steps]
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        if self.description:
            out["description"] = self.description
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rule:
        if "target" not in data:
            raise MapError(f"a rule has no 'target': {dict(data)}")
        sources = data.get("sources") or ([data["source"]] if data.get("source") else [])
        return cls(
            target=str(data["target"]),
            sources=tuple(str(s) for s in sources),
            steps=tuple(Step.from_dict(s) for s in data.get("steps") or ()),
            children=tuple(cls.from_dict(c) for c in data.get("children") or ()),
            description=str(data.get("description", "")),
        )


@dataclass(frozen=True)
class Map:
    """A map between two profiles; call it on Documents to get target Documents."""

    name: str
    source: Profile
    target: Profile
    rules: tuple[Rule, ...]
    fan_out: str | None = None
    # user-defined functions: name -> "module:function" or "module:function -> decimal"
    udfs: dict[str, str] = field(default_factory=dict)
    tables: tuple[str, ...] = ()  # cross-reference tables the lookups use
    description: str = ""

    def rule(self, target: str) -> Rule:
        for rule in self.rules:
            if rule.target == target:
                return rule
        raise MapError(f"map {self.name!r} has no rule for target {target!r}")

    def with_rule(self, rule: Rule) -> Map:
        """A new map with ``rule`` added, replacing any rule for the same target."""
        kept = tuple(r for r in self.rules if r.target != rule.target)
        return replace(self, rules=(*kept, rule))

    def without_rule(self, target: str) -> Map:
        return replace(self, rules=tuple(r for r in self.rules if r.target != target))

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "source_profile": self.source.name,
            "target_profile": self.target.name,
        }
        if self.fan_out:
            body["fan_out"] = self.fan_out
        if self.udfs:
            body["udfs"] = dict(self.udfs)
        if self.tables:
            body["tables"] = list(self.tables)
        if self.description:
            body["description"] = self.description
        body["rules"] = [r.to_dict() for r in self.rules]
        return body

    @classmethod
    def from_body(cls, name: str, body: Mapping[str, Any], source: Profile, target: Profile) -> Map:
        rules = body.get("rules")
        if not isinstance(rules, list):
            raise MapError(f"map {name!r} has no rule list")
        return cls(
            name=name,
            source=source,
            target=target,
            rules=tuple(Rule.from_dict(r) for r in rules),
            fan_out=body.get("fan_out"),
            udfs=dict(body.get("udfs") or {}),
            tables=tuple(body.get("tables") or ()),
            description=str(body.get("description", "")),
        )

    def __call__(self, documents: Any, **options: Any) -> Any:
        """Map Documents (or a DocumentStream, lazily) to the target profile."""
        from atomnb.maps.apply import apply_map  # apply imports this module

        return apply_map(self, documents, **options)

    def save(self, name: str | None = None, *, workspace: Any = None) -> Path:
        """Check the map, then save it as ``components/maps/<name>.yaml`` (with its profiles).

        An invalid map is not saved: the ``ValidationErrorGroup`` lists every problem
        (a mandatory target not mapped, a rule that does not compile). Saving what is
        already saved keeps the version. Returns the map file's path.
        """
        from atomnb.maps.component import save_map  # component imports this module

        self.validate()
        return save_map(self, name, workspace=workspace)

    @classmethod
    def load(cls, name: str, *, workspace: Any = None) -> Map:
        """The saved map component ``name``, with its profiles."""
        from atomnb.maps.component import load_map

        return load_map(name, workspace=workspace)

    def validate(self) -> None:
        """Check the whole map before running: raises one group with every problem."""
        from atomnb.maps.compile import check_map

        check_map(self)
