"""`DIARIZER=pyannote`: the pyannote.audio speaker-diarization pipeline behind the `Diarizer` Protocol
(speech/diarization/base.py).

Optional backend (`pip install 'therapybridge[pyannote]'`), never imported unless selected. The
pipeline comes from `PYANNOTE_CHECKPOINT`: a local folder holding `config.yaml` (offline), a path to
such a file, or a hub id used with `HF_TOKEN`. pyannote runs its own segmentation, so the VAD regions
only tell whether there is any speech at all, and it has no resumable state, so `checkpoint_dir` is
accepted for interface compatibility and not used. It holds the whole waveform in memory (its own
design); the embedded diarizer is the one that reads long sessions block by block.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from therapybridge.document import SpeakerTurn
from therapybridge.speech.audio import SAMPLE_RATE, load_wav16k

# Share of the progress bar each pipeline step fills, in the order pyannote runs them.
STEP_SPANS = {"segmentation": (0.0, 0.45), "speaker_counting": (0.45, 0.5), "embeddings": (0.5, 0.95),
              "discrete_diarization": (0.95, 0.99)}


@dataclass(frozen=True)
class PyannoteConfig:
    checkpoint: str  # PYANNOTE_CHECKPOINT: a local pipeline folder, its config.yaml, or a hub id
    hf_token: str = field(default="", repr=False)  # only for a hub id; never in a log line


class PyannoteUnavailable(RuntimeError):
    """pyannote.audio is not installed or the configured pipeline cannot be loaded."""


def _config_path(checkpoint: str) -> str | Path:
    """A local folder → its config.yaml; an existing file as is; anything else is a hub id."""
    path = Path(checkpoint)
    if path.is_dir():
        return path / "config.yaml"
    if path.is_file():
        return path
    if checkpoint.startswith(("/", ".", "~")):
        raise PyannoteUnavailable(f"pyannote checkpoint not found at {checkpoint}")
    return checkpoint


class PyannoteDiarizer:
    def __init__(self, cfg: PyannoteConfig, device: str = "cpu") -> None:
        # pyannote.audio 4 sends usage telemetry to otel.pyannote.ai unless told not to (it reads this
        # variable at every pipeline run): a self-hosted, often offline clinical system makes no such calls.
        os.environ["PYANNOTE_METRICS_ENABLED"] = "false"
        try:
            import torch
            from pyannote.audio import Pipeline
        except ImportError as exc:
            raise PyannoteUnavailable(
                "DIARIZER=pyannote needs pyannote.audio (pip install 'therapybridge[pyannote]')"
            ) from exc
        if not cfg.checkpoint:
            raise PyannoteUnavailable("DIARIZER=pyannote needs PYANNOTE_CHECKPOINT (a local pipeline folder or hub id)")
        source = _config_path(cfg.checkpoint)
        # pyannote.audio 4 takes `token`, 3.x `use_auth_token`.
        params = inspect.signature(Pipeline.from_pretrained).parameters
        token = cfg.hf_token or None
        auth = {"token": token} if "token" in params else {"use_auth_token": token}
        try:
            pipeline = Pipeline.from_pretrained(source, **auth)
        except Exception as exc:  # pyannote raises many types for a bad or unreachable checkpoint
            raise PyannoteUnavailable(f"cannot load pyannote pipeline: {type(exc).__name__}") from exc
        if pipeline is None:  # 3.x returns None for a gated hub model without a token
            raise PyannoteUnavailable("cannot load pyannote pipeline (gated model: set HF_TOKEN)")
        self.pipeline = pipeline.to(torch.device(device))

    def diarize(
        self,
        wav_path: Path,
        regions: list[tuple[float, float]],
        *,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        on_progress: Callable[[float], None] | None = None,
        checkpoint_dir: Path | None = None,  # unused: pyannote has no resumable state
    ) -> list[SpeakerTurn]:
        import torch

        if not regions:
            if on_progress is not None:
                on_progress(1.0)
            return []
        waveform = torch.from_numpy(load_wav16k(wav_path))[None]
        output = self.pipeline(
            {"waveform": waveform, "sample_rate": SAMPLE_RATE},
            num_speakers=num_speakers,
            min_speakers=min_speakers,
            max_speakers=max_speakers,
            hook=_progress_hook(on_progress),
        )
        annotation = getattr(output, "speaker_diarization", output)  # 4.x wraps it, 3.x returns it
        turns = annotation_to_turns(annotation, waveform.shape[1] / SAMPLE_RATE)
        if on_progress is not None:
            on_progress(1.0)
        return turns


def annotation_to_turns(annotation: Any, duration: float | None = None) -> list[SpeakerTurn]:
    """pyannote Annotation → turns labelled SPEAKER_xx by first appearance (overlaps kept), clipped
    to the audio (pyannote's last sliding window may run past the end)."""
    tracks = sorted((seg.start, seg.end, str(label)) for seg, _, label in annotation.itertracks(yield_label=True))
    names: dict[str, str] = {}
    out = []
    for start, end, label in tracks:
        end = min(end, duration) if duration is not None else end
        if end <= start:
            continue
        names.setdefault(label, f"SPEAKER_{len(names):02d}")
        out.append(SpeakerTurn(start=round(start, 3), end=round(end, 3), speaker=names[label]))
    return out


def _progress_hook(on_progress: Callable[[float], None] | None) -> Callable[..., None]:
    """pyannote's hook(step, artifact, file=None, total=None, completed=None) → monotonic fraction."""
    state = {"done": 0.0}

    def hook(step: str, _artifact: Any = None, file: Any = None, total: int | None = None,
             completed: int | None = None) -> None:
        if on_progress is None:
            return
        lo, hi = STEP_SPANS.get(step, (state["done"], state["done"]))
        frac = lo + (hi - lo) * (completed / total if total and completed is not None else 1.0)
        state["done"] = max(state["done"], min(frac, 0.99))
        on_progress(state["done"])  # may raise to cancel: it propagates out of the pipeline

    return hook
