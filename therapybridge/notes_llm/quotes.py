"""Checking a model's quotes against the transcript, and evidence built from the transcript itself.

A chat model asked for "the client's words" paraphrases, merges sentences, or invents them. So every
quote it returns is looked up in the transcript and kept only when it is there *verbatim*: the same
words in the same order inside one speaker turn, ignoring only case, punctuation and spacing (which
transcripts and models write differently). A quote that is not found is dropped. What is kept is never
the model's string: the evidence (start, end, speaker, quote) comes from the transcript sentences the
quote covers, so a note can only point at what was said.

Standard library only, so the io worker needs no extra dependency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from therapybridge.document import Evidence
from therapybridge.domain.risk import Sentence

# The "[mm:ss] Speaker:" label of our own transcript lines (chunks.transcript_lines), which a model may
# copy along with the words; it is not part of what was said.
_LINE_LABEL = re.compile(r"^\s*\[\d+:\d\d(?::\d\d)?\]\s*[^:\n]{1,40}:\s*")
MIN_QUOTE_WORDS = 3  # "yes", "I see": too short to show where an item comes from
MAX_EVIDENCE = 3  # per item, as the local extractor


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))


@dataclass
class _Turn:
    words: list[str] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)  # the sentence (index into Transcript.sentences) of each word


class Transcript:
    """The sentences a quote may come from, indexed by speaker turn for verbatim look-up."""

    def __init__(self, sentences: list[Sentence]) -> None:
        self.sentences = sentences
        turns: dict[int, _Turn] = {}
        for i, s in enumerate(sentences):
            w = words(s.text)
            t = turns.setdefault(s.turn, _Turn())
            t.words += w
            t.owner += [i] * len(w)
        # " a b c " strings so a quote matches whole words only
        self._turns = [(f" {' '.join(t.words)} ", t) for t in turns.values()]

    def find(self, quote: str) -> list[Sentence]:
        """The sentences the quote covers, in order; [] when it is not in the transcript verbatim."""
        q = words(_LINE_LABEL.sub("", quote))
        if len(q) < MIN_QUOTE_WORDS:
            return []
        needle = f" {' '.join(q)} "
        for text, turn in self._turns:
            pos = text.find(needle)
            if pos >= 0:
                first = text.count(" ", 0, pos)  # word index of the match
                covered = dict.fromkeys(turn.owner[first : first + len(q)])
                return [self.sentences[i] for i in covered]
        return []


@dataclass
class QuoteTally:
    """How many of the model's quotes were checked and how many were not in the transcript."""

    checked: int = 0
    dropped: int = 0

    def note(self, found: bool) -> None:
        self.checked += 1
        self.dropped += not found


def evidence(quotes: list[str], transcript: Transcript, tally: QuoteTally) -> list[Evidence]:
    """Evidence for an item from the model's quotes: transcript sentences only, absent quotes dropped."""
    out: dict[tuple[float, str], Evidence] = {}
    for quote in quotes:
        found = transcript.find(quote)
        tally.note(bool(found))
        for s in found:
            e = Evidence(start=round(s.start, 2), end=round(s.end, 2), speaker=s.speaker, quote=s.text)
            out.setdefault((e.start, e.quote), e)
    return list(out.values())[:MAX_EVIDENCE]
