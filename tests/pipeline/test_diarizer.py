"""Embedded diarizer: clustering and speaker count, resegmentation, turn labels, checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.support.harness import CORPUS
from therapybridge.speech.diarization.clustering import (
    CountConfig,
    cluster_embeddings,
    count_runs,
    l2norm,
    median_run,
    stability,
)
from therapybridge.speech.diarization.embedded import label_turns, plan_blocks, window_frames
from therapybridge.speech.diarization.resegment import ResegConfig, decode, frame_scores, frames_of, viterbi

RNG = np.random.default_rng(7)


def voice(center: np.ndarray, n: int, spread: float = 0.08) -> np.ndarray:
    """n window embeddings of one voice: non-negative, unit length, ~0.9 cosine to the centre."""
    return l2norm(np.abs(center + spread * RNG.standard_normal((n, center.size))))


def centres(k: int, dim: int = 64) -> list[np.ndarray]:
    return [l2norm(np.abs(RNG.standard_normal(dim))) for _ in range(k)]


def turn_taking(voices: list[np.ndarray], turns: int, per_turn: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows of speakers taking turns in time order, with their true labels."""
    emb, truth = [], []
    for t in range(turns):
        who = t % len(voices)
        emb.append(voice(voices[who], per_turn))
        truth += [who] * per_turn
    return np.concatenate(emb), np.array(truth)


def agreement(labels: np.ndarray, truth: np.ndarray) -> float:
    """Share of windows on which two partitions agree under the best label mapping (k ≤ 3)."""
    from itertools import permutations

    k = max(labels.max(), truth.max()) + 1
    return max(np.mean(np.array(p)[labels] == truth) for p in permutations(range(k)))


# ---------------------------------------------------------------------- speaker count
def test_two_voices_taking_turns_are_two_speakers() -> None:
    emb, truth = turn_taking(centres(2), turns=12, per_turn=8)
    labels = cluster_embeddings(emb)
    assert labels.max() == 1
    assert agreement(labels, truth) >= 0.98


def test_three_voices_are_three_speakers() -> None:
    emb, truth = turn_taking(centres(3), turns=12, per_turn=8)
    labels = cluster_embeddings(emb)
    assert labels.max() == 2
    assert agreement(labels, truth) >= 0.98


def test_one_voice_is_one_speaker() -> None:
    emb = voice(centres(1)[0], 80)
    assert cluster_embeddings(emb).max() == 0


def test_one_voice_drifting_is_still_one_speaker() -> None:
    # A monologue whose second half sits a little apart (cosine ~0.84 between the halves): the
    # halves never alternate, so they are one person.
    a = centres(1)[0]
    b = l2norm(np.abs(a + 1.2 * RNG.standard_normal(a.size) / np.sqrt(a.size)))
    emb = np.concatenate([voice(a, 20, 0.03), voice(b, 30, 0.03)])
    sim = float(l2norm(emb[:20].mean(0)) @ l2norm(emb[20:].mean(0)))
    assert CountConfig().strong_similarity < sim < CountConfig().merge_similarity
    assert cluster_embeddings(emb).max() == 0


def close_pair(spread: float = 0.03) -> tuple[np.ndarray, np.ndarray]:
    """Two voices taking turns whose centres sit above merge_similarity (a narrow phone channel).
    Its own generator, so the shared RNG's draws for the other tests stay as they were."""
    rng = np.random.default_rng(11)
    a = l2norm(np.abs(rng.standard_normal(64)))
    b = l2norm(np.abs(a + 0.5 * rng.standard_normal(64) / 8))
    truth = np.repeat(np.arange(12) % 2, 10)
    emb = l2norm(np.abs(np.stack([a, b])[truth] + spread * rng.standard_normal((len(truth), 64))))
    return emb, truth


def test_two_close_voices_that_split_stably_are_two_speakers() -> None:
    emb, truth = close_pair()
    sim = float(l2norm(emb[truth == 0].mean(0)) @ l2norm(emb[truth == 1].mean(0)))
    assert sim > CountConfig().merge_similarity
    assert stability(emb, 2, CountConfig()) >= CountConfig().stable_split
    for hint in (None, 2):  # the hint takes the same tight split, not an outlier
        labels = cluster_embeddings(emb, num_speakers=hint)
        assert labels.max() == 1
        assert agreement(labels, truth) >= 0.95


def test_one_voice_splits_unstably() -> None:
    rng = np.random.default_rng(12)
    emb = l2norm(np.abs(l2norm(np.abs(rng.standard_normal(64))) + 0.08 * rng.standard_normal((80, 64))))
    assert stability(emb, 2, CountConfig()) < 0.5
    assert stability(emb, 2, CountConfig()) == stability(emb, 2, CountConfig())  # deterministic


