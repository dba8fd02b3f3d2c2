"""What the notes run on: the scripts' exact turns, or the pipeline's transcripts (ASR and diarizer output cached)."""

from __future__ import annotations

import json
from pathlib import Path

from therapybridge.document import Segment, Speaker, SpeakerTurn


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


def corpus_files(corpus: Path) -> list[Path]:
    if (corpus / "synthetic").is_dir():
        corpus = corpus / "synthetic"
    return sorted(p for p in corpus.glob("*.json") if "expected" in json.loads(p.read_text()))
