"""Scoring for speaker attribution, shared by bench.quality and the regression tests.

Conventions (shared/corpus/README.md): WER lower-cased, punctuation removed, hyphens as spaces (jiwer);
DER with pyannote.metrics DiarizationErrorRate(collar=0.25, skip_overlap=True) over the annotated
span; word-speaker accuracy under the best one-to-one label mapping at each word's midpoint; role
accuracy per word against the reference role.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from therapybridge.document import Segment, SpeakerTurn, Word

RefTurn = tuple[float, float, str]  # start, end, speaker


# ---------------------------------------------------------------------- references
def parse_rttm(path: Path) -> dict[str, list[RefTurn]]:
    """NIST RTTM → {file id: [(start, end, speaker)]}."""
    out: dict[str, list[RefTurn]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) < 8 or parts[0] != "SPEAKER":
            continue
        start, dur = float(parts[3]), float(parts[4])
        out[parts[1]].append((start, start + dur, parts[7]))
    return {k: sorted(v) for k, v in out.items()}


def clip_turns(turns: list[RefTurn], start: float, end: float) -> list[RefTurn]:
    return [(max(s, start), min(e, end), spk) for s, e, spk in turns if e > start and s < end]


@dataclass(frozen=True)
class Reference:
    """Truth for one recording: turns, optional text, and the span that is annotated."""

    file_id: str
    turns: list[RefTurn]
    uem: tuple[float, float]
    text: str | None = None  # reference transcript (synthetic sessions only)
    roles: bool = False  # speaker names are roles (therapist / client)


def synthetic_reference(json_path: Path) -> Reference:
    data = json.loads(json_path.read_text(encoding="utf-8"))
    turns = sorted((float(t["start"]), float(t["end"]), str(t["speaker"])) for t in data["turns"])
    text = " ".join(t["text"] for t in data["turns"])
    return Reference(json_path.stem, turns, (0.0, float(data["duration"])), text, roles=True)


# ---------------------------------------------------------------------- WER
_PUNCT = re.compile(r"[^\w\s]")


def normalise_text(text: str) -> str:
    text = text.lower().replace("-", " ")
    text = _PUNCT.sub("", text)  # "I'm" → "im" on both sides alike
    return " ".join(text.split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    ref, hyp = normalise_text(reference), normalise_text(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return float(jiwer.wer(ref, hyp or "<empty>"))


# ---------------------------------------------------------------------- DER
def der(ref: list[RefTurn], hyp: list[RefTurn], uem: tuple[float, float], collar: float = 0.25) -> float:
    """pyannote.metrics DER (collar, overlap skipped) over the annotated span `uem`."""
    from pyannote.core import Annotation, Timeline
    from pyannote.core import Segment as PSegment
    from pyannote.metrics.diarization import DiarizationErrorRate

    def annotation(turns: list[RefTurn]) -> Annotation:
        ann = Annotation()
        for i, (s, e, spk) in enumerate(turns):
            if e > s:
                ann[PSegment(s, e), str(i)] = spk
        return ann

    metric = DiarizationErrorRate(collar=collar, skip_overlap=True)
    return float(metric(annotation(ref), annotation(hyp), uem=Timeline([PSegment(*uem)])))


def _annotation(turns: list[RefTurn]) -> Any:
    from pyannote.core import Annotation
    from pyannote.core import Segment as PSegment

    ann = Annotation()
    for i, (s, e, spk) in enumerate(turns):
        if e > s:
            ann[PSegment(s, e), str(i)] = spk
    return ann


@dataclass(frozen=True)
class DerDetail:
    """DER and its parts, each a share of the scored reference speech (pyannote.metrics, same collar
    and overlap rule as `der`), plus the Jaccard error rate."""

    der: float
    miss: float
    false_alarm: float
    confusion: float
    jer: float
    total_s: float  # scored reference speech


def der_detail(ref: list[RefTurn], hyp: list[RefTurn], uem: tuple[float, float], collar: float = 0.25) -> DerDetail:
    from pyannote.core import Segment as PSegment
    from pyannote.core import Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate, JaccardErrorRate

    r, h, u = _annotation(ref), _annotation(hyp), Timeline([PSegment(*uem)])
    d = DiarizationErrorRate(collar=collar, skip_overlap=True)(r, h, uem=u, detailed=True)
    total = float(d["total"])
    share = (lambda x: float(x) / total) if total > 0 else (lambda x: 0.0 if x <= 0 else 1.0)
    if len(r.labels()) == 0:
        jer = 0.0 if len(h.labels()) == 0 else 1.0
    else:
        jer = float(JaccardErrorRate(collar=collar, skip_overlap=True)(r, h, uem=u))
    return DerDetail(
        der=float(d["diarization error rate"]),
        miss=share(d["missed detection"]),
        false_alarm=share(d["false alarm"]),
        confusion=share(d["confusion"]),
        jer=jer,
        total_s=total,
    )


@dataclass(frozen=True)
class Detection:
    """Speech detection against the reference (no collar, overlap counted once): seconds of reference
    speech, of it missed, and of non-speech detected as speech."""

    speech_s: float
    miss_s: float
    false_alarm_s: float

    @property
    def miss(self) -> float:
        return self.miss_s / self.speech_s if self.speech_s > 0 else 0.0

    @property
    def false_alarm(self) -> float:
        return self.false_alarm_s / self.speech_s if self.speech_s > 0 else (1.0 if self.false_alarm_s > 0 else 0.0)


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        elif e > s:
            out.append((s, e))
    return out


def _length(spans: list[tuple[float, float]]) -> float:
    return sum(e - s for s, e in spans)


def _intersect(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    i = j = 0
    total = 0.0
    while i < len(a) and j < len(b):
        total += max(0.0, min(a[i][1], b[j][1]) - max(a[i][0], b[j][0]))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def detection(ref: list[RefTurn], regions: list[tuple[float, float]], uem: tuple[float, float]) -> Detection:
    """Speech regions (the VAD's) against the reference speech inside `uem`."""
    r = _union([(max(s, uem[0]), min(e, uem[1])) for s, e, _ in ref if e > uem[0] and s < uem[1]])
    h = _union([(max(s, uem[0]), min(e, uem[1])) for s, e in regions if e > uem[0] and s < uem[1]])
    both = _intersect(r, h)
    return Detection(_length(r), _length(r) - both, _length(h) - both)


def turns_of(turns: list[SpeakerTurn]) -> list[RefTurn]:
    return [(t.start, t.end, t.speaker) for t in turns]


def segments_as_turns(segments: list[Segment]) -> list[RefTurn]:
    return [(s.start, s.end, s.speaker) for s in segments if s.end > s.start]


# ---------------------------------------------------------------------- word attribution
def speaker_at(turns: list[RefTurn], t: float) -> set[str]:
    """Reference speakers at time t; the nearest turn's speaker when none is active."""
    active = {spk for s, e, spk in turns if s <= t <= e}
    if active or not turns:
        return active
    nearest = min(turns, key=lambda x: min(abs(x[0] - t), abs(x[1] - t)))
    return {nearest[2]}


def _words(segments: list[Segment]) -> list[Word]:
    return [w for s in segments for w in s.words]


def best_mapping(words: list[Word], ref: list[RefTurn]) -> dict[str, str]:
    """Hypothesis label → reference speaker, one-to-one, maximising the words that agree."""
    hyp_labels = sorted({w.speaker for w in words})
    ref_labels = sorted({t[2] for t in ref})
    if not hyp_labels or not ref_labels:
        return {}
    counts = np.zeros((len(hyp_labels), len(ref_labels)))
    for w in words:
        truth = speaker_at(ref, (w.start + w.end) / 2)
        for r in truth:
            counts[hyp_labels.index(w.speaker), ref_labels.index(r)] += 1
    rows, cols = linear_sum_assignment(-counts)
    return {hyp_labels[r]: ref_labels[c] for r, c in zip(rows, cols, strict=True)}


def word_speaker_accuracy(segments: list[Segment], ref: list[RefTurn]) -> float:
    words = _words(segments)
    if not words:
        return 0.0
    mapping = best_mapping(words, ref)
    ok = sum(mapping.get(w.speaker) in speaker_at(ref, (w.start + w.end) / 2) for w in words)
    return ok / len(words)


def role_accuracy(segments: list[Segment], ref: list[RefTurn]) -> float:
    """Share of words whose segment role equals the reference speaker (a role) at the midpoint."""
    total = ok = 0
    for seg in segments:
        for w in seg.words:
            total += 1
            ok += seg.role is not None and seg.role in speaker_at(ref, (w.start + w.end) / 2)
    return ok / total if total else 0.0


def speakers_in(turns: list[RefTurn], uem: tuple[float, float], min_s: float = 0.0) -> int:
    """Distinct speakers with more than min_s seconds inside the span."""
    talk: dict[str, float] = defaultdict(float)
    for s, e, spk in clip_turns(turns, *uem):
        talk[spk] += e - s
    return sum(1 for v in talk.values() if v > min_s)
