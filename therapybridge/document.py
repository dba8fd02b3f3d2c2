"""The session document: the contract `GET /api/sessions/{id}` and `process --json` produce.

Fields may be added; none of the contract's fields may be renamed or dropped (see
docs/ARCHITECTURE.md, section 5). All times are seconds in the original upload's timeline.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Status = Literal[
    "uploading",
    "queued",
    "preprocessing",
    "transcribing",
    "diarizing",
    "merging",
    "extracting_notes",
    "saving",
    "processed",
    "failed",
    "cancelled",
]
FINAL_STATUSES: frozenset[str] = frozenset({"processed", "failed", "cancelled"})
Role = Literal["therapist", "client"]
RiskType = Literal["suicidal_ideation", "self_harm", "harm_to_others", "substance_use", "abuse_or_neglect"]
Severity = Literal["low", "moderate", "high"]
UNKNOWN_SPEAKER = "Unknown"


class Word(BaseModel):
    start: float
    end: float
    word: str
    speaker: str = UNKNOWN_SPEAKER
    probability: float = 1.0


class Segment(BaseModel):
    start: float
    end: float
    speaker: str = UNKNOWN_SPEAKER
    role: Role | None = None
    text: str
    words: list[Word] = Field(default_factory=list)
    # Added (additive), issue 17: the counselling-skill label (AnnoMI's): for a therapist segment reflection,
    # question, therapist_input or other; for a client segment change, neutral or sustain. None when the
    # segment has no role or the labelling model is not installed.
    behaviour: str | None = None


class SpeakerTurn(BaseModel):
    start: float
    end: float
    speaker: str


class Speaker(BaseModel):
    label: str
    role: Role | None = None
    talk_seconds: float = 0.0
    name: str | None = None  # a display name the clinician may set; never logged


class Evidence(BaseModel):
    """Where a note item comes from: a verbatim stretch of the transcript and who said it."""

    start: float
    end: float
    speaker: str
    quote: str


class Strategy(BaseModel):
    name: str
    category: str
    status: Literal["introduced", "practiced", "reviewed"] = "introduced"
    context: str = ""
    # Added (additive): the kind of intervention (bench/gold/README.md's table) and what shows it was used.
    key: str = ""
    evidence: list[Evidence] = Field(default_factory=list)


class ActionItem(BaseModel):
    task: str
    category: str  # homework, referral, safety, follow-up
    details: str = ""
    evidence: list[Evidence] = Field(default_factory=list)  # added (additive)


class GroundedText(BaseModel):
    """A free-text note item (a topic, a session goal) with the transcript passages that support it."""

    text: str
    evidence: list[Evidence] = Field(default_factory=list)


class RiskFlag(BaseModel):
    type: RiskType
    severity: Severity
    quote: str
    start: float
    end: float
    speaker: str
    rationale: str = ""
    source: Literal["local", "llm"] = "local"


class Denial(BaseModel):
    type: RiskType
    quote: str
    start: float
    end: float
    speaker: str
    rationale: str = ""  # e.g. "client denies", "answered no to a direct question"


class ExtractedNotes(BaseModel):
    key_topics: list[str] = Field(default_factory=list)
    patient_mood: str = ""
    strategies: list[Strategy] = Field(default_factory=list)
    action_items: list[ActionItem] = Field(default_factory=list)
    risk_flags: list[RiskFlag] = Field(default_factory=list)
    documented_denials: list[Denial] = Field(default_factory=list)
    therapist_notes: str = ""
    patient_summary: str = ""
    analytics: dict[str, float | int | None] = Field(default_factory=dict)
    provider: str = "local"
    provider_message: str | None = None
    # Added (additive): what the session worked towards and how the client responded, for GIRP/BIRP.
    session_goals: list[str] = Field(default_factory=list)
    client_response: str = ""
    # Added (additive), issue 11: every topic, mood statement and goal with its evidence, in the same
    # order as key_topics / session_goals; the client summary is a draft until a clinician approves it.
    topic_evidence: list[GroundedText] = Field(default_factory=list)
    mood_evidence: list[Evidence] = Field(default_factory=list)
    session_goal_evidence: list[GroundedText] = Field(default_factory=list)
    patient_summary_status: Literal["draft", "approved"] = "draft"


class ModelRef(BaseModel):
    name: str
    version: str = ""  # a package version, a weights hash, or both


class ModelsUsed(BaseModel):
    """Which models produced the document (added field): a clinical record says what wrote it.
    A stage that did not run (a failed session, diarization unavailable) leaves its entry empty."""

    asr: ModelRef | None = None
    vad: ModelRef | None = None
    diarizer: ModelRef | None = None
    notes: ModelRef | None = None


class QualityWarning(BaseModel):
    """Why the roles or notes of a session may not be trusted (added, issue 16; domain/quality.py)."""

    code: Literal["speakers", "little_speech", "low_asr_confidence"]
    message: str


class SessionDocument(BaseModel):
    id: str
    patient_id: str | None = None
    therapist_id: str | None = None
    status: Status = "queued"
    progress: int = 0
    error: str | None = None
    audio_filename: str = ""
    duration_seconds: float | None = None
    language: str | None = None
    diarization: Literal["ok", "unavailable", "pending"] = "pending"
    speakers: list[Speaker] = Field(default_factory=list)
    speaker_turns: list[SpeakerTurn] = Field(default_factory=list)
    transcript_segments: list[Segment] = Field(default_factory=list)
    transcript_text: str = ""
    extracted_notes: ExtractedNotes | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    processed_at: datetime | None = None
    created_at: datetime | None = None
    session_date: str | None = None
    models: ModelsUsed = Field(default_factory=ModelsUsed)
    # Added (issue 16): non-empty when the recording does not look like a two-person session the roles
    # and notes can stand on (speaker count, little speech, low ASR confidence); the page then shows
    # these instead of the clinical prose. Documents saved before this field have none.
    quality_warnings: list[QualityWarning] = Field(default_factory=list)
    # Added (issue 16): whether the recording is kept for playback (the upload's choice, else the clinic's
    # RETAIN_AUDIO); null in documents saved before this field and while processing.
    audio_retained: bool | None = None
