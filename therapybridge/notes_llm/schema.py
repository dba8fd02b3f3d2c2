"""The structured answer asked of the model: its pydantic models, the JSON schema (strict, and bounded
for grammar-constrained servers) and the system prompt."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from therapybridge.document import RiskType, Severity


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LlmStrategy(_Strict):
    name: str
    category: str
    status: Literal["introduced", "practiced", "reviewed"]
    context: str
    quotes: list[str] = []  # transcript sentences that show it; checked, never shown as the model wrote them


class LlmAction(_Strict):
    task: str
    category: Literal["homework", "referral", "safety", "follow-up"]
    details: str
    quotes: list[str] = []


class LlmTopic(_Strict):
    text: str
    quotes: list[str] = []


class LlmRisk(_Strict):
    type: RiskType
    severity: Severity
    quote: str
    rationale: str


class LlmNotes(_Strict):
    key_topics: list[LlmTopic]
    patient_mood: str
    strategies: list[LlmStrategy]
    action_items: list[LlmAction]
    risk_flags: list[LlmRisk]
    therapist_notes: str
    patient_summary: str
    mood_quotes: list[str] = []

    @field_validator("key_topics", mode="before")
    @classmethod
    def _plain_topics(cls, v: object) -> object:
        """A bare string is a topic without quotes (older prompts, lenient servers)."""
        return [{"text": t} if isinstance(t, str) else t for t in v] if isinstance(v, list) else v


def _obj(**props: dict[str, object]) -> dict[str, object]:
    """A strict object: every property required, no extras (what OpenAI's strict mode demands)."""
    return {"type": "object", "additionalProperties": False, "required": list(props), "properties": props}


def _str(*enum: str) -> dict[str, object]:
    return {"type": "string", "enum": list(enum)} if enum else {"type": "string"}


def _list(items: dict[str, object]) -> dict[str, object]:
    return {"type": "array", "items": items}


def _schema() -> dict[str, object]:
    """Strict JSON schema for response_format, in the field order the model should write."""
    quotes = _list(_str())
    return _obj(
        key_topics=_list(_obj(text=_str(), quotes=quotes)),
        patient_mood=_str(),
        mood_quotes=quotes,
        strategies=_list(
            _obj(
                name=_str(),
                category=_str(),
                status=_str("introduced", "practiced", "reviewed"),
                context=_str(),
                quotes=quotes,
            )
        ),
        action_items=_list(
            _obj(
                task=_str(), category=_str("homework", "referral", "safety", "follow-up"), details=_str(), quotes=quotes
            )
        ),
        risk_flags=_list(
            _obj(
                type=_str("suicidal_ideation", "self_harm", "harm_to_others", "substance_use", "abuse_or_neglect"),
                severity=_str("low", "moderate", "high"),
                quote=_str(),
                rationale=_str(),
            )
        ),
        therapist_notes=_str(),
        patient_summary=_str(),
    )


NOTES_SCHEMA = _schema()

# Grammar-constrained servers (llama.cpp) follow the schema token by token; a small model can repeat an
# array item or a phrase until max_tokens, or write nothing but empty lists. Bounds end such loops inside
# valid JSON, and at least one topic with one quote is required, so every answer can be checked against
# the transcript. Only in json_object mode: OpenAI's strict mode takes the strict subset above.
MAX_ITEMS = 3  # per list; gemma3-270m repeated one strategy until max_tokens when allowed 6
MAX_QUOTES = 2
MAX_TEXT_CHARS = 400


def _bounded(node: object, key: str, items: int, quotes: int, chars: int) -> object:
    if isinstance(node, dict):
        out = {k: _bounded(v, k, items, quotes, chars) for k, v in node.items()}
        if out.get("type") == "array":
            out["maxItems"] = quotes if key in ("quotes", "mood_quotes") else items
        elif out.get("type") == "string" and "enum" not in out:
            out["maxLength"] = chars
        return out
    return node


def bounded_schema(
    max_items: int = MAX_ITEMS, max_quotes: int = MAX_QUOTES, max_text_chars: int = MAX_TEXT_CHARS
) -> dict[str, object]:
    """NOTES_SCHEMA with the bounds above (smaller ones bound the answer's length in tokens)."""
    schema = _bounded(NOTES_SCHEMA, "", max_items, max_quotes, max_text_chars)
    topics = schema["properties"]["key_topics"]  # type: ignore[index]
    topics["minItems"] = 1
    topics["items"]["properties"]["quotes"]["minItems"] = 1
    return schema  # type: ignore[return-value]


BOUNDED_SCHEMA = bounded_schema()

SYSTEM_PROMPT = """You write clinical notes from a psychotherapy session transcript.
Lines look like "[mm:ss] Therapist: ..." or "[mm:ss] Client: ..." (or "Speaker N" when roles are unknown).
Return JSON that matches the schema:
- key_topics: 3-6 short noun phrases (text).
- patient_mood: a short description of the client's mood and affect, including change during the session.
- strategies: evidence-based techniques used (e.g. CBT thought records, behavioral activation, exposure,
  grounding, breathing, sleep hygiene, safety planning, I statements, mindfulness, DBT skills) with category and
  status: introduced (new today), practiced (earlier work rehearsed today) or reviewed (earlier work discussed).
- action_items: each agreed task once, category homework, referral, safety or follow-up, details when/how.
- risk_flags: only statements by the CLIENT (never the therapist's questions) that indicate suicidal ideation
  (passive counts), self-harm, harm to others (including stalking or revenge plans), risky substance use, or
  abuse or neglect. Denials ("No, I've never hurt myself") are NOT flags. Talk about other people is not the
  client's risk. quote must be the client's sentence copied exactly from the transcript.
- quotes and mood_quotes: one or two sentences copied word for word from the transcript that show the item,
  without the time or the speaker label. Quotes that are not in the transcript are discarded.
- therapist_notes: a concise clinical note in the third person ("Client reported ...").
- patient_summary: for the client, second person, plain words, no jargon, warm; mention any safety plan gently.
If the transcript is one part of a longer session, describe only this part."""
