"""Tombstones of deleted sessions, so a late activity cannot re-create what a user deleted.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deleted_sessions",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("deleted_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deleted_sessions")
