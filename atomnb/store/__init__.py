"""Layer 7, store: execution records in SQL (SQLAlchemy Core, Alembic migrations).

Owns the record model (statuses as StrEnum with CHECK constraints), the table
definitions, the versioned schema and the repository functions. SQLite by
default; any SQLAlchemy URL (PostgreSQL for a molecule).
"""

from atomnb.store.models import ExecutionRecord, ExecutionStatus, Trigger
from atomnb.store.repository import ExecutionStore, new_execution_id, utcnow

__all__ = [
    "ExecutionRecord",
    "ExecutionStatus",
    "ExecutionStore",
    "Trigger",
    "new_execution_id",
    "utcnow",
]
