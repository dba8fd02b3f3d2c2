"""Local, deterministic risk detection over a speaker-attributed transcript.

Always runs (the LLM provider only adds findings). Pure functions: no I/O, no logging of text.

How it works
------------
1. `split_sentences` joins consecutive segments of one speaker into turns and splits the turns into
   sentences (punctuation, else long pauses), each with its own start/end from the word timings. A
   segment may hold several sentences and a sentence may span segments; missing punctuation is fine.
2. Each sentence the client may have said (role "client", or role unknown) is normalised (lower case,
   ASR spellings such as "my self", "dont", "better of" repaired) and matched against trigger
   patterns per risk type. Every match gets a status from its own clause:
   - hypothetical: inside the antecedent of "if / what if / suppose / in case ..." → ignored;
   - attributed / third party: its subject is someone else ("my friend tried to kill herself",
     "my mom worries I'll hurt myself") → ignored;
   - negated: a negator sits between its subject and its verb ("I've never hurt myself") → a denial;
   - otherwise positive → a flag.
   Obvious therapist questions ("are you having thoughts of ending your life?") never match because
   self-directed patterns require the first person; unknown-role second-person questions are skipped.
3. A direct risk question followed by a plain "yes" / "no" answer gives a flag or a denial too.
4. Severity follows explicit rules (see `_severity`): plan, intent, means, recency and past attempts
   raise it, history-only lowers it.

Modules: sentences.py (splitting and normalising), lexicon.py (the trigger phrases and word lists, as
data), clauses.py (whose words, negation, hypotheticals), severity.py, detect.py (flags and denials).
"""

from therapybridge.domain.risk.clauses import may_be_client
from therapybridge.domain.risk.detect import detect_risks, detect_risks_in_sentences
from therapybridge.domain.risk.sentences import Sentence, normalise, split_sentences

__all__ = ["Sentence", "detect_risks", "detect_risks_in_sentences", "may_be_client", "normalise", "split_sentences"]
