"""Sign-off rows as the API shows them: versions with their authors' emails and diffs, risk flags with
their latest review, and a session's audit events as its history."""

from __future__ import annotations

from therapybridge import signoff
from therapybridge.api.models import FlagState, HistoryEntry, KindState, SignoffState, VersionPublic
from therapybridge.db import AuditEvent, FlagReview, NoteVersion, SessionRecord
from therapybridge.domain.signoff import FINAL_STATUS, diff, make_flag_id


def version_public(v: NoteVersion, who: dict[str, str], with_diff: str | None = None) -> VersionPublic:
    return VersionPublic(
        kind=v.kind,  # type: ignore[arg-type]
        version=v.version,
        status=v.status,  # type: ignore[arg-type]
        format=v.format,  # type: ignore[arg-type]
        text=v.text,
        source=v.source,  # type: ignore[arg-type]
        based_on=v.based_on,
        reason=v.reason,
        created_by=v.created_by,
        created_by_email=who.get(v.created_by or ""),
        created_at=v.created_at,
        signed_by=v.signed_by,
        signed_by_email=who.get(v.signed_by or ""),
        signed_at=v.signed_at,
        diff=with_diff,
    )


def diffs(vs: list[NoteVersion]) -> dict[int, str | None]:
    by_number = {v.version: v for v in vs}
    out: dict[int, str | None] = {}
    for v in vs:
        base = by_number.get(v.based_on) if v.based_on else None
        out[v.version] = diff(base.text, v.text, f"version {base.version}", f"version {v.version}") if base else None
    return out


def flag_states(row: SessionRecord, reviews: dict[str, FlagReview], who: dict[str, str]) -> list[FlagState]:
    out = []
    for f in signoff.flags_of(row):
        fid = make_flag_id(f)
        r = reviews.get(fid)
        out.append(
            FlagState(
                id=fid, type=f.type, severity=f.severity, quote=f.quote, start=f.start, end=f.end, speaker=f.speaker,
                source=f.source, rationale=f.rationale, status=r.decision if r else "open",  # type: ignore[arg-type]
                reason=r.reason if r else None, reviewed_by=r.user_id if r else None,
                reviewed_by_email=who.get(r.user_id) if r else None, reviewed_at=r.at if r else None,
            )
        )  # fmt: skip
    return out


def signoff_state_of(
    row: SessionRecord, kinds: dict[str, list[NoteVersion]], reviews: dict[str, FlagReview], who: dict[str, str]
) -> SignoffState:
    """The note and the summary (current and final version), and every flag with its latest review."""

    def state(kind: str) -> KindState:
        vs = kinds[kind]
        cur, fin = signoff.head(vs), signoff.latest_final(vs, kind)
        return KindState(
            current=version_public(cur, who) if cur else None,
            final=version_public(fin, who) if fin else None,
            versions=len(vs),
        )

    summary_head = signoff.head(kinds["summary"])
    return SignoffState(
        session_id=row.id,
        note_status=row.note_status,  # type: ignore[arg-type]
        open_flags=row.open_flags or 0,
        note=state("note"),
        summary=state("summary"),
        flags=flag_states(row, reviews, who),
        summary_exportable=summary_head is not None and summary_head.status == FINAL_STATUS["summary"],
    )


def history_entries(
    events: list[AuditEvent],
    kinds: dict[str, list[NoteVersion]],
    reviews: list[FlagReview],
    who: dict[str, str],
) -> list[HistoryEntry]:
    """Each event with what it refers to: a version (its number, format, reason and, for edits, the diff
    from the version it is based on) or a flag review (the decision and its reason)."""
    changes = {k: diffs(vs) for k, vs in kinds.items()}
    by_ref = {f"{k}:{v.version}": v for k, vs in kinds.items() for v in vs}
    review_by_ref = {f"flag:{r.flag_id}:{r.id}": r for r in reviews}
    out = []
    for e in events:
        entry = HistoryEntry(at=e.at, user_id=e.user_id, user_email=who.get(e.user_id), action=e.action, ref=e.ref)
        version = by_ref.get(e.ref or "")
        if version is not None:
            parts = [f"version {version.version}", version.format.upper() if version.format else None]
            if version.reason:
                parts.append(f"reason: {version.reason}")
            entry.detail = ", ".join(p for p in parts if p)
            if e.action.endswith((".edit", ".amend", ".reprocess")):
                entry.diff = changes[version.kind][version.version]
        review = review_by_ref.get(e.ref or "")
        if review is not None:
            entry.detail = f"{review.decision}: {review.reason}"
        out.append(entry)
    return out
