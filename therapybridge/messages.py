"""What the workflow and its activities pass each other: small dataclasses and blob references.

Nothing here may carry audio or a transcript: Temporal history keeps every payload, so payloads stay
small (references into the blob store and counts) and hold no patient text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Activity names (workers register functions under these; the workflow calls them by name so that it
# never imports model code).
VALIDATE = "validate"
PREPROCESS = "preprocess"
TRANSCRIBE_WINDOW = "transcribe_window"
DIARIZE = "diarize"
MERGE = "merge"
NOTES = "notes"
SAVE = "save"
PURGE = "purge_expired_artifacts"
# Re-notes from a corrected transcript (issue 16): a small follow-up workflow on the io queue.
RENOTES_WORKFLOW = "RenotesWorkflow"
STAGE_EDITED = "stage_edited_transcript"
APPLY_RENOTES = "apply_renotes"

# Progress bands in percent (docs/ARCHITECTURE.md §4). The workflow moves between them; inside the long
# stages the gateway adds what the running activities report in their heartbeats. One home for both.
PREPROCESS_START, PARALLEL_START = 2, 25  # preprocessing fills 2..25
PARALLEL_END = 75  # transcription ‖ diarization fill 25..75
TRANSCRIBE_SHARE = 0.85  # of the parallel band: the windows; the diarization finishing is the rest
MERGE_START, NOTES_START, SAVE_START, DONE = PARALLEL_END, 80, 95, 100

# Error types (ApplicationError.type) that no retry can fix.
INVALID_AUDIO = "InvalidAudio"
NO_SPEECH = "NoSpeech"
PROVIDER_AUTH = "ProviderAuthError"
PROVIDER_BAD_REQUEST = "ProviderBadRequest"
PROVIDER_UNAVAILABLE = "ProviderUnavailable"  # retryable: 408/409/429/5xx, timeouts, no connection
CONFIGURATION = "ConfigurationError"
NON_RETRYABLE = [INVALID_AUDIO, NO_SPEECH, PROVIDER_AUTH, PROVIDER_BAD_REQUEST, CONFIGURATION]


@dataclass
class ModelInfo:
    """A model that worked on the session, for the document's `models` record (name and version or hash).

    Results carry it as an optional field with a default, so histories recorded before it replay."""

    name: str
    version: str = ""


@dataclass
class SessionInput:
    session_id: str
    upload_ref: str  # blob key of the original upload
    audio_filename: str  # the name shown to the user; stays out of logs and history text
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    patient_id: str | None = None
    therapist_id: str | None = None
    retain_audio: bool | None = None  # keep the recording (upload option); None: the clinic's RETAIN_AUDIO


@dataclass
class WorkflowConfig:
    """What the workflow takes from the settings, as its second argument (workflow code reads no env).

    Histories recorded when this was a plain dict decode into it: the keys are the field names."""

    io_task_queue: str = "therapybridge-io"
    gpu_task_queue: str = "therapybridge-gpu"
    retry_initial_s: float = 2.0
    retry_backoff: float = 2.0
    retry_max_interval_s: float = 60.0
    retry_max_attempts: int = 3
    heartbeat_timeout_s: float = 30.0


@dataclass
class ValidateResult:
    duration_seconds: float
    format_name: str


@dataclass
class PreprocessResult:
    audio_ref: str  # 16 kHz mono WAV
    vad_ref: str  # speech regions (JSON)
    duration_seconds: float
    speech_seconds: float
    windows: list[list[float]]  # [start, end] transcription windows cut at silences
    vad: ModelInfo | None = None  # the VAD model that found the speech regions


@dataclass
class WindowRequest:
    session_id: str
    audio_ref: str
    vad_ref: str
    index: int
    start: float
    end: float


@dataclass
class WindowResult:
    index: int
    ref: str  # blob with the window's segments and words
    words: int
    language: str
    seconds: float  # processing time
    model: ModelInfo | None = None  # the ASR model that transcribed the window


@dataclass
class DiarizeRequest:
    session_id: str
    audio_ref: str
    vad_ref: str
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    # (`therapist_id` was here and never read; histories that carry it still decode: unknown fields are ignored.)


@dataclass
class DiarizeResult:
    ref: str  # blob with speaker turns
    num_speakers: int
    seconds: float
    model: ModelInfo | None = None  # the diarizer


@dataclass
class MergeRequest:
    session_id: str
    window_refs: list[str]
    diarization_ref: str | None  # None: diarization unavailable
    therapist_id: str | None = None


@dataclass
class MergeResult:
    ref: str  # blob with the attributed transcript (segments, speakers, turns)
    segments: int
    speakers: int
    language: str


@dataclass
class NotesRequest:
    session_id: str
    merged_ref: str


@dataclass
class NotesResult:
    ref: str
    risk_flags: int
    provider: str
    model: ModelInfo | None = None  # what wrote the notes (the local extractor or the LLM)


@dataclass
class SaveRequest:
    session: SessionInput
    status: str
    merged_ref: str | None = None
    notes_ref: str | None = None
    duration_seconds: float | None = None
    diarization: str = "pending"
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    models: dict[str, ModelInfo] = field(default_factory=dict)  # asr, vad, diarizer, notes: those that ran


@dataclass
class Progress:
    session_id: str
    status: str
    progress: int
    message: str
    stage_timings: dict[str, float] = field(default_factory=dict)
    started_at: str | None = None
    updated_at: str | None = None
    estimated_time_remaining: float | None = None
    error: str | None = None
    windows_total: int = 0
    windows_done: int = 0
    # Measured by the workflow for the time-left estimate (domain/progress.py); a worker of an older
    # version leaves them empty and the page shows no countdown.
    transcribe_started_at: str | None = None
    audio_seconds_total: float = 0.0
    audio_seconds_done: float = 0.0


@dataclass
class RenotesInput:
    """Rebuild the notes of a session from transcript version `version` (db.TranscriptVersion)."""

    session_id: str
    version: int


@dataclass
class RenotesOutcome:
    session_id: str
    version: int
    ok: bool
    staged_ref: str = ""
