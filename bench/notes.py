"""Notes and risk quality on the synthetic corpus.

    python -m bench.notes CORPUS_DIR [--truth-text] [--cache out/notes_bench] [--refresh]

By default the notes run on the transcripts the pipeline really produces: faster-whisper (ASR) on the
16 kHz audio, the diarizer, merge and role assignment. ASR output and diarizer turns are cached under
`--cache` (gitignored `out/`), so reruns only redo the notes. `--truth-text` runs on the scripts'
exact turns instead (speaker = role, as the CI test does).

Scoring (per file and overall):

- risk recall: an expected flag counts as found when a produced flag of the same type has a quote that
  overlaps the expected client sentence (token-set similarity >= 60 on normalised text, or one quote
  contains the other) — ASR never gives the exact sentence back.
- false flags: produced flags that match no expected flag of their type.
- denials flagged: expected `negated_risk_quotes` that some produced flag quotes (any type).
- strategy recall / action-item recall: an expected item (strategy name, action task) counts as found
  when some produced item (name, task) reaches a Dice coefficient >= 0.5 over content words (lower
  case, number words unified, function words dropped, crude suffix stripping); each produced item
  matches at most one expected item (greedy, best pairs first). Produced context/details are not used.
- status: of the matched strategies, how many have the expected introduced/practiced/reviewed status.

The same scoring functions back tests/quality/test_notes_corpus.py.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from therapybridge.document import ExtractedNotes, Segment, Speaker, SpeakerTurn, Word
from therapybridge.domain.notes import extract_notes

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = REPO / "out" / "notes_bench"
QUOTE_THRESHOLD = 60.0
STRATEGY_THRESHOLD = 0.5
ACTION_THRESHOLD = 0.5

# Number words ASR may write as digits (and back), so "five four three" matches "5, 4, 3".
_NUM = {
    "0": "zero",
    "1": "one",
    "2": "two",
    "3": "three",
    "4": "four",
    "5": "five",
    "6": "six",
    "7": "seven",
    "8": "eight",
    "9": "nine",
    "10": "ten",
    "20": "twenty",
}


def norm(text: str) -> str:
    t = text.lower().replace("-", " ").replace("’", "'")
    t = re.sub(r"[^a-z0-9' ]+", " ", t)
    return " ".join(_NUM.get(w, w) for w in t.split())


def quote_match(a: str, b: str) -> bool:
    """Two renderings of the same client sentence (ASR vs script): containment or close fuzzy match."""
    na, nb = norm(a), norm(b)
    if not na or not nb:
        return False
    if na in nb or nb in na:
        return True
    return fuzz.token_set_ratio(na, nb) >= QUOTE_THRESHOLD and fuzz.partial_ratio(na, nb) >= QUOTE_THRESHOLD


# Function words ignored when comparing items; "after", "until", "out", "once" etc. stay (they carry meaning).
_STOP = frozenset(
    str.split(
        "a an the to of and or in on at for with your you my i me it its this that these those be is are was were "
        "will would can could should do does did have has had so just also some any each very really maybe please "
        "like then there their them they he she we us our his her about from by as into than"
    )
)


def stem(w: str) -> str:
    """Crude suffix stripping so 'practicing'/'practice', 'records'/'record', 'behavioural'/'behavioral' meet."""
    w = w.replace("behaviour", "behavior").replace("practis", "practic")
    for suf, rep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suf) and len(w) - len(suf) >= 3 and not (suf == "s" and w.endswith("ss")):
            w = w[: -len(suf)] + rep
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiousl":
        w = w[:-1]
    return w


def content(text: str) -> set[str]:
    return {stem(w) for w in norm(text).split() if w not in _STOP}


def item_score(expected: str, produced: str) -> float:
    """Dice coefficient of the two content-word sets (0..1)."""
    a, b = content(expected), content(produced)
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def _greedy(expected: list[str], produced: list[str], threshold: float) -> tuple[int, list[tuple[str, str]]]:
    """Expected items matched one-to-one by produced items (best pairs first, score >= threshold)."""
    pairs: list[tuple[float, int, int]] = []
    for i, e in enumerate(expected):
        for j, p in enumerate(produced):
            score = item_score(e, p)
            if score >= threshold:
                pairs.append((score, i, j))
    used_e: set[int] = set()
    used_p: set[int] = set()
    matched: list[tuple[str, str]] = []
    for _score, i, j in sorted(pairs, reverse=True):
        if i in used_e or j in used_p:
            continue
        used_e.add(i)
        used_p.add(j)
        matched.append((expected[i], produced[j]))
    return len(used_e), matched


@dataclass
class Score:
    file: str
    risk_expected: int = 0
    risk_found: int = 0
    false_flags: int = 0
    denials: int = 0
    denials_flagged: int = 0
    strategies_expected: int = 0
    strategies_found: int = 0
    actions_expected: int = 0
    actions_found: int = 0
    status_correct: int = 0  # matched strategies whose status (introduced/practiced/reviewed) is right
    missed: list[str] = field(default_factory=list)  # descriptions for debugging, not printed by default


def score_notes(file_id: str, notes: ExtractedNotes, expected: dict) -> Score:
    s = Score(file=file_id)
    exp_flags = expected.get("risk_flags", [])
    s.risk_expected = len(exp_flags)
    used: set[int] = set()
    for ef in exp_flags:
        hit = [i for i, f in enumerate(notes.risk_flags) if f.type == ef["type"] and quote_match(f.quote, ef["quote"])]
        if hit:
            s.risk_found += 1
            used.update(hit)
        else:
            s.missed.append(f"risk {ef['type']}")
    s.false_flags = sum(1 for i in range(len(notes.risk_flags)) if i not in used)
    denials = expected.get("negated_risk_quotes", [])
    s.denials = len(denials)
    s.denials_flagged = sum(1 for d in denials if any(quote_match(f.quote, d) for f in notes.risk_flags))

    exp_strats = [x["name"] for x in expected.get("strategies", [])]
    s.strategies_expected = len(exp_strats)
    s.strategies_found, matched = _greedy(exp_strats, [x.name for x in notes.strategies], STRATEGY_THRESHOLD)
    status = {x.name: x.status for x in notes.strategies}
    exp_status = {x["name"]: x.get("status") for x in expected.get("strategies", [])}
    s.status_correct = sum(1 for e, p in matched if exp_status.get(e) == status.get(p))
    s.missed += [f"strategy: {e}" for e in exp_strats if e not in {m[0] for m in matched}]
    exp_actions = [x["task"] for x in expected.get("action_items", [])]
    s.actions_expected = len(exp_actions)
    s.actions_found, matched = _greedy(exp_actions, [x.task for x in notes.action_items], ACTION_THRESHOLD)
    s.missed += [f"action: {e}" for e in exp_actions if e not in {m[0] for m in matched}]
    return s


# --- inputs ---------------------------------------------------------------------------------------


def truth_inputs(script: dict) -> tuple[list[Segment], list[Speaker]]:
    """The script's exact turns as segments; the speaker label is the role."""
    segs: list[Segment] = []
    talk: dict[str, float] = {}
    for t in script["turns"]:
        role = t["speaker"] if t["speaker"] in ("therapist", "client") else None
        segs.append(Segment(start=t["start"], end=t["end"], speaker=t["speaker"], role=role, text=t["text"]))
        talk[t["speaker"]] = talk.get(t["speaker"], 0.0) + t["end"] - t["start"]
    speakers = [
        Speaker(label=k, role=k if k in ("therapist", "client") else None, talk_seconds=round(v, 2))  # type: ignore[arg-type]
        for k, v in sorted(talk.items())
    ]
    return segs, speakers


