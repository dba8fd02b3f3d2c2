"""Words meet speakers: give each transcribed word a speaker and split segments where it changes.

Pure functions over the document models; no Temporal, no I/O.
"""

from __future__ import annotations

from collections import defaultdict

from therapybridge.document import UNKNOWN_SPEAKER, Segment, Speaker, SpeakerTurn, Word


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def speaker_for_word(word: Word, turns: list[SpeakerTurn]) -> str:
    """The speaker whose turns cover the word most; the nearest turn when none covers it."""
    if not turns:
        return UNKNOWN_SPEAKER
    cover: dict[str, float] = defaultdict(float)
    for t in turns:
        if t.end < word.start or t.start > word.end:
            continue
        cover[t.speaker] += _overlap(word.start, word.end, t.start, t.end)
    if cover and max(cover.values()) > 0.0:
        return max(cover.items(), key=lambda kv: kv[1])[0]
    mid = (word.start + word.end) / 2
    nearest = min(turns, key=lambda t: 0.0 if t.start <= mid <= t.end else min(abs(t.start - mid), abs(t.end - mid)))
    return nearest.speaker


def split_by_speaker(segments: list[Segment]) -> list[Segment]:
    """One output segment per run of words with the same speaker, in order."""
    out: list[Segment] = []
    for seg in segments:
        if not seg.words:
            out.append(seg)
            continue
        run: list[Word] = [seg.words[0]]
        for w in seg.words[1:]:
            if w.speaker == run[-1].speaker:
                run.append(w)
            else:
                out.append(_segment_from_words(run))
                run = [w]
        out.append(_segment_from_words(run))
    return out


def _segment_from_words(words: list[Word]) -> Segment:
    return Segment(
        start=words[0].start,
        end=words[-1].end,
        speaker=words[0].speaker,
        text="".join(w.word for w in words).strip(),
        words=words,
    )


def merge(segments: list[Segment], turns: list[SpeakerTurn]) -> list[Segment]:
    """Attribute every word to a speaker (`Unknown` without turns) and split at speaker changes."""
    attributed: list[Segment] = []
    for seg in segments:
        words = [w.model_copy(update={"speaker": speaker_for_word(w, turns)}) for w in seg.words]
        attributed.append(seg.model_copy(update={"words": words}))
    return split_by_speaker(attributed)


def talk_time(turns: list[SpeakerTurn], segments: list[Segment]) -> list[Speaker]:
    """Speakers with their talk time: from the diarizer's turns, else from the words."""
    totals: dict[str, float] = defaultdict(float)
    if turns:
        for t in turns:
            totals[t.speaker] += t.end - t.start
    else:
        for s in segments:
            totals[s.speaker] += s.end - s.start
    return [Speaker(label=k, talk_seconds=round(v, 2)) for k, v in sorted(totals.items())]
