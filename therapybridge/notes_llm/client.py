"""The transport: one OpenAI-compatible endpoint asked for the structured answer, with the
response_format negotiated (json_schema, else json_object with the schema), errors classified as
retryable or not, and retries with backoff. Only error types and status codes are logged."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Literal

import openai
from pydantic import ValidationError

from therapybridge.notes_llm import schema
from therapybridge.notes_llm.schema import SYSTEM_PROMPT, LlmNotes

log = logging.getLogger("therapybridge.notes_llm")  # one logger for the package, the name it had


class NotesProviderError(Exception):
    """A failed provider call; `reason` is safe to show and log (no transcript text)."""

    def __init__(self, reason: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.status = status


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
    # The schemas are read from their module at call time, so a caller can bound the answer further.
    if kind == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": "session_notes", "strict": True, "schema": schema.NOTES_SCHEMA},
        }
    return {"type": "json_object", "schema": schema.BOUNDED_SCHEMA}


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


async def ask_with_retry(
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
