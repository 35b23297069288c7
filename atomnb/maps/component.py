"""Maps as workspace components: ``components/maps/<name>.yaml``, profiles referenced by name."""

from __future__ import annotations

from pathlib import Path

import yaml

from atomnb.components import Workspace
from atomnb.components.files import ComponentFile, component_path, load_component, save_component
from atomnb.errors import MapError, ProfileError
from atomnb.maps.model import Map
from atomnb.profiles import load_profile, save_profile

__all__ = ["load_map", "map_version", "save_map", "save_map_file"]

KIND = "map"


def _workspace(workspace: Workspace | None) -> Workspace:
    return workspace or Workspace.find()


def save_map(mapping: Map, name: str | None = None, *, workspace: Workspace | None = None) -> Path:
    """Write the map (and its two profiles, which it references by name) as components.

    Writes what it is given (a half-done map too); ``Map.save()`` checks it first.
    """
    ws = _workspace(workspace)
    return component_path(ws.components_dir, KIND, save_map_file(mapping, name, workspace=ws).name)


def save_map_file(
    mapping: Map, name: str | None = None, *, workspace: Workspace | None = None
) -> ComponentFile:
    """``save_map``, returning the component as saved (its version tells whether it changed).

    The body goes through YAML once before it is compared, so a value that only
    reads back differently (a tuple of arguments from Python, read back as a list)
    does not count as a change and does not bump the version.
    """
    ws = _workspace(workspace)
    save_profile(mapping.source, workspace=ws)
    save_profile(mapping.target, workspace=ws)
    references = (
        f"profile:{mapping.source.name}",
        f"profile:{mapping.target.name}",
        *(f"xref:{t}" for t in mapping.tables),
    )
    body = yaml.safe_load(yaml.safe_dump(mapping.to_body(), allow_unicode=True))
    return save_component(
        ws.components_dir,
        ComponentFile(
            kind=KIND,
            name=name or mapping.name,
            body=body,
            references=references,
            description=mapping.description,
        ),
    )


def load_map(name: str, *, workspace: Workspace | None = None) -> Map:
    """The map component ``name`` with its source and target profiles loaded."""
    ws = _workspace(workspace)
    component = load_component(ws.components_dir, KIND, name)
    body = component.body
    where = str(component_path(ws.components_dir, KIND, name))
    try:
        source = load_profile(str(body["source_profile"]), workspace=ws)
        target = load_profile(str(body["target_profile"]), workspace=ws)
        return Map.from_body(component.name, body, source, target)
    except KeyError as exc:
        raise MapError(f"map has no {exc.args[0]!r}", where=where) from None
    except (MapError, ProfileError) as exc:
        raise MapError(exc.message, where=where, hint=exc.hint) from None


def map_version(name: str, *, workspace: Workspace | None = None) -> int | None:
    """The saved map ``name``'s version, ``None`` when there is no such component."""
    ws = _workspace(workspace)
    if not component_path(ws.components_dir, KIND, name).exists():
        return None
    return load_component(ws.components_dir, KIND, name).version
