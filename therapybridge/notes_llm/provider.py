"""Notes from an OpenAI-compatible chat model (OpenAI, Azure, vLLM, Ollama ...), with local fallback.

`extract_notes_llm` is what the notes activity calls when NOTES_PROVIDER=openai: it never raises. Any
failure (no key, 401/400, 429/503 after retries, timeout, malformed or schema-invalid JSON) returns
the local notes with `provider_message` saying why. Risk detection always runs locally: LLM risk
findings are only added (source="llm", and only when their quote is found in the client's speech),
never replace the local flags; denials and analytics stay local.

`extract_notes_llm_strict` raises `NotesProviderError(retryable=...)` instead, for a caller that
prefers Temporal's retry policy: 429, 5xx, timeouts and connection errors are retryable; 400, 401,
403, 404 and invalid output are not.

Long transcripts are cut into chunks at line boundaries (MAX_CHUNK_CHARS); each chunk gets its own
structured answer (JSON schema, strict) and the answers are merged deterministically. Only error
types and status codes are ever logged, never transcript text or notes.
"""

from __future__ import annotations

import asyncio
import logging

import openai

from therapybridge.document import ExtractedNotes, Segment, Speaker
from therapybridge.domain.notes import extract_notes
from therapybridge.notes_llm.chunks import MAX_CHUNK_CHARS, chunk_lines, merge_parts, transcript_lines
from therapybridge.notes_llm.client import Endpoint, NotesProviderError, ResponseFormat, ask_with_retry
from therapybridge.notes_llm.grounding import combine

log = logging.getLogger("therapybridge.notes_llm")  # one logger for the package, the name it had

DEFAULT_MODEL = "gpt-4o-mini"


async def extract_notes_llm_strict(
    segments: list[Segment],
    speakers: list[Speaker],
    *,
    api_key: str,
    base_url: str | None,
    model: str = DEFAULT_MODEL,
    **kwargs: float | int | str,
) -> ExtractedNotes:
    """LLM notes merged with the local risk flags; raises NotesProviderError on failure.

    kwargs: timeout_s (60), attempts (3), backoff_s (2, doubled per retry), max_backoff_s (60),
    max_chunk_chars (MAX_CHUNK_CHARS), response_format (auto | json_schema | json_object),
    max_tokens (0: the server's default).
    """
    local = await asyncio.to_thread(extract_notes, segments, speakers)  # CPU work off the event loop
    return await _with_llm(local, segments, api_key=api_key, base_url=base_url, model=model, **kwargs)  # type: ignore[arg-type]


async def _with_llm(
    local: ExtractedNotes,
    segments: list[Segment],
    *,
    api_key: str,
    base_url: str | None,
    model: str,
    timeout_s: float = 60.0,
    attempts: int = 3,
    backoff_s: float = 2.0,
    max_backoff_s: float = 60.0,
    max_chunk_chars: int = MAX_CHUNK_CHARS,
    response_format: ResponseFormat = "auto",
    max_tokens: int = 0,
) -> ExtractedNotes:
    if not api_key:
        raise NotesProviderError("no API key configured", retryable=False)
    chunks = chunk_lines(transcript_lines(segments), int(max_chunk_chars))
    if not chunks:
        return local.model_copy(update={"provider_message": "empty transcript: nothing to send"})
    client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url or None, timeout=timeout_s, max_retries=0)
    ep = Endpoint(client, model, str(client.base_url), response_format, int(max_tokens))
    try:
        parts = [
            await ask_with_retry(ep, c, i + 1, len(chunks), int(attempts), backoff_s, max_backoff_s)
            for i, c in enumerate(chunks)
        ]
    finally:
        await client.close()
    msg = f"notes by {model}" + (f" ({len(chunks)} parts merged)" if len(chunks) > 1 else "")
    return combine(local, merge_parts(parts), segments, "openai", msg)


async def extract_notes_llm(
    segments: list[Segment],
    speakers: list[Speaker],
    *,
    api_key: str,
    base_url: str | None,
    model: str = DEFAULT_MODEL,
    **kwargs: float | int | str,
) -> ExtractedNotes:
    """LLM notes, or the local notes with `provider_message` explaining why the LLM was not used."""
    local = await asyncio.to_thread(extract_notes, segments, speakers)
    try:
        return await _with_llm(local, segments, api_key=api_key, base_url=base_url, model=model, **kwargs)  # type: ignore[arg-type]
    except NotesProviderError as err:
        reason = err.reason
    except Exception as exc:  # the contract: any failure falls back to local notes
        reason = f"unexpected error ({type(exc).__name__})"
    log.warning("LLM notes unavailable (%s); using the local extractor", reason)
    return local.model_copy(update={"provider_message": f"LLM notes unavailable: {reason}; local extractor used"})
