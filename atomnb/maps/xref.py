"""Cross-reference tables: components that translate codes between systems.

A table (``components/xrefs/<name>.yaml``) has named columns and rows, e.g.
country name → ISO code → ERP code. Maps look values up with the ``lookup``
function; the table is loaded for the run from the workspace (or handed in), so
editing a code list never means editing a map. Environment extensions may later
override rows per environment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from atomnb.components import Workspace
from atomnb.components.files import ComponentFile, load_component, save_component
from atomnb.documents import Documents
from atomnb.errors import ComponentError, WorkspaceNotFoundError
from atomnb.maps.model import Map

__all__ = ["XrefTable", "load_xref", "save_xref", "tables_for"]

KIND = "xref"


@dataclass(frozen=True)
class XrefTable:
    """Named columns and rows of text; the first column is the default lookup key."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str | None, ...], ...]
    description: str = ""

    def __post_init__(self) -> None:
        if len(self.columns) < 2:
            raise ComponentError(f"cross-reference table {self.name!r} needs at least two columns")
        for number, row in enumerate(self.rows, start=1):
            if len(row) != len(self.columns):
                raise ComponentError(
                    f"cross-reference table {self.name!r}, row {number}: {len(row)} values "
                    f"for {len(self.columns)} columns ({', '.join(self.columns)})"
                )

    @classmethod
    def from_pairs(
        cls, name: str, pairs: Mapping[str, str], columns: Sequence[str] = ("key", "value")
    ) -> XrefTable:
        return cls(name, tuple(columns), tuple((str(k), v) for k, v in pairs.items()))

    @classmethod
    def from_documents(cls, name: str, documents: Documents) -> XrefTable:
        """A table from documents (e.g. ``ab.read("codes.csv")``): columns as they come."""
        columns = tuple(documents.column_names)
        rows = tuple(tuple(_text(r[c]) for c in columns) for r in documents)
        return cls(name, columns, rows)

    def as_lookup(self) -> dict[str, dict[str, str | None]]:
        """What the ``lookup`` function reads: first-column value → row by column name.

        ``value`` names the second column too, so a two-column table needs no arguments.
        """
        out: dict[str, dict[str, str | None]] = {}
        for row in self.rows:
            record = dict(zip(self.columns, row, strict=True))
            record.setdefault("value", row[1])
            if row[0] is not None and row[0] not in out:
                out[row[0]] = record
        return out

    def to_body(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "rows": [list(r) for r in self.rows]}

    @classmethod
    def from_body(cls, name: str, body: Mapping[str, Any], description: str = "") -> XrefTable:
        columns = body.get("columns")
        rows = body.get("rows")
        if not isinstance(columns, list) or not isinstance(rows, list):
            raise ComponentError(f"cross-reference table {name!r} needs 'columns' and 'rows' lists")
        return cls(
            name,
            tuple(str(c) for c in columns),
            tuple(tuple(_text(v) for v in row) for row in rows),
            description,
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def save_xref(table: XrefTable, *, workspace: Workspace | None = None) -> None:
    ws = workspace or Workspace.find()
    save_component(
        ws.components_dir,
        ComponentFile(
            kind=KIND, name=table.name, body=table.to_body(), description=table.description
        ),
    )


def load_xref(name: str, *, workspace: Workspace | None = None) -> XrefTable:
    ws = workspace or Workspace.find()
    component = load_component(ws.components_dir, KIND, name)
    try:
        return XrefTable.from_body(component.name, component.body, component.description)
    except ComponentError as exc:
        path = ws.components_dir / f"{KIND}s" / f"{name}.yaml"
        raise ComponentError(exc.message, where=str(path)) from None


def tables_for(mapping: Map, *, workspace: Workspace | None = None) -> dict[str, Any]:
    """The tables a map's lookups name, loaded from the workspace (none needed: none loaded)."""
    names = set(mapping.tables) | set(_lookup_tables(mapping.rules))
    if not names:
        return {}
    try:
        ws = workspace or Workspace.find()
    except WorkspaceNotFoundError:
        return {}  # the lookup step then says which table is missing
    return {name: load_xref(name, workspace=ws).as_lookup() for name in sorted(names)}


def _lookup_tables(rules: Iterable[Any]) -> Iterable[str]:
    for rule in rules:
        for step in rule.steps:
            if step.fn == "lookup" and isinstance(step.args.get("table"), str):
                yield step.args["table"]
        yield from _lookup_tables(rule.children)
