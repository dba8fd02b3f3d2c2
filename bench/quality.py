"""Who-said-what quality over a corpus with truth: WER, DER, word-speaker and role accuracy.

    python -m bench.quality CORPUS_DIR [--out report.md] [--diarizer baseline|embedded|oracle]
                                       [--files d01,d03] [--cache DIR]
                                       [--hints none,true] [--asr-models tiny,base]

Runs the functions the activities call: to_wav16k → speech_regions → plan_windows → Transcriber per
window → stitch → Diarizer → attribute (merge + talk time + assign_roles). Recordings with truth:
`<id>.json` scripts (synthetic sessions, whole file scored) and RTTM files for the others (the real
AMI excerpts, scored on 0–30 s only). `--cache` keeps converted audio, VAD and ASR output between
runs (ASR seconds shown are then those of the run that filled the cache). VAD output is keyed by the
VAD settings and ASR output by the model and the speech regions, so changing the diarizer re-runs
only the diarizer.

Per file and as a mean: DER on the diarizer's turns and on the transcript's segments; the turns'
JER and their DER split into missed speech, false alarm and speaker confusion (shares of the scored
reference speech); the speaker count found/true; and the speech detection (VAD regions against the
reference speech, no collar) as miss and false-alarm rates. `--hints true` gives the diarizer the
reference speaker count (`num_speakers`), `none` lets it count; `--asr-models` runs each ASR_MODEL
value. Every combination lands in one summary table.

`--diarizer oracle` hands the merge the reference turns instead of a diarizer's: the best DER on
transcript segments that attributing these ASR words can reach (words the ASR missed or mistimed
stay errors).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.scoring import (
    DerDetail,
    Detection,
    Reference,
    RefTurn,
    clip_turns,
    der,
    der_detail,
    detection,
    parse_rttm,
    role_accuracy,
    segments_as_turns,
    speakers_in,
    synthetic_reference,
    turns_of,
    wer,
    word_speaker_accuracy,
)
from therapybridge.document import Segment, Speaker, SpeakerTurn
from therapybridge.settings import Settings

AUDIO_EXTS = (".flac", ".wav", ".mp3", ".ogg", ".m4a")
REAL_SCORED_S = 30.0  # the AMI excerpts are annotated on their first 30 s only


@dataclass
class Recording:
    audio: Path
    ref: Reference


@dataclass
class PipelineOutput:
    segments: list[Segment]  # merged: one speaker per segment, roles set
    turns: list[SpeakerTurn]
    speakers: list[Speaker]
    seconds: dict[str, float] = field(default_factory=dict)
    regions: list[tuple[float, float]] = field(default_factory=list)  # the VAD's speech regions


@dataclass
class FileResult:
    file_id: str
    synthetic: bool
    wer: float | None
    der_turns: float
    der_segments: float
    word_acc: float | None
    role_acc: float | None
    found: int
    true: int
    seconds: dict[str, float]
    turns: DerDetail | None = None
    vad: Detection | None = None
    asr: str = "default"  # ASR_MODEL of the run
    hint: str = "none"  # none | true (the reference count as num_speakers)


# ---------------------------------------------------------------------- corpus
def _audio_for(folder: Path, stem: str) -> Path | None:
    for ext in AUDIO_EXTS:
        p = folder / f"{stem}{ext}"
        if p.is_file():
            return p
    return None


def find_recordings(corpus: Path, only: set[str] | None = None) -> list[Recording]:
    """Every recording under `corpus` that has truth, scripts first."""
    out: list[Recording] = []
    scripted: set[str] = set()
    for js in sorted(corpus.rglob("*.json")):
        audio = _audio_for(js.parent, js.stem)
        if audio is None or "turns" not in json.loads(js.read_text(encoding="utf-8")):
            continue
        scripted.add(js.stem)
        if only is None or js.stem in only:
            out.append(Recording(audio, synthetic_reference(js)))
    for rttm in sorted(corpus.rglob("*.rttm")):
        for file_id, turns in parse_rttm(rttm).items():
            audio = _audio_for(rttm.parent, file_id)
            if audio is None or file_id in scripted or (only is not None and file_id not in only):
                continue
            uem = (0.0, REAL_SCORED_S)
            out.append(Recording(audio, Reference(file_id, clip_turns(turns, *uem), uem)))
    return out


# ---------------------------------------------------------------------- pipeline
class Pipeline:
    """The models, loaded once for a whole run."""

    def __init__(self, diarizer: str = "embedded", cache: Path | None = None, asr_model: str | None = None) -> None:
        from therapybridge.speech.asr.factory import get_transcriber, whisper_config

        self.kind = diarizer
        self.cache = cache
        self.settings = Settings() if asr_model is None else Settings(asr_model=asr_model)
        self.asr_name = self.settings.asr_model or "default"
        self.asr_cfg = whisper_config(self.settings)
        self.transcriber = get_transcriber(self.asr_cfg)
        if diarizer == "baseline":
            from therapybridge.speech.speaker_embedding import SpeakerEncoder

            self.encoder = SpeakerEncoder("cpu")
        elif diarizer == "embedded":
            from therapybridge.speech.diarization.factory import diarizer_config, get_diarizer

            self.diarizer = get_diarizer(diarizer_config(self.settings))

    def _regions(self, wav: Path, work: Path, seconds: dict[str, float]) -> list[tuple[float, float]]:
        """The session's speech regions, cached per VAD configuration."""
        from therapybridge.speech import vad

        key = _digest(vad.config_key())
        path = work / f"{wav.stem}.vad-{key}.json"
        if path.exists():
            data = json.loads(path.read_text())
            seconds["vad_s"] = data["seconds"]
            return [(float(a), float(b)) for a, b in data["regions"]]
        t = time.perf_counter()
        regions = vad.speech_regions(wav)
        seconds["vad_s"] = time.perf_counter() - t
        path.write_text(json.dumps({"regions": regions, "seconds": seconds["vad_s"]}))
        return regions

    def _front(self, audio: Path, work: Path) -> tuple[Path, list[tuple[float, float]], list[Segment], dict]:
        """Conversion, VAD and ASR (cached when --cache is given)."""
        from therapybridge.domain.transcript import stitch
        from therapybridge.speech.audio import load_wav16k, to_wav16k, wav_duration
        from therapybridge.speech.vad import plan_windows, regions_within

        wav = work / f"{audio.stem}.wav"
        seconds: dict[str, float] = {}
        if not wav.exists():
            t = time.perf_counter()
            to_wav16k(audio, wav)
            seconds["convert_s"] = time.perf_counter() - t
        regions = self._regions(wav, work, seconds)
        meta = work / f"{audio.stem}.asr-{_digest(repr(self.asr_cfg), regions)}.json"
        if meta.exists():
            data = json.loads(meta.read_text())
            seconds["asr_s"] = data["asr_s"]
            return wav, regions, [Segment.model_validate(x) for x in data["segments"]], seconds
        t = time.perf_counter()
        windows: list[list[Segment]] = []
        for s, e in plan_windows(regions, wav_duration(wav)):
            segs, _lang = self.transcriber.transcribe(
                load_wav16k(wav, s, e), offset=s, speech=regions_within(regions, s, e)
            )
            windows.append(segs)
        segments = stitch(windows)
        seconds["asr_s"] = time.perf_counter() - t
        meta.write_text(json.dumps({
            "asr": repr(self.asr_cfg), "asr_s": seconds["asr_s"],
            "segments": [x.model_dump(mode="json") for x in segments],
        }))
        return wav, regions, segments, seconds

    def run(
        self, audio: Path, work: Path, truth: list[RefTurn] | None = None, num_speakers: int | None = None
    ) -> PipelineOutput:
        from therapybridge.domain.merge import split_by_speaker, talk_time
        from therapybridge.domain.roles import assign_roles
        from therapybridge.domain.transcript import attribute

        wav, regions, segments, seconds = self._front(audio, work)
        seconds = dict(seconds)
        t = time.perf_counter()
        if self.kind == "baseline":
            from bench.baseline import baseline_diarize

            voted = split_by_speaker(baseline_diarize(self.encoder, wav, segments))
            seconds["diarize_s"] = time.perf_counter() - t
            t = time.perf_counter()
            speakers = assign_roles(voted, talk_time([], voted))
            role_of = {s.label: s.role for s in speakers}
            merged = [s.model_copy(update={"role": role_of.get(s.speaker)}) for s in voted]
            turns = [SpeakerTurn(start=s.start, end=s.end, speaker=s.speaker) for s in merged if s.end > s.start]
        else:
            if self.kind == "oracle":
                turns = [SpeakerTurn(start=a, end=b, speaker=spk) for a, b, spk in truth or []]
            else:
                turns = self.diarizer.diarize(wav, regions, num_speakers=num_speakers)
            seconds["diarize_s"] = time.perf_counter() - t
            t = time.perf_counter()
            merged, speakers = attribute(segments, turns)
        seconds["merge_s"] = time.perf_counter() - t
        return PipelineOutput(merged, turns, speakers, seconds, regions)


