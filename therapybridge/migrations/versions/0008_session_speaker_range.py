"""The upload's speaker-count range and session type on the session row, so a retry runs with the
same hints as the upload (0005 kept only num_speakers).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:  # batch: SQLite cannot alter tables in place
        batch.add_column(sa.Column("min_speakers", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("max_speakers", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("session_type", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("session_type")
        batch.drop_column("max_speakers")
        batch.drop_column("min_speakers")
