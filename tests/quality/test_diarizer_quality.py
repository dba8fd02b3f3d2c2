"""Regression floors for who-said-what on corpus audio (bench.quality's own code path).

Two synthetic sessions and two real AMI excerpts run through conversion, VAD, ASR, the embedded
diarizer, merge and roles. Floors are the numbers measured when this test was written minus a small
margin (see docs in bench/quality/__main__.py for the command that prints the full table). The baseline from
issue 5 runs on the same transcripts and must stay behind.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.quality.corpus import find_recordings
from bench.quality.pipeline import Pipeline, evaluate
from bench.quality.results import FileResult
from tests.support.harness import CORPUS

pytestmark = pytest.mark.slow

FILES = ("d01", "d03", "dev00", "dev01")
ASR_MODEL = "tiny.en"

# Measured (see the commit that set them) minus a margin: DER +1.5 points, accuracies -0.5 points
# on synthetic sessions; real excerpts are short, so their margins are wider. DER on segments since
# segments span their turns (issue 12): d01 1.53%, d03 1.47%, dev00 13.65%, dev01 11.37%.
FLOORS: dict[str, dict[str, float]] = {
    "d01": {"der_turns": 0.035, "der_segments": 0.03, "word_acc": 0.99, "role_acc": 0.99, "speakers": 2},
    "d03": {"der_turns": 0.035, "der_segments": 0.03, "word_acc": 0.99, "role_acc": 0.99, "speakers": 2},
    "dev00": {"der_turns": 0.18, "der_segments": 0.18, "word_acc": 0.95, "speakers": 2},
    "dev01": {"der_turns": 0.08, "der_segments": 0.16, "word_acc": 0.95, "speakers": 2},
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, FileResult]]:
    if not (CORPUS / "synthetic").is_dir():
        pytest.skip(f"corpus not found at {CORPUS} (set THERAPYBRIDGE_CORPUS)")
    recordings = find_recordings(CORPUS, set(FILES))
    assert sorted(r.ref.file_id for r in recordings) == sorted(FILES)
    work = tmp_path_factory.mktemp("quality")  # shared: the baseline reuses the ASR output
    out = {}
    for kind in ("embedded", "baseline"):
        # The floors were measured on tiny.en's transcripts: pinned, so this stays a test of the
        # diarizer and the merge when the default ASR model changes (base moves the segment
        # boundaries: d01 DER on segments 7.57%, and the baseline's per-segment vote gains on dev00).
        pipeline = Pipeline(kind, cache=work, asr_model=ASR_MODEL)
        out[kind] = {r.file_id: r for r in evaluate(recordings, pipeline, work)}
    return out


@pytest.mark.parametrize("file_id", FILES)
def test_quality_floor(results: dict[str, dict[str, FileResult]], file_id: str) -> None:
    r, floor = results["embedded"][file_id], FLOORS[file_id]
    assert r.der_turns <= floor["der_turns"], r
    assert r.der_segments <= floor["der_segments"], r
    assert r.word_acc is not None and r.word_acc >= floor["word_acc"], r
    if "role_acc" in floor:
        assert r.role_acc is not None and r.role_acc >= floor["role_acc"], r
    assert r.found == floor["speakers"], r


def test_embedded_beats_the_baseline(results: dict[str, dict[str, FileResult]]) -> None:
    emb, base = results["embedded"], results["baseline"]
    for file_id in FILES:
        assert emb[file_id].der_segments <= base[file_id].der_segments + 0.005, (emb[file_id], base[file_id])
    real = [f for f in FILES if not emb[f].synthetic]
    mean_emb = sum(emb[f].der_segments for f in real) / len(real)
    mean_base = sum(base[f].der_segments for f in real) / len(real)
    assert mean_emb <= 0.7 * mean_base  # issue 5: at least 30 % lower on real meetings


# The diarizer alone (VAD regions, no ASR) on AMI excerpts where the count decides: with the true
# count as a hint the quiet speakers are found instead of a voice being split (trn03 6.81%, trn06
# 5.40% when measured; 30.56% / 46.98% before), and trn04's two similar people (centroids 0.76)
# stay apart without a hint (48.59%, 3 speakers; 54.74%, 2 before); trn08's two main voices are
# found behind a one-window crumb (23.61%, 2 speakers; 39.05%, 1 before). (file, hint): (DER, speakers)
DIARIZER_FLOORS = {
    ("trn03", 2): (0.12, 2),
    ("trn06", 3): (0.10, 3),
    ("trn04", None): (0.53, 3),
    ("trn08", None): (0.29, 2),
}


@pytest.mark.parametrize(("file_id", "hint"), list(DIARIZER_FLOORS))
def test_diarizer_floor_on_real_counts(file_id: str, hint: int | None, tmp_path: Path) -> None:
    from bench.scoring import clip_turns, der, parse_rttm, speakers_in, turns_of
    from therapybridge.speech.audio import to_wav16k
    from therapybridge.speech.diarization.embedded import EmbeddedDiarizer
    from therapybridge.speech.vad import speech_regions

    real = CORPUS / "real"
    if not real.is_dir():
        pytest.skip(f"corpus not found at {CORPUS} (set THERAPYBRIDGE_CORPUS)")
    ref = clip_turns(parse_rttm(real / "debug.train.rttm")[file_id], 0.0, 30.0)
    wav = tmp_path / f"{file_id}.wav"
    to_wav16k(real / f"{file_id}.wav", wav)
    turns = EmbeddedDiarizer("cpu").diarize(wav, speech_regions(wav), num_speakers=hint)
    hyp = clip_turns(turns_of(turns), 0.0, 30.0)
    max_der, speakers = DIARIZER_FLOORS[(file_id, hint)]
    assert der(ref, hyp, (0.0, 30.0)) <= max_der
    assert speakers_in(hyp, (0.0, 30.0)) == speakers


# A two-speaker phone call (issue 12's held-out set) was counted as one person. d12 through a
# telephone channel (bench.phone_band) is the stand-in: its two male voices embed at 0.91, above
# merge_similarity, so the count had said one speaker (DER 53.4%) and `--speakers 2` took an outlier
# split (53.6%). The 2-way split is stable (ARI 0.99): 2 speakers, 3.4% either way when measured.
@pytest.mark.parametrize("hint", [None, 2])
def test_a_phone_call_is_two_speakers(hint: int | None, tmp_path: Path) -> None:
    from bench.phone_band import phone_copy
    from bench.scoring import der, speakers_in, synthetic_reference, turns_of
    from therapybridge.speech.diarization.embedded import EmbeddedDiarizer
    from therapybridge.speech.vad import speech_regions

    synthetic = CORPUS / "synthetic"
    if not synthetic.is_dir():
        pytest.skip(f"corpus not found at {CORPUS} (set THERAPYBRIDGE_CORPUS)")
    ref = synthetic_reference(synthetic / "d12.json")
    wav = phone_copy(synthetic / "d12.flac", tmp_path, tmp_path)
    turns = EmbeddedDiarizer("cpu").diarize(wav, speech_regions(wav), num_speakers=hint)
    hyp = turns_of(turns)
    assert speakers_in(hyp, ref.uem) == 2
    assert der(ref.turns, hyp, ref.uem) <= 0.06
