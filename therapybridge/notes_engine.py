"""The one place that picks the notes engine: the local extractor, or an OpenAI-compatible model.

`notes_config(settings)` reads NOTES_PROVIDER and the LLM settings into a small frozen `NotesConfig`
(the same shape as speech/asr/factory.py and speech/diarization/factory.py); the notes activity and
`therapybridge notes` call `extract_labelled` (behaviour labels, then `extract`) with it,
`bench.notes_real` calls `extract`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from therapybridge.behaviour_labels import label_segments
from therapybridge.document import ExtractedNotes, Segment, Speaker
from therapybridge.domain.notes import extract_notes
from therapybridge.messages import ModelInfo
from therapybridge.settings import Settings
from therapybridge.speech.models import notes_model_info

Provider = Literal["local", "openai"]


@dataclass(frozen=True)
class LlmNotesConfig:
    """The OpenAI-compatible chat model (the OPENAI_* settings, whose defaults live in settings.py)."""

    model: str
    base_url: str | None  # None: api.openai.com
    response_format: str
    max_chunk_chars: int
    max_tokens: int
    timeout_s: float
    api_key: str = field(default="", repr=False)  # never in a log line or traceback


@dataclass(frozen=True)
class NotesConfig:
    provider: Provider = "local"
    llm: LlmNotesConfig | None = None  # set when provider is "openai"


def notes_config(s: Settings, provider: Provider | None = None) -> NotesConfig:
    """NOTES_PROVIDER (or `provider`, e.g. the CLI's --provider) and, for an LLM, its settings."""
    chosen = provider or s.notes_provider
    if chosen != "openai":
        return NotesConfig("local")
    llm = LlmNotesConfig(
        model=s.openai_model,
        api_key=s.openai_api_key,
        base_url=s.openai_base_url or None,
        response_format=s.openai_response_format,
        max_chunk_chars=s.openai_max_chunk_chars,
        max_tokens=s.openai_max_tokens,
        timeout_s=s.openai_notes_timeout_s,
    )
    return NotesConfig("openai", llm)


def model_info(cfg: NotesConfig, provider: str) -> ModelInfo:
    """The notes' author for the session document: `provider` is the one that wrote them (an LLM
    failure falls back to the local extractor)."""
    return notes_model_info(provider, cfg.llm.model if cfg.llm else "")


async def extract(
    segments: list[Segment],
    speakers: list[Speaker],
    cfg: NotesConfig,
    run_local: Callable[..., Awaitable[Any]] = asyncio.to_thread,
) -> ExtractedNotes:
    """Notes for a transcript. The LLM path never raises (it falls back to the local notes and says why
    in provider_message), and risk detection always runs locally. Segments that carry `behaviour`
    labels get the counselling-skill metrics in the analytics; without them, only the rule-based
    question counts (extract_labelled labels them first)."""
    if cfg.provider == "openai" and cfg.llm is not None:
        from therapybridge.notes_llm import extract_notes_llm

        llm = cfg.llm
        return await extract_notes_llm(
            segments,
            speakers,
            api_key=llm.api_key,
            base_url=llm.base_url,
            model=llm.model,
            response_format=llm.response_format,
            max_chunk_chars=llm.max_chunk_chars,
            max_tokens=llm.max_tokens,
            timeout_s=llm.timeout_s,
        )
    return await run_local(extract_notes, segments, speakers)


async def extract_labelled(
    segments: list[Segment],
    speakers: list[Speaker],
    cfg: NotesConfig,
    run_local: Callable[..., Awaitable[Any]] = asyncio.to_thread,
) -> tuple[ExtractedNotes, list[Segment]]:
    """What the notes activity and `therapybridge notes` run (issue 17): each segment's counselling-skill
    `behaviour` (local model, whatever the provider), then the notes, whose analytics count those labels.
    Returns the labelled segments too, for the document's transcript_segments."""
    labelled = await run_local(label_segments, segments, speakers)
    return await extract(labelled, speakers, cfg, run_local), labelled
