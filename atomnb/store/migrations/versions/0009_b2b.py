"""Store schema 9 (B2B): control numbers per partner and direction, interchanges seen (for
duplicate detection) and interchanges sent that await an acknowledgement.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Filled in by the B2B partners work (issue 16)."""


def downgrade() -> None:
    """Filled in by the B2B partners work (issue 16)."""
