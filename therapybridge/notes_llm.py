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
from dataclasses import dataclass
from typing import Literal, TypeVar

import openai
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from therapybridge.document import (
    ActionItem,
    Evidence,
    ExtractedNotes,
    GroundedText,
    RiskFlag,
    RiskType,
    Segment,
    Severity,
    Speaker,
    Strategy,
)
from therapybridge.domain.clock import clock
from therapybridge.domain.notes import extract_notes
from therapybridge.domain.risk import may_be_client, split_sentences
from therapybridge.notes_quotes import QuoteTally, Transcript, evidence, words

log = logging.getLogger(__name__)

DEFAULT_MODEL = "gpt-4o-mini"
MAX_CHUNK_CHARS = 24_000  # about 6k tokens of transcript per request


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
    quotes: list[str] = []  # transcript sentences that show it; checked, never shown as the model wrote them


class LlmAction(_Strict):
    task: str
    category: Literal["homework", "referral", "safety", "follow-up"]
    details: str
    quotes: list[str] = []


class LlmTopic(_Strict):
    text: str
    quotes: list[str] = []


class LlmRisk(_Strict):
    type: RiskType
    severity: Severity
    quote: str
    rationale: str


class LlmNotes(_Strict):
    key_topics: list[LlmTopic]
    patient_mood: str
    strategies: list[LlmStrategy]
    action_items: list[LlmAction]
    risk_flags: list[LlmRisk]
    therapist_notes: str
    patient_summary: str
    mood_quotes: list[str] = []

    @field_validator("key_topics", mode="before")
    @classmethod
    def _plain_topics(cls, v: object) -> object:
        """A bare string is a topic without quotes (older prompts, lenient servers)."""
        return [{"text": t} if isinstance(t, str) else t for t in v] if isinstance(v, list) else v


def _obj(**props: dict[str, object]) -> dict[str, object]:
    """A strict object: every property required, no extras (what OpenAI's strict mode demands)."""
    return {"type": "object", "additionalProperties": False, "required": list(props), "properties": props}


def _str(*enum: str) -> dict[str, object]:
    return {"type": "string", "enum": list(enum)} if enum else {"type": "string"}


def _list(items: dict[str, object]) -> dict[str, object]:
    return {"type": "array", "items": items}


def _schema() -> dict[str, object]:
    """Strict JSON schema for response_format, in the field order the model should write."""
    quotes = _list(_str())
    return _obj(
        key_topics=_list(_obj(text=_str(), quotes=quotes)),
        patient_mood=_str(),
        mood_quotes=quotes,
        strategies=_list(
            _obj(
                name=_str(),
                category=_str(),
                status=_str("introduced", "practiced", "reviewed"),
                context=_str(),
                quotes=quotes,
            )
        ),
        action_items=_list(
            _obj(
                task=_str(), category=_str("homework", "referral", "safety", "follow-up"), details=_str(), quotes=quotes
            )
        ),
        risk_flags=_list(
            _obj(
                type=_str("suicidal_ideation", "self_harm", "harm_to_others", "substance_use", "abuse_or_neglect"),
                severity=_str("low", "moderate", "high"),
                quote=_str(),
                rationale=_str(),
            )
        ),
        therapist_notes=_str(),
        patient_summary=_str(),
    )


NOTES_SCHEMA = _schema()

# Grammar-constrained servers (llama.cpp) follow the schema token by token; a small model can repeat an
# array item or a phrase until max_tokens, or write nothing but empty lists. Bounds end such loops inside
# valid JSON, and at least one topic with one quote is required, so every answer can be checked against
# the transcript. Only in json_object mode: OpenAI's strict mode takes the strict subset above.
MAX_ITEMS = 3  # per list; gemma3-270m repeated one strategy until max_tokens when allowed 6
MAX_QUOTES = 2
MAX_TEXT_CHARS = 400


def _bounded(node: object, key: str, items: int, quotes: int, chars: int) -> object:
    if isinstance(node, dict):
        out = {k: _bounded(v, k, items, quotes, chars) for k, v in node.items()}
        if out.get("type") == "array":
            out["maxItems"] = quotes if key in ("quotes", "mood_quotes") else items
        elif out.get("type") == "string" and "enum" not in out:
            out["maxLength"] = chars
        return out
    return node


def bounded_schema(
    max_items: int = MAX_ITEMS, max_quotes: int = MAX_QUOTES, max_text_chars: int = MAX_TEXT_CHARS
) -> dict[str, object]:
    """NOTES_SCHEMA with the bounds above (smaller ones bound the answer's length in tokens)."""
    schema = _bounded(NOTES_SCHEMA, "", max_items, max_quotes, max_text_chars)
    topics = schema["properties"]["key_topics"]  # type: ignore[index]
    topics["minItems"] = 1
    topics["items"]["properties"]["quotes"]["minItems"] = 1
    return schema  # type: ignore[return-value]


