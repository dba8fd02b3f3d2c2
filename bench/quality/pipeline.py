"""The activities' functions in one process, models loaded once; every recording through them."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

from bench.quality.corpus import Recording
from bench.quality.report import format_row
from bench.quality.results import FileResult, PipelineOutput, score
from bench.scoring import RefTurn, speakers_in
from therapybridge.document import Segment, SpeakerTurn
from therapybridge.settings import Settings


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
        meta.write_text(
            json.dumps(
                {
                    "asr": repr(self.asr_cfg),
                    "asr_s": seconds["asr_s"],
                    "segments": [x.model_dump(mode="json") for x in segments],
                }
            )
        )
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


def evaluate(recordings: list[Recording], pipeline: Pipeline, work: Path, hint: str = "none") -> list[FileResult]:
    """Every recording through the pipeline; `hint="true"` passes the reference speaker count."""
    results = []
    for rec in recordings:
        n = speakers_in(rec.ref.turns, rec.ref.uem) if hint == "true" else None
        out = pipeline.run(rec.audio, work, rec.ref.turns, num_speakers=n or None)
        res = score(rec.ref, out, pipeline.asr_name, hint)
        results.append(res)
        print(format_row(res), file=sys.stderr, flush=True)
    return results
