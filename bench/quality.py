"""Who-said-what quality over a corpus with truth: WER, DER, word-speaker and role accuracy.

    python -m bench.quality CORPUS_DIR [--out report.md] [--diarizer baseline|embedded|oracle]
                                       [--files d01,d03] [--cache DIR]

Runs the functions the activities call: to_wav16k → speech_regions → plan_windows → Transcriber per
window → stitch → Diarizer → attribute (merge + talk time + assign_roles). Recordings with truth:
`<id>.json` scripts (synthetic sessions, whole file scored) and RTTM files for the others (the real
AMI excerpts, scored on 0–30 s only). `--cache` keeps converted audio, VAD and ASR output between
runs (ASR seconds shown are then those of the run that filled the cache).

`--diarizer oracle` hands the merge the reference turns instead of a diarizer's: the best DER on
transcript segments that attributing these ASR words can reach (words the ASR missed or mistimed
stay errors).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.scoring import (
    Reference,
    RefTurn,
    clip_turns,
    der,
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

    def __init__(self, diarizer: str = "embedded", cache: Path | None = None) -> None:
        from therapybridge.speech.asr import AsrConfig, get_transcriber

        self.kind = diarizer
        self.cache = cache
        self.settings = Settings()
        self.asr_cfg = AsrConfig.from_settings(self.settings)
        self.transcriber = get_transcriber(self.asr_cfg)
        if diarizer == "baseline":
            from therapybridge.speech.speaker_embedding import SpeakerEncoder

            self.encoder = SpeakerEncoder("cpu")
        elif diarizer == "embedded":
            from therapybridge.speech.diarizer import get_diarizer

            self.diarizer = get_diarizer(self.settings)

    def _front(self, audio: Path, work: Path) -> tuple[Path, list[tuple[float, float]], list[Segment], dict]:
        """Conversion, VAD and ASR (cached when --cache is given)."""
        from therapybridge.domain.transcript import stitch
        from therapybridge.speech.audio import load_wav16k, to_wav16k, wav_duration
        from therapybridge.speech.vad import plan_windows, regions_within, speech_regions

        wav = work / f"{audio.stem}.wav"
        meta = work / f"{audio.stem}.front.json"
        if meta.exists() and wav.exists():
            data = json.loads(meta.read_text())
            if data.get("asr") == repr(self.asr_cfg):
                segs = [Segment.model_validate(s) for s in data["segments"]]
                return wav, [tuple(r) for r in data["regions"]], segs, data["seconds"]
        seconds: dict[str, float] = {}
        t = time.perf_counter()
        to_wav16k(audio, wav)
        seconds["convert_s"] = time.perf_counter() - t
        t = time.perf_counter()
        regions = speech_regions(wav)
        seconds["vad_s"] = time.perf_counter() - t
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
            "asr": repr(self.asr_cfg), "regions": regions, "seconds": seconds,
            "segments": [s.model_dump(mode="json") for s in segments],
        }))
        return wav, [tuple(r) for r in regions], segments, seconds

    def run(self, audio: Path, work: Path, truth: list[RefTurn] | None = None) -> PipelineOutput:
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
                turns = self.diarizer.diarize(wav, regions)
            seconds["diarize_s"] = time.perf_counter() - t
            t = time.perf_counter()
            merged, speakers = attribute(segments, turns)
        seconds["merge_s"] = time.perf_counter() - t
        return PipelineOutput(merged, turns, speakers, seconds)


def score(ref: Reference, out: PipelineOutput) -> FileResult:
    hyp_turns: list[RefTurn] = clip_turns(turns_of(out.turns), *ref.uem)
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
        der_turns=der(ref.turns, hyp_turns, ref.uem),
        der_segments=der(ref.turns, seg_turns, ref.uem),
        word_acc=word_speaker_accuracy(in_span, ref.turns) if any(s.words for s in in_span) else None,
        role_acc=role_accuracy(in_span, ref.turns) if ref.roles else None,
        found=speakers_in(hyp_turns, ref.uem),
        true=speakers_in(ref.turns, ref.uem),
        seconds={k: round(v, 2) for k, v in out.seconds.items()},
    )


def evaluate(recordings: list[Recording], pipeline: Pipeline, work: Path) -> list[FileResult]:
    results = []
    for rec in recordings:
        res = score(rec.ref, pipeline.run(rec.audio, work, rec.ref.turns))
        results.append(res)
        print(format_row(res), file=sys.stderr, flush=True)
    return results


# ---------------------------------------------------------------------- report
HEADER = (
    "| file | WER | DER turns | DER segments | word-speaker acc | role acc | speakers found/true "
    "| convert s | vad s | asr s | diarize s | merge s |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def format_row(r: FileResult) -> str:
    s = r.seconds
    return (
        f"| {r.file_id} | {_pct(r.wer)} | {_pct(r.der_turns)} | {_pct(r.der_segments)} | {_pct(r.word_acc)} "
        f"| {_pct(r.role_acc)} | {r.found}/{r.true} | {s.get('convert_s', 0):.2f} | {s.get('vad_s', 0):.2f} "
        f"| {s.get('asr_s', 0):.2f} | {s.get('diarize_s', 0):.2f} | {s.get('merge_s', 0):.2f} |"
    )


def _mean(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def mean_row(results: list[FileResult], name: str) -> str:
    keys = ("convert_s", "vad_s", "asr_s", "diarize_s", "merge_s")
    secs = {k: float(np.mean([r.seconds.get(k, 0.0) for r in results])) for k in keys}
    m = FileResult(
        name, True, _mean([r.wer for r in results]), float(np.mean([r.der_turns for r in results])),
        float(np.mean([r.der_segments for r in results])), _mean([r.word_acc for r in results]),
        _mean([r.role_acc for r in results]), 0, 0, secs,
    )
    row = format_row(m)
    within = sum(abs(r.found - r.true) <= 1 for r in results)
    return row.replace("| 0/0 |", f"| ±1: {within}/{len(results)} |").replace(f"| {name} |", f"| **{name}** |")


def format_report(results: list[FileResult], diarizer: str) -> str:
    parts = [f"Diarizer: `{diarizer}`\n"]
    for title, group in (("Synthetic sessions", [r for r in results if r.synthetic]),
                         ("Real recordings (0–30 s)", [r for r in results if not r.synthetic])):
        if not group:
            continue
        parts.append(f"### {title}\n\n{HEADER}")
        parts.extend(format_row(r) for r in group)
        parts.append(mean_row(group, "mean") + "\n")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.split("\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--out", type=Path, help="also write the markdown report here")
    ap.add_argument("--diarizer", choices=("embedded", "baseline", "oracle"), default="embedded")
    ap.add_argument("--files", help="comma-separated recording ids (default: all with truth)")
    ap.add_argument("--cache", type=Path, help="keep converted audio, VAD and ASR output here between runs")
    args = ap.parse_args(argv)
    only = set(args.files.split(",")) if args.files else None
    recordings = find_recordings(args.corpus, only)
    if not recordings:
        print(f"no recordings with truth under {args.corpus}", file=sys.stderr)
        return 2
    pipeline = Pipeline(args.diarizer, args.cache)
    with tempfile.TemporaryDirectory(prefix="tb-quality-") as tmp:
        work = args.cache or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        results = evaluate(recordings, pipeline, work)
    report = format_report(results, args.diarizer)
    print(report)
    if args.out:
        args.out.write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