def _rttm_turns(path: Path) -> list[SpeakerTurn]:
    turns = []
    for line in path.read_text().splitlines():
        p = line.split()
        if len(p) >= 8 and p[0] == "SPEAKER":
            start, dur = float(p[3]), float(p[4])
            turns.append(SpeakerTurn(start=start, end=start + dur, speaker=p[7]))
    return turns


def _asr_cached(flac: Path, cache: Path, refresh: bool) -> tuple[list[Segment], list[tuple[float, float]], Path]:
    """ASR segments (with words) and VAD regions, computed once per file."""
    cache.mkdir(parents=True, exist_ok=True)
    wav = cache / f"{flac.stem}.wav"
    out = cache / f"{flac.stem}.asr.json"
    if out.exists() and wav.exists() and not refresh:
        data = json.loads(out.read_text())
        return [Segment(**s) for s in data["segments"]], [tuple(r) for r in data["regions"]], wav
    from therapybridge.settings import Settings
    from therapybridge.speech.asr.factory import get_transcriber, whisper_config
    from therapybridge.speech.audio import load_wav16k, to_wav16k, wav_duration
    from therapybridge.speech.vad import plan_windows, speech_regions

    to_wav16k(flac, wav)
    regions = speech_regions(wav)
    transcriber = get_transcriber(whisper_config(Settings()))
    segments: list[Segment] = []
    for w0, w1 in plan_windows(regions, wav_duration(wav)):
        segs, _lang = transcriber.transcribe(load_wav16k(wav, w0, w1), offset=w0)
        segments.extend(segs)
    out.write_text(json.dumps({"segments": [s.model_dump() for s in segments], "regions": regions}))
    return segments, regions, wav


