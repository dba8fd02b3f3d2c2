"""Speech the detector heard and the decoder skipped.

Whisper decodes 30 s at a time and predicts where the next segment starts; now and then that
prediction jumps over a turn (most often right after the other speaker's short overlap), and the
turn is lost from the transcript although the VAD marked it as speech. On the synthetic corpus this
was d11's therapist turn at 126.6-134.4 s (25 words, WER 7.9% for that session). A stretch of VAD
speech of at least `min_s` that no recognised word touches is decoded again on its own, as
WhisperX decodes every VAD segment on its own; shorter stretches are backchannels and breaths.
"""

from __future__ import annotations

from collections.abc import Iterable

Region = tuple[float, float]

MIN_UNHEARD_S = 2.0  # "Mm-hmm" and breaths run 0.3-1.2 s in the corpus; a skipped turn is longer


def unheard(speech: Iterable[Region], words: Iterable[Region], min_s: float = MIN_UNHEARD_S) -> list[Region]:
    """The parts of `speech` that no word span overlaps, those at least `min_s` long, in order.

    Times are on one timeline (seconds); both lists may be unsorted and may overlap."""
    spans = sorted(words)
    out: list[Region] = []
    for start, end in sorted(speech):
        cursor = start
        for ws, we in spans:
            if we <= cursor or ws >= end:
                continue
            if ws - cursor >= min_s:
                out.append((cursor, ws))
            cursor = max(cursor, we)
        if end - cursor >= min_s:
            out.append((cursor, end))
    return out
