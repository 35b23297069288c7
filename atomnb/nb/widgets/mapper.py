"""The visual mapper: a Map drawn as two profile trees with links, edited by drag and drop.

``MapperWidget.map`` is the Map — assign it (or edit it in Python and assign
the result) and the widget redraws; link, add a function or change an argument
in the browser and ``mapper.map`` is the new Map. The browser never edits the
Map itself: it sends small intents (``link``, ``add_step`` …) that the Python
side applies with ``mapping_ops``, or sets the synced ``rules``/``fan_out``
traits directly, which the Python side turns back into a Map. Every change
recomputes the preview of the sample documents with the real compiler.

Why anywidget: the ES module and CSS ship as two static files inside the
package and load from the kernel at display time — no npm build, no separate
labextension to install or keep in version lockstep, and the same widget works
in JupyterLab, Notebook 7, VS Code and Voila.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from atomnb.components import Workspace
from atomnb.documents import Documents
from atomnb.errors import (
    AtomnbError,
    ComponentError,
    ConfigError,
    ValidationErrorGroup,
    WorkspaceNotFoundError,
)
from atomnb.maps import Map, Rule, function_library, load_map, load_xref
from atomnb.maps.component import map_version, save_map_file
from atomnb.nb.sources import as_documents
from atomnb.nb.widgets import mapping_ops as ops
from atomnb.nb.widgets.mapper_actions import HANDLERS
from atomnb.nb.widgets.preview import preview
from atomnb.nb.widgets.step_args import value_inputs
from atomnb.nb.widgets.trees import tree_rows
from atomnb.profiles import Profile, load_profile

__all__ = ["MapperWidget", "mapper"]

STATIC = Path(__file__).parent / "static"


class MapperWidget(anywidget.AnyWidget):
    """Source tree left, target tree right, links between; functions, preview and save below."""

    _esm = STATIC / "mapper.js"
    _css = STATIC / "mapper.css"

    map = traitlets.Instance(Map)
    map_name = traitlets.Unicode("").tag(sync=True)
    source_name = traitlets.Unicode("").tag(sync=True)
    target_name = traitlets.Unicode("").tag(sync=True)
    source_tree: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    target_tree: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    #: The map's rules as in the component file; the browser may set them too.
    rules: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    fan_out = traitlets.Unicode("").tag(sync=True)
    links: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    unmapped: traitlets.List[str] = traitlets.List().tag(sync=True)
    functions: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    tables = traitlets.Dict().tag(sync=True)
    preview = traitlets.Dict().tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Dict().tag(sync=True)
    #: Argument fields whose text did not convert: ``target/step/arg`` → message and text.
    errors = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        mapping: Map,
        *,
        documents: Documents | None = None,
        workspace: Workspace | None = None,
    ) -> None:
        self._syncing = False
        self.documents = documents
        self.workspace = workspace if workspace is not None else _find_workspace()
        super().__init__(
            functions=_function_catalogue(),
            tables=_table_catalogue(self.workspace),
        )
        self.on_msg(self._on_message)
        self.map = mapping

    # -- Python -> browser ------------------------------------------------------------

    @traitlets.observe("map")
    def _map_changed(self, change: dict[str, Any]) -> None:
        mapping: Map = change["new"]
        old: Map | None = change["old"] if isinstance(change["old"], Map) else None
        self._syncing = True
        try:
            with self.hold_sync():
                self.map_name = mapping.name
                if old is None or old.source != mapping.source:
                    self.source_name = mapping.source.name
                    self.source_tree = tree_rows(mapping.source)
                if old is None or old.target != mapping.target:
                    self.target_name = mapping.target.name
                    self.target_tree = tree_rows(mapping.target)
                self.rules = [r.to_dict() for r in mapping.rules]
                self.fan_out = mapping.fan_out or ""
                self.links = [
                    {**link.to_json(), "value_inputs": value_inputs(mapping, link)}
                    for link in ops.iter_links(mapping)
                ]
                self.unmapped = ops.unmapped_mandatory(mapping)
                self.preview = preview(mapping, self.documents, tables=self._tables(mapping))
                if self.selected and not any(x["target"] == self.selected for x in self.links):
                    self.selected = ""
        finally:
            self._syncing = False

    def _tables(self, mapping: Map) -> dict[str, Any]:
        """The xref tables the map uses, loaded from the workspace (a missing one: left out)."""
        if self.workspace is None:
            return {}
        names = set(mapping.tables)
        for link in ops.iter_links(mapping):
            names |= {s.args["table"] for s in link.steps if isinstance(s.args.get("table"), str)}
        loaded = {}
        for name in sorted(names):
            try:
                loaded[name] = load_xref(name, workspace=self.workspace).as_lookup()
            except ComponentError:
                continue  # the lookup step then says the table is not loaded
        return loaded

    def set_documents(self, documents: Any) -> None:
        """New sample documents (Documents, DataFrame, records or a path); the preview follows."""
        self.documents = as_documents(documents)
        self.preview = preview(self.map, self.documents, tables=self._tables(self.map))

    # -- browser -> Python ------------------------------------------------------------

    @traitlets.observe("rules", "fan_out")
    def _rules_changed(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        try:
            rules = tuple(Rule.from_dict(r) for r in self.rules)
            self.map = replace(self.map, rules=rules, fan_out=self.fan_out or None)
        except AtomnbError as exc:
            self._report(exc)

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, Mapping):
            return
        handler = HANDLERS.get(str(content.get("action")))
        if handler is None:
            self.status = {"level": "error", "text": f"unknown action {content.get('action')!r}"}
            return
        try:
            changed = handler(self, content)
        except ValidationErrorGroup:
            return  # a refused save: the status already lists the reasons
        except AtomnbError as exc:
            self._report(exc)
            return
        if changed is not None:
            self.status = {}
            self.map = changed

    def _report(self, exc: AtomnbError) -> None:
        text = exc.message + (f" — {exc.hint}" if exc.hint else "")
        self.status = {"level": "error", "text": text}

    # -- actions usable from Python too -------------------------------------------------

    def save(self) -> Path:
        """Check the map and write it (and its two profiles); returns the map file's path.

        An invalid map is not saved: the status lists every reason (and the
        ``ValidationErrorGroup`` is raised when called from Python), so a process never
        loads a half-done map. Saving unchanged content keeps the version.
        """
        if self.workspace is None:
            raise WorkspaceNotFoundError(
                "cannot save the map: no workspace (atomnb.toml) above the current folder",
                hint="run `atomnb init` in your project folder, or pass workspace=",
            )
        self.map = ops.with_tables(self.map)  # the lookups' tables become references
        try:
            self.map.validate()
        except ValidationErrorGroup as group:
            reasons = [getattr(e, "message", str(e)) for e in group.exceptions]
            self.status = {
                "level": "error",
                "text": f"not saved: {len(reasons)} problem(s) — " + "; ".join(reasons),
                "problems": reasons,
            }
            raise
        before = map_version(self.map.name, workspace=self.workspace)
        saved = save_map_file(self.map, workspace=self.workspace)
        path = self.workspace.components_dir / "maps" / f"{saved.name}.yaml"
        note = "unchanged, " if before == saved.version else ""
        self.status = {
            "level": "info",
            "text": f"saved {path} ({note}version {saved.version})",
            "path": str(path),
            "version": saved.version,
        }
        return path

    def save_case(self, name: str | None = None) -> Path:
        """Save the map, then the sample and what the map makes of it as a map test case
        (``tests/atomnb/<name>/``, default ``<map>_case``) that ``pytest --atomnb`` replays."""
        from atomnb.process.map_cases import save_map_case

        if self.documents is None:
            raise ConfigError(
                "no sample documents to make a test case from",
                hint="give the mapper a sample (set_documents, or --sample in %atomnb map open)",
            )
        self.save()
        case = name or f"{self.map.name}_case"
        try:
            folder = save_map_case(self.map.name, self.documents, case, workspace=self.workspace)
        except ValidationErrorGroup as group:  # the map refused the sample as a whole
            reasons = [getattr(e, "message", str(e)) for e in group.exceptions]
            self.status = {"level": "error", "text": "test case not saved: " + "; ".join(reasons)}
            raise
        self.status = {
            "level": "info",
            "text": f"saved test case {case} in {folder}; run it with pytest --atomnb",
            "path": str(folder),
        }
        return folder

    @classmethod
    def load(
        cls, name: str, *, documents: Any = None, workspace: Workspace | None = None
    ) -> MapperWidget:
        """The mapper on the saved map component ``name``."""
        ws = workspace if workspace is not None else _find_workspace()
        mapping = load_map(name, workspace=ws)
        docs = None if documents is None else as_documents(documents)
        return cls(mapping, documents=docs, workspace=ws)


def _find_workspace() -> Workspace | None:
    try:
        return Workspace.find()
    except WorkspaceNotFoundError:
        return None


def _function_catalogue() -> list[dict[str, Any]]:
    described = [f.describe() for f in function_library().values()]
    for entry in described:
        for arg in entry["args"]:
            if not isinstance(arg["default"], (str, int, float, bool, type(None))):
                arg["default"] = str(arg["default"])
    return sorted(described, key=lambda f: (f["group"], f["name"]))


def _table_catalogue(workspace: Workspace | None) -> dict[str, list[str]]:
    """Cross-reference tables in the workspace, with their columns (for the lookup form)."""
    if workspace is None:
        return {}
    folder = workspace.components_dir / "xrefs"
    out: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            out[path.stem] = list(load_xref(path.stem, workspace=workspace).columns)
        except ComponentError:
            continue
    return out


def mapper(
    mapping: Map | str | None = None,
    *,
    source: Profile | str | None = None,
    target: Profile | str | None = None,
    documents: Any = None,
    name: str | None = None,
    workspace: Workspace | None = None,
    new: bool = False,
) -> MapperWidget:
    """Open the visual mapper on a Map, a saved map's name, or a map between two profiles.

    ``documents`` (Documents, a DataFrame, records or a file path) are the samples
    the preview maps. With ``source`` and ``target`` (profiles or their component
    names), a ``name`` already saved between those profiles opens with its saved
    links (so re-running the cell keeps what was edited and saved); ``new=True``
    starts empty anyway. A name that has no saved map starts a new, empty map.
    """
    ws = workspace if workspace is not None else _find_workspace()
    docs = None if documents is None else as_documents(documents)
    if isinstance(mapping, Map):
        return MapperWidget(mapping, documents=docs, workspace=ws)
    map_name = mapping or name
    if map_name and source is None and target is None:
        return MapperWidget.load(map_name, documents=docs, workspace=ws)
    if source is None or target is None:
        raise ComponentError(
            "a new map needs a source and a target profile",
            hint="pass source= and target= (Profile objects or profile component names)",
        )
    src = source if isinstance(source, Profile) else load_profile(source, workspace=ws)
    tgt = target if isinstance(target, Profile) else load_profile(target, workspace=ws)
    fresh = Map(map_name or f"{src.name}_to_{tgt.name}", src, tgt, ())
    return (
        _open_saved(fresh, docs, ws)
        if not new
        else MapperWidget(fresh, documents=docs, workspace=ws)
    )


def _open_saved(fresh: Map, docs: Documents | None, ws: Workspace | None) -> MapperWidget:
    """The mapper on ``fresh``'s saved map of the same name and profiles, if there is one.

    Re-running the cell that opens a mapper must not start empty over what was linked
    in the widget and saved (the next save would overwrite it): the saved links come
    back, and the status says so. A saved map between other profiles is left alone,
    with a warning that saving will replace it.
    """
    version = map_version(fresh.name, workspace=ws) if ws is not None else None
    if version is None:
        return MapperWidget(fresh, documents=docs, workspace=ws)
    saved = load_map(fresh.name, workspace=ws)
    if (saved.source.name, saved.target.name) != (fresh.source.name, fresh.target.name):
        widget = MapperWidget(fresh, documents=docs, workspace=ws)
        widget.status = {
            "level": "warning",
            "text": f"a saved map {fresh.name} ({saved.source.name} → {saved.target.name}, "
            f"version {version}) exists: saving this one replaces it",
        }
        return widget
    opened = replace(saved, source=fresh.source, target=fresh.target)
    widget = MapperWidget(opened, documents=docs, workspace=ws)
    widget.status = {
        "level": "info",
        "text": f"opened the saved map {fresh.name} (version {version}) with its links; "
        "mapper(..., new=True) starts empty",
        "version": version,
    }
    return widget
