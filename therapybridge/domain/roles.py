"""Therapist or client: a role for every speaker label from conversational evidence.

Pure functions. Evidence per speaker: questions asked, therapist-style phrases (reflections,
invitations, homework), first-person disclosure, who opens and closes the session, share of talk.
An enrolled therapist voiceprint, when given, outweighs the text. Unsure → role None.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from therapybridge.document import UNKNOWN_SPEAKER, Segment, Speaker

# Phrases therapists use far more than clients: reflections, invitations, structuring, homework.
_THERAPIST_PATTERNS = [
    r"\bit sounds like\b", r"\bsounds like\b", r"\bwhat i(?:'m| am) hearing\b", r"\bso you(?:'re| are)\b",
    r"\bhow (?:do|did|does|would|are|is|has|have) (?:you|that|it)\b", r"\bwhat (?:do|did|does|would|was|is) \w+",
    r"\bcan you (?:tell|describe|say|think)\b", r"\btell me (?:more|about)\b", r"\bi(?:'d| would) like (?:you|us)\b",
    r"\blet(?:'s| us)\b", r"\bfor (?:this|next) week\b", r"\bhomework\b", r"\bnext session\b",
    r"\bwould you be willing\b", r"\bon a scale\b", r"\bi wonder\b", r"\bthat makes sense\b",
    r"\bwhat (?:would|might|could)\b", r"\bhow about\b", r"\bwe(?:'ll| will) (?:try|practice|look)\b",
    r"\bone thing (?:we|you) (?:could|can)\b", r"\bi want to (?:check|ask)\b", r"\bhow has (?:the|your)\b",
]
_CLIENT_PATTERNS = [
    r"\bi feel\b", r"\bi felt\b", r"\bmy (?:boss|wife|husband|partner|mom|mother|dad|father|job|manager|kids?)\b",
    r"\bi(?:'ve| have) been\b", r"\bi can't\b", r"\bi don't know\b", r"\bi keep\b", r"\bi just\b", r"\bi guess\b",
    r"\bi tried\b", r"\bi was\b", r"\bhonestly\b", r"\bi think i\b",
]
_T_RE = re.compile("|".join(_THERAPIST_PATTERNS), re.I)
_C_RE = re.compile("|".join(_CLIENT_PATTERNS), re.I)


@dataclass(frozen=True)
class RoleConfig:
    min_margin: float = 1.0  # below this evidence margin (≈ half a question per 100 words) roles stay None
    voiceprint_match: float = 0.80  # cosine above which a label is the enrolled therapist
    voiceprint_margin: float = 0.05  # ... and ahead of every other label by this much


@dataclass
class Evidence:
    words: int = 0
    segments: int = 0
    questions: int = 0
    therapist_phrases: int = 0
    client_phrases: int = 0
    first: bool = False
    last: bool = False


def gather_evidence(segments: list[Segment]) -> dict[str, Evidence]:
    ev: dict[str, Evidence] = defaultdict(Evidence)
    spoken = [s for s in segments if s.speaker != UNKNOWN_SPEAKER and s.text.strip()]
    for s in spoken:
        e = ev[s.speaker]
        e.words += len(s.text.split())
        e.segments += 1
        e.questions += s.text.count("?")
        e.therapist_phrases += len(_T_RE.findall(s.text))
        e.client_phrases += len(_C_RE.findall(s.text))
    if spoken:
        ev[spoken[0].speaker].first = True
        ev[spoken[-1].speaker].last = True
    return dict(ev)


def therapist_score(e: Evidence) -> float:
    """Evidence rate per 100 words, positive for therapist-like speech."""
    per = 100.0 / max(e.words, 20)
    score = per * (2.0 * e.questions + 1.5 * e.therapist_phrases - 1.0 * e.client_phrases)
    score += 0.3 * e.first + 0.2 * e.last  # therapists usually open and close; weak alone
    return score


def assign_roles(
    segments: list[Segment],
    speakers: list[Speaker],
    voiceprint_match: dict[str, float] | None = None,
    cfg: RoleConfig | None = None,
) -> list[Speaker]:
    """Speakers with `role` set: one therapist, the others clients; all None when unsure."""
    cfg = cfg or RoleConfig()
    labels = [s.label for s in speakers if s.label != UNKNOWN_SPEAKER]
    therapist = _by_voiceprint(labels, voiceprint_match or {}, cfg)
    if therapist is None:
        therapist = _by_conversation(labels, gather_evidence(segments), cfg)
    out = []
    for sp in speakers:
        role = None
        if therapist is not None and sp.label != UNKNOWN_SPEAKER:
            role = "therapist" if sp.label == therapist else "client"
        out.append(sp.model_copy(update={"role": role}))
    return out


def _by_voiceprint(labels: list[str], match: dict[str, float], cfg: RoleConfig) -> str | None:
    scored = sorted(((match[lab], lab) for lab in labels if lab in match), reverse=True)
    if not scored or scored[0][0] < cfg.voiceprint_match:
        return None
    if len(scored) > 1 and scored[0][0] - scored[1][0] < cfg.voiceprint_margin:
        return None
    return scored[0][1]


def _by_conversation(labels: list[str], ev: dict[str, Evidence], cfg: RoleConfig) -> str | None:
    talking = [lab for lab in labels if lab in ev and ev[lab].words > 0]
    if len(talking) < 2:
        return None  # one voice: nothing to tell apart
    scores = sorted(((therapist_score(ev[lab]), lab) for lab in talking), reverse=True)
    if scores[0][0] - scores[1][0] < cfg.min_margin:
        return None
    return scores[0][1]
