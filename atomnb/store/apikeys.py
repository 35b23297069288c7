"""Deployed API components and their named keys, in the store (schema 8).

A key is 32 random bytes shown once, when it is made; the store keeps its SHA-256
only (as ``atomnb.store.tokens`` does for the atom's own tokens, for the same
reason: a high-entropy random key needs no slow hash, and the lookup stays one
indexed read per request). Each key belongs to one API: a key of another API is
known but refused (403), an unknown key is not (401).

An API's row holds what the atom serves it from — the checked component body
and the JSON Schemas and examples of its profiles — so every atom sharing the
store serves the same API, whichever of them received the deployment.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from atomnb.errors import ConfigError, NotFoundError
from atomnb.store.repository import ExecutionStore, as_utc, utcnow
from atomnb.store.tables import api_deployments, api_keys

__all__ = ["KEY_PREFIX", "ApiKey", "ApiKeyStore", "ApiStore", "DeployedApi", "key_digest"]

KEY_PREFIX = "ak_"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")


def key_digest(key: str) -> str:
    """The SHA-256 (hex) under which a key is stored."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class ApiKey:
    """What may be shown of a key: its API, name and times, never the key or its hash."""

    id: str
    api: str
    name: str
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "name": self.name,
            "created_at": _stamp(self.created_at),
            "created_by": self.created_by,
            "last_used_at": _stamp(self.last_used_at),
            "revoked_at": _stamp(self.revoked_at),
        }


_KEY_COLUMNS = (
    api_keys.c.id,
    api_keys.c.api,
    api_keys.c.name,
    api_keys.c.created_at,
    api_keys.c.created_by,
    api_keys.c.last_used_at,
    api_keys.c.revoked_at,
)


