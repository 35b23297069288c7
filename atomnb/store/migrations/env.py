"""Alembic environment: runs the store's migrations on the connection atomnb hands in."""

from __future__ import annotations

from alembic import context

from atomnb.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
