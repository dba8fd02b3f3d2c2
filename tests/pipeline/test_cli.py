"""`therapybridge process` on the embedded default: it starts its own dev server and workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.harness import CORPUS, REPO
from tests.support.ports import free_port

pytestmark = pytest.mark.slow

# The contract's fields (docs/ARCHITECTURE.md §5): they may be added to, never renamed or dropped.
CONTRACT = {
    "id", "patient_id", "therapist_id", "status", "progress", "error", "audio_filename", "duration_seconds",
    "language", "diarization", "speakers", "speaker_turns", "transcript_segments", "transcript_text",
    "extracted_notes", "timings", "processed_at",
}  # fmt: skip
NOTES = {"key_topics", "patient_mood", "strategies", "action_items", "risk_flags", "therapist_notes", "patient_summary"}


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "THERAPYBRIDGE_DATA_DIR": str(tmp_path / "data"),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "TEMPORAL_UI_PORT": str(free_port()),
        "DATABASE_URL": "",  # the embedded SQLite default
        "CODEC_KEYS": "",
    }
    return subprocess.run(
        [sys.executable, "-m", "therapybridge.cli", "process", *args],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_process_writes_a_contract_document(tmp_path: Path) -> None:
    out = tmp_path / "doc.json"
    r = _cli(tmp_path, str(CORPUS / "real" / "jfk.flac"), "--json", str(out), "--speakers", "1", "--note", "soap")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "── SOAP note ──" in r.stdout and "subjective" in r.stdout.lower()
    assert "ask not what your country" in r.stdout.lower()
    doc = json.loads(out.read_text())
    assert set(doc) >= CONTRACT and set(doc["extracted_notes"]) >= NOTES
    assert doc["status"] == "processed" and doc["progress"] == 100 and doc["audio_filename"] == "jfk.flac"
    seg = doc["transcript_segments"][0]
    assert {"start", "end", "speaker", "role", "text", "words"} <= set(seg)
    assert {"start", "end", "word", "speaker", "probability"} <= set(seg["words"][0])
    assert len({t["speaker"] for t in doc["speaker_turns"]}) == 1
    # Which models wrote it (an added field): every stage ran, so every entry is named.
    assert doc["models"]["asr"]["name"] == "whisper-base" and "sha256 d01c3014" in doc["models"]["asr"]["version"]
    assert all(doc["models"][k]["name"] and doc["models"][k]["version"] for k in ("asr", "vad", "diarizer", "notes"))
    # The dev server it started used a persistent SQLite file in the data directory; a codec key was made.
    assert (tmp_path / "data" / "temporal.db").exists() and (tmp_path / "data" / "codec.key").exists()


def test_process_fails_clearly(tmp_path: Path) -> None:
    missing = _cli(tmp_path, str(tmp_path / "nope.wav"))
    assert missing.returncode == 2 and "file not found" in missing.stderr
    bad = tmp_path / "visit.ogg"
    bad.write_bytes(b"OggS" + os.urandom(4000))
    r = _cli(tmp_path, str(bad))
    assert r.returncode == 1
    assert "error: processing failed:" in r.stderr and ("cannot read audio" in r.stderr or "corrupt" in r.stderr)
