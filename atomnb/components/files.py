"""One human-readable, diffable file per component, with identity, version and hash.

Every component (profile, map, connection, cross-reference table, ...) is a YAML
file under ``components/<kind>s/<name>.yaml``: a small header (kind, id, version,
engine_version, content_hash, references) and a kind-specific ``body``. Saving
bumps ``version`` only when the body's content hash changes, so re-saving an
unchanged component never makes a diff; loading checks the engine version and
migrates older bodies, so files written by older atomnb keep working.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from atomnb._files import write_text_atomically
from atomnb.errors import ComponentError

__all__ = [
    "ENGINE_VERSION",
    "ComponentFile",
    "component_path",
    "content_hash",
    "load_component",
    "save_component",
]

#: The component file format this atomnb writes. Bump it with a migration in ``migrate``.
ENGINE_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class ComponentFile:
    """A component as stored: header fields plus the kind-specific body."""

    kind: str
    name: str
    body: dict[str, Any]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    version: int = 1
    engine_version: int = ENGINE_VERSION
    references: tuple[str, ...] = ()
    description: str = ""

    @property
    def content_hash(self) -> str:
        return content_hash(self.body)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "id": self.id,
            "version": self.version,
            "engine_version": self.engine_version,
            "content_hash": self.content_hash,
            "description": self.description,
            "references": list(self.references),
            "body": self.body,
        }


def content_hash(body: dict[str, Any]) -> str:
    """A stable hash of the body: key order and formatting never change it."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def component_path(components_dir: Path, kind: str, name: str) -> Path:
    if not _NAME.match(name):
        raise ComponentError(
            f"component name {name!r} is not allowed",
            hint="use letters, digits, '_', '-' or '.', starting with a letter or digit",
        )
    return components_dir / f"{kind}s" / f"{name}.yaml"


def save_component(components_dir: Path, component: ComponentFile) -> ComponentFile:
    """Write the component; keep id and version when the content is unchanged, else bump."""
    path = component_path(components_dir, component.kind, component.name)
    if path.exists():
        previous = load_component(components_dir, component.kind, component.name)
        component = replace(component, id=previous.id, version=previous.version)
        if component.to_dict() == previous.to_dict():
            return previous  # unchanged: no new version, no diff
        component = replace(component, version=previous.version + 1)
    text = yaml.safe_dump(component.to_dict(), sort_keys=False, allow_unicode=True, width=100)
    write_text_atomically(path, text)
    return component


def load_component(components_dir: Path, kind: str, name: str) -> ComponentFile:
    """Read, check and migrate one component file; every problem names the file."""
    path = component_path(components_dir, kind, name)
    if not path.exists():
        known = sorted(p.stem for p in path.parent.glob("*.yaml")) if path.parent.is_dir() else []
        raise ComponentError(
            f"no {kind} named {name!r} ({path} does not exist)",
            hint=f"known {kind}s: {', '.join(known) or 'none'}",
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}" if mark is not None else str(path)
        raise ComponentError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}", where=where
        ) from None
    if not isinstance(raw, dict) or "body" not in raw:
        raise ComponentError("not a component file (no 'body')", where=str(path))
    if raw.get("kind") != kind:
        raise ComponentError(f"is a {raw.get('kind')!r}, not a {kind!r}", where=str(path))
    engine = int(raw.get("engine_version", 1))
    if engine > ENGINE_VERSION:
        raise ComponentError(
            f"written by a newer atomnb (engine version {engine} > {ENGINE_VERSION})",
            where=str(path),
            hint="upgrade atomnb to read it",
        )
    body = migrate(dict(raw["body"]), engine, ENGINE_VERSION)
    return ComponentFile(
        kind=kind,
        name=str(raw.get("name", name)),
        body=body,
        id=str(raw.get("id") or uuid.uuid4().hex),
        version=int(raw.get("version", 1)),
        engine_version=ENGINE_VERSION,
        references=tuple(raw.get("references") or ()),
        description=str(raw.get("description") or ""),
    )


def migrate(body: dict[str, Any], from_engine: int, to_engine: int) -> dict[str, Any]:
    """Upgrade a body written by an older engine; engine 1 is the first, so nothing yet."""
    if from_engine == to_engine:
        return body
    raise ComponentError(f"no migration from engine version {from_engine} to {to_engine}")