def test_one_voice_split_inside_a_conversation_is_not_a_third_speaker() -> None:
    """Two people take turns; one of them drifts during his turns (sub-voice alternating with his
    main voice, ~0.85 between them, ~0.6 to the other person): two speakers, not three."""
    a, c = centres(2)
    a2 = l2norm(np.abs(a + 1.0 * RNG.standard_normal(a.size) / np.sqrt(a.size)))
    parts = []
    for t in range(12):
        parts.append(voice(c, 8, 0.03) if t % 2 else np.concatenate([voice(a, 5, 0.03), voice(a2, 4, 0.03)]))
    emb = np.concatenate(parts)
    sim = float(l2norm(voice(a, 50, 0.03).mean(0)) @ l2norm(voice(a2, 50, 0.03).mean(0)))
    assert CountConfig().strong_similarity < sim < CountConfig().merge_similarity
    assert cluster_embeddings(emb).max() == 1


def test_nested_split_needs_a_gap_between_pair_similarities() -> None:
    from therapybridge.speech.diarization.clustering import is_nested_split

    def cents(sims: tuple[float, float, float]) -> np.ndarray:  # three unit vectors with these pair cosines
        g = np.array([[1, sims[0], sims[1]], [sims[0], 1, sims[2]], [sims[1], sims[2], 1]])
        return np.linalg.cholesky(g)

    assert is_nested_split(cents((0.87, 0.62, 0.58)), CountConfig())  # a split voice beside a real one
    assert not is_nested_split(cents((0.85, 0.76, 0.70)), CountConfig())  # three similar-ish people
    assert not is_nested_split(cents((0.62, 0.57, 0.45)), CountConfig())  # three distinct people
    assert not is_nested_split(cents((0.76, 0.58, 0.49)), CountConfig())  # AMI trn04: two similar people


def test_windows_straddling_turn_changes_are_not_a_third_speaker() -> None:
    a, b = centres(2)
    parts, truth = [], []
    for t in range(16):
        cur, nxt = (a, b) if t % 2 == 0 else (b, a)
        parts += [voice(cur, 10), l2norm(np.abs(0.5 * cur + 0.5 * nxt))[None].repeat(2, 0)]  # 2 mixed windows
        truth += [t % 2] * 12
    labels = cluster_embeddings(np.concatenate(parts))
    assert labels.max() == 1


def test_hints_are_honoured() -> None:
    emb, _ = turn_taking(centres(3), turns=9, per_turn=8)
    assert cluster_embeddings(emb, num_speakers=2).max() == 1
    assert cluster_embeddings(emb, max_speakers=2).max() == 1
    one = voice(centres(1)[0], 40)
    assert cluster_embeddings(one, min_speakers=2).max() == 1  # asked for two: two it gets
    assert cluster_embeddings(np.zeros((0, 8))).size == 0


def test_count_runs() -> None:
    labels = np.array([0, 0, 1, 1, 0, 2, 2, 2, 2, 0, 2])
    assert list(count_runs(labels, 3)) == [3, 1, 2]
    assert median_run(labels, 2) == 2.5 and median_run(labels, 1) == 2.0


# ---------------------------------------------------------------------- resegmentation
def test_viterbi_switch_cost_removes_flicker_but_keeps_real_changes() -> None:
    em = np.log(np.array([[0.9, 0.1]] * 20 + [[0.4, 0.6]] * 2 + [[0.9, 0.1]] * 20 + [[0.1, 0.9]] * 20))
    path = viterbi(em, np.full(len(em), 5.0))
    assert set(path[:42]) == {0} and set(path[45:]) == {1}


def test_decode_keeps_turns_inside_speech_and_a_lone_backchannel() -> None:
    regions = [(0.0, 3.0), (3.5, 3.9), (4.4, 8.0)]  # A talks, B says "Mm-hmm", A goes on
    n = frames_of(8.0) + 1
    scores = np.zeros((n, 2))
    scores[:, 0] = 0.9
    scores[:, 1] = 0.6
    scores[frames_of(3.5) : frames_of(3.9), :] = [0.6, 0.9]
    turns = decode(regions, scores, ResegConfig())
    assert [(s, e, k) for s, e, k in turns] == [(0.0, 3.0, 0), (3.5, 3.9, 1), (4.4, 8.0, 0)]


def test_decode_switches_at_a_pause_inside_a_region() -> None:
    # One VAD region, two speakers; the evidence blurs the change over 1 s but the energy dips at 2.0 s.
    regions = [(0.0, 4.0)]
    n = frames_of(4.0) + 1
    t = np.arange(n) * 0.05
    ramp = np.clip((t - 1.6) / 1.0, 0, 1)  # speaker 1's evidence rises from 1.6 s to 2.6 s
    scores = np.stack([0.9 - 0.3 * ramp, 0.6 + 0.3 * ramp], axis=1)
    energy = np.full(n, -20.0)
    energy[frames_of(1.95) : frames_of(2.15)] = -50.0
    turns = decode(regions, scores, ResegConfig(), energy)
    assert len(turns) == 2 and abs(turns[0][1] - 2.0) <= 0.15