def _digest(*parts: object) -> str:
    return hashlib.sha1(json.dumps(parts, default=str).encode()).hexdigest()[:12]


def score(ref: Reference, out: PipelineOutput, asr: str = "default", hint: str = "none") -> FileResult:
    hyp_turns: list[RefTurn] = clip_turns(turns_of(out.turns), *ref.uem)
    detail = der_detail(ref.turns, hyp_turns, ref.uem)
    seg_turns = clip_turns(segments_as_turns(out.segments), *ref.uem)
    in_span = [
        s.model_copy(update={"words": [w for w in s.words if ref.uem[0] <= (w.start + w.end) / 2 <= ref.uem[1]]})
        for s in out.segments
    ]
    text = " ".join(s.text for s in out.segments)
    return FileResult(
        file_id=ref.file_id,
        synthetic=ref.text is not None,
        wer=wer(ref.text, text) if ref.text is not None else None,
        der_turns=detail.der,
        der_segments=der(ref.turns, seg_turns, ref.uem),
        word_acc=word_speaker_accuracy(in_span, ref.turns) if any(s.words for s in in_span) else None,
        role_acc=role_accuracy(in_span, ref.turns) if ref.roles else None,
        found=speakers_in(hyp_turns, ref.uem),
        true=speakers_in(ref.turns, ref.uem),
        seconds={k: round(v, 2) for k, v in out.seconds.items()},
        turns=detail,
        vad=detection(ref.turns, out.regions, ref.uem),
        asr=asr,
        hint=hint,
    )


