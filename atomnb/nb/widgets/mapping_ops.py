"""Editing a Map the way the visual mapper does: by full element paths, one intent at a time.

The mapper's user thinks in whole paths (drag ``lines.sku`` onto ``items.sku``);
a Map nests the rules of a repeating target under the rule that feeds it, with
paths relative to one repetition. These functions translate between the two —
creating the parent "item by item" rule when a field inside a repeating target
is linked, adding a second source to an existing link, adding and editing
function steps — and always return a new Map, so the widget, Python code and the
saved component edit the same immutable object.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from atomnb.errors import MapError, ProfileError
from atomnb.maps import Map, Rule, Step, function_library
from atomnb.maps.functions.registry import FunctionKind
from atomnb.nb.widgets.trees import repeating_ancestors
from atomnb.profiles import Element, ElementType, Profile

__all__ = [
    "LinkView",
    "add_step",
    "find_link",
    "find_rule",
    "iter_links",
    "link",
    "move_step",
    "remove_step",
    "set_fan_out",
    "set_step_args",
    "unlink",
    "unmapped_mandatory",
    "with_tables",
]


def _join(prefix: str, path: str) -> str:
    return f"{prefix}.{path}" if prefix else path


def _relative(path: str, prefix: str) -> str | None:
    """``path`` below ``prefix`` (``None`` when it is not inside it)."""
    if not prefix:
        return path
    return path[len(prefix) + 1 :] if path.startswith(prefix + ".") else None


def _element(profile: Profile, path: str, side: str) -> Element:
    try:
        return profile.element(path)
    except ProfileError:
        raise MapError(f"the {side} profile {profile.name!r} has no element {path!r}") from None


@dataclass(frozen=True)
class LinkView:
    """One rule seen with full paths, as the mapper draws it."""

    target: str
    sources: tuple[str, ...]
    steps: tuple[Step, ...]
    mode: str  # single, each, aggregate, fan out, item by item, repeating
    parent: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "sources": list(self.sources),
            "steps": [s.to_dict() for s in self.steps],
            "mode": self.mode,
            "parent": self.parent,
        }


# -- reading -------------------------------------------------------------------------------


def iter_links(mapping: Map) -> Iterator[LinkView]:
    """Every rule of the map, children after their parent, with full source/target paths."""

    def visit(rules: tuple[Rule, ...], tp: str, sp: str, parent: str | None) -> Iterator[LinkView]:
        for rule in rules:
            target = _join(tp, rule.target)
            sources = tuple(_join(sp, s) for s in rule.sources)
            yield LinkView(target, sources, rule.steps, _mode(mapping, rule, target, sp), parent)
            if rule.children and rule.sources:
                yield from visit(rule.children, target, sources[0], target)

    yield from visit(mapping.rules, "", "", None)


def _mode(mapping: Map, rule: Rule, target: str, sp: str) -> str:
    try:
        element = mapping.target.element(target)
    except ProfileError:
        return "single"
    if element.repeating and element.type is ElementType.RECORD:
        return "item by item"
    sources = [_join(sp, s) for s in rule.sources]
    if mapping.fan_out and any(s.startswith(mapping.fan_out + ".") for s in sources):
        return "fan out"
    crossing = False
    for source in sources:
        try:
            chain = repeating_ancestors(mapping.source, source)
        except ProfileError:
            continue
        crossing = crossing or any(_relative(p, sp) is not None for p in chain)
    if not crossing:
        return "single"
    if element.repeating:
        return "each"
    library = function_library()
    if any(s.fn in library and library[s.fn].kind is FunctionKind.AGGREGATE for s in rule.steps):
        return "aggregate"
    return "repeating"


def find_link(mapping: Map, target: str) -> LinkView | None:
    """The link to the full target path ``target``, as the mapper draws it."""
    return next((view for view in iter_links(mapping) if view.target == target), None)


def find_rule(mapping: Map, target: str) -> Rule | None:
    """The rule for the full target path ``target`` (nested under its repeating parent)."""
    for view_rule, _tp, _sp in _walk(mapping.rules, "", ""):
        if _join(_tp, view_rule.target) == target:
            return view_rule
    return None


def _walk(rules: tuple[Rule, ...], tp: str, sp: str) -> Iterator[tuple[Rule, str, str]]:
    for rule in rules:
        yield rule, tp, sp
        if rule.children and rule.sources:
            yield from _walk(rule.children, _join(tp, rule.target), _join(sp, rule.sources[0]))


def unmapped_mandatory(mapping: Map) -> list[str]:
    """Full paths of mandatory target elements that no rule gives a value (as the compiler sees)."""
    out: list[str] = []

    def visit(
        elements: tuple[Element, ...], prefix: str, rules: Mapping[str, Rule], tp: str
    ) -> None:
        for element in elements:
            rel = _join(prefix, element.name)
            full = _join(tp, rel)
            rule = rules.get(rel)
            if rule is not None:
                if element.repeating and element.type is ElementType.RECORD:
                    visit(element.children, "", {c.target: c for c in rule.children}, full)
                continue
            nested = any(r.startswith(rel + ".") for r in rules)
            if element.type is ElementType.RECORD and not element.repeating and nested:
                visit(element.children, rel, rules, tp)
            elif element.mandatory or element.min_occurs:
                out.append(full)

    visit(mapping.target.elements, "", {r.target: r for r in mapping.rules}, "")
    return out


# -- editing -------------------------------------------------------------------------------


def link(mapping: Map, source: str, target: str) -> Map:
    """Link ``source`` to ``target`` (full paths), creating item-by-item parents as needed.

    Linking onto a target that already has a rule adds the source as one more
    input (for functions like ``concat``); linking a repeating record onto a
    repeating record makes an item-by-item rule whose field links go under it.
    """
    target_el = _element(mapping.target, target, "target")
    source_el = _element(mapping.source, source, "source")
    if target_el.type is ElementType.RECORD and not target_el.repeating:
        raise MapError(
            f"{target} is a record; link its fields, or a repeating record onto a repeating one"
        )
    if target_el.repeating and target_el.type is ElementType.RECORD:
        if not (source_el.repeating and source_el.type is ElementType.RECORD):
            raise MapError(
                f"{target} repeats: link a repeating source record onto it (item by item), "
                f"not {source}"
            )
    elif source_el.type is ElementType.RECORD:
        raise MapError(f"{source} is a record; link its fields instead")
    containers = [p for p in repeating_ancestors(mapping.target, target) if p != target]
    containers = [p for p in containers if mapping.target.element(p).type is ElementType.RECORD]
    rules = _link_in(mapping, mapping.rules, "", "", containers, source, target)
    return replace(mapping, rules=rules)


def _link_in(
    mapping: Map,
    rules: tuple[Rule, ...],
    tp: str,
    sp: str,
    containers: list[str],
    source: str,
    target: str,
) -> tuple[Rule, ...]:
    if not containers:
        rel_target = _relative(target, tp)
        rel_source = _relative(source, sp)
        assert rel_target is not None
        if rel_source is None:
            raise MapError(
                f"{source} is outside {sp}, which gives the items of {tp}; "
                f"link a field of {sp} to {target}"
            )
        existing = next((r for r in rules if r.target == rel_target), None)
        target_el = mapping.target.element(target)
        if existing is None or (target_el.repeating and target_el.type is ElementType.RECORD):
            keep = existing.children if existing and existing.sources == (rel_source,) else ()
            return _put(rules, Rule(rel_target, (rel_source,), children=keep))
        if rel_source in existing.sources:
            return rules
        return _put(rules, replace(existing, sources=(*existing.sources, rel_source)))
    container, rest = containers[0], containers[1:]
    rel_container = _relative(container, tp)
    assert rel_container is not None
    parent = next((r for r in rules if r.target == rel_container), None)
    if parent is None or not parent.sources:
        candidates = [
            p
            for p in repeating_ancestors(mapping.source, source)
            if p != source and _relative(p, sp) is not None
        ]
        if not candidates:
            raise MapError(
                f"{target} is inside the repeating element {container}: link a repeating "
                f"source record to {container} first (item by item), or map {source} to a "
                "single target"
            )
        rel_parent_source = _relative(candidates[0], sp)
        assert rel_parent_source is not None
        parent = Rule(rel_container, (rel_parent_source,))
    children = _link_in(
        mapping, parent.children, container, _join(sp, parent.sources[0]), rest, source, target
    )
    return _put(rules, replace(parent, children=children))


def _put(rules: tuple[Rule, ...], rule: Rule) -> tuple[Rule, ...]:
    """``rules`` with ``rule`` in place of the one with its target (or appended)."""
    if any(r.target == rule.target for r in rules):
        return tuple(rule if r.target == rule.target else r for r in rules)
    return (*rules, rule)


def _edit(mapping: Map, target: str, change: Callable[[Rule, str], Rule | None]) -> Map:
    """A new map where the rule for ``target`` is ``change(rule, its source prefix)``."""
    found = False

    def visit(rules: tuple[Rule, ...], tp: str, sp: str) -> tuple[Rule, ...]:
        nonlocal found
        out = []
        for rule in rules:
            full = _join(tp, rule.target)
            if full == target:
                found = True
                changed = change(rule, sp)
                if changed is not None:
                    out.append(changed)
                continue
            if rule.children and rule.sources and target.startswith(full + "."):
                rule = replace(
                    rule, children=visit(rule.children, full, _join(sp, rule.sources[0]))
                )
            out.append(rule)
        return tuple(out)

    rules = visit(mapping.rules, "", "")
    if not found:
        raise MapError(f"map {mapping.name!r} has no link to {target}")
    return replace(mapping, rules=rules)


def unlink(mapping: Map, target: str, source: str | None = None) -> Map:
    """Remove the link to ``target`` — or only its input ``source`` (full path)."""

    def change(rule: Rule, sp: str) -> Rule | None:
        if source is None:
            return None
        kept = tuple(s for s in rule.sources if _join(sp, s) != source)
        if len(kept) == len(rule.sources):
            raise MapError(f"{source} is not linked to {target}")
        return replace(rule, sources=kept) if kept else None

    return _edit(mapping, target, change)


def add_step(
    mapping: Map,
    target: str,
    fn: str,
    args: Mapping[str, Any] | None = None,
    *,
    index: int | None = None,
) -> Map:
    """Add the function ``fn`` to the link to ``target`` (at the end, or at ``index``)."""
    library = function_library()
    if fn not in library and fn not in mapping.udfs:
        raise MapError(f"no map function named {fn!r}", hint="pick one from the function list")
    step = Step(fn, _defaults(fn, dict(args or {})))

    def change(rule: Rule, _sp: str) -> Rule:
        if rule.children:
            raise MapError(f"{target} maps item by item; add functions to its fields' links")
        steps = list(rule.steps)
        steps.insert(len(steps) if index is None else index, step)
        return replace(rule, steps=tuple(steps))

    return with_tables(_edit(mapping, target, change))


def _defaults(fn: str, args: dict[str, Any]) -> dict[str, Any]:
    """Arguments the user must choose start empty; defaults stay implicit (short YAML)."""
    return {k: v for k, v in args.items() if v is not None and v != ""}


def set_step_args(mapping: Map, target: str, index: int, args: Mapping[str, Any]) -> Map:
    """Replace the arguments of step ``index`` of the link to ``target`` (empty values dropped)."""

    def change(rule: Rule, _sp: str) -> Rule:
        steps = list(rule.steps)
        if not 0 <= index < len(steps):
            raise MapError(f"the link to {target} has no step {index + 1}")
        steps[index] = replace(steps[index], args=_defaults(steps[index].fn, dict(args)))
        return replace(rule, steps=tuple(steps))

    return with_tables(_edit(mapping, target, change))


def remove_step(mapping: Map, target: str, index: int) -> Map:
    def change(rule: Rule, _sp: str) -> Rule:
        if not 0 <= index < len(rule.steps):
            raise MapError(f"the link to {target} has no step {index + 1}")
        return replace(rule, steps=rule.steps[:index] + rule.steps[index + 1 :])

    return _edit(mapping, target, change)


def move_step(mapping: Map, target: str, index: int, delta: int) -> Map:
    """Move step ``index`` up (``delta=-1``) or down (``+1``) the chain."""

    def change(rule: Rule, _sp: str) -> Rule:
        steps = list(rule.steps)
        new = index + delta
        if not (0 <= index < len(steps) and 0 <= new < len(steps)):
            return rule
        steps[index], steps[new] = steps[new], steps[index]
        return replace(rule, steps=tuple(steps))

    return _edit(mapping, target, change)


def set_fan_out(mapping: Map, element: str | None) -> Map:
    """One target document per repetition of the top-level repeating ``element`` (or none)."""
    if element:
        found = _element(mapping.source, element, "source")
        if "." in element or not found.repeating:
            raise MapError(
                f"fan out needs a repeating element at the top of the source, not {element}"
            )
    return replace(mapping, fan_out=element or None)


def with_tables(mapping: Map) -> Map:
    """Keep ``mapping.tables`` naming every table its lookups use (for "where used")."""
    used = list(mapping.tables)
    for rule, _tp, _sp in _walk(mapping.rules, "", ""):
        for step in rule.steps:
            table = step.args.get("table") if step.fn == "lookup" else None
            if isinstance(table, str) and table and table not in used:
                used.append(table)
    return replace(mapping, tables=tuple(used))
