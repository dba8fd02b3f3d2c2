"""Speaker-count hints for a session: what the upload (API form, CLI, web form) says about how many
people speak, resolved into the diarizer's num_speakers / min_speakers / max_speakers.

Pure logic, no I/O. A session type gives defaults; explicit counts win over them:

- individual → exactly 2 (therapist and client);
- couple → exactly 3 (two clients and the therapist);
- family → 3 to 6 (the therapist and two to five relatives);
- group → at least 3 (up to the hint limit);
- nothing given → unknown: the diarizer counts on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

SessionType = Literal["individual", "couple", "family", "group"]
SESSION_TYPES: tuple[str, ...] = get_args(SessionType)
MIN_HINT = 1
MAX_HINT = 10

# session type → (num_speakers, min_speakers, max_speakers)
TYPE_DEFAULTS: dict[str, tuple[int | None, int | None, int | None]] = {
    "individual": (2, None, None),
    "couple": (3, None, None),
    "family": (None, 3, 6),
    "group": (None, 3, None),
}


class HintError(ValueError):
    """A hint that cannot be used; `field` names the offending form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SpeakerHints:
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    session_type: str | None = None

    @property
    def empty(self) -> bool:
        return self.num_speakers is None and self.min_speakers is None and self.max_speakers is None


def parse_count(field: str, raw: str | int | None) -> int | None:
    """A form value → a count in MIN_HINT..MAX_HINT, None when absent or blank."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = int(raw.strip()) if isinstance(raw, str) else int(raw)
    except ValueError:
        raise HintError(field, f"expected a whole number from {MIN_HINT} to {MAX_HINT}") from None
    if not MIN_HINT <= value <= MAX_HINT:
        raise HintError(field, f"expected a whole number from {MIN_HINT} to {MAX_HINT}")
    return value


def parse_session_type(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    value = raw.strip().lower()
    if value not in SESSION_TYPES:
        raise HintError("session_type", f"expected one of {', '.join(SESSION_TYPES)}")
    return value


def resolve_hints(
    num_speakers: int | None = None,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
    session_type: str | None = None,
) -> SpeakerHints:
    """Explicit counts, else the session type's defaults; checked for consistency.

    Any explicit count replaces every default of the session type (an individual session with
    `max_speakers=3` is "up to 3", not "exactly 2 and at most 3").
    """
    for name, value in (("num_speakers", num_speakers), ("min_speakers", min_speakers),
                        ("max_speakers", max_speakers)):
        if value is not None and not MIN_HINT <= value <= MAX_HINT:
            raise HintError(name, f"expected a whole number from {MIN_HINT} to {MAX_HINT}")
    session_type = parse_session_type(session_type)
    if num_speakers is None and min_speakers is None and max_speakers is None and session_type is not None:
        num_speakers, min_speakers, max_speakers = TYPE_DEFAULTS[session_type]
    if min_speakers is not None and max_speakers is not None and min_speakers > max_speakers:
        raise HintError("min_speakers", f"min_speakers ({min_speakers}) is more than max_speakers ({max_speakers})")
    if num_speakers is not None:
        if min_speakers is not None and num_speakers < min_speakers:
            raise HintError("num_speakers", f"num_speakers ({num_speakers}) is less than min_speakers ({min_speakers})")
        if max_speakers is not None and num_speakers > max_speakers:
            raise HintError("num_speakers", f"num_speakers ({num_speakers}) is more than max_speakers ({max_speakers})")
        min_speakers = max_speakers = None  # an exact count says it all
    return SpeakerHints(num_speakers, min_speakers, max_speakers, session_type)