def evaluate(
    recordings: list[Recording], pipeline: Pipeline, work: Path, hint: str = "none"
) -> list[FileResult]:
    """Every recording through the pipeline; `hint="true"` passes the reference speaker count."""
    results = []
    for rec in recordings:
        n = speakers_in(rec.ref.turns, rec.ref.uem) if hint == "true" else None
        out = pipeline.run(rec.audio, work, rec.ref.turns, num_speakers=n or None)
        res = score(rec.ref, out, pipeline.asr_name, hint)
        results.append(res)
        print(format_row(res), file=sys.stderr, flush=True)
    return results


# ---------------------------------------------------------------------- report
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
        r.file_id, r.asr, r.hint, _pct(r.wer), _pct(r.der_turns),
        _pct(t.miss if t else None), _pct(t.false_alarm if t else None), _pct(t.confusion if t else None),
        _pct(t.jer if t else None), _pct(r.der_segments), _pct(r.word_acc), _pct(r.role_acc),
        count or f"{r.found}/{r.true}", _pct(v.miss if v else None), _pct(v.false_alarm if v else None),
        f"{s.get('asr_s', 0):.2f}", f"{s.get('diarize_s', 0):.2f}",
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
    turns = DerDetail(
        der=float(np.mean([d.der for d in details])), miss=float(np.mean([d.miss for d in details])),
        false_alarm=float(np.mean([d.false_alarm for d in details])),
        confusion=float(np.mean([d.confusion for d in details])), jer=float(np.mean([d.jer for d in details])),
        total_s=float(np.sum([d.total_s for d in details])),
    ) if details else None
    vads = [r.vad for r in results if r.vad is not None]
    vad = Detection(
        sum(v.speech_s for v in vads), sum(v.miss_s for v in vads), sum(v.false_alarm_s for v in vads)
    ) if vads else None
    first = results[0]
    return FileResult(
        name, first.synthetic, _mean([r.wer for r in results]), float(np.mean([r.der_turns for r in results])),
        float(np.mean([r.der_segments for r in results])), _mean([r.word_acc for r in results]),
        _mean([r.role_acc for r in results]), 0, 0, secs, turns, vad, first.asr, first.hint,
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
    parts = [f"Diarizer: `{diarizer}`. DER: collar 0.25 s, overlap skipped; miss / FA / confusion are "
             "shares of the scored speech (turns); VAD miss / FA: speech regions against the reference "
             "speech, no collar (pooled over files in mean rows).\n"]
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.split("\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--out", type=Path, help="also write the markdown report here")
    ap.add_argument("--diarizer", choices=("embedded", "baseline", "oracle"), default="embedded")
    ap.add_argument("--files", help="comma-separated recording ids (default: all with truth)")
    ap.add_argument("--cache", type=Path, help="keep converted audio, VAD and ASR output here between runs")
    ap.add_argument("--hints", default="none", help="comma-separated: none (the diarizer counts), true "
                    "(the reference speaker count as num_speakers); default none")
    ap.add_argument("--asr-models", default="", help="comma-separated ASR_MODEL values to compare "
                    "(default: the configured one)")
    args = ap.parse_args(argv)
    only = set(args.files.split(",")) if args.files else None
    hints = [h.strip() for h in args.hints.split(",") if h.strip()]
    if not hints or any(h not in ("none", "true") for h in hints):
        ap.error("--hints takes none and/or true")
    models: list[str | None] = [m.strip() for m in args.asr_models.split(",") if m.strip()] or [None]
    recordings = find_recordings(args.corpus, only)
    if not recordings:
        print(f"no recordings with truth under {args.corpus}", file=sys.stderr)
        return 2
    results: list[FileResult] = []
    with tempfile.TemporaryDirectory(prefix="tb-quality-") as tmp:
        work = args.cache or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for model in models:
            pipeline = Pipeline(args.diarizer, args.cache, asr_model=model)
            for hint in hints:
                results.extend(evaluate(recordings, pipeline, work, hint))
    report = format_report(results, args.diarizer)
    print(report)
    if args.out:
        args.out.write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
