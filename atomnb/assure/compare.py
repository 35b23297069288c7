"""Compare a replay's shape outputs with the recorded ones, field by field.

Both sides are folders written by ``atomnb.process.case_outputs``: ``index.jsonl``
(one line per shape: number, name, kind, per path the document count and the
rejections) and one JSON Lines file per shape and path. A difference is reported
where a reviewer looks for it: the shape (numbered as ``atomnb executions show``
numbers shapes), the path, the document index, the field (a dotted path, list
items as ``[i]``), the recorded and the new value — and for a map shape the rule
of the map that makes the field, with its sources and function chain.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FieldDiff", "ShapeDiff", "compare_outputs", "format_diffs", "map_rules"]

INDEX = "index.jsonl"
FIELDS_SHOWN = 20
_MISSING = object()

RuleFinder = Callable[[str], Mapping[str, str] | None]


@dataclass(frozen=True)
class FieldDiff:
    """One field of one document that came out differently."""

    path: str  # the shape's output path (out, response, rows ...)
    document: int
    field: str
    recorded: Any
    new: Any
    rule: str | None = None


@dataclass
class ShapeDiff:
    """What differs in one shape: problems of the shape as a whole, then field by field."""

    number: int
    name: str
    kind: str
    problems: list[str] = field(default_factory=list)
    fields: list[FieldDiff] = field(default_factory=list)


def read_index(folder: Path) -> dict[int, dict[str, Any]]:
    path = folder / INDEX
    if not path.exists():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    return {entry["number"]: entry for entry in map(json.loads, filter(None, lines))}


def compare_outputs(recorded: Path, new: Path, rules: RuleFinder | None = None) -> list[ShapeDiff]:
    """Every shape whose outputs differ between ``recorded`` and ``new`` (empty: the same)."""
    before, after = read_index(recorded), read_index(new)
    diffs: list[ShapeDiff] = []
    for number in sorted(set(before) | set(after)):
        old, now = before.get(number), after.get(number)
        shown = old or now
        assert shown is not None
        diff = ShapeDiff(number, str(shown["name"]), str(shown["kind"]))
        if old is None:
            diff.problems.append("a new shape: the recording has no shape with this number")
        elif now is None:
            diff.problems.append("the replay did not run this shape (it stopped earlier)")
        else:
            if (old["name"], old["kind"]) != (now["name"], now["kind"]):
                diff.problems.append(
                    f"recorded shape {old['name']!r} ({old['kind']}), "
                    f"now {now['name']!r} ({now['kind']})"
                )
            if old.get("error") != now.get("error"):
                was, is_ = old.get("error"), now.get("error")
                diff.problems.append(f"error: recorded {was!r}, now {is_!r}")
            finder = rules(str(now["name"])) if rules and now["kind"] == "map" else None
            _compare_shape(diff, old, now, recorded, new, finder or {})
        if diff.problems or diff.fields:
            diffs.append(diff)
    return diffs


def _compare_shape(
    diff: ShapeDiff,
    old: Mapping[str, Any],
    now: Mapping[str, Any],
    recorded: Path,
    new: Path,
    rules: Mapping[str, str],
) -> None:
    for label in sorted(set(old["outputs"]) | set(now["outputs"])):
        was, is_ = old["outputs"].get(label), now["outputs"].get(label)
        if was is None or is_ is None:
            where = "recording" if was is None else "replay"
            diff.problems.append(f"path {label!r} is not in the {where}")
            continue
        if was["documents"] != is_["documents"]:
            diff.problems.append(
                f"path {label!r}: recorded {was['documents']} document(s), now {is_['documents']}"
            )
        if was.get("rejections") != is_.get("rejections"):
            diff.problems.append(
                f"path {label!r}: rejections differ: recorded {_brief(was.get('rejections'))}, "
                f"now {_brief(is_.get('rejections'))}"
            )
        old_docs = _lines(recorded / was["file"])
        new_docs = _lines(new / is_["file"])
        for index in range(min(len(old_docs), len(new_docs))):
            for name, before, after in _differences(old_docs[index], new_docs[index]):
                top = name.split(".")[0].split("[")[0]
                rule = rules.get(name.split("[")[0]) or rules.get(top)
                diff.fields.append(FieldDiff(label, index, name, before, after, rule))


def _brief(rejections: Any) -> str:
    if not rejections:
        return "none"
    return "; ".join(f"document {r.get('index')} rule {r.get('rule')}" for r in rejections[:5])


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line]


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    yield from _walk("", old.get("document"), new.get("document"))
    old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
    for name in sorted(set(old_props) | set(new_props)):
        before, after = old_props.get(name, _MISSING), new_props.get(name, _MISSING)
        if before != after:
            yield f"property {name}", _shown(before), _shown(after)


def _walk(prefix: str, old: Any, new: Any) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            yield from _walk(name, old.get(key, _MISSING), new.get(key, _MISSING))
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _walk(f"{prefix}[{index}]", a, b)
    elif old != new:
        yield prefix or "(document)", _shown(old), _shown(new)


def _shown(value: Any) -> Any:
    return "(missing)" if value is _MISSING else value


def map_rules(rules: Any, prefix: str = "") -> dict[str, str]:
    """Each target path of a map's rules, described as ``rule T <- sources: fn(args) -> fn``."""
    described: dict[str, str] = {}
    for rule in rules:
        target = f"{prefix}.{rule.target}" if prefix else rule.target
        chain = " -> ".join(
            f"{step.fn}({', '.join(f'{k}={v!r}' for k, v in step.args.items())})"
            for step in rule.steps
        )
        sources = ", ".join(rule.sources) or "(no source)"
        described[target] = f"rule {target} <- {sources}" + (f": {chain}" if chain else "")
        described.update(map_rules(rule.children, target))
    return described


def format_diffs(case: str, diffs: list[ShapeDiff], status: tuple[str, str] | None) -> str:
    """The failure report: per shape, per document and field, recorded against new."""
    lines = [f"replay of case {case!r} differs from its recording"]
    if status is not None:
        lines.append(f"  status: recorded {status[0]}, now {status[1]}")
    for diff in diffs:
        lines.append(f"shape {diff.number} {diff.name!r} ({diff.kind}):")
        lines += [f"  {problem}" for problem in diff.problems]
        for item in diff.fields[:FIELDS_SHOWN]:
            made_by = f"  [{item.rule}]" if item.rule else ""
            lines.append(
                f"  path {item.path}, document {item.document}, field {item.field}: "
                f"recorded {item.recorded!r}, now {item.new!r}{made_by}"
            )
        if len(diff.fields) > FIELDS_SHOWN:
            lines.append(f"  ... and {len(diff.fields) - FIELDS_SHOWN} more field(s)")
    lines.append("after review, accept the new outputs: pytest --atomnb --atomnb-update")
    return "\n".join(lines)
