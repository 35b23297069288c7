"""Profiles as workspace components: ``components/profiles/<name>.yaml``."""

from __future__ import annotations

from pathlib import Path

from atomnb.components import Workspace
from atomnb.components.files import (
    ComponentFile,
    component_path,
    load_component,
    save_component,
)
from atomnb.errors import ProfileError
from atomnb.profiles.model import Profile

__all__ = ["load_profile", "save_profile"]

KIND = "profile"


def _components_dir(workspace: Workspace | Path | None) -> Path:
    if isinstance(workspace, Path):
        return workspace
    return (workspace or Workspace.find()).components_dir


def save_profile(
    profile: Profile, name: str | None = None, *, workspace: Workspace | Path | None = None
) -> Path:
    """Write (or update) the profile's component file; its version bumps only on change."""
    name = name or profile.name
    directory = _components_dir(workspace)
    saved = save_component(
        directory,
        ComponentFile(
            kind=KIND, name=name, body=profile.to_body(), description=profile.description
        ),
    )
    return directory / f"{KIND}s" / f"{saved.name}.yaml"


def load_profile(name: str, *, workspace: Workspace | Path | None = None) -> Profile:
    """The profile component ``name`` from the workspace (found from the current folder)."""
    directory = _components_dir(workspace)
    component = load_component(directory, KIND, name)
    try:
        return Profile.from_body(component.name, component.body)
    except ProfileError as exc:
        raise ProfileError(exc.message, where=str(component_path(directory, KIND, name))) from None
