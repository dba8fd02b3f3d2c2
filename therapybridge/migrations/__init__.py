"""Alembic migrations: `therapybridge db upgrade` (or `db.init_db()`) brings a database to head."""
