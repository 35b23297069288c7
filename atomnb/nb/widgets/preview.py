"""The mapper's live preview: a half-built map run on the first sample documents.

A map under construction is rarely valid as a whole (a mandatory target not yet
linked, a text value not yet converted), yet the user wants to see what the
links made so far give. So the preview relaxes the target (nothing mandatory),
runs the map with the real compiler and apply step, and when a rule cannot
compile, sets that rule aside, says why beside it, and runs the others.
Per-document failures come back as the map's own rejections, each placed beside
its sample row and its rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import polars as pl

from atomnb.documents import Documents
from atomnb.errors import AtomnbError, ValidationErrorGroup
from atomnb.maps import Map, apply_map
from atomnb.nb.widgets.mapping_ops import iter_links, unlink
from atomnb.profiles import Element, Profile, apply_profile

__all__ = ["PREVIEW_ROWS", "preview", "rule_label_target", "source_values"]

#: Sample documents shown (and mapped) by the preview.
PREVIEW_ROWS = 20
_ROW = "atomnb.preview_row"
_LABEL = re.compile(r"^rule (?P<label>[^\s:(]+)")


def preview(
    mapping: Map,
    documents: Documents | None,
    *,
    tables: Mapping[str, Mapping[str, Any]] | None = None,
    limit: int = PREVIEW_ROWS,
) -> dict[str, Any]:
    """JSON-ready preview: one row per sample document with its outputs and errors."""
    result: dict[str, Any] = {
        "columns": [e.name for e in mapping.target.elements],
        "rows": [],
        "problems": [],
        "documents": 0,
        "mapped": 0,
        "rejected": 0,
        "total": 0 if documents is None else len(documents),
    }
    if documents is None or not len(documents):
        return result
    if not mapping.rules:
        # nothing linked yet: show the samples, but nothing is "mapped"
        result["documents"] = min(limit, len(documents))
        result["rows"] = [
            {"index": i, "source": _json(doc), "outputs": [], "errors": []}
            for i, doc in enumerate(documents[:limit])
        ]
        result["empty"] = True
        return result
    sample = documents[:limit]
    sample = sample.with_properties(**{_ROW: list(range(len(sample)))})
    result["documents"] = len(sample)
    rows: list[dict[str, Any]] = [
        {"index": i, "source": _json(doc), "outputs": [], "errors": []}
        for i, doc in enumerate(sample)
    ]
    typed = apply_profile(sample, mapping.source, source="sample")
    for rejection in typed.rejections:
        if rejection.index is not None and rejection.index < len(rows):
            rows[rejection.index]["errors"].append(
                {"rule": "source profile", "target": None, "message": rejection.message}
            )
    relaxed = replace(mapping, target=_relaxed(mapping.target))
    out, problems = _run(relaxed, typed, tables)
    result["problems"] = problems
    if out is not None:
        sample_rows = typed.property(_ROW).to_pylist()
        for index, record in zip(out.property(_ROW).to_pylist(), out, strict=True):
            rows[index]["outputs"].append(_json(record))
            result["mapped"] += 1
        for rejection in out.rejections:
            if rejection.index is None or rejection.index >= len(sample_rows):
                continue
            row = rows[sample_rows[rejection.index]]
            target = rule_label_target(mapping, rejection.rule)
            row["errors"].append(
                {
                    "rule": rejection.rule,
                    "target": target,
                    "message": rejection.message,
                    "values": source_values(mapping, target, row["source"]),
                }
            )
    result["rejected"] = sum(1 for r in rows if r["errors"])
    result["rows"] = rows
    return result


def _run(
    mapping: Map, documents: Documents, tables: Mapping[str, Mapping[str, Any]] | None
) -> tuple[Documents | None, list[dict[str, Any]]]:
    """Apply, setting aside rules that do not compile (each problem named once)."""
    problems: list[dict[str, Any]] = []
    for _ in range(len(list(iter_links(mapping))) + 2):
        try:
            mapped = apply_map(mapping, documents, tables=tables or {})
        except ValidationErrorGroup as group:
            dropped = False
            for exc in group.exceptions:
                message = exc.message if isinstance(exc, AtomnbError) else str(exc)
                target = _problem_target(mapping, message)
                hint = exc.hint if isinstance(exc, AtomnbError) else None
                problems.append({"target": target, "message": message, "hint": hint})
                if target is not None and _has_link(mapping, target):
                    mapping = unlink(mapping, target)
                    dropped = True
                elif message.startswith("fan_out") and mapping.fan_out:
                    mapping = replace(mapping, fan_out=None)
                    dropped = True
            if not dropped:
                return None, _unique(problems)
            continue
        except AtomnbError as exc:
            problems.append({"target": None, "message": exc.message, "hint": exc.hint})
            return None, _unique(problems)
        except pl.exceptions.PolarsError as exc:  # never a traceback in place of the preview
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            problems.append({"target": None, "message": first, "hint": None})
            return None, _unique(problems)
        assert isinstance(mapped, Documents)
        return mapped, _unique(problems)
    return None, _unique(problems)


def _has_link(mapping: Map, target: str) -> bool:
    return any(link.target == target for link in iter_links(mapping))


def _unique(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[Any, Any]] = set()
    out = []
    for problem in problems:
        key = (problem["target"], problem["message"])
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out


def _problem_target(mapping: Map, message: str) -> str | None:
    match = _LABEL.match(message)
    return rule_label_target(mapping, match.group("label")) if match else None


def rule_label_target(mapping: Map, label: str) -> str | None:
    """The full target path a compiler/apply rule label names (``items[].sku`` → ``items.sku``)."""
    label = label.replace("[]", "")
    targets = [link.target for link in iter_links(mapping)]
    if label in targets:
        return label
    nested = [t for t in targets if t.endswith("." + label)]
    if nested:
        return nested[0]
    known = {path for path, _ in mapping.target.walk()}
    return label if label in known else None


def source_values(mapping: Map, target: str | None, source: Any) -> dict[str, Any]:
    """The values the failing rule read from this sample (by full source path).

    Shown beside the failed row, so "impossible date" comes with the date itself.
    A path through a repeating element gives the list of its values.
    """
    link = next((x for x in iter_links(mapping) if x.target == target), None)
    if link is None:
        return {}
    return {path: _at(source, path.split(".")) for path in link.sources}


def _at(value: Any, parts: list[str]) -> Any:
    if not parts:
        return value
    if isinstance(value, list):
        return [_at(item, parts) for item in value]
    if isinstance(value, dict):
        return _at(value.get(parts[0]), parts[1:])
    return None


def _relaxed(profile: Profile) -> Profile:
    def loosen(element: Element) -> Element:
        children = tuple(loosen(c) for c in element.children)
        return replace(element, mandatory=False, min_occurs=0, children=children)

    return replace(profile, elements=tuple(loosen(e) for e in profile.elements))


def _json(value: Any) -> Any:
    """Plain JSON values (dates and decimals as text) for the front end."""
    return json.loads(json.dumps(value, default=str))
