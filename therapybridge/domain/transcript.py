"""Assembling the transcript: stitch windows, attach roles, render the speaker-labelled text."""

from __future__ import annotations

from therapybridge.document import UNKNOWN_SPEAKER, Segment, Speaker, SpeakerTurn
from therapybridge.domain.merge import merge, talk_time
from therapybridge.domain.roles import assign_roles

ROLE_LABEL = {"therapist": "Therapist", "client": "Client"}


def stitch(windows: list[list[Segment]]) -> list[Segment]:
    """Window results in time order; a segment that starts before the previous one ended (a word
    straddling a cut, transcribed twice) is dropped."""
    out: list[Segment] = []
    for segs in windows:
        for s in segs:
            if out and s.start < out[-1].end - 0.25 and s.text == out[-1].text:
                continue
            out.append(s)
    return out


def attribute(
    segments: list[Segment], turns: list[SpeakerTurn], voiceprint_match: dict[str, float] | None = None
) -> tuple[list[Segment], list[Speaker]]:
    """Words to speakers, speakers to roles, roles onto segments."""
    merged = merge(segments, turns)
    speakers = talk_time(turns, merged)
    if turns:
        speakers = assign_roles(merged, speakers, voiceprint_match)
    role_of = {s.label: s.role for s in speakers}
    merged = [s.model_copy(update={"role": role_of.get(s.speaker)}) for s in merged]
    return merged, speakers


def speaker_name(segment: Segment, speakers: list[Speaker]) -> str:
    for sp in speakers:
        if sp.label == segment.speaker and sp.name:
            return sp.name
    if segment.role:
        return ROLE_LABEL[segment.role]
    return "Speaker" if segment.speaker == UNKNOWN_SPEAKER else segment.speaker


def transcript_text(segments: list[Segment], speakers: list[Speaker]) -> str:
    """'Therapist: …\\n\\nClient: …' with consecutive segments of one speaker joined."""
    blocks: list[tuple[str, list[str]]] = []
    for seg in segments:
        name = speaker_name(seg, speakers)
        if blocks and blocks[-1][0] == name:
            blocks[-1][1].append(seg.text)
        else:
            blocks.append((name, [seg.text]))
    return "\n\n".join(f"{name}: {' '.join(texts)}" for name, texts in blocks)
