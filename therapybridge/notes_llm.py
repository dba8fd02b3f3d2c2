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
import difflib
import json
import logging
import re
from typing import Literal

import openai
from pydantic import BaseModel, ConfigDict, ValidationError

from therapybridge.document import (
    ActionItem,
    ExtractedNotes,
    RiskFlag,
    RiskType,
    Segment,
    Severity,
    Speaker,
    Strategy,
)
from therapybridge.domain.clock import clock
from therapybridge.domain.notes import extract_notes
from therapybridge.domain.risk import Sentence, may_be_client, split_sentences

log = logging.getLogger(__name__)

DEFAULT_MODEL = "gpt-4o-mini"
MAX_CHUNK_CHARS = 24_000  # about 6k tokens of transcript per request
QUOTE_MATCH = 0.85  # an LLM quote must match a client sentence this well (difflib ratio on normalised words)


class NotesProviderError(Exception):
    """A failed provider call; `reason` is safe to show and log (no transcript text)."""

    def __init__(self, reason: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.status = status


# --- the structured answer ---------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LlmStrategy(_Strict):
    name: str
    category: str
    status: Literal["introduced", "practiced", "reviewed"]
    context: str


class LlmAction(_Strict):
    task: str
    category: Literal["homework", "referral", "safety", "follow-up"]
    details: str


class LlmRisk(_Strict):
    type: RiskType
    severity: Severity
    quote: str
    rationale: str


class LlmNotes(_Strict):
    key_topics: list[str]
    patient_mood: str
    strategies: list[LlmStrategy]
    action_items: list[LlmAction]
    risk_flags: list[LlmRisk]
    therapist_notes: str
    patient_summary: str


def _schema() -> dict[str, object]:
    """Strict JSON schema (every property required, no extras) for response_format."""

    def s(t: str) -> dict[str, str]:
        return {"type": t}

    strategy = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "category", "status", "context"],
        "properties": {
            "name": s("string"),
            "category": s("string"),
            "status": {"type": "string", "enum": ["introduced", "practiced", "reviewed"]},
            "context": s("string"),
        },
    }
    action = {
        "type": "object",
        "additionalProperties": False,
        "required": ["task", "category", "details"],
        "properties": {
            "task": s("string"),
            "category": {"type": "string", "enum": ["homework", "referral", "safety", "follow-up"]},
            "details": s("string"),
        },
    }
    risk = {
        "type": "object",
        "additionalProperties": False,
        "required": ["type", "severity", "quote", "rationale"],
        "properties": {
            "type": {
                "type": "string",
                "enum": ["suicidal_ideation", "self_harm", "harm_to_others", "substance_use", "abuse_or_neglect"],
            },
            "severity": {"type": "string", "enum": ["low", "moderate", "high"]},
            "quote": s("string"),
            "rationale": s("string"),
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(LlmNotes.model_fields),
        "properties": {
            "key_topics": {"type": "array", "items": s("string")},
            "patient_mood": s("string"),
            "strategies": {"type": "array", "items": strategy},
            "action_items": {"type": "array", "items": action},
            "risk_flags": {"type": "array", "items": risk},
            "therapist_notes": s("string"),
            "patient_summary": s("string"),
        },
    }


NOTES_SCHEMA = _schema()

SYSTEM_PROMPT = """You write clinical notes from a psychotherapy session transcript.
Lines look like "[mm:ss] Therapist: ..." or "[mm:ss] Client: ..." (or "Speaker N" when roles are unknown).
Return JSON that matches the schema:
- key_topics: 3-6 short noun phrases.
- patient_mood: a short description of the client's mood and affect, including change during the session.
- strategies: evidence-based techniques used (e.g. CBT thought records, behavioral activation, exposure,
  grounding, breathing, sleep hygiene, safety planning, I statements, mindfulness, DBT skills) with category and
  status: introduced (new today), practiced (earlier work rehearsed today) or reviewed (earlier work discussed).
- action_items: each agreed task once, category homework, referral, safety or follow-up, details when/how.
- risk_flags: only statements by the CLIENT (never the therapist's questions) that indicate suicidal ideation
  (passive counts), self-harm, harm to others (including stalking or revenge plans), risky substance use, or
  abuse or neglect. Denials ("No, I've never hurt myself") are NOT flags. Talk about other people is not the
  client's risk. quote must be the client's sentence copied exactly from the transcript.
- therapist_notes: a concise clinical note in the third person ("Client reported ...").
- patient_summary: for the client, second person, plain words, no jargon, warm; mention any safety plan gently.
If the transcript is one part of a longer session, describe only this part."""


# --- transcript → requests -----------------------------------------------------------------------------


def transcript_lines(segments: list[Segment]) -> list[str]:
    labels: dict[str, str] = {}
    out = []
    for s in sorted(segments, key=lambda x: x.start):
        who = s.role.capitalize() if s.role else labels.setdefault(s.speaker, f"Speaker {len(labels) + 1}")
        out.append(f"[{clock(s.start)}] {who}: {s.text.strip()}")
    return out


def chunk_lines(lines: list[str], max_chars: int = MAX_CHUNK_CHARS) -> list[str]:
    chunks: list[str] = []
    cur: list[str] = []
    size = 0
    for line in lines:
        if cur and size + len(line) + 1 > max_chars:
            chunks.append("\n".join(cur))
            cur, size = [], 0
        cur.append(line)
        size += len(line) + 1
    if cur:
        chunks.append("\n".join(cur))
    return chunks


def _classify(exc: Exception) -> NotesProviderError:
    if isinstance(exc, openai.APITimeoutError):
        return NotesProviderError("timed out", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        return NotesProviderError("could not connect", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        code = exc.status_code
        retryable = code == 429 or code == 408 or code >= 500
        label = {
            400: "bad request",
            401: "unauthorized",
            403: "forbidden",
            404: "model or endpoint not found",
            429: "rate limited",
            503: "service unavailable",
        }.get(code, "provider error")
        return NotesProviderError(f"{label} (HTTP {code})", retryable=retryable, status=code)
    return NotesProviderError(f"unexpected error ({type(exc).__name__})", retryable=False)


def _retry_after(exc: Exception) -> float | None:
    resp = getattr(exc, "response", None)
    value = resp.headers.get("retry-after") if resp is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


async def _ask(client: openai.AsyncOpenAI, model: str, chunk: str, part: int, parts: int) -> LlmNotes:
    header = f"Transcript part {part} of {parts}.\n" if parts > 1 else ""
    try:
        resp = await client.chat.completions.create(
            model=model,
            temperature=0,
            messages=[{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": header + chunk}],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "session_notes", "strict": True, "schema": NOTES_SCHEMA},
            },
        )
    except openai.OpenAIError as exc:
        raise _classify(exc) from exc
    try:
        content = resp.choices[0].message.content or ""
        return LlmNotes.model_validate(json.loads(content))
    except (IndexError, AttributeError, json.JSONDecodeError) as exc:
        raise NotesProviderError("malformed answer (not JSON)", retryable=False) from exc
    except ValidationError as exc:
        raise NotesProviderError(
            f"answer does not match the schema ({exc.error_count()} errors)", retryable=False
        ) from exc


async def _ask_with_retry(
    client: openai.AsyncOpenAI,
    model: str,
    chunk: str,
    part: int,
    parts: int,
    attempts: int,
    backoff_s: float,
    max_backoff_s: float,
) -> LlmNotes:
    delay = backoff_s
    for attempt in range(1, attempts + 1):
        try:
            return await _ask(client, model, chunk, part, parts)
        except NotesProviderError as err:
            if not err.retryable or attempt == attempts:
                if err.retryable:
                    err.reason += f" after {attempts} attempts"
                raise
            wait = _retry_after(err.__cause__) if err.__cause__ else None
            wait = min(max_backoff_s, wait if wait is not None else delay)
            log.warning("notes provider attempt %d failed: %s; retrying in %.1f s", attempt, err.reason, wait)
            await asyncio.sleep(wait)
            delay = min(max_backoff_s, delay * 2)
    raise AssertionError("unreachable")


# --- merging -----------------------------------------------------------------------------------------


def merge_parts(parts: list[LlmNotes]) -> LlmNotes:
    """One answer from the answers for each chunk: lists de-duplicated in order, texts joined."""
    if len(parts) == 1:
        return parts[0]
    topics = list(dict.fromkeys(t.strip() for p in parts for t in p.key_topics if t.strip()))[:8]
    moods = list(dict.fromkeys(p.patient_mood.strip() for p in parts if p.patient_mood.strip()))
    strategies: dict[str, LlmStrategy] = {}
    for p in parts:
        for s in p.strategies:
            strategies.setdefault(s.name.strip().lower(), s)  # the first mention decides the status
    actions: list[LlmAction] = []
    for p in parts:
        for a in p.action_items:
            if not any(
                _similar(" ".join(sorted(_words(a.task))), " ".join(sorted(_words(b.task)))) >= 0.9 for b in actions
            ):
                actions.append(a)
    return LlmNotes(
        key_topics=topics,
        patient_mood="; then ".join(moods[:1] + moods[-1:]) if len(moods) > 1 else "".join(moods),
        strategies=list(strategies.values()),
        action_items=actions,
        risk_flags=[r for p in parts for r in p.risk_flags],
        therapist_notes="\n\n".join(p.therapist_notes.strip() for p in parts if p.therapist_notes.strip()),
        patient_summary="\n\n".join(p.patient_summary.strip() for p in parts if p.patient_summary.strip()),
    )


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _locate(quote: str, candidates: list[Sentence]) -> Sentence | None:
    """The client sentence an LLM quote comes from; None when the model made it up.

    Standard library only (difflib), so the io worker needs no extra dependency.
    """
    q = " ".join(_words(quote))
    if len(q) < 8:
        return None
    best, score = None, 0.0
    for s in candidates:
        t = " ".join(_words(s.text))
        sc = 1.0 if q in t or (len(t) >= 8 and t in q) else _similar(q, t)
        if sc > score:
            best, score = s, sc
    return best if score >= QUOTE_MATCH else None


def add_llm_flags(local: list[RiskFlag], llm: list[LlmRisk], segments: list[Segment]) -> list[RiskFlag]:
    """Local flags plus LLM findings that quote client speech and are not already flagged locally."""
    client = [s for s in split_sentences(segments) if may_be_client(s)]
    out = list(local)
    for r in llm:
        s = _locate(r.quote, client)
        if s is None:
            continue
        if any(f.type == r.type and f.start <= s.end and s.start <= f.end for f in out):
            continue
        out.append(
            RiskFlag(
                type=r.type,
                severity=r.severity,
                quote=s.text,
                start=round(s.start, 2),
                end=round(s.end, 2),
                speaker=s.speaker,
                rationale=r.rationale,
                source="llm",
            )
        )
    return sorted(out, key=lambda f: (f.start, f.type))


def combine(
    local: ExtractedNotes, llm: LlmNotes, segments: list[Segment], provider: str, message: str
) -> ExtractedNotes:
    return local.model_copy(
        update={
            "key_topics": llm.key_topics or local.key_topics,
            "patient_mood": llm.patient_mood or local.patient_mood,
            "strategies": [Strategy(**s.model_dump()) for s in llm.strategies] or local.strategies,
            "action_items": [ActionItem(**a.model_dump()) for a in llm.action_items] or local.action_items,
            "risk_flags": add_llm_flags(local.risk_flags, llm.risk_flags, segments),
            "therapist_notes": llm.therapist_notes or local.therapist_notes,
            # The client summary stays the local one: it is built only from grounded items and speaks of
            # risk only for a high-confidence flag; a model's free text promises neither.
            "patient_summary": local.patient_summary,
            "provider": provider,
            "provider_message": message,
        }
    )


# --- public API ----------------------------------------------------------------------------------------


async def extract_notes_llm_strict(
    segments: list[Segment],
    speakers: list[Speaker],
    *,
    api_key: str,
    base_url: str | None,
    model: str = DEFAULT_MODEL,
    **kwargs: float | int,
) -> ExtractedNotes:
    """LLM notes merged with the local risk flags; raises NotesProviderError on failure.

    kwargs: timeout_s (60), attempts (3), backoff_s (2, doubled per retry), max_backoff_s (60),
    max_chunk_chars (MAX_CHUNK_CHARS).
    """
    local = await asyncio.to_thread(extract_notes, segments, speakers)  # CPU work off the event loop
    return await _with_llm(local, segments, api_key=api_key, base_url=base_url, model=model, **kwargs)


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
) -> ExtractedNotes:
    if not api_key:
        raise NotesProviderError("no API key configured", retryable=False)
    chunks = chunk_lines(transcript_lines(segments), int(max_chunk_chars))
    if not chunks:
        return local.model_copy(update={"provider_message": "empty transcript: nothing to send"})
    client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url or None, timeout=timeout_s, max_retries=0)
    try:
        parts = [
            await _ask_with_retry(client, model, c, i + 1, len(chunks), int(attempts), backoff_s, max_backoff_s)
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
    **kwargs: float | int,
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
