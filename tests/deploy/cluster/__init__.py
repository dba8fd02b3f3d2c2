"""Tests on the production topology: the real Temporal server on PostgreSQL, several workers (issue 15)."""
