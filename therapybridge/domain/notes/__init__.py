"""Deterministic local notes: topics, mood, strategies, action items, therapist note, client summary.

Pure functions over the merged transcript (segments with roles); risk flags come from risk.py and
analytics from analytics.py. Nothing here logs or stores text anywhere.

Strategies come from a catalogue of evidence-based techniques (CATALOGUE): each entry has trigger
patterns, a category and a plain-language description for the client summary. Status rules:
"reviewed" when the session refers to it as earlier work ("last week you started the sleep diary"),
"practiced" when earlier work is also rehearsed in session ("let's practise it now"), else
"introduced". Action items come from assignment sentences ("for homework...", "I'd like you to...",
"could you...", the therapist's summary) and the client's own commitments ("I'll call the doctor
tomorrow"), split into single tasks and categorised homework / referral / safety / follow-up.

Modules: strategies.py, actions.py, topics.py, narrative.py, extract.py (the entry point).
"""

from therapybridge.domain.notes.actions import find_action_items
from therapybridge.domain.notes.extract import extract_notes
from therapybridge.domain.notes.strategies import find_strategies

__all__ = ["extract_notes", "find_action_items", "find_strategies"]
