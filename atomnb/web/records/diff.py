"""What changed between two deployed versions of a process: settings, notebook cells, files.

An operator about to roll back wants to read the change, not two zip files. So
the diff is told the way a reviewer reads it: the run settings that differ
(schedule, environment, retries …), the notebook's cells (added, removed, and
per-cell source diffs, the parameters cell named as such), and the other files
of the package (added, removed, changed, with a text diff when the file is
text and small). Both versions' package folders must still be on the atom
(``package_versions_kept``); when one was pruned, the diff says so.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CellChange",
    "FileChange",
    "VersionDiff",
    "diff_cells",
    "diff_packages",
    "diff_settings",
]

#: A text file bigger than this is reported changed without its lines.
MAX_TEXT_DIFF_BYTES = 256 * 1024
#: Lines shown of one file's (or one cell's) diff.
MAX_DIFF_LINES = 400
_SKIPPED_PARTS = {".ipynb_checkpoints", "__pycache__", ".atomnb"}


@dataclass
class CellChange:
    """One cell that differs: "added", "removed" or "changed", with its source diff lines."""

    change: str
    old_number: int | None  # 1-based, in the older version
    new_number: int | None  # 1-based, in the newer version
    cell_type: str
    parameters: bool  # the papermill parameters cell
    lines: list[str] = field(default_factory=list)


@dataclass
class FileChange:
    """One package file that differs: "added", "removed" or "changed"."""

    path: str
    change: str
    lines: list[str] = field(default_factory=list)  # a unified diff, for small text files
    cells: list[CellChange] | None = None  # for notebooks
    note: str | None = None


@dataclass
class VersionDiff:
    """Every difference between two versions; ``missing`` names a package no longer kept."""

    settings: list[tuple[str, Any, Any]] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)


def diff_settings(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(name, old, new) for each run setting that differs, in ``new``'s order."""
    return [(k, old.get(k), v) for k, v in new.items() if old.get(k) != v]


def _files(root: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not _SKIPPED_PARTS & set(relative.parts):
            found[relative.as_posix()] = path
    return found


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _text(path: Path) -> list[str] | None:
    if path.stat().st_size > MAX_TEXT_DIFF_BYTES:
        return None
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (UnicodeDecodeError, OSError):
        return None


def _unified(old: list[str], new: list[str], old_name: str, new_name: str) -> list[str]:
    lines = list(difflib.unified_diff(old, new, old_name, new_name, lineterm="", n=2))
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"… {len(lines) - MAX_DIFF_LINES} more lines"]
    return lines


def _cells(path: Path) -> list[dict[str, Any]] | None:
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(cells, list):
        return None
    result = []
    for cell in cells:
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        tags = cell.get("metadata", {}).get("tags", []) or []
        result.append(
            {
                "type": cell.get("cell_type", "code"),
                "source": text,
                "parameters": "parameters" in tags,
            }
        )
    return result


def diff_cells(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[CellChange]:
    """Cells added, removed or changed, matched in order by their source (difflib)."""
    keys_old = [f"{c['type']}\0{c['source']}" for c in old]
    keys_new = [f"{c['type']}\0{c['source']}" for c in new]
    changes: list[CellChange] = []
    matcher = difflib.SequenceMatcher(a=keys_old, b=keys_new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            a, b = old[i1 + k], new[j1 + k]
            lines = _unified(
                a["source"].splitlines(),
                b["source"].splitlines(),
                f"cell {i1 + k + 1}",
                f"cell {j1 + k + 1}",
            )
            changes.append(
                CellChange(
                    "changed",
                    i1 + k + 1,
                    j1 + k + 1,
                    b["type"],
                    a["parameters"] or b["parameters"],
                    lines,
                )
            )
        for i in range(i1 + paired, i2):
            a = old[i]
            lines = [f"-{line}" for line in a["source"].splitlines()][:MAX_DIFF_LINES]
            changes.append(CellChange("removed", i + 1, None, a["type"], a["parameters"], lines))
        for j in range(j1 + paired, j2):
            b = new[j]
            lines = [f"+{line}" for line in b["source"].splitlines()][:MAX_DIFF_LINES]
            changes.append(CellChange("added", None, j + 1, b["type"], b["parameters"], lines))
    return changes


def diff_packages(old_root: Path, new_root: Path) -> list[FileChange]:
    """Files added, removed or changed between two unpacked packages, by path."""
    old, new = _files(old_root), _files(new_root)
    changes: list[FileChange] = []
    for path in sorted(old.keys() | new.keys()):
        if path not in new:
            changes.append(FileChange(path, "removed"))
            continue
        if path not in old:
            changes.append(FileChange(path, "added"))
            continue
        if _digest(old[path]) == _digest(new[path]):
            continue
        change = FileChange(path, "changed")
        if path.endswith(".ipynb"):
            a, b = _cells(old[path]), _cells(new[path])
            if a is not None and b is not None:
                change.cells = diff_cells(a, b)
                if not change.cells:
                    change.note = "same cells; only outputs or metadata differ"
                changes.append(change)
                continue
        a_text, b_text = _text(old[path]), _text(new[path])
        if a_text is None or b_text is None:
            change.note = "binary or large file: contents not compared line by line"
        else:
            change.lines = _unified(a_text, b_text, f"a/{path}", f"b/{path}")
        changes.append(change)
    return changes