BOUNDED_SCHEMA = bounded_schema()

SYSTEM_PROMPT = """You write clinical notes from a psychotherapy session transcript.
Lines look like "[mm:ss] Therapist: ..." or "[mm:ss] Client: ..." (or "Speaker N" when roles are unknown).
Return JSON that matches the schema:
- key_topics: 3-6 short noun phrases (text).
- patient_mood: a short description of the client's mood and affect, including change during the session.
- strategies: evidence-based techniques used (e.g. CBT thought records, behavioral activation, exposure,
  grounding, breathing, sleep hygiene, safety planning, I statements, mindfulness, DBT skills) with category and
  status: introduced (new today), practiced (earlier work rehearsed today) or reviewed (earlier work discussed).
- action_items: each agreed task once, category homework, referral, safety or follow-up, details when/how.
- risk_flags: only statements by the CLIENT (never the therapist's questions) that indicate suicidal ideation
  (passive counts), self-harm, harm to others (including stalking or revenge plans), risky substance use, or
  abuse or neglect. Denials ("No, I've never hurt myself") are NOT flags. Talk about other people is not the
  client's risk. quote must be the client's sentence copied exactly from the transcript.
- quotes and mood_quotes: one or two sentences copied word for word from the transcript that show the item,
  without the time or the speaker label. Quotes that are not in the transcript are discarded.
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


ResponseFormat = Literal["auto", "json_schema", "json_object"]
# auto mode: the endpoints (base URLs) found to refuse json_schema in this process. OpenAI and vLLM take
# {"type": "json_schema"}; llama-cpp-python's server refuses it and takes {"type": "json_object",
# "schema": ...} instead, so one refusal is enough to know.
_REFUSES_JSON_SCHEMA: set[str] = set()


def response_format(kind: Literal["json_schema", "json_object"]) -> dict[str, object]:
    if kind == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "session_notes", "strict": True, "schema": NOTES_SCHEMA}}
    return {"type": "json_object", "schema": BOUNDED_SCHEMA}


def _refuses_json_schema(err: NotesProviderError) -> bool:
    """An error that names response_format: the server does not know the json_schema type. Usually a
    400/422; llama-cpp-python 0.3 answers its own request validation error with a 500."""
    exc = err.__cause__
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422, 500):
        return False
    return "response_format" in f"{exc.message} {exc.body}"


@dataclass
class Endpoint:
    """One OpenAI-compatible endpoint and how to ask it."""

    client: openai.AsyncOpenAI
    model: str
    base_url: str
    format: ResponseFormat = "auto"
    max_tokens: int = 0  # 0: the server's default

    def kind(self) -> Literal["json_schema", "json_object"]:
        if self.format == "auto":
            return "json_object" if self.base_url in _REFUSES_JSON_SCHEMA else "json_schema"
        return self.format


async def _ask_once(
    ep: Endpoint, kind: Literal["json_schema", "json_object"], chunk: str, part: int, parts: int
) -> LlmNotes:
    header = f"Transcript part {part} of {parts}.\n" if parts > 1 else ""
    extra: dict[str, object] = {"max_tokens": ep.max_tokens} if ep.max_tokens > 0 else {}
    try:
        resp = await ep.client.chat.completions.create(
            model=ep.model,
            temperature=0,
            messages=[{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": header + chunk}],
            response_format=response_format(kind),  # type: ignore[arg-type]
            **extra,  # type: ignore[arg-type]
        )
    except openai.OpenAIError as exc:
        raise _classify(exc) from exc
    return _parse(resp)


def _parse(resp: object) -> LlmNotes:
    try:
        choice = resp.choices[0]  # type: ignore[attr-defined]
        content = choice.message.content or ""
        if choice.finish_reason == "length":
            raise NotesProviderError("answer cut off at max_tokens", retryable=False)
        # strict=False: a raw control character (a newline) inside a string, which llama.cpp's grammar lets
        # through, is harmless text, not a malformed answer
        return LlmNotes.model_validate(json.loads(content, strict=False))
    except (IndexError, AttributeError, json.JSONDecodeError) as exc:
        raise NotesProviderError("malformed answer (not JSON)", retryable=False) from exc
    except ValidationError as exc:
        raise NotesProviderError(
            f"answer does not match the schema ({exc.error_count()} errors)", retryable=False
        ) from exc


async def _ask(ep: Endpoint, chunk: str, part: int, parts: int) -> LlmNotes:
    """One structured answer; in auto mode a json_schema refusal switches this endpoint to json_object."""
    kind = ep.kind()
    try:
        return await _ask_once(ep, kind, chunk, part, parts)
    except NotesProviderError as err:
        if ep.format != "auto" or kind != "json_schema" or not _refuses_json_schema(err):
            raise
    log.info("the notes endpoint refuses response_format json_schema; using json_object with the schema")
    _REFUSES_JSON_SCHEMA.add(ep.base_url)
    return await _ask_once(ep, "json_object", chunk, part, parts)


async def _ask_with_retry(
    ep: Endpoint,
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
            return await _ask(ep, chunk, part, parts)
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
    """One answer from the answers for each chunk: lists de-duplicated in order (the first mention keeps
    its wording and status, later mentions add their quotes), texts joined."""
    if len(parts) == 1:
        return parts[0]
    topics: dict[str, LlmTopic] = {}
    for p in parts:
        for t in p.key_topics:
            if t.text.strip():
                _first(topics, t.text.strip().lower(), t)
    strategies: dict[str, LlmStrategy] = {}
    for p in parts:
        for s in p.strategies:
            _first(strategies, s.name.strip().lower(), s)
    actions: dict[str, LlmAction] = {}
    for p in parts:
        for a in p.action_items:
            key = " ".join(sorted(words(a.task)))
            _first(actions, next((k for k in actions if _similar(key, k) >= 0.9), key), a)
    moods = list(dict.fromkeys(p.patient_mood.strip() for p in parts if p.patient_mood.strip()))
    return LlmNotes(
        key_topics=list(topics.values())[:8],
        patient_mood="; then ".join(moods[:1] + moods[-1:]) if len(moods) > 1 else "".join(moods),
        mood_quotes=[q for p in parts for q in p.mood_quotes],
        strategies=list(strategies.values()),
        action_items=list(actions.values()),
        risk_flags=[r for p in parts for r in p.risk_flags],
        therapist_notes="\n\n".join(p.therapist_notes.strip() for p in parts if p.therapist_notes.strip()),
        patient_summary="\n\n".join(p.patient_summary.strip() for p in parts if p.patient_summary.strip()),
    )


_Quoted = TypeVar("_Quoted", LlmTopic, LlmStrategy, LlmAction)


def _first(seen: dict[str, _Quoted], key: str, item: _Quoted) -> None:
    """Keep the first item under `key`; a later duplicate only adds its quotes."""
    if key in seen:
        seen[key] = seen[key].model_copy(update={"quotes": seen[key].quotes + item.quotes})
    else:
        seen[key] = item


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def add_llm_flags(
    local: list[RiskFlag], llm: list[LlmRisk], segments: list[Segment], tally: QuoteTally | None = None
) -> list[RiskFlag]:
    """Local flags plus LLM findings whose quote is the client's words verbatim and that are not already
    flagged locally. The flag carries the transcript sentence, not the model's quote."""
    client = Transcript([s for s in split_sentences(segments) if may_be_client(s)])
    tally = tally or QuoteTally()
    out = list(local)
    for r in llm:
        found = client.find(r.quote)
        tally.note(bool(found))
        if not found:
            continue
        s = max(found, key=lambda x: len(x.text))  # the sentence that carries most of the quote
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
    """The model's notes over the local ones. Every evidence field comes from the transcript (see
    notes_quotes); the local risk flags and denials are always kept."""
    transcript = Transcript(split_sentences(segments))
    tally = QuoteTally()

    def ev(quotes: list[str]) -> list[Evidence]:
        return evidence(quotes, transcript, tally)

    update: dict[str, object] = {
        "strategies": [Strategy(**s.model_dump(exclude={"quotes"}), evidence=ev(s.quotes)) for s in llm.strategies]
        or local.strategies,
        "action_items": [
            ActionItem(**a.model_dump(exclude={"quotes"}), evidence=ev(a.quotes)) for a in llm.action_items
        ]
        or local.action_items,
        "therapist_notes": llm.therapist_notes or local.therapist_notes,
        # The client summary stays the local one: it is built only from grounded items and speaks of
        # risk only for a high-confidence flag; a model's free text promises neither.
        "patient_summary": local.patient_summary,
        "provider": provider,
    }
    topics = [t for t in llm.key_topics if t.text.strip()]
    if topics:  # topic_evidence is in key_topics' order, so both come from the same engine
        update["key_topics"] = [t.text for t in topics]
        update["topic_evidence"] = [GroundedText(text=t.text, evidence=ev(t.quotes)) for t in topics]
    if llm.patient_mood.strip():
        update["patient_mood"] = llm.patient_mood
        update["mood_evidence"] = ev(llm.mood_quotes)
    update["risk_flags"] = add_llm_flags(local.risk_flags, llm.risk_flags, segments, tally)
    if tally.dropped:
        message += f"; {tally.dropped} of {tally.checked} quotes not found in the transcript were dropped"
    update["provider_message"] = message
    return local.model_copy(update=update)


# --- public API ----------------------------------------------------------------------------------------


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
            await _ask_with_retry(ep, c, i + 1, len(chunks), int(attempts), backoff_s, max_backoff_s)
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
