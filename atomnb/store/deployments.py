"""Deployed process versions: what an atom runs, and how (schedule, timeout, retries, limits).

Each deploy of changed content is a new version; deploying the same content
with the same options again changes nothing, so a molecule's atoms can all be
sent the same package. One version of a process is active: the newest, unless a
rollback made an earlier one active again (``activate``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from atomnb.errors import StoreError
from atomnb.store.repository import ExecutionStore, as_utc, utcnow
from atomnb.store.tables import deployments

__all__ = [
    "CATCH_UP_POLICIES",
    "OVERLAP_POLICIES",
    "RUN_SETTINGS",
    "Deployment",
    "DeploymentStore",
]

#: After downtime: "once" runs one execution for all missed fire times, "skip" runs none.
CATCH_UP_POLICIES = ("once", "skip")
#: A fire time while the process still runs (or waits): "queue" it, or "skip" it (recorded).
OVERLAP_POLICIES = ("queue", "skip")
#: How the atom runs a process: what a deploy (or the notebook's own metadata) may set.
RUN_SETTINGS = (
    "environment",
    "schedule",
    "timezone",
    "catch_up",
    "timeout_s",
    "retries",
    "retry_delay_s",
    "max_concurrent",
    "overlap",
    "notify",
)
#: What makes two deployments the same version: the content and how it runs.
_IDENTITY = ("notebook", "content_hash", *RUN_SETTINGS)


@dataclass
class Deployment:
    """One version of a process as deployed: its package and how the atom runs it."""

    process: str
    environment: str
    notebook: str  # the notebook's path inside the deployed package
    content_hash: str
    version: int = 0
    schedule: str | None = None
    timezone: str = "UTC"
    catch_up: str = "once"
    timeout_s: float | None = None
    retries: int = 0
    retry_delay_s: float = 5.0
    max_concurrent: int = 1
    overlap: str = "queue"  # a scheduled fire while a run is queued or running: queue or skip
    notify: dict[str, Any] = field(default_factory=dict)
    deployed_at: datetime | None = None
    active: bool = True
    deployed_by: str | None = None  # the token's name that deployed it (schema 7)
    # When and by whom it last became the active version: its deploy, or a rollback to it.
    activated_at: datetime | None = None
    activated_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        for key in ("deployed_at", "activated_at"):
            stamp = getattr(self, key)
            values[key] = stamp.isoformat() if stamp else None
        return values

    def same_as(self, other: Deployment) -> bool:
        return all(getattr(self, k) == getattr(other, k) for k in _IDENTITY)


class DeploymentStore:
    """Deployment rows in the execution store's database."""

    def __init__(self, store: ExecutionStore) -> None:
        self.engine = store.engine

    def add(self, deployment: Deployment) -> tuple[Deployment, bool]:
        """Record ``deployment`` as the process's active version; (row, whether it is new)."""
        for _ in range(3):  # two atoms deploying at once race for the next version number
            current = self.active(deployment.process)
            if current is not None and current.same_as(deployment):
                return current, False
            deployment.version = (self._latest_version(deployment.process) or 0) + 1
            deployment.deployed_at = deployment.activated_at = utcnow()
            deployment.activated_by = deployment.deployed_by
            deployment.active = True
            row = asdict(deployment)
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        deployments.update()
                        .where(deployments.c.process == deployment.process)
                        .values(active=False)
                    )
                    connection.execute(deployments.insert().values(**row))
                return deployment, True
            except IntegrityError:
                continue
            except SQLAlchemyError as exc:
                raise StoreError(f"cannot record the deployment: {exc}") from None
        raise StoreError(f"could not record a deployment of {deployment.process}: version race")

    def active(self, process: str) -> Deployment | None:
        query = sa.select(deployments).where(
            deployments.c.process == process, deployments.c.active.is_(True)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _deployment(row) if row else None

    def all_active(self) -> list[Deployment]:
        query = (
            sa.select(deployments)
            .where(deployments.c.active.is_(True))
            .order_by(deployments.c.process)
        )
        with self.engine.connect() as connection:
            return [_deployment(r) for r in connection.execute(query).mappings()]

    def get(self, process: str, version: int) -> Deployment | None:
        query = sa.select(deployments).where(
            deployments.c.process == process, deployments.c.version == version
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _deployment(row) if row else None

    def history(self, process: str) -> list[Deployment]:
        query = (
            sa.select(deployments)
            .where(deployments.c.process == process)
            .order_by(deployments.c.version.desc())
        )
        with self.engine.connect() as connection:
            return [_deployment(r) for r in connection.execute(query).mappings()]

    def deactivate(self, process: str) -> bool:
        with self.engine.begin() as connection:
            result = connection.execute(
                deployments.update()
                .where(deployments.c.process == process, deployments.c.active.is_(True))
                .values(active=False)
            )
        return bool(result.rowcount)

    def restore(self, process: str, version: int | None) -> None:
        """Make ``version`` the active one again (``None``: none), in one transaction.

        Undoes a deploy whose package could not be kept after its row was written.
        """
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    deployments.update()
                    .where(deployments.c.process == process)
                    .values(active=False)
                )
                if version is not None:
                    connection.execute(
                        deployments.update()
                        .where(
                            deployments.c.process == process,
                            deployments.c.version == version,
                        )
                        .values(active=True)
                    )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot restore {process} version {version}: {exc}") from None

    def activate(self, process: str, version: int, actor: str | None) -> Deployment:
        """Make ``version`` the active one (a rollback), recording when and by whom.

        One transaction: the other versions are deactivated and this one activated
        together, so a process never has two active versions, nor none in between.
        """
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    deployments.update()
                    .where(deployments.c.process == process, deployments.c.version != version)
                    .values(active=False)
                )
                result = connection.execute(
                    deployments.update()
                    .where(deployments.c.process == process, deployments.c.version == version)
                    .values(active=True, activated_at=utcnow(), activated_by=actor)
                )
                if not result.rowcount:
                    raise StoreError(f"{process} has no version {version}")
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot make {process} version {version} active: {exc}") from None
        found = self.get(process, version)
        assert found is not None
        return found

    def _latest_version(self, process: str) -> int | None:
        query = sa.select(sa.func.max(deployments.c.version)).where(
            deployments.c.process == process
        )
        with self.engine.connect() as connection:
            value = connection.execute(query).scalar()
        return int(value) if value is not None else None


def _deployment(row: Any) -> Deployment:
    values = dict(row)
    values["deployed_at"] = as_utc(values["deployed_at"])
    values["activated_at"] = as_utc(values.get("activated_at"))
    values["notify"] = dict(values["notify"] or {})
    return Deployment(**values)