def test_frame_scores_average_covering_windows() -> None:
    spans = np.array([[0, 4], [2, 6]])
    sims = np.array([[1.0, 0.0], [0.0, 1.0]])
    s = frame_scores(8, spans, sims)
    assert np.allclose(s[0], [1, 0]) and np.allclose(s[3], [0.5, 0.5]) and np.allclose(s[5], [0, 1])
    assert np.isnan(s[7]).all()


# ---------------------------------------------------------------------- plumbing helpers
def test_plan_blocks_groups_regions_and_cuts_long_ones() -> None:
    blocks = plan_blocks([(0, 10), (12, 50), (55, 70), (80, 230)], block_s=60)
    assert blocks[0] == [(0, 10), (12, 50)]
    assert all(b[-1][1] - b[0][0] <= 60 for b in blocks)
    assert sum(e - s for b in blocks for s, e in b) == pytest.approx(10 + 38 + 15 + 150)


def test_window_frames_cover_a_region_and_tile_a_short_one() -> None:
    wins = window_frames((1.0, 4.0), 0.0, 150, 50, 1000)
    assert wins[0][0] == 100 and wins[-1][-1] == 399 and all(len(w) == 150 for w in wins)
    short = window_frames((1.0, 1.5), 0.0, 150, 50, 1000)
    assert len(short) == 1 and set(short[0]) == set(range(100, 150))


def test_label_turns_numbers_by_first_appearance_and_fills_short_pauses() -> None:
    turns = label_turns([(0.0, 1.0, 3), (1.5, 2.0, 3), (2.2, 3.0, 0), (5.0, 6.0, 3)], fill_gap_s=1.0)
    assert [(t.start, t.end, t.speaker) for t in turns] == [
        (0.0, 2.0, "SPEAKER_00"),
        (2.2, 3.0, "SPEAKER_01"),
        (5.0, 6.0, "SPEAKER_00"),
    ]


# ---------------------------------------------------------------------- the model on real audio
@pytest.fixture(scope="module")
def d01_head(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[float, float]]]:
    """The first 45 s of synthetic session d01 as 16 kHz WAV, with its VAD regions."""
    src = CORPUS / "synthetic" / "d01.flac"
    if not src.exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    import ffmpeg

    from therapybridge.speech.vad import speech_regions

    wav = tmp_path_factory.mktemp("d01") / "d01.wav"
    ffmpeg.input(str(src), t=45).output(str(wav), ac=1, ar=16000, acodec="pcm_s16le").global_args("-v", "error").run()
    return wav, speech_regions(wav)


@pytest.fixture(scope="module")
def diarizer():
    from therapybridge.speech.diarization.embedded import EmbeddedDiarizer

    return EmbeddedDiarizer()


def test_diarize_d01_head_finds_both_voices(diarizer, d01_head, tmp_path: Path) -> None:
    wav, regions = d01_head
    progress: list[float] = []
    turns = diarizer.diarize(wav, regions, on_progress=progress.append, checkpoint_dir=tmp_path / "ck")
    assert {t.speaker for t in turns} == {"SPEAKER_00", "SPEAKER_01"}
    assert turns[0].speaker == "SPEAKER_00"
    assert progress[-1] == 1.0 and progress == sorted(progress)
    speech = [(s, e) for s, e in regions]
    assert all(
        any(s - 1e-6 <= t.start and t.end <= e + 1.0 + 1e-6 for s, e in speech) or t.end - t.start > 0 for t in turns
    )
    truth = json.loads((CORPUS / "synthetic" / "d01.json").read_text())["turns"]
    # The therapist opens (0.5–4.2 s), the client answers (4.9–11.7 s).
    first_client = next(t for t in truth if t["speaker"] == "client")
    at = lambda x: next(t.speaker for t in turns if t.start <= x <= t.end)  # noqa: E731
    assert at(2.0) == "SPEAKER_00" and at((first_client["start"] + first_client["end"]) / 2) == "SPEAKER_01"


def test_checkpoint_resumes_and_survives_a_torn_file(diarizer, d01_head, tmp_path: Path) -> None:
    wav, regions = d01_head
    ck = tmp_path / "ck"
    first = diarizer.diarize(wav, regions, checkpoint_dir=ck)
    files = sorted(ck.glob("*.npz"))
    assert files and not list(ck.glob("*.tmp*"))
    files[0].write_bytes(b"torn")  # a crash mid-write of an older, non-atomic writer
    again = diarizer.diarize(wav, regions, checkpoint_dir=ck)
    assert again == first


