"""API components at deployment: checked, their profiles resolved, recorded in the store.

An API travels in the deployment package of the processes it routes to (every
package carries the workspace's ``components/``). Deploying one of those
processes deploys the API as the package has it: its file is checked and its
profiles are looked up *before* anything is recorded (a bad API refuses the
deployment, naming the file and field), then the definition — the component
body and the profiles it names — is written to the store, where every atom of
the molecule serves it from. A deployment whose API content is unchanged makes
no new API version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atomnb.components import Workspace
from atomnb.components.apis import ApiDefinition, api_from_body, api_names, api_path, load_api
from atomnb.components.files import content_hash
from atomnb.errors import AtomnbError, ComponentError
from atomnb.profiles import Profile, load_profile
from atomnb.store import ExecutionStore
from atomnb.store.apikeys import ApiStore, DeployedApi

__all__ = ["LoadedApi", "PreparedApi", "load_deployed", "prepare_apis", "record_apis"]


@dataclass(frozen=True)
class PreparedApi:
    """An API checked at deployment, ready to be recorded."""

    name: str
    definition: dict[str, Any]

    @property
    def content_hash(self) -> str:
        return content_hash(self.definition)


@dataclass(frozen=True)
class LoadedApi:
    """A deployed API as the atom serves it: the definition and its profiles."""

    api: ApiDefinition
    version: int
    profiles: dict[str, Profile] = field(default_factory=dict)


def prepare_apis(root: Path, process: str) -> list[PreparedApi]:
    """The APIs in the package at ``root`` that route to ``process``, checked."""
    components = Workspace.find(root).components_dir
    prepared = []
    for name in api_names(components):
        api, component = load_api(components, name)
        if process not in api.processes:
            continue
        profiles: dict[str, Any] = {}
        for profile in api.profiles:
            try:
                profiles[profile] = load_profile(profile, workspace=components).to_body()
            except AtomnbError as exc:
                raise ComponentError(
                    f"its profile {profile!r} cannot be used: {exc.message}",
                    where=str(api_path(components, name)),
                    hint=exc.hint,
                ) from None
        definition = {
            "name": name,
            "description": component.description,
            "body": json.loads(json.dumps(component.body, default=str)),
            "profiles": profiles,
        }
        prepared.append(PreparedApi(name, definition))
    return prepared


def record_apis(
    store: ExecutionStore,
    prepared: list[PreparedApi],
    *,
    process: str,
    process_version: int,
    actor: str | None,
) -> list[DeployedApi]:
    """Write the checked APIs to the store (a new version only where content changed)."""
    apis = ApiStore(store)
    return [
        apis.put(
            p.name,
            p.content_hash,
            p.definition,
            process=process,
            process_version=process_version,
            deployed_by=actor,
        )[0]
        for p in prepared
    ]


def load_deployed(deployed: DeployedApi) -> LoadedApi:
    """The served form of a stored API (checked again: the store may be older than the code)."""
    definition = deployed.definition
    api = api_from_body(
        deployed.name,
        dict(definition.get("body") or {}),
        where=f"API {deployed.name} v{deployed.version}",
        description=str(definition.get("description") or ""),
    )
    profiles = {
        name: Profile.from_body(name, body)
        for name, body in (definition.get("profiles") or {}).items()
    }
    return LoadedApi(api, deployed.version, profiles)
