"""Sign-off (issue 17): versioned clinical notes and client summaries, flag reviews, the sign-off
state on the session row for the list, and a reference on audit events to what an action changed.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "note_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("format", sa.String(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("origin_run", sa.String(), nullable=True),
        sa.Column("created_by", sa.String(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("signed_by", sa.String(), nullable=True),
        sa.Column("signed_at", sa.Float(), nullable=True),
    )
    op.create_index("ix_note_versions_session_id", "note_versions", ["session_id"])
    op.create_index(
        "uq_note_versions_session_kind_version", "note_versions", ["session_id", "kind", "version"], unique=True
    )
    op.create_table(
        "flag_reviews",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("flag_id", sa.String(), nullable=False),
        sa.Column("decision", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
    )
    op.create_index("ix_flag_reviews_session_id", "flag_reviews", ["session_id"])
    with op.batch_alter_table("sessions") as batch:  # batch: SQLite cannot alter tables in place
        batch.add_column(sa.Column("note_status", sa.String(), nullable=True))
        batch.add_column(sa.Column("open_flags", sa.Integer(), nullable=True))
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("ref", sa.String(), nullable=True))
    _backfill()


def _backfill() -> None:
    """Sessions processed before sign-off existed: nothing of theirs is signed, every flag is open."""
    sessions = sa.table(
        "sessions",
        sa.column("id", sa.String()),
        sa.column("status", sa.String()),
        sa.column("document", sa.JSON()),
        sa.column("note_status", sa.String()),
        sa.column("open_flags", sa.Integer()),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(sessions.c.id, sessions.c.document).where(sessions.c.status == "processed"))
    for sid, document in rows.fetchall():
        notes = (document or {}).get("extracted_notes")
        if not notes:
            continue
        conn.execute(
            sessions.update()
            .where(sessions.c.id == sid)
            .values(note_status="unsigned", open_flags=len(notes.get("risk_flags") or []))
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("ref")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("open_flags")
        batch.drop_column("note_status")
    op.drop_index("ix_flag_reviews_session_id", table_name="flag_reviews")
    op.drop_table("flag_reviews")
    op.drop_index("uq_note_versions_session_kind_version", table_name="note_versions")
    op.drop_index("ix_note_versions_session_id", table_name="note_versions")
    op.drop_table("note_versions")
