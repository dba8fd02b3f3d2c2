"""The session workflow's custom search attributes: what an operator filters on in the Temporal UI
(docs/operations.md, "Find a stuck session").

The server indexes these values in plain text (the payload codec cannot apply to them), so they hold
only the words below: a stage and a status, never a name, file name or any text of the session.
Every place that starts or sets up a Temporal server registers them from here (the dev server flags,
docker/temporal-setup.sh's default list, the io worker's idempotent check at start).
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

SESSION_STAGE = SearchAttributeKey.for_keyword("SessionStage")
SESSION_STATUS = SearchAttributeKey.for_keyword("SessionStatus")
KEYS = (SESSION_STAGE, SESSION_STATUS)
TYPE = "Keyword"  # both keys: exact-match words

# The workflow's `workflow.patched` id for publishing them: histories recorded before it replay without.
PATCH = "session-search-attributes"

# SessionStage: where the workflow is. A failed or cancelled session keeps the stage it stopped in.
VALIDATE, PREPROCESS, TRANSCRIBE, DIARIZE, MERGE, NOTES, SAVE, DONE = (
    "validate", "preprocess", "transcribe", "diarize", "merge", "notes", "save", "done",
)  # fmt: skip
STAGES = (VALIDATE, PREPROCESS, TRANSCRIBE, DIARIZE, MERGE, NOTES, SAVE, DONE)
# The session document's status (document.Status) while the workflow runs -> its stage.
STAGE_OF_STATUS = {
    "queued": VALIDATE,
    "preprocessing": PREPROCESS,
    "transcribing": TRANSCRIBE,
    "diarizing": DIARIZE,
    "merging": MERGE,
    "extracting_notes": NOTES,
    "saving": SAVE,
    "processed": DONE,
}

# SessionStatus: the session document's final statuses, and one word for everything before them.
PROCESSING, PROCESSED, FAILED, CANCELLED = "processing", "processed", "failed", "cancelled"
STATUSES = (PROCESSING, PROCESSED, FAILED, CANCELLED)


def status_of(document_status: str) -> str:
    """The SessionStatus for a session document status."""
    return document_status if document_status in (PROCESSED, FAILED, CANCELLED) else PROCESSING


def dev_server_args() -> list[str]:
    """`temporal server start-dev` flags that register the keys (idempotent on a kept database)."""
    return [arg for key in KEYS for arg in ("--search-attribute", f"{key.name}={TYPE}")]


def setup_script_list() -> str:
    """The keys as docker/temporal-setup.sh's TEMPORAL_SEARCH_ATTRIBUTES lists them."""
    return " ".join(f"{key.name}={TYPE}" for key in KEYS)
