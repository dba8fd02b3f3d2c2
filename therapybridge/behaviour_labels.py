"""Behaviour labels for a transcript's segments: the embedding model plus the stored classifier.

Kept apart from therapybridge/domain/behaviour.py (pure numpy) because it loads the model. If the model
cannot be loaded, the segments come back unlabelled and the notes still run (the skill metrics then fall
back to rules); the warning names the reason, never any transcript text (health data).
"""

from __future__ import annotations

import logging
import threading

from therapybridge.document import Segment, Speaker
from therapybridge.domain.behaviour import LinearModel, classify, load_models
from therapybridge.sentence_encoder import EncoderUnavailable, get_encoder

log = logging.getLogger("therapybridge.behaviour")
_lock = threading.Lock()
_models: dict[str, LinearModel] | None = None


def _classifier() -> dict[str, LinearModel]:
    global _models
    with _lock:
        if _models is None:
            _models = load_models()
        return _models


def label_segments(segments: list[Segment], speakers: list[Speaker]) -> list[Segment]:
    """Copies of the segments with `behaviour` set (None for a segment whose role is unknown)."""
    roles = {sp.label: sp.role for sp in speakers if sp.role}
    with_roles = [s if s.role else s.model_copy(update={"role": roles.get(s.speaker)}) for s in segments]
    if not any(s.role for s in with_roles):
        return segments
    try:
        encoder = get_encoder()
        models = _classifier()
    except (EncoderUnavailable, OSError, KeyError, ValueError) as exc:
        log.warning("behaviour labels unavailable; skill metrics from rules only", extra={"reason": str(exc)})
        return segments
    labels = classify(with_roles, encoder.encode([s.text for s in with_roles]), models)
    return [s.model_copy(update={"behaviour": b}) for s, b in zip(segments, labels, strict=True)]
