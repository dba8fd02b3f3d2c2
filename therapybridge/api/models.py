"""Request and response bodies of the gateway (the session document itself is therapybridge.document)."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from therapybridge.document import Status
from therapybridge.domain.note_formats import Format


class Message(BaseModel):
    detail: str


class Token(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=4096)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    email: str
    role: str


class PatientCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    date_of_birth: date | None = None
    external_id: str | None = Field(default=None, max_length=100)


class PatientUpdate(BaseModel):
    """The fields to change; those left out stay as they are (null clears an optional one)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    date_of_birth: date | None = None
    external_id: str | None = Field(default=None, max_length=100)

    @field_validator("name")
    @classmethod
    def _name_not_null(cls, v: str | None) -> str:
        if v is None:  # only an explicit null gets here (defaults are not validated)
            raise ValueError("a patient needs a name")
        return v


class PatientPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    therapist_id: str
    name: str
    date_of_birth: str | None = None
    external_id: str | None = None
    created_at: datetime


class PatientList(BaseModel):
    data: list[PatientPublic]
    count: int


class SessionSummary(BaseModel):
    """A session in a list: the document's headline fields, without transcript or notes."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    patient_id: str | None
    therapist_id: str | None
    status: Status
    progress: int
    error: str | None
    audio_filename: str
    duration_seconds: float | None
    session_date: str | None
    created_at: datetime
    updated_at: datetime
    processed_at: datetime | None
    # Sign-off (issue 17): `unsigned` while the current note is a draft, `signed` once signed; null
    # without notes. open_flags: risk flags nobody has acknowledged or dismissed yet.
    note_status: Literal["unsigned", "signed"] | None = None
    open_flags: int | None = None


class SessionList(BaseModel):
    data: list[SessionSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last.")


class CheckResult(BaseModel):
    ok: bool
    detail: str | None = None


class BreakerReport(BaseModel):
    state: Literal["closed", "open", "half_open"]
    failures: int
    retry_after_s: int
    last_error: str | None = None  # an error type, never a message


class StallReport(BaseModel):
    """Work waiting for one kind of worker (therapybridge.domain.stalls); counts only, no session ids."""

    sessions: int = Field(description="Sessions whose work waits for this kind of worker.")
    waiting_s: float = Field(description="How long the oldest of them has waited.")
    since: str = Field(description="When the oldest started waiting (ISO 8601, UTC).")


class StallsCheck(BaseModel):
    ok: bool
    threshold_s: float = Field(description="STALL_AFTER_S: waiting longer than this, with no progress, is a stall.")
    checked_at: str | None = Field(description="The gateway's last look at the running sessions (null: none yet).")
    workers: dict[str, StallReport] = Field(
        default_factory=dict, description="By kind of worker: `transcription` (gpu queue), `processing` (io queue)."
    )


class HealthReport(BaseModel):
    status: Literal["ok", "unavailable"]
    database: CheckResult
    temporal: CheckResult
    task_queues: dict[str, CheckResult]
    # A frozen worker still polls (SIGSTOP keeps its connections open): stalls are what shows it.
    stalls: StallsCheck | None = None
    # Provider circuit breakers (therapybridge.breaker): informational, they do not make the gateway
    # unhealthy; while one is open uploads answer 503 with Retry-After.
    breakers: dict[str, BreakerReport] = Field(default_factory=dict)


# --------------------------------------------------------------------------- sign-off (routes/signoff.py)

MAX_TEXT = 100_000  # a note, not a book
MAX_REASON = 2_000


def _clean(value: str, *, multiline: bool) -> str:
    allowed = {"\n", "\t", "\r"} if multiline else set()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") and ch not in allowed for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _reason(value: str) -> str:
    value = _clean(value, multiline=True).strip()
    if not value:
        raise ValueError("a reason is required")
    return value


# Why a signed note is amended or a risk flag decided: required, and not only blanks.
Reason = Annotated[str, Field(min_length=1, max_length=MAX_REASON), AfterValidator(_reason)]


class VersionPublic(BaseModel):
    kind: Literal["note", "summary"]
    version: int
    status: Literal["draft", "signed", "approved", "superseded"]
    format: Format | None = None
    text: str
    source: Literal["engine", "clinician", "amendment", "reprocess"]
    based_on: int | None = None
    reason: str | None = None
    created_by: str | None = None
    created_by_email: str | None = None
    created_at: float
    signed_by: str | None = None
    signed_by_email: str | None = None
    signed_at: float | None = None
    diff: str | None = Field(default=None, description="Unified diff from the version it is based on (version lists).")


class KindState(BaseModel):
    current: VersionPublic | None = Field(description="The newest version: the one to edit, sign or approve.")
    final: VersionPublic | None = Field(description="The newest signed note / approved summary, if any.")
    versions: int


class FlagState(BaseModel):
    id: str
    type: str
    severity: str
    quote: str
    start: float
    end: float
    speaker: str
    source: str
    rationale: str = ""
    status: Literal["open", "acknowledged", "dismissed"]
    reason: str | None = None
    reviewed_by: str | None = None
    reviewed_by_email: str | None = None
    reviewed_at: float | None = None


class SignoffState(BaseModel):
    session_id: str
    note_status: Literal["unsigned", "signed"] | None
    open_flags: int
    note: KindState
    summary: KindState
    flags: list[FlagState]
    summary_exportable: bool


class NoteDraft(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    format: Format | None = Field(default=None, description="Default: the current version's format.")
    base_version: int | None = Field(description="The version this edit starts from (null: there is none yet).")

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        return _clean(v, multiline=True)


class SummaryDraft(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    base_version: int | None

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        return _clean(v, multiline=True)


class Finalise(BaseModel):
    version: int = Field(description="The version being signed / approved: the current one.")


class Amendment(BaseModel):
    reason: Reason
    text: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT, description="Default: the signed text.")
    format: Format | None = None

    @field_validator("text")
    @classmethod
    def _text(cls, v: str | None) -> str | None:
        return None if v is None else _clean(v, multiline=True)


class FlagDecision(BaseModel):
    decision: Literal["acknowledged", "dismissed"]
    reason: Reason


class HistoryEntry(BaseModel):
    at: float
    user_id: str
    user_email: str | None
    action: str
    ref: str | None
    detail: str | None = None
    diff: str | None = None
