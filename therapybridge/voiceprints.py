"""Therapist voiceprints in the blob store: one L2-normalised speaker vector per therapist.

A voiceprint comes from an enrollment recording (CLI) or from a past session whose therapist label
the clinician confirmed (API); each session's diarization stores one vector per speaker label, so
confirming needs no model. Matching is a cosine per label, plain numpy: the io worker needs no torch.
"""

from __future__ import annotations

import numpy as np

from therapybridge.blobs import BlobStore


def key(therapist_id: str) -> str:
    return f"voiceprints/{therapist_id}.json"


def load(store: BlobStore, therapist_id: str) -> np.ndarray | None:
    if not store.exists(key(therapist_id)):
        return None
    return np.asarray(store.read_json(key(therapist_id))["vector"], dtype=np.float32)


def add_sample(store: BlobStore, therapist_id: str, vector: np.ndarray) -> int:
    """Fold one more confirmed sample into the therapist's voiceprint (running mean); returns the
    number of samples it now holds."""
    vector = _unit(np.asarray(vector, dtype=np.float32))
    current = store.read_json(key(therapist_id)) if store.exists(key(therapist_id)) else None
    n = int(current["samples"]) if current else 0
    mean = vector if current is None else (np.asarray(current["vector"], dtype=np.float32) * n + vector) / (n + 1)
    store.write_json(key(therapist_id), {"vector": _unit(mean).round(6).tolist(), "samples": n + 1})
    return n + 1


def delete(store: BlobStore, therapist_id: str) -> None:
    store.delete(key(therapist_id))


def match(voiceprint: np.ndarray, label_vectors: dict[str, list[float]]) -> dict[str, float]:
    """Cosine similarity of each speaker label's vector to the voiceprint."""
    vp = _unit(voiceprint)
    return {
        label: round(float(np.dot(vp, _unit(np.asarray(v, dtype=np.float32)))), 4) for label, v in label_vectors.items()
    }


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-8)
