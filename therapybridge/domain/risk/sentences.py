"""Transcript segments as sentences: turns split at punctuation or long pauses, normalised words, clauses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from therapybridge.document import Segment

TURN_GAP_S = 2.0  # same speaker, shorter silence: one turn (a sentence may continue)
PAUSE_SPLIT_S = 1.2  # unpunctuated text: a pause this long ends a sentence
_ABBREV = frozenset({"mr.", "mrs.", "ms.", "dr.", "st.", "vs.", "e.g.", "i.e.", "approx.", "no."})


@dataclass
class Sentence:
    text: str  # as transcribed
    start: float
    end: float
    speaker: str
    role: str | None
    turn: int  # index of the speaker turn it belongs to
    index: int = 0  # position in the transcript's sentence list
    norm: str = ""  # normalised words, no punctuation
    tokens: list[str] = field(default_factory=list)
    boundary: list[bool] = field(default_factory=list)  # a clause boundary before token i
    offsets: list[int] = field(default_factory=list)  # char offset of token i in `norm`

    @property
    def is_question(self) -> bool:
        if self.text.rstrip().endswith("?"):
            return True
        t = self.tokens
        return len(t) >= 2 and t[0] in _Q_AUX and t[1] in ("you", "your", "there", "anything", "any")


_Q_AUX = frozenset(
    [
        "are",
        "have",
        "has",
        "had",
        "do",
        "does",
        "did",
        "would",
        "will",
        "could",
        "can",
        "is",
        "was",
        "were",
        "any",
        "anything",
        "ever",
    ]
)


def _seg_tokens(seg: Segment) -> list[tuple[str, float, float]]:
    """The segment's whitespace tokens with times: from its words when they line up, else spread."""
    toks = seg.text.split()
    if not toks:
        return []
    words = [w for w in seg.words if w.word.strip()]
    if len(words) == len(toks):
        return [(t, w.start, w.end) for t, w in zip(toks, words, strict=True)]
    span = max(seg.end - seg.start, 0.0)
    total = sum(len(t) + 1 for t in toks)
    out: list[tuple[str, float, float]] = []
    pos = 0
    for t in toks:
        a = seg.start + span * pos / total
        pos += len(t) + 1
        out.append((t, a, seg.start + span * pos / total))
    return out


def _ends_sentence(tok: str) -> bool:
    t = tok.rstrip("\"')]”’")
    if not t or t[-1] not in ".?!":
        return False
    return t.lower() not in _ABBREV and not re.fullmatch(r"(?:[a-z]\.){2,}", t.lower())


def split_sentences(segments: list[Segment]) -> list[Sentence]:
    """Sentences in time order, each attributed to the speaker (and role) of its turn."""
    sentences: list[Sentence] = []
    turn = -1
    prev: Segment | None = None
    cur: list[tuple[str, float, float]] = []
    cur_meta: tuple[str, str | None] = ("", None)

    def flush() -> None:
        if cur:
            text = " ".join(t for t, _, _ in cur)
            sentences.append(Sentence(text, cur[0][1], cur[-1][2], cur_meta[0], cur_meta[1], turn))
            cur.clear()

    for seg in sorted(segments, key=lambda s: (s.start, s.end)):
        same_turn = (
            prev is not None
            and seg.speaker == prev.speaker
            and seg.role == prev.role
            and seg.start - prev.end <= TURN_GAP_S
        )
        if not same_turn:
            flush()
            turn += 1
            cur_meta = (seg.speaker, seg.role)
        real_times = bool(seg.words) and len([w for w in seg.words if w.word.strip()]) == len(seg.text.split())
        for tok, a, b in _seg_tokens(seg):
            if cur and real_times and a - cur[-1][2] >= PAUSE_SPLIT_S and len(cur) >= 3:
                flush()  # unpunctuated ASR text: a long pause is a sentence end
            cur.append((tok, a, b))
            if _ends_sentence(tok):
                flush()
        prev = seg
    flush()
    for i, s in enumerate(sentences):
        s.index = i
        _analyse(s)
    return sentences


_REPAIRS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), r)
    for p, r in [
        (r"\b(my|your|him|her|them|it|our) ?(?:self|selves)\b", r"\1self"),
        (r"\bmyself\b", "myself"),
        (r"\bthemself\b", "themselves"),
        (r"\bourself\b", "ourselves"),
        (r"\bevery (one|body|day|night|thing)\b", r"every\1"),
        (r"\bno ?body\b", "nobody"),
        (r"\bno one\b", "noone"),
        (r"\bany ?(one|body)\b", r"any\1"),
        (r"\bsome ?(one|body|times)\b", r"some\1"),
        (r"\bwith out\b", "without"),
        (r"\bbetter of\b", "better off"),
        (r"\bgonna\b", "going to"),
        (r"\bwanna\b", "want to"),
        (r"\bkinda\b", "kind of"),
        (r"\bsorta\b", "sort of"),
        (r"\bgotta\b", "got to"),
        (r"\bim\b", "i'm"),
        (r"\bive\b", "i've"),
        (r"\bid\b", "i'd"),
        (r"\b(don|doesn|didn|can|couldn|wouldn|shouldn|isn|aren|wasn|weren|haven|hasn|hadn)t\b", r"\1't"),
        (r"\bcannot\b", "can't"),
        (r"\bself harm", "selfharm"),
        (r"\bselfharm", "self harm"),
        (r"\b(um+|uh+|erm|hmm+|mm+)\b", " "),
    ]
]
_CLAUSE_WORDS = frozenset({"but", "although", "though", "however", "whereas", "except", "yet"})


def normalise(text: str) -> str:
    """Lower-case words and apostrophes only (punctuation dropped)."""
    t = text.lower().replace("’", "'").replace("‘", "'").replace("`", "'")
    t = re.sub(r"[^a-z0-9' ]+", " ", t.replace("-", " "))
    t = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", t)
    t = " ".join(t.split())
    for pat, rep in _REPAIRS:
        t = pat.sub(rep, t)
    return " ".join(t.split())


def _analyse(s: Sentence) -> None:
    """Fill norm/tokens/offsets and the clause boundaries (punctuation or a contrast word)."""
    toks: list[str] = []
    bounds: list[bool] = []
    pending = False
    for piece in re.split(r"([,;:—–()]|\s-\s)", s.text):
        if re.fullmatch(r"[,;:—–()]|\s-\s", piece or ""):
            pending = True
            continue
        for w in normalise(piece).split():
            toks.append(w)
            bounds.append(pending or w in _CLAUSE_WORDS)
            pending = False
    s.tokens = toks
    s.boundary = bounds
    s.norm = " ".join(toks)
    offs, pos = [], 0
    for w in toks:
        offs.append(pos)
        pos += len(w) + 1
    s.offsets = offs
