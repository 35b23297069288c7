"""The atom's secrets in the store: a name, a Fernet token, and when it was set.

This layer never sees a value nor a key: the atom encrypts before ``put`` and
decrypts after ``token``, so a copy of the store (a backup, a shared PostgreSQL
database of a molecule) holds nothing readable without the atom's keys. Errors
from the database are reported without their statement parameters, since those
hold the token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from atomnb.errors import StoreError
from atomnb.store.repository import ExecutionStore, as_utc, utcnow
from atomnb.store.tables import secrets as secrets_table

__all__ = ["SecretStore", "StoredSecret"]


@dataclass(frozen=True)
class StoredSecret:
    """What may be shown of a secret: its name and times, never its value or token."""

    name: str
    created_at: datetime
    updated_at: datetime

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


class SecretStore:
    """Rows of the ``secrets`` table (store schema 6), behind a few functions."""

    def __init__(self, store: ExecutionStore) -> None:
        self.engine = store.engine

    def put(self, name: str, token: str) -> tuple[StoredSecret, bool]:
        """Store ``token`` under ``name``, replacing an older one; True when it is new."""
        now = utcnow()
        with self._transaction("store the secret") as connection:
            changed = connection.execute(
                secrets_table.update()
                .where(secrets_table.c.name == name)
                .values(ciphertext=token, updated_at=now)
            ).rowcount
            created = not changed
            if created:
                try:
                    with connection.begin_nested():
                        connection.execute(
                            secrets_table.insert().values(
                                name=name, ciphertext=token, created_at=now, updated_at=now
                            )
                        )
                except IntegrityError:  # another atom on the store created it meanwhile
                    created = False
                    connection.execute(
                        secrets_table.update()
                        .where(secrets_table.c.name == name)
                        .values(ciphertext=token, updated_at=now)
                    )
            row = self._row(connection, name)
        assert row is not None
        return row, created

    def token(self, name: str) -> str | None:
        """The Fernet token stored under ``name``, or None."""
        with self._connect("read the secret") as connection:
            value = connection.execute(
                sa.select(secrets_table.c.ciphertext).where(secrets_table.c.name == name)
            ).scalar_one_or_none()
        return None if value is None else str(value)

    def all(self) -> list[StoredSecret]:
        """Every secret's name and times, by name."""
        query = sa.select(
            secrets_table.c.name, secrets_table.c.created_at, secrets_table.c.updated_at
        ).order_by(secrets_table.c.name)
        with self._connect("list the secrets") as connection:
            rows = connection.execute(query).mappings().all()
        return [_stored(row) for row in rows]

    def get(self, name: str) -> StoredSecret | None:
        with self._connect("read the secret") as connection:
            return self._row(connection, name)

    def delete(self, name: str) -> bool:
        """Forget ``name``; False when there was no such secret."""
        with self._transaction("delete the secret") as connection:
            deleted = connection.execute(
                secrets_table.delete().where(secrets_table.c.name == name)
            ).rowcount
        return bool(deleted)

    def rewrite(self, change: Callable[[str, str], str]) -> list[str]:
        """Replace every token by ``change(name, token)`` in one transaction; the names.

        If ``change`` raises, nothing is written: a rotation is all or nothing.
        """
        with self._transaction("rewrite the secrets") as connection:
            rows = connection.execute(
                sa.select(secrets_table.c.name, secrets_table.c.ciphertext).order_by(
                    secrets_table.c.name
                )
            ).all()
            for name, token in rows:
                connection.execute(
                    secrets_table.update()
                    .where(secrets_table.c.name == name)
                    .values(ciphertext=change(name, token))
                )
        return [name for name, _ in rows]

    def _row(self, connection: Connection, name: str) -> StoredSecret | None:
        row = (
            connection.execute(
                sa.select(
                    secrets_table.c.name, secrets_table.c.created_at, secrets_table.c.updated_at
                ).where(secrets_table.c.name == name)
            )
            .mappings()
            .first()
        )
        return _stored(row) if row is not None else None

    @contextmanager
    def _transaction(self, what: str) -> Iterator[Connection]:
        try:
            with self.engine.begin() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise _store_error(what, exc) from None

    @contextmanager
    def _connect(self, what: str) -> Iterator[Connection]:
        try:
            with self.engine.connect() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise _store_error(what, exc) from None


def _stored(row: sa.RowMapping) -> StoredSecret:
    created, updated = as_utc(row["created_at"]), as_utc(row["updated_at"])
    assert created is not None and updated is not None
    return StoredSecret(str(row["name"]), created, updated)


def _store_error(what: str, exc: SQLAlchemyError) -> StoreError:
    """The database's own reason, without the statement and its parameters (the token)."""
    origin = getattr(exc, "orig", None)
    reason = str(origin).strip().splitlines()[0] if origin is not None else type(exc).__name__
    return StoreError(f"cannot {what}: {reason}")
