"""Frame-level resegmentation: window scores → per-frame speaker posteriors → Viterbi → turns.

Pure numpy. The timeline is a grid of STEP_S frames; only frames inside speech regions are decoded.
Clustering says who the speakers are; this pass decides exactly where each one talks, with a
switching penalty instead of the window grid's 1.5 s blur.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STEP_S = 0.05


@dataclass(frozen=True)
class ResegConfig:
    sharpness: float = 20.0  # β in softmax(β · cosine): how much a 0.05 cosine margin counts
    switch_cost: float = 12.0  # log-prob cost of a speaker change inside continuous speech
    gap_switch_cost: float = 2.0  # ... and across a pause between speech regions (turns end in pauses)
    min_turn_s: float = 0.25  # shorter islands are absorbed by their neighbours
    # A dip this many dB under the region's speech level is a pause the VAD kept inside a region
    # (turn changes 0.1–0.3 s apart): switching there costs as little as across a VAD gap.
    dip_db: float = 12.0
    dip_full_db: float = 22.0  # … fully cheap at this depth


def frames_of(t: float) -> int:
    return round(t / STEP_S)


def frame_scores(n_frames: int, spans: np.ndarray, sims: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Per-frame mean similarity to each speaker over the windows covering the frame.

    spans: (W, 2) frame index [start, end) of each window; sims: (W, K) window-to-speaker cosine.
    Frames no window covers get NaN.
    """
    k = sims.shape[1]
    acc = np.zeros((n_frames + 1, k))
    wsum = np.zeros(n_frames + 1)
    w = np.ones(len(spans)) if weights is None else weights
    # Difference arrays: add at start, subtract at end, cumulative sum gives coverage sums.
    s = np.clip(spans[:, 0], 0, n_frames)
    e = np.clip(spans[:, 1], 0, n_frames)
    np.add.at(acc, s, sims * w[:, None])
    np.add.at(acc, e, -sims * w[:, None])
    np.add.at(wsum, s, w)
    np.add.at(wsum, e, -w)
    acc = np.cumsum(acc, axis=0)[:n_frames]
    wsum = np.cumsum(wsum)[:n_frames]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = acc / wsum[:, None]
    out[wsum <= 1e-9] = np.nan
    return out


def viterbi(log_em: np.ndarray, switch: np.ndarray) -> np.ndarray:
    """Best state path; switch[t] is the cost of changing state between frame t-1 and t."""
    n, k = log_em.shape
    if n == 0:
        return np.zeros(0, dtype=int)
    back = np.zeros((n, k), dtype=np.int32)
    score = log_em[0].copy()
    for t in range(1, n):
        best_prev = int(np.argmax(score))
        stay = score
        move = score[best_prev] - switch[t]
        take_move = move > stay
        back[t] = np.where(take_move, best_prev, np.arange(k))
        score = np.where(take_move, move, stay) + log_em[t]
    path = np.zeros(n, dtype=int)
    path[-1] = int(np.argmax(score))
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def pause_depth(energy: np.ndarray, cfg: ResegConfig) -> np.ndarray:
    """0..1 per frame of one region: how much the frame looks like a pause between words."""
    if len(energy) == 0 or np.all(np.isnan(energy)):
        return np.zeros(len(energy))
    level = np.nanpercentile(energy, 90)
    depth = (level - np.nan_to_num(energy, nan=level) - cfg.dip_db) / max(cfg.dip_full_db - cfg.dip_db, 1e-6)
    return np.clip(depth, 0.0, 1.0)


def decode(
    regions: list[tuple[float, float]],
    scores: np.ndarray,
    cfg: ResegConfig = ResegConfig(),
    energy: np.ndarray | None = None,
) -> list[tuple[float, float, int]]:
    """Speaker turns (start, end, speaker index) inside the speech regions.

    `energy` (dB per frame, optional) lowers the switching cost at pauses inside a region.
    """
    if not regions or scores.shape[1] == 0:
        return []
    k = scores.shape[1]
    idx: list[np.ndarray] = []
    switch: list[np.ndarray] = []
    for s, e in regions:
        f = np.arange(frames_of(s), max(frames_of(e), frames_of(s) + 1))
        idx.append(f)
        c = np.full(len(f), cfg.switch_cost)
        if energy is not None:
            e = energy[np.clip(f, 0, len(energy) - 1)] if len(energy) else np.full(len(f), np.nan)
            c -= (cfg.switch_cost - cfg.gap_switch_cost) * pause_depth(e, cfg)
        c[0] = cfg.gap_switch_cost
        switch.append(c)
    frames = np.concatenate(idx)
    frames = frames[frames < len(scores)]
    sw = np.concatenate(switch)[: len(frames)]
    sc = scores[frames]
    # Frames no window reached carry no evidence: flat emissions, the path decides.
    sc = np.where(np.isnan(sc), 0.0, sc)
    z = cfg.sharpness * sc
    log_em = z - np.logaddexp.reduce(z, axis=1, keepdims=True)
    path = viterbi(log_em, sw) if k > 1 else np.zeros(len(frames), dtype=int)
    path = _absorb_short(frames, path, cfg.min_turn_s)
    return _turns(frames, path)


def _runs(frames: np.ndarray, path: np.ndarray) -> list[tuple[int, int, int]]:
    """[first, last] positions of runs with one label and no gap in frames."""
    runs: list[tuple[int, int, int]] = []
    start = 0
    for i in range(1, len(frames) + 1):
        if i == len(frames) or path[i] != path[start] or frames[i] != frames[i - 1] + 1:
            runs.append((start, i - 1, int(path[start])))
            start = i
    return runs


def _absorb_short(frames: np.ndarray, path: np.ndarray, min_turn_s: float) -> np.ndarray:
    """A label run shorter than min_turn_s that is glued to other speech takes its neighbour's label.

    Runs that stand alone between pauses are kept: a lone "Mm-hmm." is a real turn.
    """
    min_len = max(1, round(min_turn_s / STEP_S))
    path = path.copy()
    for first, last, _label in _runs(frames, path):
        if last - first + 1 >= min_len:
            continue
        left_glued = first > 0 and frames[first - 1] == frames[first] - 1
        right_glued = last + 1 < len(frames) and frames[last + 1] == frames[last] + 1
        if left_glued:
            path[first : last + 1] = path[first - 1]
        elif right_glued:
            path[first : last + 1] = path[last + 1]
    return path


def _turns(frames: np.ndarray, path: np.ndarray) -> list[tuple[float, float, int]]:
    return [
        (round(frames[a] * STEP_S, 3), round((frames[b] + 1) * STEP_S, 3), lab) for a, b, lab in _runs(frames, path)
    ]
