"""Deploying a package to an atom: check it, keep a copy per version, record it, schedule it.

Everything that can be wrong with a deployment is found here, before anything
changes: a notebook that is not a process, an unknown environment, a bad cron
expression or time zone, impossible limits. A refused deployment leaves the
running version as it was.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from atomnb.atom.cron import check_schedule, next_fire
from atomnb.atom.home import AtomHome
from atomnb.atom.notify import check_notify
from atomnb.atom.package import unpack_package
from atomnb.components import Workspace, load_environment
from atomnb.errors import AtomError, ConfigError
from atomnb.process import load_process
from atomnb.store import ExecutionStore, utcnow
from atomnb.store.deployments import CATCH_UP_POLICIES, Deployment, DeploymentStore
from atomnb.store.schedules import ScheduleState, ScheduleStore

__all__ = ["DeployOptions", "Deployer"]

_PROCESS_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")


@dataclass
class DeployOptions:
    """How the atom runs a deployed process."""

    notebook: str  # the notebook's path inside the package
    environment: str = "default"
    schedule: str | None = None
    timezone: str = "UTC"
    catch_up: str = "once"
    timeout_s: float | None = None
    retries: int = 0
    retry_delay_s: float = 5.0
    max_concurrent: int = 1
    notify: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        if self.schedule:
            check_schedule(self.schedule, self.timezone)
        if self.catch_up not in CATCH_UP_POLICIES:
            raise ConfigError(f"catch-up policy must be one of {CATCH_UP_POLICIES}")
        if self.timeout_s is not None and self.timeout_s <= 0:
            raise ConfigError("the timeout must be a positive number of seconds")
        if self.retries < 0 or self.retry_delay_s < 0:
            raise ConfigError("retries and the retry delay cannot be negative")
        if self.max_concurrent < 1:
            raise ConfigError("max_concurrent must be at least 1")
        check_notify(self.notify)


class Deployer:
    """Receives packages for one atom home and store."""

    def __init__(self, home: AtomHome, store: ExecutionStore) -> None:
        self.home = home
        self.deployments = DeploymentStore(store)
        self.schedules = ScheduleStore(store)

    def deploy(self, data: bytes, options: DeployOptions) -> tuple[Deployment, bool]:
        """Deploy a package; returns the active deployment and whether it is a new version."""
        options.check()
        incoming = Path(tempfile.mkdtemp(prefix="incoming-", dir=self._incoming_dir()))
        unpacked = incoming / "package"
        try:
            content_hash = unpack_package(data, unpacked)
            process = self._check_package(unpacked, options)
            deployment = Deployment(
                process=process,
                environment=options.environment,
                notebook=options.notebook,
                content_hash=content_hash,
                schedule=options.schedule or None,
                timezone=options.timezone,
                catch_up=options.catch_up,
                timeout_s=options.timeout_s,
                retries=options.retries,
                retry_delay_s=options.retry_delay_s,
                max_concurrent=options.max_concurrent,
                notify=dict(options.notify),
            )
            deployment, created = self.deployments.add(deployment)
            target = self.home.package_dir(process, deployment.version)
            if not target.exists():  # a new version, or one another atom of the molecule made
                target.parent.mkdir(parents=True, exist_ok=True)
                unpacked.rename(target)
        finally:
            shutil.rmtree(incoming, ignore_errors=True)
        self._schedule(deployment)
        return deployment, created

    def workspace_of(self, deployment: Deployment) -> Workspace:
        """The deployed copy of the workspace a version runs in (this atom's own copy)."""
        root = self.home.package_dir(deployment.process, deployment.version)
        if not root.is_dir():
            raise AtomError(
                f"this atom has no copy of {deployment.process} version {deployment.version}",
                hint="deploy the process to this atom too",
            )
        return Workspace.find(root)

    def notebook_of(self, deployment: Deployment) -> Path:
        return self.workspace_of(deployment).root.joinpath(
            *PurePosixPath(deployment.notebook).parts
        )

    def undeploy(self, process: str) -> bool:
        self.schedules.disable(process)
        return self.deployments.deactivate(process)

    def _incoming_dir(self) -> Path:
        folder = self.home.deployments_dir / ".incoming"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @staticmethod
    def _check_package(root: Path, options: DeployOptions) -> str:
        notebook = root.joinpath(*PurePosixPath(options.notebook).parts)
        if not notebook.is_file():
            raise AtomError(f"the package has no notebook {options.notebook!r}")
        process = load_process(notebook)  # refuses a notebook that is not a process
        if not _PROCESS_NAME.match(process.name):
            raise AtomError(f"a process name must be letters, digits, _ . -: {process.name!r}")
        workspace = Workspace.find(root)
        load_environment(workspace.extensions_dir, options.environment)  # unknown env → error
        return process.name

    def _schedule(self, deployment: Deployment) -> None:
        if not deployment.schedule:
            self.schedules.disable(deployment.process)
            return
        self.schedules.set(
            ScheduleState(
                process=deployment.process,
                cron=deployment.schedule,
                timezone=deployment.timezone,
                catch_up=deployment.catch_up,
                next_fire_at=next_fire(deployment.schedule, deployment.timezone, utcnow()),
            )
        )
