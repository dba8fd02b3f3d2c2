"""Counselling-skill labels per utterance and the MITI-style session metrics built on them.

Labels follow the AnnoMI dataset (Wu et al., ICASSP 2022): a therapist utterance is a `reflection`,
`question`, `therapist_input` (information, advice, options, negotiation) or `other`; a client utterance
is `change` talk (towards change), `sustain` talk (against it) or `neutral`.

The classifier is a multinomial logistic regression per role over a feature vector built from sentence
embeddings (bench/behaviour.py trains it; the coefficients live in therapybridge/data/behaviour.npz,
with per-label offsets chosen by cross-validation already folded into the intercepts). The
embeddings are passed in, so this module stays pure numpy; therapybridge/sentence_encoder.py makes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from therapybridge.document import Segment
from therapybridge.domain.risk import split_sentences

THERAPIST_LABELS = ("reflection", "question", "therapist_input", "other")
CLIENT_LABELS = ("change", "neutral", "sustain")
WEIGHTS = "behaviour.npz"


# Surface cues of the MISC/MITI coding manuals. A question opener (closed ones too: "Do you ...", "Is it
# ..."), after any fillers; a question mark after the first sentence ("Okay. What happened?").
_OPENER = re.compile(
    r"^(?:(?:and|so|okay|ok|now|well|then|right|um|uh|alright|mm-hmm|yeah)[,.]?\s+)*(what|how|why|where|when|who"
    r"|which|tell me|can you|could you|would you|will you|do|does|did|is|are|was|were|have|has|should|may|might)\b",
    re.I,
)
_LATER_QUESTION = re.compile(
    r"[.!?]\s+(?:(?:and|so)\s+)?(what|how|why|do|does|did|is|are|can|could|would|have)\b[^.!]*\?", re.I
)
# therapist: reflection stems ("it sounds like", "you feel"), second person, information and advice words
_THERAPIST_CUES = [
    re.compile(p, re.I)
    for p in (
        r"\bsounds? like\b",
        r"\bit seems\b",
        r"\byou feel",
        r"\byou(?:'re| are) (?:feeling|saying|not sure|worried|thinking)",
        r"\bso you\b",
        r"\byou(?:'ve)?\b",
        r"\bi\b",
        r"\bmm-hmm\b",
        r"\bokay\b",
        r"\bwe\b",
        r"\bi (?:think|would|suggest|recommend)\b",
        r"\b(?:research|studies|guidelines|percent|risk|recommend)\b",
        r"\bif you\b",
        r"\bwhat\b",
        r"\bhow\b",
        r"\bthank",
    )
]
# client: desire/ability/reason/need/commitment stems (change talk), their negations and "but" (sustain)
_CLIENT_CUES = [
    re.compile(p, re.I)
    for p in (
        r"\bi (?:want|wanna|would like|'d like|need|have to|should|will|can|could|'m going to|am going to|gonna|plan"
        r"|hope|wish|try)\b",
        r"\bi (?:don't|do not|can't|cannot|won't|wouldn't) (?:want|think|need|see)",
        r"\bbut\b",
        r"\b(?:not|n't|never|no)\b",
        r"^(?:yeah|yes|yep|sure|right|okay|mm-hmm|uh-huh)[.!]?$",
        r"^no\b",
        r"\b(?:quit|stop|cut down|change|better|healthy|help)\b",
        r"\b(?:like|enjoy|relax|fun|fine|only)\b",
        r"\b(?:worried|scared|afraid|concern)",
        r"\?",
    )
]


def _cues(text: str) -> list[float]:
    s = text.strip()
    head = [
        float("?" in text),
        float(s.endswith("?")),
        float(bool(_OPENER.search(s))),
        float(bool(_LATER_QUESTION.search(text))),
        float(np.log1p(len(text.split())) / 4),
    ]
    return head + [min(3, len(r.findall(text))) / 3 for r in (*_THERAPIST_CUES, *_CLIENT_CUES)]


def feature_matrix(segments: list[Segment], emb: np.ndarray) -> np.ndarray:
    """One row per segment, from the segment and its neighbours (MISC coding reads an utterance in
    context): its embedding, the previous and the next segment's (what it answers; how the other side
    takes it up: a therapist reflecting client talk marks it as change or sustain talk), the cosine with
    each, how alike it is to the other role's last two turns (a reflection restates the client), surface
    cues of itself and of both neighbours, and whether each neighbour is the same speaker."""
    n = len(segments)
    prev = np.zeros_like(emb)
    nxt = np.zeros_like(emb)
    if n > 1:
        prev[1:] = emb[:-1]
        nxt[:-1] = emb[1:]
    other = np.zeros((n, 3), dtype=np.float32)
    same = np.zeros((n, 2), dtype=np.float32)
    for i, seg in enumerate(segments):
        before = [j for j in range(i - 1, max(-1, i - 6), -1) if segments[j].role != seg.role][:2]
        if before:
            sims = [float(emb[i] @ emb[j]) for j in before]
            other[i] = (max(sims), float(np.mean(sims)), 1.0)
        same[i] = (i > 0 and segments[i - 1].role == seg.role, i < n - 1 and segments[i + 1].role == seg.role)
    cues = np.array([_cues(s.text) for s in segments], dtype=np.float32).reshape(n, -1)
    prev_cues = np.zeros_like(cues)
    next_cues = np.zeros_like(cues)
    if n > 1:
        prev_cues[1:] = cues[:-1]
        next_cues[:-1] = cues[1:]
    return np.hstack(
        [
            emb,
            prev,
            (emb * prev).sum(1, keepdims=True),
            nxt,
            (emb * nxt).sum(1, keepdims=True),
            other,
            cues,
            prev_cues,
            next_cues,
            same,
        ]
    ).astype(np.float32)


def _patterns(*ps: str) -> list[re.Pattern[str]]:
    return [re.compile(p, re.I) for p in ps]


# Client talk in the DARN-CAT scheme of motivational interviewing (Miller & Rollnick; Amrhein et al.,
# 2003): change talk states desire, ability, reasons, need, commitment, activation or steps taken, in the
# first person; sustain talk is their negation and the case for the status quo. General stems, one group
# per feature, so that a new topic (not only drinking or smoking) is read the same way.
_CHANGE_TALK = {
    "desire": _patterns(
        r"\bi(?:'d| would)? (?:really )?(?:want|wanna|wish|hope|would like|'d like|'d love|would love)\b(?! to keep)"
    ),
    "ability": _patterns(
        r"\bi (?:can|could|'m able|am able|might be able|think i can)\b(?!'t| not)",
        r"\b(?:i'm|i am) (?:capable|able)\b",
    ),
    "reasons": _patterns(
        r"\b(?:it|that) would (?:help|be (?:good|better|nice|healthier))\b",
        r"\b(?:better|healthier) for (?:me|my)\b",
        r"\bbecause of my (?:kids|children|family|health|wife|husband|job)\b",
        r"\bi(?:'d| would) (?:feel|be) better\b",
    ),
    "need": _patterns(
        r"\bi (?:need|have to|must|got to|gotta|should|ought to)\b", r"\b(?:it's|it is) (?:important|time)\b"
    ),
    "commitment": _patterns(
        r"\bi(?:'ll| will| am going to|'m going to|'m gonna| am gonna| plan| intend| promise| guess i'll)\b(?! not)",
        r"\bi'm (?:ready|willing|prepared|determined)\b",
    ),
    "activation": _patterns(
        r"\b(?:i'm|i am) (?:thinking about|considering|open to)\b",
        r"\bi(?:'d| would) be willing\b",
        r"\bi(?:'ll| will) (?:try|think about|consider)\b",
    ),
    "steps": _patterns(
        r"\bi(?:'ve| have)? (?:started|stopped|quit|cut (?:down|back)|tried|been trying|been cutting"
        r"|switched|reduced)\b",
        r"\bi (?:already|just) (?:started|stopped|quit)\b",
    ),
}
_SUSTAIN_TALK = {
    "desire": _patterns(
        r"\bi (?:don't|do not|didn't) (?:really )?(?:want|wanna|wish|care)\b",
        r"\bi (?:like|love|enjoy)\b",
        r"\bi(?:'d| would) rather\b",
    ),
    "ability": _patterns(
        r"\bi (?:can't|cannot|couldn't|can not|could not|won't be able)\b",
        r"\b(?:it's|it is|that's) (?:too )?(?:hard|impossible|difficult)\b",
    ),
    "reasons": _patterns(
        r"\b(?:it|that|drinking|smoking) (?:helps|relaxes|calms)\b",
        r"\b(?:not|isn't|is not|ain't) (?:a |that )?(?:big )?(?:problem|deal|bad|serious)\b",
        r"\beveryone(?: else)? (?:does|drinks|smokes)\b",
        r"\bonly (?:on|a|one|two|when)\b",
    ),
    "need": _patterns(
        r"\bi (?:don't|do not) (?:need|have to|think i need|see (?:the|a|why))\b",
        r"\bno (?:reason|need|point)\b",
        r"\bi'm (?:fine|okay|ok)\b",
    ),
    "commitment": _patterns(
        r"\bi(?:'m| am) not (?:going to|gonna|ready|willing|sure)\b",
        r"\bi won't\b",
        r"\bi (?:don't|do not) (?:think|know if) i\b",
    ),
    "but": _patterns(r"\bbut\b", r"\bthough\b"),
}


def talk_cues(text: str) -> list[float]:
    """One value per DARN-CAT group (change, then sustain): its stems found, capped at two, scaled to 0-1."""
    return [
        min(2, sum(len(r.findall(text)) for r in group)) / 2
        for group in (*_CHANGE_TALK.values(), *_SUSTAIN_TALK.values())
    ]


def client_features(segments: list[Segment]) -> np.ndarray:
    """Extra columns for the client model: the DARN-CAT cues of the turn and of the client's previous and
    next turns (change and sustain talk come in runs: after a change-talk turn the next client turn is
    change talk 55 % of the time in AnnoMI's training conversations, against 23 % overall)."""
    n = len(segments)
    talk = np.array([talk_cues(s.text) for s in segments], dtype=np.float32).reshape(n, -1)
    before = np.zeros_like(talk)
    after = np.zeros_like(talk)
    for i, seg in enumerate(segments):
        b = next((j for j in range(i - 1, -1, -1) if segments[j].role == seg.role), None)
        a = next((j for j in range(i + 1, n) if segments[j].role == seg.role), None)
        if b is not None:
            before[i] = talk[b]
        if a is not None:
            after[i] = talk[a]
    return np.hstack([talk, before, after])


def role_features(segments: list[Segment], emb: np.ndarray) -> dict[str, np.ndarray]:
    """Each role model's feature matrix (rows for every segment): the therapist model reads the shared
    features; the client model adds client_features (they did not help the therapist model in CV)."""
    x = feature_matrix(segments, emb)
    return {"therapist": x, "client": np.hstack([x, client_features(segments)])}


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
    x = role_features(segments, emb)
    out: list[str | None] = [None] * len(segments)
    for role, model in models.items():
        idx = [i for i, s in enumerate(segments) if s.role == role]
        for i, label in zip(idx, model.predict(x[role][idx]), strict=True):
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
