"""The issue-5 reference point, kept for comparison (`python -m bench.quality --diarizer baseline`).

Resemblyzer embeddings on 1.5 s windows every 0.75 s inside transcript segments, agglomerative
clustering (cosine, average linkage) into two clusters, each word to the cluster most of the windows
covering it voted for. No volume normalisation, no resegmentation, no speaker count.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from therapybridge.document import Segment, Word
from therapybridge.speech.audio import load_wav16k
from therapybridge.speech.speaker_embedding import FRAME_S, Features, SpeakerEncoder

WINDOW_S = 1.5
STEP_S = 0.75


def _raw_embed(encoder: SpeakerEncoder, feats: Features, wins: list[tuple[float, float]]) -> np.ndarray:
    """Encoder on the plain (non-normalised) mel, as the baseline did; a short window is zero-padded
    to 1.5 s like Resemblyzer's embed_utterance pads short audio."""
    import torch

    n = round(WINDOW_S / FRAME_S)
    mels = np.zeros((len(wins), n, feats.mel.shape[1]), dtype=np.float32)
    for i, (s, e) in enumerate(wins):
        a = round(s / FRAME_S)
        m = feats.mel[a : a + min(n, max(1, round((e - s) / FRAME_S)))]
        mels[i, : len(m)] = m
    with torch.inference_mode():
        return encoder.model(torch.from_numpy(mels)).numpy()


def baseline_windows(segments: list[Segment]) -> list[tuple[float, float]]:
    """1.5 s windows every 0.75 s inside each transcript segment (one window for a short one)."""
    out: list[tuple[float, float]] = []
    for seg in segments:
        if seg.end - seg.start <= WINDOW_S:
            out.append((seg.start, seg.end))
            continue
        t = seg.start
        while t + WINDOW_S <= seg.end + 1e-6:
            out.append((t, t + WINDOW_S))
            t += STEP_S
        if out[-1][1] < seg.end:
            out.append((seg.end - WINDOW_S, seg.end))
    return out


def baseline_diarize(encoder: SpeakerEncoder, wav_path: Path, segments: list[Segment]) -> list[Segment]:
    """Words labelled SPEAKER_00/01 by window votes (segments not yet split)."""
    wins = baseline_windows(segments)
    if len(wins) < 2:
        return [s.model_copy(update={"words": [w.model_copy(update={"speaker": "SPEAKER_00"}) for w in s.words]})
                for s in segments]
    audio = load_wav16k(wav_path)  # the baseline read the whole file; it is only a reference point
    feats = encoder.features(audio)
    emb = _raw_embed(encoder, feats, wins)
    labels = fcluster(linkage(emb, method="average", metric="cosine"), t=2, criterion="maxclust") - 1
    first: dict[int, str] = {}
    for lab in labels:
        first.setdefault(int(lab), f"SPEAKER_{len(first):02d}")

    def vote(w: Word) -> str:
        votes = Counter(int(labels[i]) for i, (s, e) in enumerate(wins) if s < w.end and e > w.start)
        if not votes:  # no window covers it: nearest window
            mid = (w.start + w.end) / 2
            i = int(np.argmin([abs((s + e) / 2 - mid) for s, e in wins]))
            return first[int(labels[i])]
        return first[votes.most_common(1)[0][0]]

    return [s.model_copy(update={"words": [w.model_copy(update={"speaker": vote(w)}) for w in s.words]})
            for s in segments]
