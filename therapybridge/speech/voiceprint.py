"""Therapist voiceprints: one L2-normalised Resemblyzer vector per voice, matched by cosine.

`embed_voice` builds the vector from a session's diarized turns of one label; storing it per
therapist is the caller's business. `match_labels` gives, per speaker label of a new session, the
cosine similarity to a stored voiceprint — the input `assign_roles(voiceprint_match=...)` takes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from therapybridge.document import SpeakerTurn
from therapybridge.speech.audio import load_wav16k
from therapybridge.speech.speaker_embedding import FRAME_S, SpeakerEncoder

WINDOW_S = 1.5
STEP_S = 0.75
MAX_SECONDS = 120.0  # two minutes of a voice are plenty; long sessions are not read whole
MIN_TURN_S = 1.0  # short turns (backchannels, overlaps) are the least reliable


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0.0 or nb == 0.0:
        return 0.0
    return float(np.dot(a, b) / (na * nb))


def embed_voice(
    wav_path: Path,
    turns: list[SpeakerTurn],
    label: str,
    encoder: SpeakerEncoder | None = None,
    max_seconds: float = MAX_SECONDS,
) -> np.ndarray:
    """The mean window embedding of `label`'s longest turns (up to max_seconds of them).

    Raises ValueError when the label has no turn long enough to embed.
    """
    encoder = encoder or _default_encoder()
    own = sorted((t for t in turns if t.speaker == label and t.end - t.start >= MIN_TURN_S),
                 key=lambda t: t.end - t.start, reverse=True)
    if not own:
        raise ValueError(f"no turn of {label} lasts {MIN_TURN_S} s or more")
    n_win, n_step = round(WINDOW_S / FRAME_S), round(STEP_S / FRAME_S)
    vectors: list[np.ndarray] = []
    used = 0.0
    for t in own:
        if used >= max_seconds:
            break
        feats = encoder.features(load_wav16k(wav_path, t.start, t.end))
        n = len(feats.mel)
        if n <= n_win:
            idx = np.stack([np.arange(n_win) % max(n, 1)])
        else:
            idx = np.stack([s + np.arange(n_win) for s in range(0, n - n_win + 1, n_step)])
        vectors.append(encoder.embed_indices(feats, idx))
        used += t.end - t.start
    mean = np.concatenate(vectors).mean(0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-8)).astype(np.float32)


def match_labels(
    wav_path: Path,
    turns: list[SpeakerTurn],
    voiceprint: np.ndarray,
    encoder: SpeakerEncoder | None = None,
    max_seconds: float = MAX_SECONDS,
) -> dict[str, float]:
    """Cosine similarity of every label's voice to the stored voiceprint (labels too short: absent)."""
    out: dict[str, float] = {}
    for label in sorted({t.speaker for t in turns}):
        try:
            out[label] = round(cosine(embed_voice(wav_path, turns, label, encoder, max_seconds), voiceprint), 4)
        except ValueError:
            continue
    return out


def _default_encoder() -> SpeakerEncoder:
    from therapybridge.settings import get_settings
    from therapybridge.speech.diarization.embedded import EmbeddedDiarizer
    from therapybridge.speech.diarization.factory import diarizer_config, get_diarizer

    diarizer = get_diarizer(diarizer_config(get_settings()))
    return diarizer.encoder if isinstance(diarizer, EmbeddedDiarizer) else SpeakerEncoder("cpu")
