"""Deploying a package to an atom: check it, keep a copy per version, record it, schedule it.

Everything that can be wrong with a deployment is found here, before anything
changes: a notebook that is not a process, an unknown environment, a bad cron
expression or time zone, impossible limits. A refused deployment leaves the
running version as it was.

A rollback makes an earlier version active again — its package copy, its
schedule and settings — as one change, recorded on the version (when, by whom).
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from atomnb.atom.apis.definition import prepare_apis, record_apis
from atomnb.atom.cron import check_schedule, next_fire
from atomnb.atom.home import AtomHome
from atomnb.atom.notify import check_notify
from atomnb.atom.retention import prune_packages
from atomnb.atom.unpack import DEFAULT_MAX_UNPACKED_BYTES, unpack_package
from atomnb.components import Workspace, load_environment
from atomnb.errors import AtomError, ConfigError, UnknownEntityError
from atomnb.process import load_process
from atomnb.runtime.lowlatency.modes import process_settings
from atomnb.store import ExecutionStore, utcnow
from atomnb.store.deployments import (
    CATCH_UP_POLICIES,
    OVERLAP_POLICIES,
    RUN_SETTINGS,
    Deployment,
    DeploymentStore,
)
from atomnb.store.schedules import ScheduleState, ScheduleStore

__all__ = ["DeployOptions", "Deployer", "check_notebook_path"]

_PROCESS_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")

MAX_TIMEOUT_S = 7 * 24 * 3600.0
MAX_RETRY_DELAY_S = 24 * 3600.0
MAX_RETRIES = 100
MAX_CONCURRENT = 1000


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
    overlap: str = "queue"
    notify: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        """Refuse options that cannot work, before anything is unpacked or recorded."""
        check_notebook_path(self.notebook)
        if self.schedule:
            check_schedule(self.schedule, self.timezone)  # also: a schedule that never fires
        if self.catch_up not in CATCH_UP_POLICIES:
            raise ConfigError(f"catch-up policy must be one of {CATCH_UP_POLICIES}")
        if self.timeout_s is not None:
            _check_number("timeout_s", self.timeout_s, 0.0, MAX_TIMEOUT_S, low_open=True)
        _check_number("retry_delay_s", self.retry_delay_s, 0.0, MAX_RETRY_DELAY_S)
        _check_whole("retries", self.retries, 0, MAX_RETRIES)
        _check_whole("max_concurrent", self.max_concurrent, 1, MAX_CONCURRENT)
        if self.overlap not in OVERLAP_POLICIES:
            raise ConfigError(f"overlap policy must be one of {OVERLAP_POLICIES}")
        check_notify(self.notify)


def check_notebook_path(notebook: str) -> None:
    """A notebook path must be relative, forward-slashed and stay inside the package."""
    path = PurePosixPath(notebook)
    if (
        not notebook
        or "\\" in notebook
        or "\0" in notebook
        or path.is_absolute()
        or ".." in path.parts
        or re.match(r"^[A-Za-z]:", notebook)
        or not path.parts
    ):
        raise ConfigError(
            f"the notebook must be a relative path inside the package: {notebook!r}",
            hint="e.g. notebooks/orders.ipynb (forward slashes, no .., not absolute)",
        )


def _check_number(
    name: str, value: float, low: float, high: float, *, low_open: bool = False
) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number: {value!r}")
    below = value <= low if low_open else value < low
    if not math.isfinite(value) or below or value > high:
        bound = f"over {low:g}" if low_open else f"at least {low:g}"
        raise ConfigError(f"{name} must be a finite number {bound} and at most {high:g}: {value}")


def _check_whole(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}: {value!r}")


class Deployer:
    """Receives packages for one atom home and store."""

    def __init__(
        self,
        home: AtomHome,
        store: ExecutionStore,
        *,
        versions_kept: int | None = None,
        max_unpacked_bytes: int | None = None,
    ) -> None:
        self.home = home
        self.store = store
        self.deployments = DeploymentStore(store)
        self.schedules = ScheduleStore(store)
        if versions_kept is None or max_unpacked_bytes is None:
            settings = home.settings()
            versions_kept = versions_kept or settings.package_versions_kept
            max_unpacked_bytes = max_unpacked_bytes or settings.package_max_unpacked_bytes
        self.versions_kept = versions_kept
        self.max_unpacked_bytes = max_unpacked_bytes or DEFAULT_MAX_UNPACKED_BYTES

    def deploy(
        self, data: bytes | Path, options: DeployOptions, *, actor: str = "local"
    ) -> tuple[Deployment, bool]:
        """Deploy a package (its bytes or a file); the active deployment, whether it is new.

        ``actor`` is who deploys (a token's name; "local" on an atom without tokens).

        All or nothing: everything is checked before the version is recorded, and
        if keeping the package or scheduling it fails after that, the previous
        version is active again (the failed one stays in the history, inactive).
        Afterwards only the newest ``versions_kept`` package folders of the
        process stay on disk, besides the active one and any a queued or running
        execution still uses.
        """
        options.check()
        incoming = Path(tempfile.mkdtemp(prefix="incoming-", dir=self.incoming_dir()))
        unpacked = incoming / "package"
        try:
            content_hash = unpack_package(
                data, unpacked, max_unpacked_bytes=self.max_unpacked_bytes
            )
            process = self._check_package(unpacked, options)
            apis = prepare_apis(unpacked, process)  # the API components routing to it, checked
            settings = {name: getattr(options, name) for name in RUN_SETTINGS}
            settings.update(schedule=options.schedule or None, notify=dict(options.notify))
            deployment = Deployment(
                process=process,
                notebook=options.notebook,
                content_hash=content_hash,
                deployed_by=actor,
                **settings,
            )
            previous = self.deployments.active(process)
            deployment, created = self.deployments.add(deployment)
            try:
                target = self.home.package_dir(process, deployment.version)
                if not target.exists():  # a new version, or one another atom of the molecule made
                    target.parent.mkdir(parents=True, exist_ok=True)
                    unpacked.rename(target)
                self._schedule(deployment)
                record_apis(
                    self.store,
                    apis,
                    process=process,
                    process_version=deployment.version,
                    actor=actor,
                )
            except BaseException:
                if created:  # the schedule is set last: if it failed, it is unchanged
                    self.deployments.restore(process, previous.version if previous else None)
                raise
        finally:
            shutil.rmtree(incoming, ignore_errors=True)
        prune_packages(
            self.store,
            self.home.deployments_dir / deployment.process,
            deployment.process,
            keep=self.versions_kept,
            active=deployment.version,
        )
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
        """Stop scheduling and triggering ``process``; False when no version was active."""
        self.schedules.disable(process)
        return self.deployments.deactivate(process)

    def rollback(
        self, process: str, to: int | None = None, *, actor: str = "local"
    ) -> tuple[Deployment, bool, int | None]:
        """Make version ``to`` (default: the one before the active one) active again.

        Returns the active version, whether it changed, and the version that was
        active before (None: the process was undeployed). Its own package copy,
        schedule, settings and the API components routing to it come back; a paused
        schedule stays paused.
        Executions already queued keep the version they were queued with.
        """
        history = self.deployments.history(process)  # newest first
        if not history:
            raise UnknownEntityError(f"no process {process!r} was ever deployed here")
        active = next((d for d in history if d.active), None)
        versions = ", ".join(f"v{d.version}" for d in history)
        target = self._rollback_target(process, history, active, to, versions)
        if active is not None and target.version == active.version:
            return active, False, active.version
        if not self.home.package_dir(process, target.version).is_dir():
            raise AtomError(
                f"this atom no longer keeps the package of {process} v{target.version}",
                hint=f"it keeps the newest {self.versions_kept} versions; deploy that "
                "version again from its notebook",
            )
        activated = self.deployments.activate(process, target.version, actor)
        try:
            self._schedule(activated)
            # the APIs routing to it come back as that version's package had them
            package = self.home.package_dir(process, target.version)
            record_apis(
                self.store,
                prepare_apis(package, process),
                process=process,
                process_version=target.version,
                actor=actor,
            )
        except BaseException:
            self.deployments.restore(process, active.version if active else None)
            raise
        return activated, True, active.version if active else None

    @staticmethod
    def _rollback_target(
        process: str,
        history: list[Deployment],
        active: Deployment | None,
        to: int | None,
        versions: str,
    ) -> Deployment:
        if to is not None:
            for deployment in history:
                if deployment.version == to:
                    return deployment
            raise UnknownEntityError(
                f"{process} has no version {to}", hint=f"its versions: {versions}"
            )
        if active is None:
            raise AtomError(
                f"{process} is not deployed, so there is no version before the active one",
                hint=f"name the version to make active (its versions: {versions})",
            )
        earlier = [d for d in history if d.version < active.version]
        if not earlier:
            raise AtomError(
                f"{process} has no version before v{active.version}",
                hint=f"its versions: {versions}",
            )
        return earlier[0]

    def incoming_dir(self) -> Path:
        """Where packages are received and unpacked before they are checked."""
        folder = self.home.deployments_dir / ".incoming"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @staticmethod
    def _check_package(root: Path, options: DeployOptions) -> str:
        check_notebook_path(options.notebook)
        notebook = root.joinpath(*PurePosixPath(options.notebook).parts)
        if not notebook.resolve().is_relative_to(root.resolve()):
            raise AtomError(f"the notebook {options.notebook!r} is outside the package")
        if not notebook.is_file():
            raise AtomError(f"the package has no notebook {options.notebook!r}")
        process = load_process(notebook)  # refuses a notebook that is not a process
        process_settings(process.node, options.notebook)  # a bad mode, or low_latency untagged
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