def _diarize_cached(
    file_id: str, wav: Path, regions: list, cache: Path, refresh: bool
) -> tuple[list[SpeakerTurn], str]:
    """The diarizer's turns; the truth RTTM's turns when the diarizer is not available."""
    out = cache / f"{file_id}.turns.json"
    if out.exists() and not refresh:
        data = json.loads(out.read_text())
        return [SpeakerTurn(**t) for t in data["turns"]], data["source"]
    try:
        from therapybridge.settings import Settings
        from therapybridge.speech.diarization.factory import diarizer_config, get_diarizer
    except ImportError:
        return [], "unavailable"
    result = get_diarizer(diarizer_config(Settings())).diarize(wav, regions)
    turns = list(result if isinstance(result, list) else getattr(result, "turns", result))
    turns = [t if isinstance(t, SpeakerTurn) else SpeakerTurn.model_validate(t) for t in turns]
    out.write_text(json.dumps({"turns": [t.model_dump() for t in turns], "source": "diarizer"}))
    return turns, "diarizer"


def _roles_by_truth(segments: list[Segment], truth: list[SpeakerTurn]) -> tuple[list[Segment], list[Speaker]]:
    """Temporary fallback: each segment's role from the truth RTTM turn it overlaps most."""
    out: list[Segment] = []
    talk: dict[str, float] = {}
    for s in segments:
        cover: dict[str, float] = {}
        for t in truth:
            ov = min(s.end, t.end) - max(s.start, t.start)
            if ov > 0:
                cover[t.speaker] = cover.get(t.speaker, 0.0) + ov
        label = max(cover.items(), key=lambda kv: kv[1])[0] if cover else "Unknown"
        role = label if label in ("therapist", "client") else None
        out.append(s.model_copy(update={"speaker": label, "role": role}))
        talk[label] = talk.get(label, 0.0) + s.end - s.start
    speakers = [
        Speaker(label=k, role=k if k in ("therapist", "client") else None, talk_seconds=round(v, 2))
        for k, v in talk.items()
    ]  # type: ignore[arg-type]
    return out, speakers


def pipeline_inputs(file_id: str, corpus: Path, cache: Path, refresh: bool) -> tuple[list[Segment], list[Speaker], str]:
    """What the workflow produces: ASR windows stitched, diarizer turns, words to speakers, roles."""
    from therapybridge.domain.merge import merge

    flac = corpus / f"{file_id}.flac"
    asr, regions, wav = _asr_cached(flac, cache, refresh)
    turns, source = _diarize_cached(file_id, wav, regions, cache, refresh)
    if source == "unavailable":
        # Temporary fallback while the diarizer is missing: truth RTTM turns and roles by overlap.
        truth = _rttm_turns(corpus / f"{file_id}.rttm")
        segs, speakers = _roles_by_truth(merge(asr, truth), truth)
        return segs, speakers, "asr + truth-rttm roles"
    from therapybridge.domain.transcript import attribute, stitch

    segs, speakers = attribute(stitch([asr]), turns)
    return segs, speakers, "asr + diarizer + roles"


