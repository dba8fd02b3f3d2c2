"""The one place that picks the notes engine: the local extractor, or an OpenAI-compatible model.

The notes activity and `therapybridge notes` call `extract_labelled` (behaviour labels, then `extract`),
`bench.notes_real` calls `extract`, so the provider choice and its settings are read the same way
everywhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from therapybridge.behaviour_labels import label_segments
from therapybridge.document import ExtractedNotes, Segment, Speaker
from therapybridge.domain.notes import extract_notes
from therapybridge.settings import get_settings

Provider = Literal["local", "openai"]


async def extract(
    segments: list[Segment],
    speakers: list[Speaker],
    provider: Provider | None = None,
    run_local: Callable[..., Awaitable[Any]] = asyncio.to_thread,
) -> ExtractedNotes:
    """Notes for a transcript. `provider` defaults to NOTES_PROVIDER; the LLM path never raises (it falls
    back to the local notes and says why in provider_message), and risk detection always runs locally.
    Segments that carry `behaviour` labels get the counselling-skill metrics in the analytics; without
    them, only the rule-based question counts (extract_labelled labels them first)."""
    settings = get_settings()
    if (provider or settings.notes_provider) == "openai":
        from therapybridge.notes_llm import extract_notes_llm

        return await extract_notes_llm(
            segments,
            speakers,
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url or None,
            model=settings.openai_model,
            response_format=settings.openai_response_format,
            max_chunk_chars=settings.openai_max_chunk_chars,
            max_tokens=settings.openai_max_tokens,
            timeout_s=settings.openai_notes_timeout_s,
        )
    return await run_local(extract_notes, segments, speakers)


async def extract_labelled(
    segments: list[Segment],
    speakers: list[Speaker],
    provider: Provider | None = None,
    run_local: Callable[..., Awaitable[Any]] = asyncio.to_thread,
) -> tuple[ExtractedNotes, list[Segment]]:
    """What the notes activity and `therapybridge notes` run (issue 17): each segment's counselling-skill
    `behaviour` (local model, whatever the provider), then the notes, whose analytics count those labels.
    Returns the labelled segments too, for the document's transcript_segments."""
    labelled = await run_local(label_segments, segments, speakers)
    return await extract(labelled, speakers, provider, run_local), labelled
