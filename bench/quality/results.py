"""What the pipeline produced for one recording, and its scores against the reference."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.scoring import (
    DerDetail,
    Detection,
    Reference,
    RefTurn,
    clip_turns,
    der,
    der_detail,
    detection,
    role_accuracy,
    segments_as_turns,
    speakers_in,
    turns_of,
    wer,
    word_speaker_accuracy,
)
from therapybridge.document import Segment, Speaker, SpeakerTurn


@dataclass
class PipelineOutput:
    segments: list[Segment]  # merged: one speaker per segment, roles set
    turns: list[SpeakerTurn]
    speakers: list[Speaker]
    seconds: dict[str, float] = field(default_factory=dict)
    regions: list[tuple[float, float]] = field(default_factory=list)  # the VAD's speech regions


@dataclass
class FileResult:
    file_id: str
    synthetic: bool
    wer: float | None
    der_turns: float
    der_segments: float
    word_acc: float | None
    role_acc: float | None
    found: int
    true: int
    seconds: dict[str, float]
    turns: DerDetail | None = None
    vad: Detection | None = None
    asr: str = "default"  # ASR_MODEL of the run
    hint: str = "none"  # none | true (the reference count as num_speakers)


def score(ref: Reference, out: PipelineOutput, asr: str = "default", hint: str = "none") -> FileResult:
    hyp_turns: list[RefTurn] = clip_turns(turns_of(out.turns), *ref.uem)
    detail = der_detail(ref.turns, hyp_turns, ref.uem)
    seg_turns = clip_turns(segments_as_turns(out.segments), *ref.uem)
    in_span = [
        s.model_copy(update={"words": [w for w in s.words if ref.uem[0] <= (w.start + w.end) / 2 <= ref.uem[1]]})
        for s in out.segments
    ]
    text = " ".join(s.text for s in out.segments)
    return FileResult(
        file_id=ref.file_id,
        synthetic=ref.text is not None,
        wer=wer(ref.text, text) if ref.text is not None else None,
        der_turns=detail.der,
        der_segments=der(ref.turns, seg_turns, ref.uem),
        word_acc=word_speaker_accuracy(in_span, ref.turns) if any(s.words for s in in_span) else None,
        role_acc=role_accuracy(in_span, ref.turns) if ref.roles else None,
        found=speakers_in(hyp_turns, ref.uem),
        true=speakers_in(ref.turns, ref.uem),
        seconds={k: round(v, 2) for k, v in out.seconds.items()},
        turns=detail,
        vad=detection(ref.turns, out.regions, ref.uem),
        asr=asr,
        hint=hint,
    )
