"""Temporal workflows (deterministic orchestration only)."""

from therapybridge.workflows.session import SessionWorkflow

__all__ = ["SessionWorkflow"]
