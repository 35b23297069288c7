"""``ab.deploy``, ``trigger``, ``rollback``, ``undeploy``: a process on an atom, from Python.

The same steps as ``atomnb deploy`` / ``atomnb trigger`` — the package is built
with ``build_package`` (the notebook, its workspace's components and
extensions, its data files) and sent through ``AtomClient`` — so a notebook can
take a process from a test run to a schedule without a terminal. The atom is
the configured one (``atom=``, else ``$ATOMNB_ATOM_URL``, else ``atom =`` in the
workspace's atomnb.toml); the ``%atomnb deploy`` / ``trigger`` / ``rollback`` /
``undeploy`` magics call these functions.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from atomnb._types import PathLike
from atomnb.atom.client import AtomClient
from atomnb.atom.package import build_package, deploy_defaults
from atomnb.atom.serialize import record_from_dict
from atomnb.components import resolve_secret
from atomnb.components.atom_address import require_atom
from atomnb.store import ExecutionRecord

__all__ = ["DeployedProcess", "Undeployed", "deploy", "rollback", "trigger", "undeploy"]


@dataclass(frozen=True)
class DeployedProcess:
    """What an atom answered to a deployment: the version it runs and when it next fires."""

    atom: str
    process: str
    version: int
    created: bool  # False: the same content was already deployed as this version
    environment: str
    schedule: str | None = None
    timezone: str = "UTC"
    next_fire_at: datetime | None = None  # UTC
    rolled_back_from: int | None = None  # a rollback: the version that was active before

    @property
    def next_fire_local(self) -> datetime | None:
        """The next fire time in the schedule's own time zone."""
        if self.next_fire_at is None:
            return None
        return self.next_fire_at.astimezone(ZoneInfo(self.timezone))

    def __str__(self) -> str:
        if self.rolled_back_from is not None:
            text = (
                f"rolled back {self.process} to v{self.version} on {self.atom} "
                f"(was v{self.rolled_back_from})"
            )
        else:
            state = "deployed" if self.created else "unchanged, still"
            text = f"{state} {self.process} v{self.version} on {self.atom}"
        text += f" (environment {self.environment})"
        if self.schedule:
            text += f"; schedule {self.schedule} ({self.timezone})"
            local = self.next_fire_local
            if local is not None:
                text += f", next run {local:%Y-%m-%d %H:%M:%S %Z}"
        else:
            text += "; no schedule: run it with trigger"
        return text

    def _repr_html_(self) -> str:
        return f"<div class='atomnb-deployed'>{html.escape(str(self))}</div>"


def deploy(
    notebook: PathLike,
    *,
    atom: str | None = None,
    environment: str | None = None,
    schedule: str | None = None,
    timezone: str | None = None,
    catch_up: str | None = None,
    timeout_s: float | None = None,
    retries: int | None = None,
    max_concurrent: int | None = None,
    overlap: str | None = None,
) -> DeployedProcess:
    """Deploy ``notebook`` (a process) to the atom as a new version; options not given come from
    the notebook's ``atomnb.deploy`` metadata, then the atom's defaults.

    The atom is looked up from the notebook's workspace, so a notebook deploys
    where its own project says.
    """
    path = Path(notebook)
    address = require_atom(atom, start=path.parent if path.exists() else None)
    package = build_package(path)
    given = {
        "environment": environment,
        "schedule": schedule,
        "timezone": timezone,
        "catch_up": catch_up,
        "timeout_s": timeout_s,
        "retries": retries,
        "max_concurrent": max_concurrent,
        "overlap": overlap,
    }
    options = deploy_defaults(path) | {k: v for k, v in given.items() if v is not None}
    with AtomClient(address, timeout_s=120) as client:
        answer = client.deploy(package, **options)
        return _deployed(client, answer["deployment"], created=bool(answer["created"]))


def _deployed(
    client: AtomClient, d: dict[str, Any], *, created: bool, rolled_back_from: int | None = None
) -> DeployedProcess:
    next_fire = None
    if d.get("schedule"):
        for state in client.schedules():
            if state.get("process") == d["process"] and state.get("next_fire_at"):
                next_fire = datetime.fromisoformat(state["next_fire_at"])
                if next_fire.tzinfo is None:  # the store keeps UTC
                    next_fire = next_fire.replace(tzinfo=UTC)
    return DeployedProcess(
        atom=client.url,
        process=d["process"],
        version=int(d["version"]),
        created=created,
        environment=d["environment"],
        schedule=d.get("schedule"),
        timezone=d.get("timezone") or "UTC",
        next_fire_at=next_fire,
        rolled_back_from=rolled_back_from,
    )


@dataclass(frozen=True)
class Undeployed:
    """A process taken off an atom: no schedule fires, no triggers; its history stays."""

    atom: str
    process: str

    def __str__(self) -> str:
        return (
            f"undeployed {self.process} from {self.atom}: its schedule no longer fires "
            "and it cannot be triggered (deploy it again to bring it back)"
        )

    def _repr_html_(self) -> str:
        return f"<div class='atomnb-undeployed'>{html.escape(str(self))}</div>"


def undeploy(process: str, *, atom: str | None = None) -> Undeployed:
    """Take ``process`` off the atom: its schedule stops and triggers are refused.

    Its versions and executions stay on record; ``deploy`` brings it back.
    """
    with AtomClient(require_atom(atom), timeout_s=60) as client:
        client.undeploy(process)
        return Undeployed(atom=client.url, process=process)


def rollback(process: str, to: int | None = None, *, atom: str | None = None) -> DeployedProcess:
    """Make version ``to`` of ``process`` (default: the one before the active one) active again.

    That version's own package, schedule and settings come back; the atom
    records who rolled back and when.
    """
    with AtomClient(require_atom(atom), timeout_s=60) as client:
        answer = client.rollback(process, to)
        before = answer.get("from_version")
        return _deployed(
            client,
            answer["deployment"],
            created=bool(answer["changed"]),
            rolled_back_from=int(before) if answer["changed"] and before else None,
        )


def trigger(
    process: str,
    parameters: dict[str, Any] | None = None,
    *,
    atom: str | None = None,
    secrets: dict[str, str] | None = None,
    wait: bool = False,
    wait_timeout_s: float = 300.0,
) -> ExecutionRecord:
    """Run a deployed ``process`` on the atom now; with ``wait``, answer when it has finished.

    ``secrets`` are references (``env:VAR``, ``file:PATH``) resolved here and
    sent to the atom's memory only, as ``atomnb trigger -s`` does.
    """
    values = {name: resolve_secret(ref, name=name) for name, ref in (secrets or {}).items()}
    with AtomClient(require_atom(atom), timeout_s=60) as client:
        answer = client.trigger(
            process, dict(parameters or {}), values, wait=wait, wait_timeout_s=wait_timeout_s
        )
    return record_from_dict(answer)
