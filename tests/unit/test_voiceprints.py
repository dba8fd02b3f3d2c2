"""Therapist voiceprints: storage, matching, and the merge stage using them for roles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from therapybridge import messages as m
from therapybridge import voiceprints
from therapybridge.activities import merge as merge_activity
from therapybridge.blobs import BlobStore
from therapybridge.document import Segment, SpeakerTurn, Word


def _vec(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=256).astype(np.float32)
    return v / np.linalg.norm(v)


def test_running_mean_match_and_delete(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    a, b = _vec(1), _vec(2)
    assert voiceprints.load(store, "t1") is None
    assert voiceprints.add_sample(store, "t1", a) == 1
    assert voiceprints.add_sample(store, "t1", a + 0.05 * b) == 2
    vp = voiceprints.load(store, "t1")
    assert vp is not None and np.linalg.norm(vp) == pytest.approx(1.0, abs=1e-4)
    scores = voiceprints.match(vp, {"SPEAKER_00": b.tolist(), "SPEAKER_01": a.tolist()})
    assert scores["SPEAKER_01"] > 0.99 > 0.2 > scores["SPEAKER_00"]
    voiceprints.delete(store, "t1")
    assert voiceprints.load(store, "t1") is None


def _segment(speaker: str, start: float, text: str) -> dict:
    words = [Word(start=start + i * 0.4, end=start + i * 0.4 + 0.3, word=f" {w}") for i, w in enumerate(text.split())]
    return Segment(start=start, end=words[-1].end, text=text, words=words, speaker=speaker).model_dump(mode="json")


def test_enrolled_voice_outweighs_conversation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SPEAKER_00 talks like the therapist, but the enrolled therapist's voice is SPEAKER_01's."""
    store = BlobStore(tmp_path)
    monkeypatch.setattr(merge_activity, "blobs", lambda: store)
    lines = [
        ("SPEAKER_00", "How have you been feeling since we last met?"),
        ("SPEAKER_01", "Honestly pretty tired and a bit low this week."),
        ("SPEAKER_00", "What do you notice when the tiredness starts?"),
        ("SPEAKER_01", "Mostly that I stop answering messages from friends."),
        ("SPEAKER_00", "It sounds like you pull back when you feel low. Would it help to plan one small call?"),
        ("SPEAKER_01", "Maybe, I could call my sister on Sunday."),
    ]
    segs, turns, t = [], [], 0.0
    for speaker, text in lines:
        seg = _segment(speaker, t, text)
        segs.append(seg)
        turns.append(SpeakerTurn(start=t, end=seg["end"] + 0.1, speaker=speaker).model_dump(mode="json"))
        t = seg["end"] + 0.5
    store.write_json("s1/windows/0000.json", {"language": "en", "words": 40, "segments": segs})
    a, b = _vec(3), _vec(4)
    vectors = {"SPEAKER_00": a.tolist(), "SPEAKER_01": b.tolist()}
    store.write_json("s1/diarization.json", {"num_speakers": 2, "turns": turns, "label_vectors": vectors})
    req = m.MergeRequest("s1", ["s1/windows/0000.json"], "s1/diarization.json", therapist_id=None)

    def roles(r: m.MergeRequest) -> dict[str, str | None]:
        merge_activity._merge(r)
        return {s["label"]: s["role"] for s in store.read_json("s1/merged.json")["speakers"]}

    assert roles(req) == {"SPEAKER_00": "therapist", "SPEAKER_01": "client"}  # conversation alone
    voiceprints.add_sample(store, "t-1", b + 0.01 * a)
    enrolled = m.MergeRequest("s1", req.window_refs, req.diarization_ref, therapist_id="t-1")
    assert roles(enrolled) == {"SPEAKER_00": "client", "SPEAKER_01": "therapist"}