# --- report ---------------------------------------------------------------------------------------


def _pct(a: int, b: int) -> str:
    return "-" if b == 0 else f"{100.0 * a / b:.0f}%"


_SUM = (
    "risk_expected",
    "risk_found",
    "false_flags",
    "denials",
    "denials_flagged",
    "strategies_expected",
    "strategies_found",
    "actions_expected",
    "actions_found",
    "status_correct",
)


def total(scores: list[Score]) -> Score:
    t = Score(file="overall")
    for s in scores:
        for k in _SUM:
            setattr(t, k, getattr(t, k) + getattr(s, k))
    return t


def _row(s: Score) -> str:
    return (
        f"{s.file:<8}{f'{s.risk_found}/{s.risk_expected}':>7}{s.false_flags:>7}{f'{s.denials_flagged}/{s.denials}':>10}"
        f"{f'{s.strategies_found}/{s.strategies_expected}':>12}{f'{s.status_correct}/{s.strategies_found}':>9}"
        f"{f'{s.actions_found}/{s.actions_expected}':>10}"
    )


def print_table(scores: list[Score], title: str) -> None:
    print(title)
    hdr = f"{'file':<8}{'risk':>7}{'false':>7}{'denials':>10}{'strategies':>12}{'status':>9}{'actions':>10}"
    print(hdr)
    print("-" * len(hdr))
    for s in scores:
        print(_row(s))
    t = total(scores)
    print("-" * len(hdr))
    print(_row(t))
    print(
        f"risk recall {_pct(t.risk_found, t.risk_expected)}, false flags {t.false_flags}, "
        f"denials flagged {t.denials_flagged}/{t.denials}, strategy recall "
        f"{_pct(t.strategies_found, t.strategies_expected)} "
        f"(status right {_pct(t.status_correct, t.strategies_found)}),"
        f" action-item recall {_pct(t.actions_found, t.actions_expected)}"
    )


def corpus_files(corpus: Path) -> list[Path]:
    if (corpus / "synthetic").is_dir():
        corpus = corpus / "synthetic"
    return sorted(p for p in corpus.glob("*.json") if "expected" in json.loads(p.read_text()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path, help="corpus folder (or its synthetic/ subfolder)")
    ap.add_argument("--truth-text", action="store_true", help="run on the scripts' exact text instead of ASR")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where ASR/diarizer output is cached")
    ap.add_argument("--refresh", action="store_true", help="recompute cached ASR and diarizer output")
    ap.add_argument("--verbose", "-v", action="store_true", help="list missed items (no transcript text)")
    ap.add_argument(
        "--no-roles",
        action="store_true",
        help="drop speakers and roles (diarization unavailable): every segment Unknown with role None",
    )
    args = ap.parse_args(argv)

    files = corpus_files(args.corpus)
    if not files:
        print(f"no scripts with 'expected' under {args.corpus}", file=sys.stderr)
        return 2
    scores: list[Score] = []
    sources: set[str] = set()
    notes_time = 0.0
    for path in files:
        script = json.loads(path.read_text())
        fid = path.stem
        if args.truth_text:
            segs, speakers = truth_inputs(script)
            sources.add("truth text")
        else:
            segs, speakers, src = pipeline_inputs(fid, path.parent, args.cache, args.refresh)
            sources.add(src)
        if args.no_roles:
            segs = [x.model_copy(update={"speaker": "Unknown", "role": None}) for x in segs]
            speakers = [Speaker(label="Unknown", talk_seconds=sum(x.end - x.start for x in segs))]
            sources.add("no roles")
        t0 = time.perf_counter()
        notes = extract_notes(segs, speakers)
        notes_time += time.perf_counter() - t0
        s = score_notes(fid, notes, script["expected"])
        scores.append(s)
        if args.verbose and s.missed:
            print(f"  {fid}: missed {', '.join(s.missed)}")
    print_table(scores, f"notes on {', '.join(sorted(sources))} ({len(files)} files, extract {notes_time:.2f} s)")
    return 0


__all__ = ["Segment", "Word", "main", "quote_match", "score_notes", "truth_inputs"]

if __name__ == "__main__":
    raise SystemExit(main())