def test_progress_callback_can_cancel(diarizer, d01_head) -> None:
    wav, regions = d01_head

    class Cancelled(Exception):
        pass

    def stop(_: float) -> None:
        raise Cancelled

    with pytest.raises(Cancelled):
        diarizer.diarize(wav, regions, on_progress=stop)


def test_no_speech_gives_no_turns(diarizer, d01_head) -> None:
    wav, _ = d01_head
    assert diarizer.diarize(wav, []) == []


def test_hints_reach_the_clusterer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The diarize activity's request hints arrive in cluster_embeddings unchanged."""
    from therapybridge.speech.diarization import embedded as dmod

    seen: dict[str, object] = {}

    def fake_cluster(emb: np.ndarray, **kw: object) -> np.ndarray:
        seen.update(kw)
        return np.zeros(len(emb), dtype=int)

    d = object.__new__(dmod.EmbeddedDiarizer)
    d.cfg = dmod.EmbeddedConfig()
    emb = l2norm(np.abs(RNG.standard_normal((6, 256)))).astype(np.float32)
    spans = np.array([[i * 0.5, i * 0.5 + 1.5] for i in range(6)])
    monkeypatch.setattr(d, "embed", lambda *a, **k: dmod.Windows(emb, spans))
    monkeypatch.setattr(dmod, "cluster_embeddings", fake_cluster)
    d.diarize(Path("x.wav"), [(0.0, 4.0)], num_speakers=None, min_speakers=2, max_speakers=4)
    assert (seen["num_speakers"], seen["min_speakers"], seen["max_speakers"]) == (None, 2, 4)
    d.diarize(Path("x.wav"), [(0.0, 4.0)], num_speakers=3)
    assert seen["num_speakers"] == 3


def test_min_speakers_keeps_a_small_cluster() -> None:
    """min_speakers=3 with a third voice of two windows: three speakers, not one (a small cluster is
    absorbed only above the requested minimum)."""
    a, b, c = centres(3)
    emb, _ = turn_taking([a, b], turns=8, per_turn=6)
    emb = np.concatenate([emb, voice(c, 2)])
    assert cluster_embeddings(emb).max() == 1
    labels = cluster_embeddings(emb, min_speakers=3)
    assert labels.max() == 2 and len(set(labels[-2:])) == 1 and labels[-1] not in set(labels[:-2])


def test_hinted_count_finds_the_quiet_speaker_instead_of_splitting_a_voice() -> None:
    """num_speakers=2 for one long drifting voice plus a similar voice of two windows (AMI trn03:
    one person talks 29 of 30 s): the two speakers are the long voice and the short one, not the
    long voice cut in two halves (which is tighter, and what the unhinted search would return)."""
    rng = np.random.default_rng(12)  # its own draws: the result must not depend on test order

    def near(center: np.ndarray, n: int, spread: float) -> np.ndarray:
        return l2norm(np.abs(center + spread * rng.standard_normal((n, center.size))))

    a = l2norm(np.abs(rng.standard_normal(64)))
    c = near(a, 1, 0.15)[0]  # another person, ~0.75 to a
    a2 = near(a, 1, 0.12)[0]  # the same voice drifting, ~0.85 to a
    emb = np.concatenate([near(a, 25, 0.08), near(c, 2, 0.08), near(a2, 25, 0.08)])
    assert cluster_embeddings(emb).max() == 0  # no hint: one voice (two windows are absorbed)
    labels = cluster_embeddings(emb, num_speakers=2)
    assert labels.max() == 1
    assert labels[25] == labels[26] and labels[25] not in set(labels[:25]) | set(labels[27:])


def test_a_voice_behind_an_absorbed_crumb_is_still_found() -> None:
    """Two people taking turns (centroids ~0.80) and one far-off window: at k=2 the far window
    splits off alone and is absorbed as a crumb, at k=3 the two people come apart (AMI trn08): two
    speakers, not one."""
    rng = np.random.default_rng(5)

    def near(center: np.ndarray, n: int, spread: float) -> np.ndarray:
        return l2norm(np.abs(center + spread * rng.standard_normal((n, center.size))))

    a = l2norm(np.abs(rng.standard_normal(64)))
    b = near(a, 1, 0.12)[0]  # another person, ~0.80 to a
    far = l2norm(np.abs(rng.standard_normal(64)))  # one odd window, ~0.66 to a
    parts = [near(a, 6, 0.05), near(b, 5, 0.05), near(a, 6, 0.05), near(far, 1, 0.05), near(b, 5, 0.05)]
    emb = np.concatenate([*parts, near(a, 6, 0.05)])
    truth = np.array([0] * 6 + [1] * 5 + [0] * 6 + [-1] + [1] * 5 + [0] * 6)
    labels = cluster_embeddings(emb)
    assert labels.max() == 1
    keep = truth >= 0
    assert agreement(labels[keep], truth[keep]) == 1.0
