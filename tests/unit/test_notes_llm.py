"""The OpenAI-compatible notes provider against a local HTTP server that speaks chat completions.

No client patching: each test starts a real HTTP server (a thread) that answers POST
/v1/chat/completions from a script of responses: good JSON, malformed content, schema-invalid JSON,
429 (then success), 503, 401, 400, a slow answer (timeout). Whatever happens, extract_notes_llm
returns notes; on failure they are the local ones and provider_message says why.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from therapybridge.document import ExtractedNotes, Segment, Speaker
from therapybridge.domain.notes import extract_notes
from therapybridge.notes_llm import NotesProviderError, extract_notes_llm, extract_notes_llm_strict
from therapybridge.notes_llm.chunks import chunk_lines, transcript_lines


@dataclass
class Reply:
    status: int = 200
    content: str | None = None  # the assistant message content (JSON text) for 200 replies
    body: str | None = None  # a raw body instead (errors)
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class FakeOpenAI:
    """A scripted chat-completions endpoint; records every request body."""

    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.requests: list[dict] = []
        self.paths: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                n = int(self.headers.get("content-length", 0))
                fake.requests.append(json.loads(self.rfile.read(n) or b"{}"))
                fake.paths.append(self.path)
                r = fake.script.pop(0) if fake.script else Reply(500, body='{"error": {"message": "no script"}}')
                if r.delay_s:
                    time.sleep(r.delay_s)
                if r.status == 200 and r.body is None:
                    payload = {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": 0,
                        "model": "test",
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": r.content},
                            }
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    }
                    data = json.dumps(payload).encode()
                else:
                    data = (r.body or json.dumps({"error": {"message": "error", "type": "test"}})).encode()
                try:
                    self.send_response(r.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in r.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    f = FakeOpenAI()
    yield f
    f.close()


SEGMENTS = [
    Segment(start=0.0, end=3.0, speaker="SPEAKER_00", role="therapist", text="How has the week been?"),
    Segment(
        start=3.5,
        end=9.0,
        speaker="SPEAKER_01",
        role="client",
        text="Hard. Sometimes I think everyone would be better off without me.",
    ),
    Segment(
        start=9.5,
        end=13.0,
        speaker="SPEAKER_00",
        role="therapist",
        text="Thank you for telling me. Are you having thoughts of ending your life?",
    ),
    Segment(
        start=13.5,
        end=18.0,
        speaker="SPEAKER_01",
        role="client",
        text="No. But I have been drinking a lot more than I used to.",
    ),
    Segment(
        start=18.5,
        end=24.0,
        speaker="SPEAKER_00",
        role="therapist",
        text="Let's make a safety plan together today. For homework, please keep a drink diary.",
    ),
]
SPEAKERS = [
    Speaker(label="SPEAKER_00", role="therapist", talk_seconds=12.0),
    Speaker(label="SPEAKER_01", role="client", talk_seconds=10.0),
]


def answer(**over: object) -> str:
    base: dict[str, object] = {
        "key_topics": ["hopelessness", "alcohol use"],
        "patient_mood": "low, guarded",
        "strategies": [
            {"name": "safety planning", "category": "safety", "status": "introduced", "context": "started in session"}
        ],
        "action_items": [{"task": "keep a drink diary", "category": "homework", "details": "daily"}],
        "risk_flags": [
            # found locally too: must not be duplicated
            {
                "type": "suicidal_ideation",
                "severity": "moderate",
                "quote": "Sometimes I think everyone would be better off without me.",
                "rationale": "passive SI",
            },
            # an LLM-only finding on a real client sentence: added with source="llm"
            {
                "type": "substance_use",
                "severity": "moderate",
                "quote": "But I have been drinking a lot more than I used to.",
                "rationale": "escalating use",
            },
            # quoting the therapist / an invented sentence: dropped
            {
                "type": "suicidal_ideation",
                "severity": "high",
                "quote": "Are you having thoughts of ending your life?",
                "rationale": "x",
            },
            {"type": "self_harm", "severity": "high", "quote": "I cut my arms every night.", "rationale": "x"},
        ],
        "therapist_notes": "Client reported hopelessness.",
        "patient_summary": "You talked about a hard week.",
    }
    base.update(over)
    return json.dumps(base)


def call(fake: FakeOpenAI, **kw: object) -> Coroutine[Any, Any, ExtractedNotes]:
    opts: dict[str, object] = {
        "api_key": "sk-test",
        "base_url": fake.base_url,
        "model": "test-model",
        "backoff_s": 0.01,
        "timeout_s": 5.0,
    }
    opts.update(kw)
    return extract_notes_llm(SEGMENTS, SPEAKERS, **opts)  # type: ignore[arg-type]


async def test_structured_answer_is_used_and_risk_stays_local(fake: FakeOpenAI) -> None:
    fake.script = [Reply(content=answer())]
    notes = await call(fake)
    assert notes.provider == "openai" and "test-model" in (notes.provider_message or "")
    assert notes.key_topics == ["hopelessness", "alcohol use"]
    assert notes.action_items[0].task == "keep a drink diary"
    local = extract_notes(SEGMENTS, SPEAKERS)
    local_keys = {(f.type, f.quote, f.source) for f in local.risk_flags}
    got = {(f.type, f.quote, f.source) for f in notes.risk_flags}
    assert local_keys <= got  # nothing local is lost
    # the substance sentence is flagged locally already, so the LLM's copy of it is not added again
    assert any(f.type == "substance_use" and f.source == "local" for f in notes.risk_flags)
    assert [f for f in notes.risk_flags if f.source == "llm"] == []
    assert not any("cut my arms" in f.quote or f.quote.startswith("Are you") for f in notes.risk_flags)
    assert notes.documented_denials == local.documented_denials
    # the request asked for strict JSON-schema output and carried the transcript with roles
    req = fake.requests[0]
    assert fake.paths == ["/v1/chat/completions"]
    assert req["model"] == "test-model"
    assert req["response_format"]["type"] == "json_schema" and req["response_format"]["json_schema"]["strict"]
    assert "Client: Hard." in req["messages"][1]["content"]


async def test_llm_only_flag_is_added_with_source_llm(fake: FakeOpenAI) -> None:
    only = {
        "type": "harm_to_others",
        "severity": "moderate",
        "quote": "Hard. Sometimes I think everyone would be better off without me.",
        "rationale": "test",
    }
    fake.script = [Reply(content=answer(risk_flags=[only]))]
    notes = await call(fake)
    llm = [f for f in notes.risk_flags if f.source == "llm"]
    assert [(f.type, f.speaker) for f in llm] == [("harm_to_others", "SPEAKER_01")]
    assert any(f.source == "local" and f.type == "suicidal_ideation" for f in notes.risk_flags)


@pytest.mark.parametrize(
    ("reply", "expect"),
    [
        (Reply(content="this is not json {"), "malformed answer"),
        (Reply(content=json.dumps({"key_topics": "not a list"})), "does not match the schema"),
        (
            Reply(content=answer(action_items=[{"task": "x", "category": "chores", "details": ""}])),
            "does not match the schema",
        ),
        (Reply(status=401), "unauthorized (HTTP 401)"),
        (Reply(status=400), "bad request (HTTP 400)"),
    ],
)
async def test_non_retryable_failures_fall_back_at_once(fake: FakeOpenAI, reply: Reply, expect: str) -> None:
    fake.script = [reply, Reply(content=answer())]
    notes = await call(fake)
    assert notes.provider == "local"
    assert expect in (notes.provider_message or "") and "local extractor used" in (notes.provider_message or "")
    assert len(fake.requests) == 1  # not retried
    assert notes.risk_flags == extract_notes(SEGMENTS, SPEAKERS).risk_flags


async def test_429_is_retried_then_succeeds(fake: FakeOpenAI) -> None:
    fake.script = [Reply(status=429, headers={"retry-after": "0"}), Reply(content=answer())]
    notes = await call(fake)
    assert notes.provider == "openai"
    assert len(fake.requests) == 2


@pytest.mark.parametrize("status", [429, 503])
async def test_retryable_errors_give_up_after_attempts(fake: FakeOpenAI, status: int) -> None:
    fake.script = [Reply(status=status)] * 3 + [Reply(content=answer())]
    notes = await call(fake, attempts=3)
    assert notes.provider == "local"
    assert f"HTTP {status}" in (notes.provider_message or "") and "after 3 attempts" in (notes.provider_message or "")
    assert len(fake.requests) == 3


async def test_timeout_falls_back(fake: FakeOpenAI) -> None:
    fake.script = [Reply(content=answer(), delay_s=1.5)]
    notes = await call(fake, timeout_s=0.3, attempts=1)
    assert notes.provider == "local" and "timed out" in (notes.provider_message or "")


async def test_no_key_and_unreachable_server_fall_back() -> None:
    notes = await extract_notes_llm(SEGMENTS, SPEAKERS, api_key="", base_url=None, model="m")
    assert notes.provider == "local" and "no API key" in (notes.provider_message or "")
    notes = await extract_notes_llm(
        SEGMENTS, SPEAKERS, api_key="k", base_url="http://127.0.0.1:9/v1", model="m", attempts=1, timeout_s=2.0
    )
    assert notes.provider == "local" and "could not connect" in (notes.provider_message or "")


async def test_strict_variant_raises_classified_errors(fake: FakeOpenAI) -> None:
    fake.script = [Reply(status=401)]
    with pytest.raises(NotesProviderError) as e401:
        await extract_notes_llm_strict(SEGMENTS, SPEAKERS, api_key="k", base_url=fake.base_url, model="m")
    assert e401.value.retryable is False and e401.value.status == 401
    fake.script = [Reply(status=503)]
    with pytest.raises(NotesProviderError) as e503:
        await extract_notes_llm_strict(SEGMENTS, SPEAKERS, api_key="k", base_url=fake.base_url, model="m", attempts=1)
    assert e503.value.retryable is True


async def test_long_transcript_is_split_and_merged(fake: FakeOpenAI) -> None:
    first = answer(
        key_topics=["hopelessness"],
        action_items=[{"task": "keep a drink diary", "category": "homework", "details": ""}],
    )
    second = answer(
        key_topics=["alcohol use", "hopelessness"],
        strategies=[
            {"name": "safety planning", "category": "safety", "status": "practiced", "context": ""},
            {"name": "drink diary", "category": "self-monitoring", "status": "introduced", "context": ""},
        ],
        action_items=[
            {"task": "Keep a drink diary", "category": "homework", "details": ""},
            {"task": "call the doctor", "category": "referral", "details": ""},
        ],
    )
    lines = transcript_lines(SEGMENTS)
    limit = sum(len(x) + 1 for x in lines[:3])  # the first three lines fit, the other two go to part 2
    assert len(chunk_lines(lines, limit)) == 2
    fake.script = [Reply(content=first), Reply(content=second)]
    notes = await call(fake, max_chunk_chars=limit)
    assert len(fake.requests) == 2
    assert notes.provider == "openai" and "2 parts" in (notes.provider_message or "")
    assert notes.key_topics == ["hopelessness", "alcohol use"]
    assert [a.task for a in notes.action_items] == ["keep a drink diary", "call the doctor"]
    assert [(s.name, s.status) for s in notes.strategies] == [
        ("safety planning", "introduced"),
        ("drink diary", "introduced"),
    ]
    assert "Transcript part 1 of 2" in fake.requests[0]["messages"][1]["content"]
    assert "Transcript part 2 of 2" in fake.requests[1]["messages"][1]["content"]


def test_chunks_keep_whole_lines() -> None:
    lines = [f"[0:{i:02d}] Client: line {i}" for i in range(50)]
    chunks = chunk_lines(lines, 100)
    assert "\n".join(chunks).split("\n") == lines
    assert all(len(c) <= 100 for c in chunks)


def test_unknown_roles_are_labelled_by_speaker() -> None:
    segs = [s.model_copy(update={"role": None}) for s in SEGMENTS[:2]]
    assert transcript_lines(segs) == [
        "[0:00] Speaker 1: How has the week been?",
        "[0:04] Speaker 2: Hard. Sometimes I think everyone would be better off without me.",
    ]


# --- response formats and quotes ------------------------------------------------------------------------

# What llama-cpp-python 0.3.36's server answers to {"type": "json_schema"}: its request validation error,
# as an HTTP 500 (other servers say 400 or 422).
REFUSAL = json.dumps(
    {
        "error": {
            "message": "1 validation error: {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
            "'msg': \"Input should be 'text' or 'json_object'\"}",
            "type": "internal_server_error",
        }
    }
)


@pytest.mark.parametrize("status", [500, 422, 400])
async def test_auto_format_falls_back_to_json_object_once_and_remembers(fake: FakeOpenAI, status: int) -> None:
    fake.script = [Reply(status=status, body=REFUSAL), Reply(content=answer()), Reply(content=answer())]
    first = await call(fake)
    second = await call(fake)
    assert first.provider == second.provider == "openai"
    kinds = [r["response_format"]["type"] for r in fake.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]  # asked once, then remembered
    schema = fake.requests[1]["response_format"]["schema"]
    assert schema["properties"]["key_topics"]["maxItems"] > 0  # bounded for grammar-constrained servers


async def test_a_500_that_does_not_name_response_format_is_retried_not_negotiated(fake: FakeOpenAI) -> None:
    fake.script = [Reply(status=500), Reply(content=answer())]
    notes = await call(fake)
    assert notes.provider == "openai"
    assert [r["response_format"]["type"] for r in fake.requests] == ["json_schema", "json_schema"]


@pytest.mark.parametrize("fmt", ["json_schema", "json_object"])
async def test_configured_format_is_not_negotiated(fake: FakeOpenAI, fmt: str) -> None:
    fake.script = [Reply(status=400, body=REFUSAL), Reply(content=answer())]
    notes = await call(fake, response_format=fmt)
    assert notes.provider == "local" and "HTTP 400" in (notes.provider_message or "")
    assert [r["response_format"]["type"] for r in fake.requests] == [fmt]


async def test_max_tokens_is_sent_and_a_cut_answer_falls_back(fake: FakeOpenAI) -> None:
    fake.script = [Reply(content=answer())]
    await call(fake, max_tokens=300)
    assert fake.requests[0]["max_tokens"] == 300
    fake.script = [Reply(content=answer())]
    await call(fake)
    assert "max_tokens" not in fake.requests[1]


async def test_evidence_comes_from_the_transcript_and_invented_quotes_are_dropped(fake: FakeOpenAI) -> None:
    said = "For homework, please keep a drink diary."
    fake.script = [
        Reply(
            content=answer(
                key_topics=[{"text": "alcohol use", "quotes": ["i have been DRINKING a lot more", "I love beer."]}],
                mood_quotes=["Hard."],  # too short to ground anything
                action_items=[
                    {
                        "task": "drink diary",
                        "category": "homework",
                        "details": "",
                        "quotes": [f"[0:18] Therapist: {said}"],
                    }
                ],
            )
        )
    ]
    notes = await call(fake)
    assert notes.key_topics == ["alcohol use"]
    [topic] = notes.topic_evidence
    # the whole transcript sentence ("No." is not a sentence end for the splitter), with its time and speaker
    assert [(e.quote, e.speaker, e.start) for e in topic.evidence] == [
        ("No. But I have been drinking a lot more than I used to.", "SPEAKER_01", 13.5)
    ]
    assert notes.mood_evidence == []
    # the time and speaker label a model may copy from the prompt are not part of the quote
    [item] = notes.action_items
    assert item.task == "drink diary"
    assert [(e.quote, e.speaker) for e in item.evidence] == [(said, "SPEAKER_00")]
    # "I love beer." and "Hard." (of 4 item quotes) and 2 of the 4 risk quotes are dropped
    assert "4 of 8 quotes not found in the transcript were dropped" in (notes.provider_message or "")


async def test_a_raw_newline_inside_a_string_is_text_not_a_malformed_answer(fake: FakeOpenAI) -> None:
    """llama.cpp's grammar let a raw control character into a string (seen with gemma3-270m); strict JSON
    parsing called the whole answer malformed."""
    raw = answer(patient_mood="low,NL guarded").replace("NL", "\n")  # json.dumps would escape it
    assert "low,\n guarded" in raw
    fake.script = [Reply(content=raw)]
    notes = await call(fake)
    assert notes.provider == "openai" and notes.patient_mood == "low,\n guarded"
