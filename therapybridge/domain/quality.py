"""Is this a recording the therapist/client roles and the clinical notes can stand on?

The roles assume two voices, a therapist and a client; the notes assume a conversation long enough to
say something about mood, topics and strategies, transcribed well enough to quote. A 30-s meeting
excerpt with four voices got "Therapist"/"Client" labels and "Client presented as calm" (issue 16).
When any assumption fails the document carries warnings and the page shows them in place of the
clinical prose. Risk flags are kept and shown regardless: a missed flag costs more than a doubtful one.
"""

from __future__ import annotations

from therapybridge.document import QualityWarning, Segment, Speaker

EXPECTED_SPEAKERS = 2  # an individual session: therapist and client
# Below these the notes have too little to go on (a therapy session runs tens of minutes).
MIN_SPEECH_S = 60.0
MIN_WORDS = 100
# Whisper's word probabilities: clear speech averages well above 0.8; below this much of the text is
# guessed (noise, crosstalk, a language the model does not know).
MIN_MEAN_WORD_PROBABILITY = 0.6


def quality_warnings(speakers: list[Speaker], segments: list[Segment], diarization: str) -> list[QualityWarning]:
    """The reasons the roles or notes of a processed session are unreliable; empty when none."""
    out: list[QualityWarning] = []
    voices = [s for s in speakers if s.talk_seconds > 0]
    if diarization == "unavailable":
        out.append(
            QualityWarning(
                code="speakers",
                message="The voices could not be told apart, so nobody is known to be the therapist or the client.",
            )
        )
    elif len(voices) != EXPECTED_SPEAKERS:
        out.append(
            QualityWarning(
                code="speakers",
                message=f"{len(voices)} voice{'s' if len(voices) != 1 else ''} were found, not a therapist and a "
                "client: the roles and notes assume a two-person session.",
            )
        )
    words = [w for s in segments for w in s.words]
    n_words = len(words) or sum(len(s.text.split()) for s in segments)
    speech_s = sum(max(0.0, s.end - s.start) for s in segments)
    if speech_s < MIN_SPEECH_S or n_words < MIN_WORDS:
        out.append(
            QualityWarning(
                code="little_speech",
                message=f"Only {speech_s:.0f} s of speech ({n_words} words): too little for clinical notes.",
            )
        )
    if words:
        mean_p = sum(w.probability for w in words) / len(words)
        if mean_p < MIN_MEAN_WORD_PROBABILITY:
            out.append(
                QualityWarning(
                    code="low_asr_confidence",
                    message=f"The speech recognition was unsure of much of the text (mean word confidence "
                    f"{mean_p:.2f}); check the transcript against the recording.",
                )
            )
    return out
