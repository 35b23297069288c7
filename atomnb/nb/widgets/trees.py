"""Profiles as flat rows for a tree view: one row per element, in document order.

The front end draws, filters and collapses these rows; it never has to walk a
nested structure, which keeps a 200+ element profile cheap to search and render.
"""

from __future__ import annotations

from typing import Any

from atomnb.profiles import Element, ElementType, Profile

__all__ = ["repeating_ancestors", "tree_rows"]


def tree_rows(profile: Profile) -> list[dict[str, Any]]:
    """Every element of ``profile`` as a JSON-ready row (path, depth, type, flags, sample)."""
    rows = []
    for path, element in profile.walk():
        rows.append(
            {
                "path": path,
                "name": element.name,
                "depth": path.count("."),
                "type": element.type.value,
                "mandatory": element.mandatory or element.min_occurs > 0,
                "repeating": element.repeating,
                "record": element.type is ElementType.RECORD,
                "sample": element.sample,
                "mask": element.mask,
                "description": element.description,
            }
        )
    return rows


def repeating_ancestors(profile: Profile, path: str) -> list[str]:
    """Paths of the repeating elements on the way to ``path`` (outermost first, self included)."""
    out = []
    parts = path.split(".")
    for depth in range(1, len(parts) + 1):
        prefix = ".".join(parts[:depth])
        element: Element = profile.element(prefix)
        if element.repeating:
            out.append(prefix)
    return out
