"""Session analytics: talk-time share per role, longest client monologue, question counts.

Pure functions over segments (and the sentences risk.py splits them into). Values are plain numbers so
they fit `ExtractedNotes.analytics` (dict[str, float | int | None]).
"""

from __future__ import annotations

import re

from therapybridge.document import Segment, Speaker
from therapybridge.domain.risk import Sentence

MONOLOGUE_GAP_S = 2.0  # client segments closer than this (no therapist in between) form one monologue
_OPEN_START = re.compile(
    r"^(?:(?:and|so|okay|ok|now|well|then|right|good)\s+)*(?:what|how|why|where|when|who|which|tell me|describe"
    r"|talk me through|walk me through|say more|can you tell me|could you tell me|can you say|could you say"
    r"|could you describe|can you describe|what's|how's|in what way)\b"
)


def is_open_question(s: Sentence) -> bool:
    """A question that invites more than yes/no ("What happened?", "Tell me about ...")."""
    if not s.tokens:
        return False
    if s.is_question or s.norm.startswith(("tell me", "describe", "talk me through", "walk me through")):
        return bool(_OPEN_START.search(s.norm))
    return False


def session_analytics(
    segments: list[Segment], speakers: list[Speaker], sentences: list[Sentence]
) -> dict[str, float | int | None]:
    """Talk-time shares (0..1) per role, the longest client monologue in seconds, questions asked."""
    role_of = {sp.label: sp.role for sp in speakers}
    talk: dict[str, float] = {"therapist": 0.0, "client": 0.0, "unknown": 0.0}
    for seg in segments:
        role = seg.role or role_of.get(seg.speaker) or "unknown"
        talk[role] += max(0.0, seg.end - seg.start)
    total = sum(talk.values())

    def share(role: str) -> float | None:
        return round(talk[role] / total, 3) if total > 0 else None

    longest = 0.0
    cur_start: float | None = None
    cur_end = 0.0
    for seg in sorted(segments, key=lambda x: x.start):
        role = seg.role or role_of.get(seg.speaker)
        if role == "client":
            if cur_start is None or seg.start - cur_end > MONOLOGUE_GAP_S:
                cur_start = seg.start
            cur_end = max(cur_end, seg.end)
            longest = max(longest, cur_end - cur_start)
        elif role == "therapist" and seg.end - seg.start > 1.0:
            cur_start = None  # a backchannel ("Mm-hmm") does not end the client's monologue
    has_client = any((seg.role or role_of.get(seg.speaker)) == "client" for seg in segments)

    asker = [s for s in sentences if s.role != "client"]
    known_roles = any(s.role for s in sentences)
    therapist_q = [s for s in asker if s.is_question and (s.role == "therapist" or not known_roles)]
    open_q = sum(1 for s in therapist_q if is_open_question(s))
    duration = (max(s.end for s in segments) - min(s.start for s in segments)) if segments else 0.0
    return {
        "talk_share_therapist": share("therapist"),
        "talk_share_client": share("client"),
        "talk_share_unknown": share("unknown"),
        "talk_seconds_total": round(total, 1),
        "longest_client_monologue_s": round(longest, 1) if has_client else None,
        "open_questions": open_q,
        "closed_questions": len(therapist_q) - open_q,
        "questions_total": len(therapist_q),
        "session_duration_s": round(duration, 1),
    }
