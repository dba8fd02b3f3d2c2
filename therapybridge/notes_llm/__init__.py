"""Notes from an OpenAI-compatible chat model, grounded in the transcript, with the local notes as fallback.

provider.py is the entry point (extract_notes_llm, extract_notes_llm_strict); client.py the transport,
schema.py the structured answer and prompt, chunks.py long transcripts, quotes.py + grounding.py the
check of every quote against the transcript.
"""

from therapybridge.notes_llm.client import NotesProviderError
from therapybridge.notes_llm.provider import extract_notes_llm, extract_notes_llm_strict

__all__ = ["NotesProviderError", "extract_notes_llm", "extract_notes_llm_strict"]
