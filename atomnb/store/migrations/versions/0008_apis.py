"""Store schema 8 (published APIs): named API keys, stored hashed, per API component.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Filled in by the API components work (issue 15)."""


def downgrade() -> None:
    """Filled in by the API components work (issue 15)."""
