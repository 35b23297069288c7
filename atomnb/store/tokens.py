"""API tokens with roles and the console's sessions, in the store (schema 7).

A token is 32 random bytes shown once, when it is made; the store keeps its
SHA-256 only, so a copy of the store (a backup, a shared PostgreSQL database)
lets nobody call the atom. A high-entropy random token needs no slow hash: a
preimage of SHA-256 is out of reach, and the lookup stays one indexed read per
request. Console sessions are kept the same way: the cookie's random id is
stored hashed, with an expiry, tied to the token that logged in (revoking the
token ends its sessions at once).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from atomnb.errors import ConfigError, NotFoundError
from atomnb.store.repository import ExecutionStore, as_utc, utcnow
from atomnb.store.tables import api_tokens, console_sessions

__all__ = [
    "RESERVED_NAMES",
    "ROLES",
    "StoredToken",
    "TokenStore",
    "check_role",
    "check_token_name",
    "digest",
    "role_allows",
]

#: From the least to the most allowed.
ROLES = ("viewer", "operator", "admin")
#: Names the atom gives callers itself: the settings' token, and anyone on an atom without tokens.
RESERVED_NAMES = frozenset({"api_token", "local", "anonymous", "process-call"})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
_PREFIX = "atnb_"


def digest(secret: str) -> str:
    """The SHA-256 (hex) under which a token or session id is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def role_allows(role: str | None, needed: str) -> bool:
    """True when ``role`` is ``needed`` or above it."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}", hint=f"use one of {', '.join(ROLES)}")
    return role


def check_token_name(name: str) -> str:
    if not _NAME.fullmatch(name or ""):
        raise ConfigError(
            f"not a usable token name: {name[:100]!r}",
            hint="up to 100 letters, digits and . _ @ -, starting with a letter or digit",
        )
    if name in RESERVED_NAMES:
        raise ConfigError(f"the token name {name!r} is reserved by the atom")
    return name


@dataclass(frozen=True)
class StoredToken:
    """What may be shown of a token: its name, role and times, never the token or its hash."""

    id: str
    name: str
    role: str
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        def stamp(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "name": self.name,
            "role": self.role,
            "created_at": stamp(self.created_at),
            "created_by": self.created_by,
            "last_used_at": stamp(self.last_used_at),
            "revoked_at": stamp(self.revoked_at),
        }


_COLUMNS = (
    api_tokens.c.id,
    api_tokens.c.name,
    api_tokens.c.role,
    api_tokens.c.created_at,
    api_tokens.c.created_by,
    api_tokens.c.last_used_at,
    api_tokens.c.revoked_at,
)


class TokenStore:
    """Rows of ``api_tokens`` and ``console_sessions`` behind a few functions."""

    def __init__(self, store: ExecutionStore) -> None:
        self.engine = store.engine

    # -- tokens ----------------------------------------------------------------------------

    def create(
        self, name: str, role: str, *, created_by: str | None = None
    ) -> tuple[StoredToken, str]:
        """A new token ``name`` with ``role``; returns its row and the token (shown once)."""
        check_token_name(name)
        check_role(role)
        token = _PREFIX + secrets.token_urlsafe(32)
        row = {
            "id": secrets.token_hex(16),
            "name": name,
            "role": role,
            "token_hash": digest(token),
            "created_at": utcnow(),
            "created_by": (created_by or None) and str(created_by)[:100],
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(api_tokens.insert().values(**row))
        except IntegrityError:
            raise ConfigError(
                f"a token named {name!r} exists already",
                hint="pick another name, or revoke the old one (names are not reused)",
            ) from None
        found = self.get(name)
        assert found is not None
        return found, token

    def all(self) -> list[StoredToken]:
        """Every token, revoked ones too, by name."""
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(*_COLUMNS).order_by(api_tokens.c.name)).mappings()
            return [_token(row) for row in rows]

    def get(self, name: str) -> StoredToken | None:
        with self.engine.connect() as connection:
            row = (
                connection.execute(sa.select(*_COLUMNS).where(api_tokens.c.name == name))
                .mappings()
                .first()
            )
        return _token(row) if row is not None else None

    def revoke(self, name: str) -> StoredToken:
        """Revoke ``name`` (and end its console sessions); revoking twice is no error."""
        with self.engine.begin() as connection:
            row = connection.execute(
                sa.select(api_tokens.c.id, api_tokens.c.revoked_at).where(api_tokens.c.name == name)
            ).first()
            if row is None:
                raise NotFoundError(f"no token named {name!r}", hint="see: atomnb tokens list")
            if row.revoked_at is None:
                connection.execute(
                    api_tokens.update().where(api_tokens.c.id == row.id).values(revoked_at=utcnow())
                )
            connection.execute(
                console_sessions.delete().where(console_sessions.c.token_id == row.id)
            )
        found = self.get(name)
        assert found is not None
        return found

    def configured(self) -> bool:
        """True once any token was made: then every request needs one (revoked ones count)."""
        with self.engine.connect() as connection:
            return connection.execute(sa.select(api_tokens.c.id).limit(1)).first() is not None

    def by_token(self, token: str) -> StoredToken | None:
        """The live (not revoked) token whose hash is that of ``token``."""
        with self.engine.connect() as connection:
            row = (
                connection.execute(
                    sa.select(*_COLUMNS).where(
                        api_tokens.c.token_hash == digest(token), api_tokens.c.revoked_at.is_(None)
                    )
                )
                .mappings()
                .first()
            )
        return _token(row) if row is not None else None

    def touch(self, token_id: str, when: datetime | None = None) -> None:
        """Note that the token was used (the guard calls it at most once a minute per token)."""
        with self.engine.begin() as connection:
            connection.execute(
                api_tokens.update()
                .where(api_tokens.c.id == token_id)
                .values(last_used_at=when or utcnow())
            )

    # -- console sessions ------------------------------------------------------------------

    def open_session(self, token_id: str, *, hours: float, source: str | None) -> str:
        """A new session for ``token_id``: its id (the cookie's value; stored hashed)."""
        session = secrets.token_urlsafe(32)
        now = utcnow()
        with self.engine.begin() as connection:
            connection.execute(
                console_sessions.delete().where(console_sessions.c.expires_at < now)
            )  # sweep the expired ones while here
            connection.execute(
                console_sessions.insert().values(
                    session_hash=digest(session),
                    token_id=token_id,
                    created_at=now,
                    expires_at=now + timedelta(hours=hours),
                    source=(source or "")[:200] or None,
                )
            )
        return session

    def by_session(self, session: str) -> StoredToken | None:
        """The live token of an unexpired session, or None."""
        query = (
            sa.select(*_COLUMNS)
            .join(console_sessions, console_sessions.c.token_id == api_tokens.c.id)
            .where(
                console_sessions.c.session_hash == digest(session),
                console_sessions.c.expires_at > utcnow(),
                api_tokens.c.revoked_at.is_(None),
            )
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _token(row) if row is not None else None

    def session_owner(self, session: str) -> str | None:
        """The token id an unexpired session belongs to (revoked or not), or None."""
        query = sa.select(console_sessions.c.token_id).where(
            console_sessions.c.session_hash == digest(session),
            console_sessions.c.expires_at > utcnow(),
        )
        with self.engine.connect() as connection:
            owner = connection.execute(query).scalar_one_or_none()
        return None if owner is None else str(owner)

    def close_session(self, session: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                console_sessions.delete().where(console_sessions.c.session_hash == digest(session))
            )


def _token(row: sa.RowMapping) -> StoredToken:
    created = as_utc(row["created_at"])
    assert created is not None
    return StoredToken(
        id=str(row["id"]),
        name=str(row["name"]),
        role=str(row["role"]),
        created_at=created,
        created_by=row["created_by"],
        last_used_at=as_utc(row["last_used_at"]),
        revoked_at=as_utc(row["revoked_at"]),
    )
