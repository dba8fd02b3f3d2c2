"""Gateway needs: one session per (therapist, Idempotency-Key), a newest-first listing index, and the
duration as a column so lists never load the whole document.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("duration_seconds", sa.Float(), nullable=True))
    # NULL keys never collide (uploads without the header), in Postgres and SQLite alike.
    op.create_index("uq_sessions_therapist_idempotency", "sessions", ["therapist_id", "idempotency_key"], unique=True)
    op.create_index("ix_sessions_therapist_created", "sessions", ["therapist_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_sessions_therapist_created", table_name="sessions")
    op.drop_index("uq_sessions_therapist_idempotency", table_name="sessions")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("duration_seconds")
