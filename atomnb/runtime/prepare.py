"""Resolve a request's parameters and secrets before any kernel starts.

Parameters are typed and layered (notebook defaults < environment extension <
runtime values); secret values are split off so they reach the kernel only
through its environment. The low-latency loader resolves its worker's
parameters with the same function, so both runners see the same values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atomnb.components import Environment, Workspace, load_environment, resolve_secret
from atomnb.process import ProcessNotebook, filter_declared, load_process, resolve_parameters
from atomnb.process.scrubber import Scrubber
from atomnb.runtime.request import RunRequest
from atomnb.runtime.scrub import scrubber_for
from atomnb.runtime.secrets import run_secrets
from atomnb.store import ExecutionStore

__all__ = ["Prepared", "prepare"]


@dataclass
class Prepared:
    """A request resolved: the process, its environment, public values and secret values."""

    process: ProcessNotebook
    environment: Environment
    public: dict[str, Any]
    secrets: dict[str, str]
    #: Every secret the run could see (its own and its connections'), in every encoded form.
    scrubber: Scrubber = field(default_factory=Scrubber)
    #: What the kernel needs to scrub and resolve: references, atom secrets' values.
    kernel_env: dict[str, str] = field(default_factory=dict)


def prepare(workspace: Workspace, store: ExecutionStore, request: RunRequest) -> Prepared:
    """Load the process and resolve what it runs with; raises ``AtomnbError`` naming a bad value."""
    process = load_process(request.notebook)
    environment = load_environment(workspace.extensions_dir, request.environment)
    env_values = filter_declared(process, environment.parameters_for(process.name))
    secret_values = {
        name: resolve_secret(ref, name=name)
        for name, ref in environment.secrets.items()
        if name in process.parameters
    }
    runtime = dict(request.parameters)
    for name in list(runtime):
        if name in process.secret_names:
            secret_values[name] = str(runtime.pop(name))
    secret_values.update(request.secrets)
    public = resolve_parameters(process, env_values, runtime)
    unknown = sorted(set(request.secrets) - set(process.parameters))
    if unknown:
        resolve_parameters(process, dict.fromkeys(unknown, ""))  # raises, naming them
    for name in secret_values:
        public.pop(name, None)
    found = run_secrets(workspace, process.path, environment.name)
    scrubber = scrubber_for(
        [
            *secret_values.values(),
            *found.values,
            *request.kernel_secret_env.values(),
            store.engine.url.password or "",  # the store URL goes to the kernel
        ]
    )
    return Prepared(process, environment, public, secret_values, scrubber, found.kernel_env)
