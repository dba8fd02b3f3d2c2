"""Counselling-skill labels per utterance and the MITI-style session metrics built on them.

Labels follow the AnnoMI dataset (Wu et al., ICASSP 2022): a therapist utterance is a `reflection`,
`question`, `therapist_input` (information, advice, options, negotiation) or `other`; a client utterance
is `change` talk (towards change), `sustain` talk (against it) or `neutral`.

The classifier is a multinomial logistic regression per role over a feature vector built from sentence
embeddings (bench/behaviour.py trains it; the coefficients live in therapybridge/data/behaviour.npz). The
embeddings are passed in, so this module stays pure numpy; therapybridge/sentence_encoder.py makes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from therapybridge.document import Segment
from therapybridge.domain.analytics import is_open_question
from therapybridge.domain.risk import split_sentences

THERAPIST_LABELS = ("reflection", "question", "therapist_input", "other")
CLIENT_LABELS = ("change", "neutral", "sustain")
WEIGHTS = "behaviour.npz"
_WORD = re.compile(r"[A-Za-z']+")


def feature_matrix(segments: list[Segment], emb: np.ndarray) -> np.ndarray:
    """One row per segment: its embedding, the previous segment's (what it answers or reflects), how alike
    the two are (a reflection restates the client), and three surface cues (a question mark, an open-question
    opener, the length)."""
    n = len(segments)
    prev = np.zeros_like(emb)
    if n > 1:
        prev[1:] = emb[:-1]
    sim = (emb * prev).sum(1, keepdims=True)
    cues = np.zeros((n, 3), dtype=np.float32)
    for i, seg in enumerate(segments):
        cues[i, 0] = 1.0 if "?" in seg.text else 0.0
        cues[i, 1] = 1.0 if any(is_open_question(s) for s in split_sentences([seg])) else 0.0
        cues[i, 2] = np.log1p(len(_WORD.findall(seg.text))) / 4.0
    return np.hstack([emb, prev, sim, cues]).astype(np.float32)


@dataclass
class LinearModel:
    """Softmax regression: standardise, then one weight row per label."""

    labels: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (labels, features)
    intercept: np.ndarray

    def predict(self, x: np.ndarray) -> list[str]:
        if len(x) == 0:
            return []
        z = ((x - self.mean) / self.scale) @ self.coef.T + self.intercept
        return [self.labels[i] for i in z.argmax(1)]


def load_models(path: str | None = None) -> dict[str, LinearModel]:
    """The stored weights, {"therapist": ..., "client": ...} (plain arrays: np.load without pickle)."""
    src = path or Path(__file__).resolve().parents[1] / "data" / WEIGHTS
    with np.load(src, allow_pickle=False) as z:
        return {
            role: LinearModel(
                labels=tuple(str(x) for x in z[f"{role}_labels"]),
                mean=z[f"{role}_mean"],
                scale=z[f"{role}_scale"],
                coef=z[f"{role}_coef"],
                intercept=z[f"{role}_intercept"],
            )
            for role in ("therapist", "client")
        }


def classify(segments: list[Segment], emb: np.ndarray, models: dict[str, LinearModel]) -> list[str | None]:
    """A behaviour per segment; None for a segment without a role (who said it decides the label set)."""
    x = feature_matrix(segments, emb)
    out: list[str | None] = [None] * len(segments)
    for role, model in models.items():
        idx = [i for i, s in enumerate(segments) if s.role == role]
        for i, label in zip(idx, model.predict(x[idx]), strict=True):
            out[i] = label
    return out


def _is_question_rule(seg: Segment) -> bool:
    return any(s.is_question for s in split_sentences([seg]))


def skill_metrics(
    segments: list[Segment], behaviours: list[str | None] | None, open_questions: int, question_sentences: int
) -> dict[str, float | int | None]:
    """The session's counselling-skill counts (MITI 4.2.1 summary scores, from utterance labels).

    reflection_to_question = reflections / questions (MITI: 1 is fair, 2 good); percent_change_talk =
    change / (change + sustain). `open_questions` and `questions_total` are session_analytics' sentence
    counts (AnnoMI does not label open vs closed; an open question is told by its opener: "What ...",
    "How ...", "Tell me ..."), so percent_open_questions is their share. A ratio with a zero denominator
    is None. Without labels (no embedding model) `questions` comes from the question rules and the
    label-based counts are None rather than a guess."""
    therapist = [i for i, s in enumerate(segments) if s.role == "therapist"]
    reflections: int | None = None
    change: int | None = None
    sustain: int | None = None
    if behaviours is None:
        questions = sum(1 for i in therapist if _is_question_rule(segments[i]))
    else:
        questions = sum(1 for i in therapist if behaviours[i] == "question")
        reflections = sum(1 for i in therapist if behaviours[i] == "reflection")
        change = sum(1 for i, s in enumerate(segments) if s.role == "client" and behaviours[i] == "change")
        sustain = sum(1 for i, s in enumerate(segments) if s.role == "client" and behaviours[i] == "sustain")
    talk = (change or 0) + (sustain or 0)
    return {
        "reflections": reflections,
        "questions": questions,
        "open_questions": open_questions,
        "reflection_to_question": round(reflections / questions, 2) if reflections is not None and questions else None,
        "percent_open_questions": round(100 * open_questions / question_sentences, 1) if question_sentences else None,
        "change_talk": change,
        "sustain_talk": sustain,
        "percent_change_talk": round(100 * (change or 0) / talk, 1) if change is not None and talk else None,
    }
