"""The markdown report: one summary table (a mean row per corpus, ASR model and hint), then per-file tables."""

from __future__ import annotations

import numpy as np

from bench.quality.results import FileResult
from bench.scoring import DerDetail, Detection

HEADER = (
    "| file | ASR | hint | WER | DER turns | miss | FA | confusion | JER | DER segments | word-speaker acc "
    "| role acc | speakers found/true | VAD miss | VAD FA | asr s | diarize s |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def _cells(r: FileResult, count: str | None = None) -> list[str]:
    t, v, s = r.turns, r.vad, r.seconds
    return [
        r.file_id,
        r.asr,
        r.hint,
        _pct(r.wer),
        _pct(r.der_turns),
        _pct(t.miss if t else None),
        _pct(t.false_alarm if t else None),
        _pct(t.confusion if t else None),
        _pct(t.jer if t else None),
        _pct(r.der_segments),
        _pct(r.word_acc),
        _pct(r.role_acc),
        count or f"{r.found}/{r.true}",
        _pct(v.miss if v else None),
        _pct(v.false_alarm if v else None),
        f"{s.get('asr_s', 0):.2f}",
        f"{s.get('diarize_s', 0):.2f}",
    ]


def format_row(r: FileResult) -> str:
    return "| " + " | ".join(_cells(r)) + " |"


def _mean(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def mean_result(results: list[FileResult], name: str = "mean") -> FileResult:
    """Means over files; the VAD rates are pooled (seconds summed over files), since a file with
    almost no reference speech would otherwise dominate a mean of its false-alarm rate."""
    keys = ("convert_s", "vad_s", "asr_s", "diarize_s", "merge_s")
    secs = {k: float(np.mean([r.seconds.get(k, 0.0) for r in results])) for k in keys}
    details = [r.turns for r in results if r.turns is not None]
    turns = (
        DerDetail(
            der=float(np.mean([d.der for d in details])),
            miss=float(np.mean([d.miss for d in details])),
            false_alarm=float(np.mean([d.false_alarm for d in details])),
            confusion=float(np.mean([d.confusion for d in details])),
            jer=float(np.mean([d.jer for d in details])),
            total_s=float(np.sum([d.total_s for d in details])),
        )
        if details
        else None
    )
    vads = [r.vad for r in results if r.vad is not None]
    vad = (
        Detection(sum(v.speech_s for v in vads), sum(v.miss_s for v in vads), sum(v.false_alarm_s for v in vads))
        if vads
        else None
    )
    first = results[0]
    return FileResult(
        name,
        first.synthetic,
        _mean([r.wer for r in results]),
        float(np.mean([r.der_turns for r in results])),
        float(np.mean([r.der_segments for r in results])),
        _mean([r.word_acc for r in results]),
        _mean([r.role_acc for r in results]),
        0,
        0,
        secs,
        turns,
        vad,
        first.asr,
        first.hint,
    )


def within_one(results: list[FileResult]) -> str:
    return f"±1: {sum(abs(r.found - r.true) <= 1 for r in results)}/{len(results)}"


def mean_row(results: list[FileResult], name: str) -> str:
    cells = _cells(mean_result(results, name), within_one(results))
    cells[0] = f"**{name}**"
    return "| " + " | ".join(cells) + " |"


def _groups(results: list[FileResult]) -> list[tuple[str, list[FileResult]]]:
    out = []
    for title, synthetic in (("Synthetic sessions", True), ("Real recordings (0–30 s)", False)):
        group = [r for r in results if r.synthetic == synthetic]
        if group:
            out.append((title, group))
    return out


def format_report(results: list[FileResult], diarizer: str) -> str:
    """One summary table (a mean row per corpus × ASR model × hint), then the per-file tables."""
    parts = [
        f"Diarizer: `{diarizer}`. DER: collar 0.25 s, overlap skipped; miss / FA / confusion are "
        "shares of the scored speech (turns); VAD miss / FA: speech regions against the reference "
        "speech, no collar (pooled over files in mean rows).\n"
    ]
    configs = list(dict.fromkeys((r.asr, r.hint) for r in results))
    summary = [f"### Summary\n\n{HEADER.replace('| file |', '| corpus |', 1)}"]
    for title, group in _groups(results):
        for asr, hint in configs:
            sub = [r for r in group if (r.asr, r.hint) == (asr, hint)]
            if sub:
                summary.append(mean_row(sub, title.split(" ")[0].lower()))
    parts.append("\n".join(summary) + "\n")
    for title, group in _groups(results):
        for asr, hint in configs:
            sub = [r for r in group if (r.asr, r.hint) == (asr, hint)]
            if not sub:
                continue
            parts.append(f"### {title}, ASR `{asr}`, hint `{hint}`\n\n{HEADER}")
            parts.extend(format_row(r) for r in sub)
            parts.append(mean_row(sub, "mean") + "\n")
    return "\n".join(parts)