class ApiKeyStore:
    """Rows of ``api_keys`` behind a few functions."""

    def __init__(self, store: ExecutionStore) -> None:
        self.engine = store.engine

    def create(self, api: str, name: str, *, created_by: str | None = None) -> tuple[ApiKey, str]:
        """A new key ``name`` for ``api``; returns its row and the key (shown once)."""
        if not _NAME.fullmatch(name or ""):
            raise ConfigError(
                f"not a usable key name: {name[:100]!r}",
                hint="up to 100 letters, digits and . _ @ -, starting with a letter or digit",
            )
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        row = {
            "id": secrets.token_hex(16),
            "api": api,
            "name": name,
            "key_hash": key_digest(key),
            "created_at": utcnow(),
            "created_by": (created_by or None) and str(created_by)[:100],
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(api_keys.insert().values(**row))
        except IntegrityError:
            raise ConfigError(
                f"API {api} has a key named {name!r} already",
                hint="pick another name, or revoke the old one (names are not reused)",
            ) from None
        found = self.get(api, name)
        assert found is not None
        return found, key

    def all(self, api: str | None = None) -> list[ApiKey]:
        """Every key (of ``api``), revoked ones too, by API and name."""
        query = sa.select(*_KEY_COLUMNS).order_by(api_keys.c.api, api_keys.c.name)
        if api is not None:
            query = query.where(api_keys.c.api == api)
        with self.engine.connect() as connection:
            return [_key(row) for row in connection.execute(query).mappings()]

    def get(self, api: str, name: str) -> ApiKey | None:
        query = sa.select(*_KEY_COLUMNS).where(api_keys.c.api == api, api_keys.c.name == name)
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _key(row) if row is not None else None

    def revoke(self, api: str, name: str) -> ApiKey:
        """Revoke key ``name`` of ``api``: it stops working at once; twice is no error."""
        with self.engine.begin() as connection:
            connection.execute(
                api_keys.update()
                .where(
                    api_keys.c.api == api, api_keys.c.name == name, api_keys.c.revoked_at.is_(None)
                )
                .values(revoked_at=utcnow())
            )
        found = self.get(api, name)
        if found is None:
            raise NotFoundError(
                f"API {api} has no key named {name!r}", hint=f"see: atomnb apis keys list {api}"
            )
        return found

    def by_key(self, key: str) -> ApiKey | None:
        """The key (of any API, revoked or not) whose hash is that of ``key``."""
        query = sa.select(*_KEY_COLUMNS).where(api_keys.c.key_hash == key_digest(key))
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _key(row) if row is not None else None

    def touch(self, key_id: str) -> None:
        """Note that the key was used (callers do it at most once a minute per key)."""
        with self.engine.begin() as connection:
            connection.execute(
                api_keys.update().where(api_keys.c.id == key_id).values(last_used_at=utcnow())
            )


def _key(row: sa.RowMapping) -> ApiKey:
    created = as_utc(row["created_at"])
    assert created is not None
    return ApiKey(
        id=str(row["id"]),
        api=str(row["api"]),
        name=str(row["name"]),
        created_at=created,
        created_by=row["created_by"],
        last_used_at=as_utc(row["last_used_at"]),
        revoked_at=as_utc(row["revoked_at"]),
    )


@dataclass(frozen=True)
class DeployedApi:
    """One deployed API: its definition (body and resolved profiles) and where it came from."""

    name: str
    version: int
    content_hash: str
    definition: dict[str, Any]
    process: str
    process_version: int
    deployed_at: datetime
    deployed_by: str | None

    def summary(self) -> dict[str, Any]:
        body = self.definition.get("body", {})
        return {
            "name": self.name,
            "version": self.version,
            "base_path": body.get("base_path") or f"/apis/{self.name}",
            "routes": len(body.get("routes") or []),
            "content_hash": self.content_hash,
            "deployed_with": f"{self.process} v{self.process_version}",
            "deployed_at": _stamp(self.deployed_at),
            "deployed_by": self.deployed_by,
        }


class ApiStore:
    """Rows of ``api_deployments``: the newest deployment of each API is the one served."""

    def __init__(self, store: ExecutionStore) -> None:
        self.engine = store.engine

    def put(
        self,
        name: str,
        content_hash: str,
        definition: dict[str, Any],
        *,
        process: str,
        process_version: int,
        deployed_by: str | None,
    ) -> tuple[DeployedApi, bool]:
        """Record a deployment of ``name``; a new version only when its content changed."""
        with self.engine.begin() as connection:
            held = connection.execute(
                sa.select(api_deployments.c.version, api_deployments.c.content_hash).where(
                    api_deployments.c.name == name
                )
            ).first()
            if held is not None and held.content_hash == content_hash:
                changed = False
            else:
                values = {
                    "version": (held.version + 1) if held is not None else 1,
                    "content_hash": content_hash,
                    "definition": definition,
                    "process": process,
                    "process_version": process_version,
                    "deployed_at": utcnow(),
                    "deployed_by": (deployed_by or None) and str(deployed_by)[:100],
                }
                if held is None:
                    connection.execute(api_deployments.insert().values(name=name, **values))
                else:
                    connection.execute(
                        api_deployments.update()
                        .where(api_deployments.c.name == name)
                        .values(**values)
                    )
                changed = True
        found = self.get(name)
        assert found is not None
        return found, changed

    def get(self, name: str) -> DeployedApi | None:
        query = sa.select(api_deployments).where(api_deployments.c.name == name)
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _api(row) if row is not None else None

    def all(self) -> list[DeployedApi]:
        query = sa.select(api_deployments).order_by(api_deployments.c.name)
        with self.engine.connect() as connection:
            return [_api(row) for row in connection.execute(query).mappings()]

    def versions(self) -> dict[str, int]:
        """Each API's version (one cheap read: the atom reloads only what changed)."""
        query = sa.select(api_deployments.c.name, api_deployments.c.version)
        with self.engine.connect() as connection:
            return {str(n): int(v) for n, v in connection.execute(query)}


def _api(row: sa.RowMapping) -> DeployedApi:
    deployed = as_utc(row["deployed_at"])
    assert deployed is not None
    return DeployedApi(
        name=str(row["name"]),
        version=int(row["version"]),
        content_hash=str(row["content_hash"]),
        definition=dict(row["definition"]),
        process=str(row["process"]),
        process_version=int(row["process_version"]),
        deployed_at=deployed,
        deployed_by=row["deployed_by"],
    )
