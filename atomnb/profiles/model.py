"""The profile: a typed tree of elements describing what a document looks like.

Frozen dataclasses, so a profile can be shared between a map, a validator and a
widget without anyone changing it underneath the others; edits make a new
profile (``Profile.replace_element``). The tree converts to and from the plain
``body`` dict stored in the component file.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from atomnb.errors import ProfileError

__all__ = ["UNBOUNDED", "Element", "ElementType", "Profile"]

UNBOUNDED = None


class ElementType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    RECORD = "record"  # an element with children (a JSON object, an XML element with content)


@dataclass(frozen=True)
class Element:
    """One element: its type and restrictions, and its children when it is a record.

    ``max_occurs`` of ``None`` (unbounded) or above 1 makes the element repeating
    (a list in the document); ``mandatory`` means present and not null (for a
    repeating element: at least ``min_occurs`` items).
    """

    name: str
    type: ElementType = ElementType.STRING
    mandatory: bool = False
    min_occurs: int = 0
    max_occurs: int | None = 1
    min_length: int | None = None
    max_length: int | None = None
    mask: str | None = None
    scale: int | None = None
    enum: tuple[str, ...] | None = None
    children: tuple[Element, ...] = ()
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)
    sample: str | None = field(default=None, compare=False)
    description: str = ""

    @property
    def repeating(self) -> bool:
        return self.max_occurs is None or self.max_occurs > 1

    def child(self, name: str) -> Element:
        for element in self.children:
            if element.name == name:
                return element
        known = ", ".join(c.name for c in self.children) or "none"
        raise ProfileError(f"{self.name} has no element {name!r} (children: {known})")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type.value}
        if self.mandatory:
            out["mandatory"] = True
        if self.min_occurs:
            out["min_occurs"] = self.min_occurs
        if self.max_occurs != 1:
            out["max_occurs"] = "unbounded" if self.max_occurs is None else self.max_occurs
        for key in ("min_length", "max_length", "mask", "scale"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.enum is not None:
            out["enum"] = list(self.enum)
        if self.description:
            out["description"] = self.description
        if self.options:
            out["options"] = dict(self.options)
        if self.sample is not None:
            out["sample"] = self.sample
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, path: str = "") -> Element:
        name = data.get("name")
        where = f"{path}.{name}" if path else str(name)
        if not isinstance(name, str) or not name:
            raise ProfileError(f"an element at {path or 'the top'} has no name")
        try:
            kind = ElementType(data.get("type", "string"))
        except ValueError:
            allowed = ", ".join(t.value for t in ElementType)
            raise ProfileError(
                f"element {where}: unknown type {data.get('type')!r} (use one of: {allowed})"
            ) from None
        max_occurs = data.get("max_occurs", 1)
        if max_occurs in ("unbounded", "*", None):
            max_occurs = None
        children = tuple(cls.from_dict(c, path=where) for c in data.get("children", ()))
        if children and kind is not ElementType.RECORD:
            raise ProfileError(f"element {where}: only a record can have children")
        return cls(
            name=name,
            type=kind,
            mandatory=bool(data.get("mandatory", False)),
            min_occurs=int(data.get("min_occurs", 0)),
            max_occurs=None if max_occurs is None else int(max_occurs),
            min_length=data.get("min_length"),
            max_length=data.get("max_length"),
            mask=data.get("mask"),
            scale=data.get("scale"),
            enum=tuple(str(v) for v in data["enum"]) if data.get("enum") is not None else None,
            children=children,
            options=dict(data.get("options", {})),
            sample=data.get("sample"),
            description=str(data.get("description", "")),
        )


@dataclass(frozen=True)
class Profile:
    """The structure of a document: top-level elements plus the format and its options."""

    name: str
    elements: tuple[Element, ...]
    format: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def element(self, path: str) -> Element:
        """The element at a dotted path, e.g. ``customer.email`` or ``lines.sku``."""
        parts = [p.removesuffix("[]") for p in path.split(".") if p]
        if not parts:
            raise ProfileError("empty element path")
        current = Element(self.name, ElementType.RECORD, children=self.elements)
        for part in parts:
            try:
                current = current.child(part)
            except ProfileError:
                raise ProfileError(
                    f"profile {self.name!r} has no element {path!r} (no {part!r} in {current.name})"
                ) from None
        return current

    def walk(self) -> Iterator[tuple[str, Element]]:
        """Every element with its dotted path, depth first, in document order."""

        def visit(prefix: str, elements: tuple[Element, ...]) -> Iterator[tuple[str, Element]]:
            for element in elements:
                path = f"{prefix}.{element.name}" if prefix else element.name
                yield path, element
                yield from visit(path, element.children)

        yield from visit("", self.elements)

    def replace_element(self, path: str, **changes: Any) -> Profile:
        """A new profile with the element at ``path`` changed (e.g. ``type=ElementType.DATE``)."""
        self.element(path)  # raises with a clear message when the path is wrong
        parts = [p.removesuffix("[]") for p in path.split(".") if p]

        def rebuild(elements: tuple[Element, ...], depth: int) -> tuple[Element, ...]:
            out = []
            for element in elements:
                if element.name != parts[depth]:
                    out.append(element)
                elif depth == len(parts) - 1:
                    out.append(replace(element, **changes))
                else:
                    out.append(replace(element, children=rebuild(element.children, depth + 1)))
            return tuple(out)

        return replace(self, elements=rebuild(self.elements, 0))

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"format": self.format, "options": dict(self.options)}
        if self.description:
            body["description"] = self.description
        body["elements"] = [e.to_dict() for e in self.elements]
        return body

    @classmethod
    def from_body(cls, name: str, body: dict[str, Any]) -> Profile:
        elements = body.get("elements")
        if not isinstance(elements, list):
            raise ProfileError(f"profile {name!r} has no element list")
        return cls(
            name=name,
            elements=tuple(Element.from_dict(e) for e in elements),
            format=body.get("format"),
            options=dict(body.get("options") or {}),
            description=str(body.get("description", "")),
        )

    def tree(self) -> str:
        """A readable tree: one line per element with type, occurrence, flags and sample."""
        lines = [f"{self.name} ({self.format or 'any format'})"]
        for path, element in self.walk():
            depth = path.count(".")
            occurs = "[]" if element.repeating else ""
            flags = " mandatory" if element.mandatory else ""
            mask = f" mask={element.mask}" if element.mask else ""
            sample = f"  e.g. {element.sample!r}" if element.sample is not None else ""
            indent = "  " * (depth + 1)
            lines.append(
                f"{indent}{element.name}{occurs}: {element.type.value}{mask}{flags}{sample}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.tree()

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.tree()) + "</pre>"

    def save(self, name: str | None = None, *, workspace: Any = None) -> Path:
        """Save as ``components/profiles/<name>.yaml`` in the workspace; returns the path."""
        from atomnb.profiles.component import save_profile  # component imports this module

        return save_profile(self, name, workspace=workspace)

    @classmethod
    def load(cls, name: str, *, workspace: Any = None) -> Profile:
        from atomnb.profiles.component import load_profile

        return load_profile(name, workspace=workspace)
