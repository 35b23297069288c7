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

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from atomnb.components import Workspace
from atomnb.documents import Documents
from atomnb.errors import AtomnbError, ComponentError, MapError, WorkspaceNotFoundError
from atomnb.maps import Map, Rule, function_library, load_map, load_xref, save_map
from atomnb.nb.sources import as_documents
from atomnb.nb.widgets import mapping_ops as ops
from atomnb.nb.widgets.preview import preview
from atomnb.nb.widgets.step_args import convert_step_args, value_inputs
from atomnb.nb.widgets.trees import tree_rows
from atomnb.profiles import Profile, load_profile

__all__ = ["MapperWidget", "mapper"]

STATIC = Path(__file__).parent / "static"

Handler = Callable[["MapperWidget", Mapping[str, Any]], Map | None]


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
        handler = _HANDLERS.get(str(content.get("action")))
        if handler is None:
            self.status = {"level": "error", "text": f"unknown action {content.get('action')!r}"}
            return
        try:
            changed = handler(self, content)
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
        """Write the map component (and its two profiles); returns the map file's path."""
        if self.workspace is None:
            raise WorkspaceNotFoundError(
                "cannot save the map: no workspace (atomnb.toml) above the current folder",
                hint="run `atomnb init` in your project folder, or pass workspace=",
            )
        self.map = ops.with_tables(self.map)  # the lookups' tables become references
        path = save_map(self.map, workspace=self.workspace)
        self.status = {"level": "info", "text": f"saved {path}", "path": str(path)}
        return path

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


def _link(w: MapperWidget, m: Mapping[str, Any]) -> Map:
    changed = ops.link(w.map, str(m["source"]), str(m["target"]))
    w.selected = str(m["target"])
    return changed


def _unlink(w: MapperWidget, m: Mapping[str, Any]) -> Map:
    source = m.get("source")
    return ops.unlink(w.map, str(m["target"]), None if source is None else str(source))


def _add_step(w: MapperWidget, m: Mapping[str, Any]) -> Map:
    target, fn = str(m["target"]), str(m["fn"])
    link = ops.find_link(w.map, target)
    index = len(link.steps) if link is not None else 0
    changed = ops.add_step(w.map, target, fn)
    args, errors = convert_step_args(changed, target, index, fn, dict(m.get("args") or {}))
    _set_errors(w, target, errors)
    return ops.set_step_args(changed, target, index, args) if args else changed


def _set_args(w: MapperWidget, m: Mapping[str, Any]) -> Map:
    """Typed text → the declared types; a field that does not convert keeps its old value."""
    target, index = str(m["target"]), int(m["index"])
    link = ops.find_link(w.map, target)
    if link is None or not 0 <= index < len(link.steps):
        raise MapError(f"the link to {target} has no step {index + 1}")
    step = link.steps[index]
    args, errors = convert_step_args(w.map, target, index, step.fn, dict(m.get("args") or {}))
    for key in errors:
        name = key.rsplit("/", 1)[1]
        if name in step.args:
            args[name] = step.args[name]
    _set_errors(w, target, errors, index)
    return ops.set_step_args(w.map, target, index, args)


def _set_errors(
    w: MapperWidget, target: str, errors: Mapping[str, Any], index: int | None = None
) -> None:
    """Replace the argument errors of one step (or of every step of ``target``)."""
    prefix = f"{target}/" if index is None else f"{target}/{index}/"
    kept = {k: v for k, v in w.errors.items() if not k.startswith(prefix)}
    w.errors = {**kept, **errors}


def _remove_step(w: MapperWidget, m: Mapping[str, Any]) -> Map:
    _set_errors(w, str(m["target"]), {})
    return ops.remove_step(w.map, str(m["target"]), int(m["index"]))


def _move_step(w: MapperWidget, m: Mapping[str, Any]) -> Map:
    _set_errors(w, str(m["target"]), {})
    return ops.move_step(w.map, str(m["target"]), int(m["index"]), int(m["delta"]))


def _fan_out(w: MapperWidget, m: Mapping[str, Any]) -> Map:
    element = m.get("element")
    return ops.set_fan_out(w.map, str(element) if element else None)


def _save(w: MapperWidget, _m: Mapping[str, Any]) -> None:
    w.save()


_HANDLERS: dict[str, Handler] = {
    "link": _link,
    "unlink": _unlink,
    "add_step": _add_step,
    "set_args": _set_args,
    "remove_step": _remove_step,
    "move_step": _move_step,
    "fan_out": _fan_out,
    "save": _save,
}


def mapper(
    mapping: Map | str | None = None,
    *,
    source: Profile | str | None = None,
    target: Profile | str | None = None,
    documents: Any = None,
    name: str | None = None,
    workspace: Workspace | None = None,
) -> MapperWidget:
    """Open the visual mapper on a Map, a saved map's name, or a new map between two profiles.

    ``documents`` (Documents, a DataFrame, records or a file path) are the samples
    the preview maps. A name that has no saved map yet starts a new, empty map
    between ``source`` and ``target`` (profiles or their component names).
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
    return MapperWidget(
        Map(map_name or f"{src.name}_to_{tgt.name}", src, tgt, ()), documents=docs, workspace=ws
    )
