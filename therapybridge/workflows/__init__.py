"""Temporal workflows (deterministic orchestration only)."""

from therapybridge.workflows.purge import PurgeWorkflow
from therapybridge.workflows.renotes import RenotesWorkflow
from therapybridge.workflows.session import SessionWorkflow

__all__ = ["PurgeWorkflow", "RenotesWorkflow", "SessionWorkflow"]
